"""A chain's arm that only stops where its CUDA tests fail is the program's CUDA requirement."""

from __future__ import annotations

from cudaudit.fixers.run import run_fixes
from cudaudit.model import ScanResult, Severity
from support import analyze

CHAIN = """import torch

if torch.cuda.device_count() >= 2:
    first, second = "cuda:0", "cuda:1"
elif torch.cuda.device_count() == 1:
    first, second = "cuda:0", "cuda:0"
else:
    raise ValueError("CUDA only")
x = torch.zeros(2).cuda()
"""


def test_the_else_of_a_chain_of_cuda_tests_is_the_requirement_and_what_follows_keeps_its_severity():
    found = [(f.rule, f.span.line, f.severity) for f in analyze(CHAIN) if f.severity is not Severity.NOTE]
    assert found == [("CDA114", 8, Severity.ERROR), ("CDA102", 9, Severity.ERROR)]


def test_an_arm_that_stops_without_a_device_before_other_arms_is_the_requirement():
    code = "import sys\nimport torch\n\nif not torch.cuda.is_available():\n    sys.exit('a GPU')\nelse:\n    torch.backends.cudnn.benchmark = True\nx = torch.zeros(2).cuda()\n"
    found = [(f.rule, f.span.line, f.severity) for f in analyze(code) if f.severity is not Severity.NOTE]
    assert found == [("CDA114", 4, Severity.ERROR), ("CDA102", 8, Severity.ERROR)]


def test_an_arm_after_one_that_itself_only_stops_is_the_requirement():
    code = "import torch\n\nif not has_fused_attention():\n    raise ModuleNotFoundError('fused')\nelif not torch.cuda.is_available():\n    raise ValueError('a GPU')\nelse:\n    fused = True\n"
    found = [(f.rule, f.span.line, f.severity) for f in analyze(code) if f.severity is not Severity.NOTE]
    assert found == [("CDA114", 5, Severity.ERROR)]


def test_an_arm_after_one_that_goes_on_is_not_one():
    code = "import torch\n\nif not has_fused_attention():\n    fused = False\nelif not torch.cuda.is_available():\n    raise ValueError('a GPU')\nelse:\n    fused = True\n"
    assert not [f for f in analyze(code) if f.rule == "CDA114"]


def test_a_chain_whose_every_arm_stops_without_a_device_test_is_not_one():
    code = "import sys\nimport torch\n\nassert torch.cuda.is_available() or args.cpu\nif errors:\n    print(errors)\n    sys.exit(1)\nelse:\n    sys.exit(0)\n"
    assert not [f for f in analyze(code) if f.rule == "CDA114"]


def test_an_arm_a_cpu_setting_avoids_is_not_one():
    code = "import torch\n\n\ndef pick(args):\n    if args.cpu:\n        return 'cpu'\n    elif not torch.cuda.is_available():\n        raise RuntimeError('pass --cpu')\n    else:\n        return 'cuda'\n"
    assert not [f for f in analyze(code) if f.rule == "CDA114"]


def test_a_chain_that_also_asks_for_another_device_is_not_one():
    code = "import torch\n\nif torch.cuda.is_available():\n    dev = 'cuda'\nelif torch.backends.mps.is_available():\n    dev = 'mps'\nelse:\n    raise RuntimeError('no accelerator')\n"
    assert not [f for f in analyze(code) if f.rule == "CDA114"]


def test_the_fix_never_removes_a_chain(tmp_path):
    path = tmp_path / "devices.py"
    path.write_text(CHAIN.replace("x = torch.zeros(2).cuda()\n", "print(first)\n"))
    findings = analyze(path.read_text(), path=str(path))
    run_fixes(ScanResult(findings=findings), unsafe=True, torch_version=None, write=True)
    assert "raise ValueError" in path.read_text() and "elif torch.cuda.device_count() == 1" in path.read_text()
