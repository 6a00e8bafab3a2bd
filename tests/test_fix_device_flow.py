"""Device indexes followed through a function, DDP's two device arguments, CUDA requirements,
JIT builds at import, mixed precision and checkpoints: the rewrites that make training scripts
run on a CPU, each checked on the CPU-only PyTorch where one is installed."""

from __future__ import annotations

import pytest
from packaging.version import Version

from cudaudit.fixers.python_fixer import fix_python
from cudaudit.fixers.run import run_fixes
from cudaudit.model import ScanResult, Severity
from support import analyze

DIT = """import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP


def main():
    assert torch.cuda.is_available(), "Training currently requires at least one GPU."
    dist.init_process_group("nccl")
    rank = dist.get_rank()
    local = rank % torch.cuda.device_count()
    torch.cuda.set_device(local)
    model = Net().to(local)
    model = DDP(model, device_ids=[local], output_device=local)
    t = torch.randint(0, 10, (4,), device=local)
    print(f"rank {rank} on {local}")
"""


def fix_all(code: str, version: Version | None = None) -> str:
    findings = [f for f in analyze(code, torch_version=str(version) if version else None) if f.fix]
    result = fix_python(code, findings, version)
    assert result.error is None
    return result.text


def test_an_index_used_only_as_a_device_becomes_a_device_where_it_is_made():
    fixed = fix_all(DIT)
    assert 'torch.device(DEVICE_TYPE, rank % torch.cuda.device_count())\n        if DEVICE_TYPE != "cpu"' in fixed
    assert "model = Net().to(local)" in fixed and "device=local)" in fixed  # uses unchanged
    assert "device_ids=[local] if torch.cuda.is_available() else None" in fixed
    assert "output_device=local if torch.cuda.is_available() else None" in fixed
    assert "if torch.cuda.is_available():\n        torch.cuda.set_device(local)" in fixed


def test_cuda_given_an_index_that_becomes_a_device_moves_to_that_device():
    """`.cuda(gpu)` beside `gpu = int(os.environ["LOCAL_RANK"])`: the variable's own fix makes it a
    `torch.device`, so the call becomes `.to(gpu)`; wrapping it again would raise TypeError."""
    code = (
        "import os\nimport torch\n\n\ndef main(model, x):\n"
        '    gpu = int(os.environ["LOCAL_RANK"])\n    model.cuda(gpu)\n'
        "    return model(x.cuda(gpu, non_blocking=True))\n"
    )
    fixed = fix_all(code)
    assert 'torch.device(DEVICE_TYPE, int(os.environ["LOCAL_RANK"]))' in fixed
    assert "model.to(gpu)\n" in fixed and "x.to(gpu, non_blocking=True)" in fixed


def test_an_index_named_like_one_is_a_device_once_fixed_and_a_second_fix_changes_nothing():
    code = (
        "import os\nimport torch\n\n\ndef main(model):\n"
        '    local_rank = int(os.environ["LOCAL_RANK"])\n    model.to(local_rank)\n'
        '    device = torch.device("cuda", 0)\n    model.cuda(device)\n'
    )
    fixed = fix_all(code)
    assert "model.to(local_rank)\n" in fixed and "model.to(device)\n" in fixed
    assert fix_all(fixed) == fixed


def test_with_the_accelerator_api_the_count_is_the_accelerators():
    assert "torch.accelerator.device_count()" in fix_all(DIT, Version("2.6"))


def test_an_index_also_used_as_a_number_keeps_it_and_each_device_use_is_rewritten():
    code = (
        "import torch\ndef f(rank):\n    local = rank % torch.cuda.device_count()\n"
        "    x = x.to(local)\n    if local == 0:\n        print('first')\n"
    )
    fixed = fix_all(code)
    assert "local = rank % max(torch.cuda.device_count(), 1)" in fixed
    assert "x = x.to(torch.device(DEVICE_TYPE, local))" in fixed


def test_local_rank_from_the_environment_is_followed():
    code = "import os\nimport torch\nlocal = int(os.environ['LOCAL_RANK'])\nx = torch.zeros(1, device=local)\n"
    [finding] = [f for f in analyze(code) if f.rule == "CDA112"]
    assert finding.span.line == 3


def test_the_count_modulo_is_an_error_on_cpu():
    """Without the requirement: past it, the requirement is the CPU's one finding."""
    unrequired = DIT.replace('    assert torch.cuda.is_available(), "Training currently requires at least one GPU."\n', "")
    [finding] = [f for f in analyze(unrequired) if f.rule == "CDA112"]
    assert finding.severity is Severity.ERROR and "device count" in finding.message


def test_requirement_is_lifted_only_with_everything_it_protects(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(DIT)
    findings = analyze(DIT, path=str(path))
    report = run_fixes(ScanResult(findings=findings), unsafe=True, torch_version=None, write=True)
    assert "assert torch.cuda.is_available()" not in path.read_text()
    assert not [r for r in report.remaining if r.finding.rule == "CDA114"]

    blocked = DIT.replace("    print(", "    torch.cuda.memory_summary()\n    print(")
    path.write_text(blocked)
    findings = analyze(blocked, path=str(path))
    report = run_fixes(ScanResult(findings=findings), unsafe=True, torch_version=None, write=True)
    assert "assert torch.cuda.is_available()" in path.read_text()
    [kept] = [r for r in report.remaining if r.finding.rule == "CDA114"]
    assert kept.reason.startswith("kept: it protects code that still needs CUDA (CDA101 at line")


def test_a_requirement_in_a_function_called_later_protects_that_function_too():
    code = (
        "import sys\nimport torch\n\n\ndef train():\n    torch.cuda.memory_summary()\n\n\n"
        "def main():\n    if not torch.cuda.is_available():\n        sys.exit('needs a GPU')\n    train()\n"
    )
    [requirement] = [f for f in analyze(code) if f.rule == "CDA114"]
    assert requirement.fix is not None and requirement.fix.protects(next(f for f in analyze(code) if "memory" in f.message).span)


PROJECT_TRAIN = """import sys
import torch
import utils
from models import build_model
from .data import loader


def main():
    if not torch.cuda.is_available():
        sys.exit("needs a GPU")
    utils.init_distributed()
    model = build_model()
    for batch in loader():
        model(batch)
"""


def test_a_lifted_requirement_names_what_it_protects_in_the_projects_other_modules(cli, tmp_path):
    """The analysis sees one file: code the requirement protects in `models.py` is not weighed,
    and the fix summary says so, naming it."""
    (tmp_path / "train.py").write_text(PROJECT_TRAIN)
    (tmp_path / "models.py").write_text("def build_model():\n    return None\n")
    (tmp_path / "utils.py").write_text("def init_distributed():\n    pass\n")
    result = cli("fix", "--unsafe-fixes", "--diff", "train.py")
    assert "train.py:9:8  CDA114  lifts the requirement, but the code it protected also uses" in result.output
    assert "utils.init_distributed, models.build_model, .data.loader from other modules of the project" in result.output
    assert "torch" not in result.output.split("also uses")[1].split("from other")[0]


def test_a_requirement_protecting_only_its_own_module_gets_no_such_note(cli, tmp_path):
    (tmp_path / "train.py").write_text(DIT)
    result = cli("fix", "--unsafe-fixes", "--diff", "train.py")
    assert "CDA114" in result.output and "other modules of the project" not in result.output


def test_the_sites_past_a_requirement_are_reported_and_fixed_with_it(cli, tmp_path):
    """Past the requirement, each site keeps its own severity: it is what lifting the requirement
    must rewrite. `fix` rewrites them with it, and keeps it while one of them has no rewrite."""
    path = tmp_path / "train.py"
    path.write_text(DIT)
    assert "\n  10:" in cli("scan", "train.py").output  # `torch.cuda.set_device(local)`
    cli("fix", "--unsafe-fixes", "train.py")
    fixed = path.read_text()
    assert "assert torch.cuda.is_available()" not in fixed and "DEVICE_TYPE" in fixed

    path.write_text(DIT.replace("    print(", "    torch.cuda.memory_summary()\n    print("))
    result = cli("fix", "--unsafe-fixes", "train.py")
    assert "assert torch.cuda.is_available()" in path.read_text()
    assert "kept: it protects code that still needs CUDA (CDA101 at line 15)" in result.output


def test_an_early_return_is_a_guard_not_a_requirement():
    code = "import torch\ndef f():\n    if not torch.cuda.is_available():\n        return\n    torch.cuda.synchronize()\n"
    assert not [f for f in analyze(code) if f.rule == "CDA114"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import torch\nscaler = torch.cuda.amp.GradScaler()\n", "torch.amp.GradScaler(DEVICE_TYPE)"),
        ("import torch\nwith torch.cuda.amp.autocast(use_amp):\n    pass\n", "torch.amp.autocast(DEVICE_TYPE, enabled=use_amp)"),
        ("import torch\ns = torch.cuda.amp.GradScaler(2.0**10)\n", "torch.amp.GradScaler(DEVICE_TYPE, init_scale=2.0**10)"),
        ("import torch\nc = x.type(torch.cuda.FloatTensor)\n", "c = x.to(DEVICE_TYPE, torch.float32)"),
        ("import torch\nc = x.type('torch.cuda.HalfTensor')\n", "c = x.to(DEVICE_TYPE, torch.float16)"),
    ],
)
def test_mixed_precision_and_casts_move_together(code, expected):
    assert expected in fix_all(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import torch\nmodel.load_state_dict(torch.load(p))\n", 'torch.load(p, map_location="cpu")'),
        ("import torch\ndef f(p, device):\n    return torch.load(p)\n", "torch.load(p, map_location=device)"),
        ("import torch\nckpt = torch.load(p, weights_only=True)\n", "torch.load(p, weights_only=True, map_location=DEVICE_TYPE)"),
    ],
)
def test_torch_load_names_where_tensors_go(code, expected):
    assert expected in fix_all(code)


FUSED = """import os

import torch
from torch.utils.cpp_extension import load

fused = load("fused", sources=[os.path.join(os.path.dirname(__file__), "k.cu")])


def act(x):
    if x.device.type == "cpu":
        return torch.relu(x)
    return fused.act(x)
"""


def test_a_jit_build_at_import_with_a_cpu_path_is_built_only_where_cuda_is():
    fixed = fix_all(FUSED)
    assert "fused = (\n    load(" in fixed and "    if torch.cuda.is_available()\n    else None\n)\n" in fixed
    assert not [f for f in analyze(fixed) if f.rule == "CDA440"]


def test_a_jit_build_at_import_without_a_cpu_path_says_who_cannot_run(tmp_path):
    code = FUSED.replace('    if x.device.type == "cpu":\n        return torch.relu(x)\n', "")
    [finding] = [f for f in analyze(code, path="ops/fused.py") if f.rule == "CDA440"]
    assert finding.fix is None
    assert "entry points importing it still cannot run on CPU" in finding.message and "ops/fused.py" in finding.message


@pytest.mark.slow
def test_every_rewrite_runs_on_cpu_only_torch():
    """The expressions the fixes write, evaluated on this machine's CPU-only PyTorch."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    DEVICE_TYPE = "cuda" if torch.cuda.is_available() else "cpu"
    rank = 1
    device = torch.device(DEVICE_TYPE, rank % torch.cuda.device_count()) if DEVICE_TYPE != "cpu" else torch.device("cpu")
    assert torch.zeros(1).to(device).device.type == "cpu"
    assert rank % max(torch.cuda.device_count(), 1) == 0
    assert torch.zeros(1).to(torch.device(DEVICE_TYPE, rank)).device.type == "cpu"
    assert torch.zeros(1, 2).to(DEVICE_TYPE, torch.float32).dtype == torch.float32
    assert not torch.amp.GradScaler(DEVICE_TYPE, enabled=False).is_enabled()
    with torch.amp.autocast(DEVICE_TYPE, enabled=False):
        pass


def test_a_spawn_of_one_process_per_counted_device_is_read_through_its_name_or_position():
    code = (
        "import torch\nfrom torch.multiprocessing import start_processes\n\n"
        "def launch(train):\n    gpus = torch.cuda.device_count()\n    start_processes(train, (gpus,), gpus)\n"
    )
    [finding] = [f for f in analyze(code) if f.rule == "CDA112"]
    assert (finding.span.line, finding.span.column, finding.fix) == (6, 37, None)
    assert "`spawn` starts that many processes" in finding.message


def test_a_spawn_of_a_name_bound_again_is_not_the_count():
    code = (
        "import torch\nimport torch.multiprocessing as mp\n\n"
        "def launch(train):\n    n = torch.cuda.device_count()\n    n = max(n, 1)\n    mp.spawn(train, nprocs=n)\n"
    )
    assert [f for f in analyze(code) if f.rule == "CDA112"] == []


def test_a_spawn_reads_the_count_through_the_attribute_that_holds_it():
    code = (
        "import torch\nimport torch.multiprocessing as mp\n\n"
        "def main(cfg, worker):\n    cfg.gpus_per_machine = torch.cuda.device_count()\n"
        "    mp.spawn(worker, nprocs=cfg.gpus_per_machine, args=(cfg,))\n"
    )
    [finding] = [f for f in analyze(code) if f.rule == "CDA112"]
    assert (finding.span.line, finding.span.column, finding.fix) == (6, 29, None)
    again = code.replace("    mp.spawn", "    cfg.gpus_per_machine = max(cfg.gpus_per_machine, 1)\n    mp.spawn")
    assert [f for f in analyze(again) if f.rule == "CDA112"] == []
    other = code.replace("nprocs=cfg.gpus_per_machine", "nprocs=cfg.world_size")
    assert [f for f in analyze(other) if f.rule == "CDA112"] == []


@pytest.mark.slow
def test_a_spawn_of_no_process_returns_without_running_on_cpu_only_torch():
    """The fact the spawn's findings state, on this machine's CPU-only PyTorch."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    import torch.multiprocessing as mp

    assert torch.cuda.device_count() == 0
    assert mp.spawn(print, nprocs=torch.cuda.device_count()) is None
