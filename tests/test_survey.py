"""The survey before the Python walk (`rules/python/survey.py`): a module none of whose concerns can
report is not walked, and the walk of a module the survey passes over would have found nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import PythonWalker, may_report

CATALOG = load_catalog()
ROOT = Path(__file__).resolve().parent.parent


def walked(code: str) -> bool:
    tree = ast.parse(code)
    return may_report(Survey(tree, ImportTable(tree), CATALOG))


def hits(code: str) -> list[object]:
    tree = ast.parse(code)
    walker = PythonWalker(ImportTable(tree), CATALOG)
    walker.visit(tree)
    return list(walker.hits)


def _python_examples() -> list[object]:
    found = []
    for rule in CATALOG.rules.values():
        if rule.kind != "python" and "python" not in rule.also_kinds:
            continue
        for kind, examples in (("flagged", rule.flagged), ("clean", rule.clean)):
            found += [pytest.param(example.code, id=f"{rule.id}-{kind}-{i}") for i, example in enumerate(examples)]
    for path in sorted((ROOT / "fixtures").rglob("*.py")):
        found.append(pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(ROOT))))
    return found


@pytest.mark.parametrize("code", _python_examples())
def test_a_module_the_survey_passes_over_has_no_hit(code):
    try:
        ast.parse(code)
    except SyntaxError:
        pytest.skip("not Python")
    if not walked(code):
        assert not hits(code)


def test_trigger_words_in_code_that_is_no_site_are_not_walked():
    code = """
import json
import torch
from .accel import get_accelerator


def restore(path, loader, tensors):
    with open(path) as f:
        state = json.load(f)
    index = get_accelerator().current_device()
    loader.pin_memory = True
    print("running on", torch.__version__, "with CUDA kernels where they are built")
    return state, index, [t.to(dtype=torch.float16) for t in tensors]
"""
    assert not walked(code)
    assert not hits(code)


@pytest.mark.parametrize(
    "code",
    [
        "batch = batch.pin_memory()\n",
        "import torch\nstate = torch.load(path)\n",
        "from torch import load as restore\nstate = restore(path)\n",
        "x = x.to(0)\n",
        "model = model.to(args.local_rank)\n",
        'device = "cuda"\n',
        'device = "cu" "da"\n',
        'device = f"cuda:{rank}"\n',
        'import os\nos.environ["CUDA_VISIBLE_DEVICES"] = "0"\n',
        "import cupy\n",
        "import torch as th\nth.cuda.synchronize()\n",
        'import subprocess\nsubprocess.run(["nvidia-smi"])\n',
        'from transformers import AutoModel\nmodel = AutoModel.from_pretrained(name, attn_implementation="flash_attention_2")\n',
        "import torch\nassert torch.cuda.is_available()\n",
        "import os\nimport torch\nrank = int(os.environ['LOCAL_RANK'])\nx = x.to(rank % torch.cuda.device_count())\n",
    ],
)
def test_a_site_of_each_concern_is_walked(code):
    assert hits(code), code
    assert walked(code)
