"""Fixes a reviewer would accept: the diff reads as a person would write it, stays within the
project's line length and import layout, and what it writes scans clean."""

from __future__ import annotations

import subprocess
import sys

import pytest
from packaging.version import Version

from cudaudit.fixers.line_length import project_line_length, wrap_new_long_lines
from cudaudit.fixers.python_fixer import fix_python
from cudaudit.model import Severity, Status
from support import analyze, write


def fix_all(code: str, version: Version | None = None, line_length: int = 88, unsafe: bool = True) -> str:
    findings = [f for f in analyze(code, torch_version=str(version) if version else None) if f.fix]
    if not unsafe:
        findings = [f for f in findings if f.fix.safety.value == "safe"]
    result = fix_python(code, findings, version, line_length)
    assert result.error is None
    return result.text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            'import torch\nimport torch.distributed as dist\ndist.init_process_group("nccl")\n',
            'init_process_group("nccl" if torch.cuda.is_available() else "gloo")',
        ),
        ('import torch\nx = torch.device("cuda:1")\n', 'torch.device(f"{DEVICE_TYPE}:1" if DEVICE_TYPE != "cpu" else "cpu")'),
        # Where the expression is part of a larger one, the parentheses are needed.
        ("import torch\ny = x.pin_memory().float()\n", "y = (x.pin_memory() if torch.cuda.is_available() else x).float()"),
    ],
)
def test_no_redundant_parentheses(code, expected):
    assert expected in fix_all(code)


def test_a_device_already_in_scope_is_reused():
    code = "import torch\n\n\ndef run(device):\n    x = x.cuda()\n    y = y.to(device)\n\n\nz = z.cuda()\n"
    fixed = fix_all(code)
    assert "x = x.to(device)" in fixed and "z = z.to(DEVICE_TYPE)" in fixed


def test_a_plain_cpu_device_is_not_what_cuda_meant():
    fixed = fix_all('import torch\ndevice = torch.device("cpu")\nx = x.cuda()\n')
    assert "x = x.to(DEVICE_TYPE)" in fixed


def test_the_modules_own_name_for_torch_is_used_and_no_second_import_added():
    fixed = fix_all('import torch as th\nx = th.zeros(1, device="cuda")\nth.cuda.synchronize()\n')
    assert "import torch\n" not in fixed
    assert 'DEVICE_TYPE = "cuda" if th.cuda.is_available() else "cpu"' in fixed
    assert "if th.cuda.is_available():\n    th.cuda.synchronize()" in fixed


def test_new_long_lines_are_split_like_black_and_old_ones_are_left():
    long_old = "x = " + " + ".join(["value"] * 20) + "\n"
    code = (
        "import torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n"
        + long_old
        + "model = DDP(model, device_ids=[local_rank], output_device=local_rank, find_unused_parameters=True)\n"
    )
    fixed = fix_all(code, line_length=79)
    assert long_old in fixed
    assert (
        "model = DDP(\n    model,\n    device_ids=[local_rank] if torch.cuda.is_available() else None,\n"
        "    output_device=local_rank if torch.cuda.is_available() else None,\n"
        "    find_unused_parameters=True,\n)\n"
    ) in fixed
    assert max(len(line) for line in fixed.splitlines() if line + "\n" != long_old) <= 79


def test_wrap_keeps_a_trailing_comment_and_splits_a_comprehension():
    line = "views = [v.to(DEVICE_TYPE, non_blocking=True) for v in augment(images[:16], generator)]  # two views"
    assert wrap_new_long_lines("", line + "\n", 88) == (
        "views = [\n    v.to(DEVICE_TYPE, non_blocking=True) for v in augment(images[:16], generator)\n]  # two views\n"
    )
    assert wrap_new_long_lines("", line + "\n", 79) == (
        "views = [\n    v.to(DEVICE_TYPE, non_blocking=True)\n    for v in augment(images[:16], generator)\n]  # two views\n"
    )


def test_the_accelerator_definition_is_split_when_longer_than_the_project_allows():
    fixed = fix_all('import torch\nx = torch.zeros(1, device="cuda")\n', Version("2.6"), line_length=79)
    assert "DEVICE_TYPE = (\n    torch.accelerator.current_accelerator().type\n" in fixed
    assert fix_all(fixed, Version("2.6"), line_length=79) == fixed


@pytest.mark.parametrize(
    ("files", "length"),
    [
        ({"pyproject.toml": "[tool.ruff]\nline-length = 120\n"}, 120),
        ({"pyproject.toml": "[tool.black]\nline-length = 100\n"}, 100),
        ({"setup.cfg": "[flake8]\nmax-line-length = 110\n"}, 110),
        ({"tox.ini": "[flake8]\nignore = E203\n"}, 79),
        ({"ruff.toml": "line-length = 99\n", "setup.cfg": "[flake8]\nmax-line-length = 79\n"}, 99),
        ({}, 88),
    ],
)
def test_line_length_is_read_as_the_projects_linters_read_it(tmp_path, files, length):
    for name, text in files.items():
        write(tmp_path / name, text)
    assert project_line_length(tmp_path) == length


def test_the_device_type_definition_scans_clean():
    """What the fixer writes says nothing needs to change on any requested target."""
    for version in (None, Version("2.6")):
        fixed = fix_all('import torch\nx = torch.zeros(1, device="cuda")\n', version)
        findings = analyze(fixed)
        assert all(f.severity is Severity.NOTE for f in findings), findings
        assert all(fact.status is Status.WORKS for f in findings for fact in f.targets.values()), findings
        assert not [f for f in findings if f.rule == "CDA103"]


@pytest.mark.parametrize(
    "code",
    [
        'import torch\nimport torch.distributed as dist\ndist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")\n',
        "import torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n"
        "m = DDP(m, device_ids=[r] if torch.cuda.is_available() else None)\n",
    ],
)
def test_run_time_choices_are_not_findings(code):
    assert not [f for f in analyze(code) if f.rule in ("CDA103", "CDA106", "CDA107")]


def test_fixed_files_add_no_e402_or_e501(tmp_path):
    code = (
        '"""A script."""\nimport os\nimport sys\nsys.path.insert(0, os.path.dirname(__file__))\n'
        "import torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\n\n"
        "model = DDP(model.cuda(), device_ids=[local_rank], output_device=local_rank)\n"
        "with torch.cuda.amp.autocast(True):\n    y = model(x.cuda(non_blocking=True))\n"
    )
    path = write(tmp_path / "train.py", fix_all(code, line_length=79))
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "E402,E501", "--line-length", "79"]
    result = subprocess.run([*ruff, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + path.read_text()


def test_a_long_new_line_of_arguments_inside_a_call_gets_one_argument_per_line():
    code = 'parser.add_argument(\n    "--dist-backend", default="nccl" if torch.cuda.is_available() else "gloo", type=str\n)\n'
    assert wrap_new_long_lines("", code, 79) == (
        'parser.add_argument(\n    "--dist-backend",\n    default="nccl" if torch.cuda.is_available() else "gloo",\n'
        "    type=str,\n)\n"
    )


def test_the_line_that_opens_a_call_is_split_under_its_first_argument():
    code = (
        "parser.add_argument('--dist-backend', default='nccl' if torch.cuda.is_available() else 'gloo', type=str,\n"
        "                    help='distributed backend')\n"
    )
    assert wrap_new_long_lines("", code, 79) == (
        "parser.add_argument('--dist-backend',\n"
        "                    default='nccl' if torch.cuda.is_available() else 'gloo',\n"
        "                    type=str,\n"
        "                    help='distributed backend')\n"
    )


def test_the_backend_keeps_the_files_quotes():
    fixed = fix_all("import torch\nimport torch.distributed as dist\ndist.init_process_group(backend='nccl')\n")
    assert "backend='nccl' if torch.cuda.is_available() else 'gloo'" in fixed
