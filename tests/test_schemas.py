"""The published JSON Schemas hold: every JSON report validates against docs/schemas/report.schema.json,
and docs/schemas/tool-cudaudit.schema.json accepts exactly the `[tool.cudaudit]` tables cudaudit accepts."""

from __future__ import annotations

import json

import jsonschema
import pytest

from cudaudit import engine
from cudaudit.tomlcompat import tomllib
from support import REPO, scan_json, write

SCHEMAS = REPO / "docs" / "schemas"


def schema(name: str) -> dict:
    document = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return document


def test_a_json_report_with_every_kind_of_entry_validates(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_FINDINGS_PER_FILE", 3)  # an `omitted` entry without a thousand findings
    write(tmp_path / "train.py", 'import torch\nmodel = Net().cuda()\nx = torch.zeros(1, device="cuda")\n')
    write(tmp_path / "broken.py", "import torch\ntorch.cuda.synchronize()\ndef f(:\n")
    write(tmp_path / "huge.py", "import torch\n" + "x.cuda()\n" * 4)
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["!pip install torch==2.3.1+cu121\n"]}]
    write(tmp_path / "nb.ipynb", json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    write(tmp_path / "kernel.cu", "#include <cuda_runtime.h>\n__global__ void k(float* x) { x[threadIdx.x] = 0; }\n")
    write(tmp_path / "serve.py", 'import argparse\nparser = argparse.ArgumentParser()\n'
          'parser.add_argument("--device", default="cuda")\nmodel = Net().to(parser.parse_args().device)\n')
    report = scan_json(cli, "-t", "rocm,cpu,xpu,mps")
    assert report["errors"] and report["omitted"] and any("cell" in f for f in report["findings"])
    assert any(f.get("option") == "--device" for f in report["findings"])
    assert any(f["fix"] for f in report["findings"]) and report["summary"]["migration"]["files"]
    jsonschema.validate(report, schema("report.schema.json"), format_checker=jsonschema.FormatChecker())
    report["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema("report.schema.json"))


CONFIGS = [
    'targets = ["rocm", "cpu"]\nselect = ["CDA1", "CDA203"]\nignore = ["cda111"]\nexclude = ["third_party/"]\n'
    '[tool.cudaudit.per-file-ignores]\n"tests/**" = ["CDA102", "CDA103"]\n',
    'targets = "cpu"\nselect = "CDA1"\n',
    'targets = [" ROCm "]\n',
    'targts = ["cpu"]\n',
    'targets = ["tpu"]\n',
    'targets = []\n',
    'select = ["XYZ1"]\n',
    'select = [1]\n',
    'exclude = [1]\n',
    'per-file-ignores = ["tests/"]\n',
    '[tool.cudaudit.per-file-ignores]\n"tests/**" = [3]\n',
]


@pytest.mark.parametrize("table", CONFIGS)
def test_the_config_schema_accepts_what_cudaudit_accepts(cli, tmp_path, table):
    write(tmp_path / "pyproject.toml", "[tool.cudaudit]\n" + table)
    write(tmp_path / "a.py", "import torch\n")
    settings = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["cudaudit"]
    valid = jsonschema.Draft202012Validator(schema("tool-cudaudit.schema.json")).is_valid(settings)
    result = cli("scan", "a.py")
    assert (result.exit_code != 2) == valid, result.stderr
    if not valid:
        assert "pyproject.toml: [tool.cudaudit]" in result.stderr, "the error names the file and the table"
