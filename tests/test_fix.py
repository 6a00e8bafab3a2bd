"""`cudaudit fix`: the rewrites, their safety, idempotence, and how files are written."""

from __future__ import annotations

import os
import stat

import pytest
from packaging.version import Version

from cudaudit.fixers.python_fixer import fix_python
from cudaudit.model import Edit, Fix, Safety, Span
from cudaudit.resolvers.torch_pin import project_torch_version
from cudaudit.rules.catalog import load_catalog
from support import analyze, scan_json, write

CATALOG = load_catalog()
FIXED = [
    pytest.param(rule.id, example.before, example.after, id=f"{rule.id}-fixed-{i}")
    for rule in CATALOG.rules.values()
    if rule.kind == "python"
    for i, example in enumerate(rule.fixed)
]
LOCKED = (
    "import torch\n\n"
    "model = torch.nn.Linear(2, 2).cuda()\n"
    'x = torch.ones(1, 2, device="cuda")\n'
    "torch.cuda.synchronize()\n"
)


def fix_all(code: str, rule: str | None = None, version: Version | None = None) -> str:
    pin = str(version) if version else None
    findings = [f for f in analyze(code, torch_version=pin) if f.fix and (rule is None or f.rule == rule)]
    result = fix_python(code, findings, version)
    assert result.error is None
    return result.text


@pytest.mark.parametrize(("rule", "before", "after"), FIXED)
def test_rule_fix_examples(rule, before, after):
    assert fix_all(before, rule) == after
    assert fix_all(after) == after, "a second run must change nothing"


def test_every_fix_policy_has_an_example():
    """The kinds themselves are checked when the catalog loads (tests/test_registry.py)."""
    for rule in CATALOG.rules.values():
        if rule.fix is not None:
            assert rule.fixed, f"{rule.id} has a fix but no before/after example"


def test_json_findings_carry_their_fix(cli, tmp_path):
    write(tmp_path / "a.py", LOCKED)
    by_rule = {f["rule"]: f["fix"] for f in scan_json(cli)["findings"]}
    assert by_rule["CDA102"]["safety"] == "unsafe"
    assert by_rule["CDA103"] == {
        "safety": "safe",
        "description": "use the device type chosen at run time: DEVICE_TYPE",
        "edits": [{"line": 4, "column": 29, "end_line": 4, "end_column": 35, "replacement": "DEVICE_TYPE"}],
        "requires": ["import torch", "DEVICE_TYPE"],
    }


def test_diff_writes_nothing_and_exits_1_when_there_are_changes(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    result = cli("fix", "--diff", "a.py")
    assert result.exit_code == 1
    assert "+++ b/a.py" in result.stdout and '-x = torch.ones(1, 2, device="cuda")' in result.stdout
    assert path.read_text() == LOCKED
    write(tmp_path / "clean.py", "import torch\n")
    assert cli("fix", "--diff", "clean.py").exit_code == 0


def test_fix_applies_safe_fixes_and_says_why_the_rest_remains(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    result = cli("fix", "a.py")
    assert result.exit_code == 1  # the unsafe .cuda() fix was not applied
    text = path.read_text()
    assert 'device=DEVICE_TYPE' in text and "if torch.cuda.is_available():\n    torch.cuda.synchronize()" in text
    assert ".cuda()" in text
    assert "--unsafe-fixes" in result.output and "CDA102" in result.output
    result = cli("fix", "--unsafe-fixes", "a.py")
    assert result.exit_code == 0
    assert ".to(DEVICE_TYPE)" in path.read_text()
    once = path.read_text()
    assert cli("fix", "--unsafe-fixes", "a.py").exit_code == 0
    assert path.read_text() == once


def test_select_limits_what_is_fixed(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    cli("fix", "--unsafe-fixes", "--select", "CDA102", "a.py")
    text = path.read_text()
    assert ".to(DEVICE_TYPE)" in text and 'device="cuda"' in text


def test_files_keep_their_encoding_newlines_bom_and_mode(cli, tmp_path):
    latin = write(tmp_path / "latin.py", ("# -*- coding: latin-1 -*-\n# café\n" + LOCKED).encode("latin-1"))
    crlf = write(tmp_path / "crlf.py", LOCKED.replace("\n", "\r\n").encode())
    bom = write(tmp_path / "bom.py", b"\xef\xbb\xbf" + LOCKED.encode())
    os.chmod(crlf, 0o750)
    assert cli("fix", "--unsafe-fixes", ".").exit_code == 0
    assert "café".encode("latin-1") in latin.read_bytes()
    assert latin.read_bytes().decode("latin-1").count("DEVICE_TYPE") >= 2
    data = crlf.read_bytes()
    assert b"DEVICE_TYPE" in data and data.count(b"\r\n") == data.count(b"\n")
    assert stat.S_IMODE(crlf.stat().st_mode) == 0o750
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf") and not bom.read_bytes()[3:].startswith(b"\xef\xbb\xbf")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".cudaudit")], "no temporary file left behind"


def test_a_fix_that_would_break_the_file_is_not_applied():
    code = "import torch\nx = 1\n"
    broken = Fix(Safety.SAFE, "break it", (Edit(Span(2, 1, 2, 2), "def ("),))
    finding = analyze("import torch\ntorch.cuda.synchronize()\n")[0]
    result = fix_python(code, [type(finding)(**{**finding.__dict__, "fix": broken})], None)
    assert result.text == code and "would not parse" in result.error


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"requirements.txt": "torch>=2.7,<3\nnumpy\n"}, Version("2.7")),
        ({"requirements.txt": "torch==2.5.1+cu121\n"}, Version("2.5")),
        ({"requirements.txt": "torch==2.6.0 \\\n    --hash=sha256:0123abcd  # pinned\n"}, Version("2.6")),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["torch>=2.6"]\n'}, Version("2.6")),
        ({"requirements.txt": "torch>=2.1\n", "uv.lock": '[[package]]\nname = "torch"\nversion = "2.9.1"\n'},
         Version("2.9")),
        ({"requirements.txt": "torch\n"}, None),
        ({}, None),
    ],
)
def test_project_torch_version(tmp_path, files, expected):
    for name, text in files.items():
        write(tmp_path / name, text)
    assert project_torch_version(tmp_path) == expected


def test_device_type_follows_the_projects_pytorch(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    write(tmp_path / "requirements.txt", "torch>=2.7\n")
    cli("fix", "a.py")
    assert "torch.accelerator.current_accelerator().type\n    if torch.accelerator.is_available()" in path.read_text()
    path = write(tmp_path / "b.py", LOCKED)
    cli("fix", "--torch-version", "2.4", "b.py")
    assert 'DEVICE_TYPE = "cuda" if torch.cuda.is_available() else "cpu"' in path.read_text()
    assert cli("fix", "--torch-version", "soon", "b.py").exit_code == 2



@pytest.mark.parametrize(
    ("code", "version", "expected_in", "not_expected_in"),
    [
        # `"cuda:%d" % (rank,)` names the tuple's element, not the tuple.
        ('import torch\nx = torch.zeros(1, device="cuda:%d" % (rank,))\n', None, "{rank}", "(rank,)"),
        # `.cuda(gpu)` keeps None meaning "the current device".
        ("import torch\nx = x.cuda(args.gpu)\n", None, "torch.device(DEVICE_TYPE, args.gpu)", "cuda"),
        # torch.amp.GradScaler exists from 2.3: an older pin keeps the deprecated API; an unpinned
        # project installs a current PyTorch, so the scaler moves with the autocast next to it.
        ("from torch.cuda.amp import GradScaler\ns = GradScaler()\n", Version("2.2"), "GradScaler()", "torch.amp"),
        ("from torch.cuda.amp import GradScaler\ns = GradScaler()\n", None, "torch.amp.GradScaler(DEVICE_TYPE)", "cuda.amp"),
        ("from torch.cuda.amp import GradScaler\ns = GradScaler()\n", Version("2.3"), "torch.amp.GradScaler(", "cuda.amp"),
        ("import torch\nwith torch.cuda.amp.autocast():\n    pass\n", None, "torch.amp.autocast(DEVICE_TYPE)", "cuda.amp"),
    ],
)
def test_rewrites_that_must_hold_on_cuda(code, version, expected_in, not_expected_in):
    fixed = fix_all(code, version=version)
    assert expected_in in fixed and not_expected_in not in fixed.split("DEVICE_TYPE =")[-1].split("\n", 1)[-1]


def test_always_true_cli_flags_are_not_guards():
    code = (
        "import argparse, torch\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--cuda', action='store_false')\nparser.add_argument('--gpu', type=int, default=0)\n"
        "parser.add_argument('--use-gpu', action='store_true')\nargs = parser.parse_args()\n"
        "if args.cuda:\n    model.cuda()\n"
        "if args.gpu is not None:\n    torch.cuda.set_device(args.gpu)\n"
        "if args.use_gpu:\n    model.cuda()\n"
    )
    severities = [(f.span.line, f.severity.value) for f in analyze(code) if f.rule in ("CDA101", "CDA102")]
    assert severities == [(8, "error"), (10, "error"), (12, "note")]


def test_a_module_with_its_own_device_type_is_left_alone(cli, tmp_path):
    path = write(tmp_path / "a.py", 'import torch\nDEVICE_TYPE = "gpu"\nx = torch.zeros(1, device="cuda")\n')
    result = cli("fix", "a.py")
    assert "defines DEVICE_TYPE its own way" in result.output
    assert 'device="cuda"' in path.read_text()


def test_conda_pins_count(tmp_path):
    write(tmp_path / "environment.yaml", "dependencies:\n  - python=3.8\n  - pytorch=1.7.0\n  - pip:\n    - torch==2.3.1\n")
    assert project_torch_version(tmp_path) == Version("1.7")


def test_fixing_in_parallel_gives_what_fixing_serially_gives(cli, tmp_path):
    for i in range(24):
        write(tmp_path / f"pkg{i % 3}" / f"m{i}.py", LOCKED + f"y{i} = torch.zeros({i}).cuda()\n")
    write(tmp_path / "pkg0" / "broken.py", "import torch\ndef f(:\n    torch.cuda.synchronize()\n")
    serial = cli("fix", "--diff", "--unsafe-fixes", "--jobs", "1", ".")
    parallel = cli("fix", "--diff", "--unsafe-fixes", "--jobs", "2", ".")
    assert serial.exit_code == parallel.exit_code == 1
    assert serial.stdout == parallel.stdout and serial.stdout.count("+++ b/") == 24
    assert serial.stderr == parallel.stderr
    assert cli("fix", "--unsafe-fixes", "--jobs", "2", ".").exit_code == 1  # broken.py cannot be analysed
    assert cli("fix", "--diff", "--unsafe-fixes", ".").stdout == "", "a second run changes nothing"
