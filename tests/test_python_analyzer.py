"""Python detection beyond the rule examples: name resolution, positions, guards, precision."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity, Span
from support import analyze


def rules(code: str, **kwargs) -> list[tuple[int, str]]:
    return [(f.span.line, f.rule) for f in analyze(code, **kwargs)]


@pytest.mark.parametrize(
    "code",
    [
        "import torch as th\nth.cuda.synchronize()\n",
        "from torch import cuda\ncuda.synchronize()\n",
        "import torch.cuda as tc\ntc.synchronize()\n",
        "import torch.cuda\ntorch.cuda.synchronize()\n",
        "from torch.cuda import synchronize as sync\nsync()\n",
    ],
)
def test_aliases_resolve_to_the_same_api(code):
    [finding] = analyze(code)
    assert finding.rule == "CDA101"
    assert finding.targets["cpu"].replacement  # the per-symbol entry, not the fallback
    assert "synchronize" in finding.targets["cpu"].replacement


def test_from_import_of_amp_is_reported_at_each_use_not_at_the_import():
    code = "from torch.cuda.amp import autocast\nwith autocast():\n    pass\n"
    assert rules(code) == [(2, "CDA104")]


def test_a_chain_is_reported_once():
    assert rules("import torch\ntorch.cuda.amp.autocast()\n") == [(2, "CDA104")]


def test_columns_count_characters_not_utf8_bytes():
    code = 'import torch\nlabel = "é→"; x = torch.zeros(1, device="cuda")\n'
    [finding] = analyze(code)
    line = code.splitlines()[1]
    assert finding.span == Span(2, line.index('"cuda"') + 1, 2, line.index('"cuda"') + 7)


def test_prose_comments_and_lookalike_names_are_never_findings():
    code = '''
"""Trains on cuda:0; call torch.cuda.synchronize() first."""
import torch
# model.cuda()  torch.cuda.synchronize()
cuda_enabled = True
use_cuda_graphs = False
message = "moving to cuda"
print("torch.cuda.is_available() said no")
def cuda_kernel_name():
    return "cuda"
'''
    assert analyze(code) == []


def test_other_libraries_cuda_attributes_are_not_torch():
    code = "import tvm\nimport cupy\ndev = tvm.cuda(0)\nd = tvm.runtime.cuda(1)\n"
    assert [r for _, r in rules(code)] == ["CDA201"]  # the cupy import only


def test_guard_lowers_cpu_but_not_rocm():
    code = "import torch\nif torch.cuda.is_available():\n    major = torch.cuda.get_device_capability()[0]\n"
    [*_, capability] = analyze(code)
    assert capability.rule == "CDA109"
    # ROCm passes the guard and still gets gfx numbers: the warning stands.
    assert capability.severity is Severity.WARNING
    assert analyze(code, targets=("cpu",))[-1].severity is Severity.NOTE


@pytest.mark.parametrize(
    "code",
    [
        "if args.cuda:\n    model.cuda()\n",
        "if use_gpu:\n    model.cuda()\n",
        "if device.type == 'cuda':\n    model.cuda()\n",
        "if device.type != 'cuda':\n    pass\nelse:\n    model.cuda()\n",
        "import torch\ndef f():\n    if not torch.cuda.is_available():\n        return\n    model.cuda()\n",
        "import unittest, torch\n@unittest.skipUnless(torch.cuda.is_available(), 'gpu')\nclass T(unittest.TestCase):\n    def test(self):\n        model.cuda()\n",
        "x = x.cuda() if torch_available and x.is_cuda else x\n",
    ],
)
def test_guarded_cuda_method_is_a_note(code):
    [finding] = [f for f in analyze(code) if f.rule == "CDA102"]
    assert finding.severity is Severity.NOTE


@pytest.mark.parametrize(
    "code",
    [
        "import torch\nassert torch.cuda.is_available()\nmodel.cuda()\n",
        "import torch\nif not torch.cuda.is_available():\n    raise SystemExit('no gpu')\nmodel.cuda()\n",
        "import torch, sys\nif not torch.cuda.is_available():\n    sys.exit(0)\nmodel.cuda()\n",
    ],
)
def test_a_cuda_requirement_is_the_cpu_error_and_what_follows_keeps_its_severity(code):
    """The program stops there on a CPU: an error at the requirement. What follows is what lifting
    it must rewrite next: it keeps its own severity, and is fixed with the requirement."""
    findings = {f.rule: f for f in analyze(code)}
    assert findings["CDA114"].severity is Severity.ERROR
    after = findings["CDA102"]
    assert after.targets["cpu"].severity is Severity.ERROR and after.targets["cpu"].status.value == "change"
    assert after.fix is not None


def test_code_after_a_guarded_block_is_not_guarded():
    code = "import torch\nif torch.cuda.is_available():\n    pass\nmodel.cuda()\n"
    [finding] = analyze(code)[-1:]
    assert finding.rule == "CDA102" and finding.severity is Severity.ERROR


def test_optional_import_is_at_most_a_warning():
    code = "try:\n    import flash_attn\nexcept ImportError:\n    flash_attn = None\n"
    [finding] = analyze(code)
    assert finding.rule == "CDA209" and finding.severity.rank <= Severity.WARNING.rank


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        # the module never reads the name: a failed import is only reported, nothing after it needs the library
        ("import logging\ntry:\n    import flash_attn\nexcept Exception:\n    logging.warning('no flash-attn')\n", Severity.NOTE),
        ("try:\n    import flash_attn  # noqa: F401\nexcept ImportError:\n    pass\n", Severity.NOTE),
        # read after the `try`: what runs without it is judged where it runs, the import stays a warning
        ("try:\n    import flash_attn\nexcept ImportError:\n    print('no flash-attn')\nf = flash_attn.flash_attn_func\n", Severity.WARNING),
        # another module may import the name from this one
        ("try:\n    from flash_attn import flash_attn_func\nexcept ImportError:\n    print('no flash-attn')\n", Severity.WARNING),
    ],
)
def test_an_optional_import_nothing_reads_is_only_reported(code, severity):
    [finding] = [f for f in analyze(code) if f.rule == "CDA209"]
    assert finding.severity is severity


FUSED_IMPORT = """
import torch
try:
    from apex.normalization import FusedLayerNorm
    HAS_APEX = True
except ImportError:
    HAS_APEX = False

def layer_norm(shape):
    if {test}:
        return FusedLayerNorm(shape)
    return torch.nn.LayerNorm(shape)
"""


@pytest.mark.parametrize(
    ("test", "cpu"),
    [
        ("torch.cuda.is_available() and HAS_APEX", Severity.NOTE),
        ("HAS_APEX or torch.cuda.is_available()", Severity.WARNING),
        ("HAS_APEX", Severity.WARNING),
    ],
)
def test_an_optional_import_read_only_where_cuda_is_tested_is_a_cpu_note(test, cpu):
    """A CPU takes the fallback where the library is installed too: it never wanted it. ROCm runs
    the fallback in its place: still a warning there. A branch that a CPU may take reads it there too."""
    [finding] = [f for f in analyze(FUSED_IMPORT.format(test=test)) if f.rule == "CDA208"]
    assert finding.targets["cpu"].severity is cpu
    assert finding.targets["rocm"].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("from numba import cuda\n", "CDA203"),
        ("import numba.cuda\n", "CDA203"),
        ("import pynvml\n", "CDA204"),
        ("import os\nos.environ['CUDA_HOME']\n", "CDA212"),
        ("from os import environ\nx = environ.get('CUDA_HOME')\n", "CDA212"),
        ("import subprocess\nsubprocess.run(['nvidia-smi', '-L'])\n", "CDA211"),
        ("import os\nos.system('nvcc --version')\n", "CDA211"),
        ("import subprocess\nsubprocess.check_output('/usr/bin/nvidia-smi -L', shell=True)\n", "CDA211"),
    ],
)
def test_libraries_tools_and_environment(code, rule):
    assert rule in [f.rule for f in analyze(code)]


def test_plain_numba_is_not_cuda():
    assert analyze("import numba\nfrom numba import njit\n@njit\ndef f(x):\n    return x\n") == []


def test_target_selection_limits_reported_targets():
    [finding] = analyze("import torch\ntorch.cuda.synchronize()\n", targets=("rocm",))
    assert list(finding.targets) == ["rocm"]
    assert finding.severity is Severity.NOTE  # works on ROCm: merely CUDA-flavoured


def test_suppression_comments():
    code = (
        "import torch\n"
        "torch.cuda.synchronize()  # cudaudit: ignore[CDA101]\n"
        "torch.cuda.synchronize()  # cudaudit: ignore\n"
        "torch.cuda.synchronize()  # cudaudit: ignore[CDA102]\n"
        "torch.cuda.synchronize()  # cudaudit: ignore[CDA10I]\n"
    )
    assert sorted(rules(code)) == [(4, "CDA002"), (4, "CDA101"), (5, "CDA001"), (5, "CDA101")]


def test_none_checks_on_the_cuda_version_are_guards_with_the_right_polarity():
    code = (
        "import torch\n"
        "if torch.version.cuda is None:\n    model.cuda()\n"
        "if torch.version.cuda is not None:\n    model.cuda()\n"
    )
    methods = [f for f in analyze(code, targets=("cpu",)) if f.rule == "CDA102"]
    assert [(f.span.line, f.severity) for f in methods] == [(3, Severity.ERROR), (5, Severity.NOTE)]


def test_a_statistic_an_object_keeps_in_its_own_attribute_is_only_shown_where_every_read_is():
    """`self.before = max_memory_allocated() / 2**30` in `__enter__`, printed in `__exit__`: a note; once
    some read of the attribute computes with it, a warning."""
    code = (
        "import torch\n\n\nclass Peak:\n    def __enter__(self):\n"
        "        self.before = torch.cuda.max_memory_allocated() / (1024 ** 3)\n        return self\n\n"
        "    def __exit__(self, *exc):\n        print(f'peak before {self.before:.2f} GB')\n\n\n"
        "if __name__ == '__main__':\n    with Peak():\n        pass\n"
    )
    assert {f.span.line: f.targets["cpu"].severity.value for f in analyze(code)} == {6: "note"}
    decided = code.replace("        print(", "        assert self.before < 40\n        print(")
    assert {f.span.line: f.targets["cpu"].severity.value for f in analyze(decided)} == {6: "warning"}


def test_the_cuda_version_read_where_none_raises_is_an_error_where_no_presence_test_guards_it():
    """`parse(torch.version.cuda)` raises on ROCm behind `is_available()`, which ROCm passes (CPU stops
    there); unguarded it raises on both; a presence test before it, or `torch.version.hip` first, guards it."""
    code = (
        "import packaging.version\nimport torch\n\n\ndef optimize(graph):\n"
        "    if torch.cuda.is_available() and packaging.version.parse(torch.version.cuda) >= packaging.version.parse('11.4'):\n"
        "        graph.fuse()\n"
        "    major = int(torch.version.cuda.split('.')[0])\n"
        "    if torch.version.cuda is not None and torch.version.cuda >= '11.4':\n        graph.fuse()\n"
        "    if torch.version.hip:\n        return None\n"
        "    return torch.version.cuda.split('.')\n\n\nif __name__ == '__main__':\n    optimize(None)\n"
    )
    found = {(f.span.line, f.targets["rocm"].severity.value, f.targets["cpu"].severity.value)
             for f in analyze(code) if f.rule == "CDA108"}
    assert found == {(6, "error", "note"), (8, "error", "error"), (9, "note", "note"), (13, "note", "error")}


def test_submodule_paths_share_the_public_names_facts():
    [direct] = analyze("import torch\ntorch.cuda.empty_cache()\n")
    [via_submodule] = analyze("from torch.cuda.memory import empty_cache\nempty_cache()\n")
    assert via_submodule.targets == direct.targets
    assert via_submodule.rule == direct.rule


def severities(code: str, rule: str, **kwargs) -> list[tuple[int, Severity]]:
    return [(f.span.line, f.severity) for f in analyze(code, **kwargs) if f.rule == rule]


def test_first_party_packages_and_sibling_modules_are_not_dependencies(cli, tmp_path):
    from support import scan_json, write

    write(tmp_path / "flash_attn" / "__init__.py", "")
    write(tmp_path / "flash_attn" / "ops.py", "from flash_attn.layers import rotary\n")
    write(tmp_path / "hopper" / "flash_attn_interface.py", "")
    write(tmp_path / "hopper" / "bench.py", "import flash_attn_interface\n")
    write(tmp_path / "app.py", "import xformers\n")
    report = scan_json(cli)
    assert [(f["path"], f["rule"]) for f in report["findings"]] == [("app.py", "CDA210")]


@pytest.mark.parametrize(
    ("code", "rule", "expected"),
    [
        # A loop over the GPUs runs zero times without them.
        ("import torch\nfor i in range(torch.cuda.device_count()):\n    torch.cuda.mem_get_info(i)\n", "CDA101",
         [(2, Severity.NOTE), (3, Severity.NOTE)]),
        # Short-circuit: the second operand only runs when the first is true (a Hopper threshold: ROCm's warning stands).
        ("import torch\nok = torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 9\n", "CDA109",
         [(2, Severity.WARNING)]),
        # A bare `except:` after a body that only asks `torch.backends.mps` runs on releases before it;
        # the body's own CUDA arm is the normal path.
        ("import torch\ntry:\n    if torch.backends.mps.is_available():\n        DEVICE = 'mps'\n    else:\n"
         "        DEVICE = 'cuda:' + str(0)\nexcept:\n    DEVICE = 'cuda'\nnet = torch.nn.Linear(2, 2).to(DEVICE)\n",
         "CDA103", [(6, Severity.ERROR), (8, Severity.WARNING)]),
        # A handler after a body that may raise for another reason runs on the normal path.
        ("import torch\ntry:\n    if torch.backends.mps.is_available():\n        DEVICE = torch.device('mps')\n"
         "    else:\n        DEVICE = 'cuda'\nexcept:\n    DEVICE = 'cuda'\nnet = torch.nn.Linear(2, 2).to(DEVICE)\n",
         "CDA103", [(6, Severity.ERROR), (8, Severity.ERROR)]),
        # A branch chosen by a ROCm probe was written with ROCm in mind.
        ("import torch\nif not torch.version.hip and torch.cuda.is_available():\n    v = torch.version.cuda.split('.')\n",
         "CDA108", [(3, Severity.NOTE)]),
        # `enabled=` decides whether autocast does anything.
        ("import torch\nwith torch.autocast('cuda', enabled=torch.cuda.is_available()):\n    pass\n", "CDA103",
         [(2, Severity.NOTE)]),
        ("import torch\nwith torch.cuda.amp.autocast(enabled=False):\n    pass\n", "CDA104", [(2, Severity.NOTE)]),
        # Showing a value is not using it.
        ("import torch\nprint(f'built with CUDA {torch.version.cuda}')\n", "CDA108", [(2, Severity.NOTE)]),
        ("import torch\nif torch.version.cuda is None:\n    print('no cuda')\n", "CDA108", [(2, Severity.NOTE)]),
        # torch.manual_seed seeds every device already.
        ("import torch\ntorch.manual_seed(0)\ntorch.cuda.manual_seed_all(0)\n", "CDA101", [(3, Severity.NOTE)]),
        ("import torch\ntorch.cuda.manual_seed_all(0)\n", "CDA101", [(2, Severity.WARNING)]),
        # An unconditional skip marker runs its test on no target; a conditional one keeps its reading.
        ("import pytest\nimport torch\n@pytest.mark.skip(reason='needs a GPU box')\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.NOTE)]),
        ("import unittest\nimport torch\n@unittest.skip('slow')\nclass T(unittest.TestCase):\n    def test_a(self):\n"
         "        torch.cuda.synchronize()\n", "CDA101", [(6, Severity.NOTE)]),
        ("import pytest\nimport torch\npytestmark = pytest.mark.skip(reason='broken')\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.NOTE)]),
        ("import pytest\nimport torch\nnever = pytest.mark.skip\n@never\ndef test_a():\n    torch.cuda.synchronize()\n",
         "CDA101", [(6, Severity.NOTE)]),
        ("import pytest\nimport torch\n@pytest.mark.skipif(torch.__version__ < '2', reason='old')\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.ERROR)]),
        # So does an expected failure with no condition and no expected exception; a narrowed one keeps its reading.
        ("import pytest\nimport torch\n@pytest.mark.xfail(reason='known bug')\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.NOTE)]),
        ("import unittest\nimport torch\nclass T(unittest.TestCase):\n    @unittest.expectedFailure\n    def test_a(self):\n"
         "        torch.cuda.synchronize()\n", "CDA101", [(6, Severity.NOTE)]),
        ("import pytest\nimport torch\n@pytest.mark.xfail(raises=ValueError)\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.ERROR)]),
        ("import pytest\nimport torch\n@pytest.mark.xfail(torch.__version__ < '2', reason='old')\ndef test_a():\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(5, Severity.ERROR)]),
        # A launch of several processes (the program's distributed switch, a launcher's or a batch
        # scheduler's variable) is another path than the single process a CPU run is: at most a warning.
        ("import torch\nif args.distributed:\n    torch.cuda.set_device(args.local_rank)\n", "CDA101",
         [(3, Severity.WARNING)]),
        ("import os\nimport torch\nif 'SLURM_PROCID' in os.environ:\n    torch.cuda.set_device(0)\n", "CDA101",
         [(4, Severity.WARNING)]),
        ("import os\nimport torch\nif os.environ.get('OMPI_COMM_WORLD_RANK') is None:\n    pass\nelse:\n"
         "    torch.cuda.set_device(0)\n", "CDA101", [(6, Severity.WARNING)]),
        ("import os\nimport torch\nif int(os.environ['SLURM_NNODES']) > 1:\n    torch.cuda.set_device(0)\n", "CDA101",
         [(4, Severity.WARNING)]),
        ("import os\nimport torch\nif 'RANK' in os.environ:\n    torch.cuda.set_device(0)\n", "CDA101",
         [(4, Severity.WARNING)]),
        # A rank looked up with a default holds on one process too: no launch is asked about.
        ("import os\nimport torch\nif int(os.environ.get('LOCAL_RANK', 0)) == 0:\n    torch.cuda.set_device(0)\n",
         "CDA101", [(4, Severity.ERROR)]),
        # A rank looked up with a negative default (no launched process holds it), compared with that
        # default, asks whether a launcher started the process; `== -1` is the single process's branch.
        ("import os\nimport torch\nLOCAL_RANK = int(os.getenv('LOCAL_RANK', -1))\nif LOCAL_RANK != -1:\n"
         "    torch.cuda.set_device(LOCAL_RANK)\nif LOCAL_RANK == -1:\n    torch.cuda.synchronize()\n", "CDA101",
         [(5, Severity.WARNING), (7, Severity.ERROR)]),
        ("import os\nimport torch\ndef main(ok):\n    rank = os.environ.get('RANK', '-1')\n    if int(rank) != -1 and ok:\n"
         "        torch.cuda.set_device(0)\n    if rank != -1 and ok:\n        torch.cuda.synchronize()\n", "CDA101",
         [(6, Severity.WARNING), (8, Severity.ERROR)]),
        ("import os\nimport torch\nif int(os.environ.get('LOCAL_RANK', -1)) == -1:\n    pass\nelse:\n"
         "    torch.cuda.set_device(0)\n", "CDA101", [(6, Severity.WARNING)]),
        # (A string default compared with a number, `rank != -1` above, holds on one process too.)
        # The same comparison of a name bound to anything else as well (a parameter), or of a rank
        # looked up with a default a launched process may hold, asks nothing about the launch.
        ("import os\nimport torch\nrank = int(os.getenv('RANK', -1))\ndef f(rank):\n    if rank != -1:\n"
         "        torch.cuda.set_device(0)\n", "CDA101", [(6, Severity.ERROR)]),
        ("import os\nimport torch\nrank = int(os.getenv('RANK', 0))\nif rank != 0:\n    torch.cuda.set_device(0)\n",
         "CDA101", [(5, Severity.ERROR)]),
        # After `if <launcher>: ... elif <scheduler>: ... else: return`, only a launch goes on.
        ("import os\nimport torch\ndef init(args):\n    if 'WORLD_SIZE' in os.environ:\n        args.rank = 0\n"
         "    elif 'SLURM_PROCID' in os.environ:\n        args.rank = 1\n    else:\n        return\n"
         "    torch.cuda.set_device(args.rank)\n", "CDA101", [(10, Severity.WARNING)]),
        ("import torch\ndef init(args):\n    if args.ok:\n        args.rank = 0\n    else:\n        return\n"
         "    torch.cuda.set_device(args.rank)\n", "CDA101", [(7, Severity.ERROR)]),
        ("import torch\nimport torch.distributed as dist\ndef sync(x):\n    if not dist.is_initialized():\n"
         "        return\n    torch.cuda.synchronize()\n", "CDA101", [(6, Severity.WARNING)]),
        # The CUDA side of a backend dispatch.
        ("import torch\nclass CUDA_Accelerator(Accelerator):\n    def synchronize(self):\n        torch.cuda.synchronize()\n",
         "CDA101", [(4, Severity.NOTE)]),
        # The module itself, passed around, is harmless; what is called through an alias is not.
        ("import torch\ncu = torch.cuda\ncu.synchronize()\n", "CDA101", [(2, Severity.NOTE), (3, Severity.ERROR)]),
        ("import torch\nnvtx = getattr(torch.cuda, 'nvtx', None)\n", "CDA101", [(2, Severity.NOTE)]),
        # A requirement is the CPU's one error: what follows never runs there.
        ("import torch\nassert torch.cuda.is_available()\ntorch.cuda.set_device(0)\n", "CDA101", [(3, Severity.ERROR)]),
        ("def run(device_type):\n    assert device_type in {'cuda'}\n", "CDA114", [(2, Severity.ERROR)]),
        # A probe that falls back when CUDA is missing guards what it tries.
        ("import torch\ndef ok():\n    try:\n        torch.cuda.synchronize()\n        return True\n"
         "    except RuntimeError:\n        return False\n", "CDA101", [(4, Severity.NOTE)]),
        ("import torch\ntry:\n    torch.cuda.synchronize()\n    HAS_GPU = True\nexcept Exception:\n    HAS_GPU = False\n",
         "CDA101", [(3, Severity.NOTE)]),
        # After `if world_size == 1: return`, or under `if world_size > 1:`, only a launch of several processes goes on.
        ("import torch\ndef setup(world_size):\n    if world_size == 1:\n        return\n    torch.cuda.set_device(0)\n",
         "CDA101", [(5, Severity.WARNING)]),
        ("import torch\ndef setup(world_size):\n    if world_size > 1:\n        torch.cuda.set_device(0)\n",
         "CDA101", [(4, Severity.WARNING)]),
        ("import torch\nimport torch.distributed as dist\nif dist.get_world_size() >= 2:\n    torch.cuda.set_device(0)\n"
         "else:\n    torch.cuda.synchronize()\n", "CDA101", [(4, Severity.WARNING), (6, Severity.ERROR)]),
        ("import torch\ndef setup(world_size):\n    if world_size > 0:\n        torch.cuda.set_device(0)\n",
         "CDA101", [(4, Severity.ERROR)]),
        # A GPU count the program is set to use, compared with one: one GPU or several, as a world size.
        ("import torch\ndef setup(c):\n    if c.num_gpus > 1:\n        torch.cuda.set_device(0)\n",
         "CDA101", [(4, Severity.WARNING)]),
        # Compared with none, it asks whether there is a GPU; bound from the device count, it is that count.
        ("import torch\ndef setup(c):\n    if c.num_gpus > 0:\n        torch.cuda.set_device(0)\n",
         "CDA101", [(4, Severity.NOTE)]),
        ("import torch\ndef setup():\n    n_gpu = torch.cuda.device_count()\n    if n_gpu > 1:\n        torch.cuda.set_device(0)\n",
         "CDA101", [(3, Severity.NOTE), (5, Severity.NOTE)]),
        # A class test, or a module named for what it serves, asks nothing about the launch.
        ("import torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\nif isinstance(m, DDP):\n"
         "    torch.cuda.synchronize()\n", "CDA101", [(4, Severity.ERROR)]),
        ("import torch\nfrom .utils import distributed\nif distributed.get_rank() == 0:\n    torch.cuda.synchronize()\n",
         "CDA101", [(4, Severity.ERROR)]),
        # An availability flag: the library runs only where it is installed.
        ("def attend(q):\n    if HAS_FLASH_ATTENTION:\n        import flash_attn\n", "CDA209", [(3, Severity.WARNING)]),
        ("def attend(q):\n    if is_triton_available():\n        import xformers.ops\n", "CDA210", [(3, Severity.WARNING)]),
        # The library's own availability test: its import runs only where an earlier one succeeded.
        ("def attend(q):\n    if is_xformers_available():\n        import xformers.ops\n", "CDA210", [(3, Severity.NOTE)]),
        # A branch only ROCm takes, or one chosen by a CPU test, is neither a ROCm nor a CPU error.
        ("import torch\nif DEVICE_TYPE == 'hip':\n    torch.cuda.synchronize()\n", "CDA101", [(3, Severity.NOTE)]),
        ("import torch\ndef f(device):\n    if device.type != 'cpu':\n        torch.cuda.synchronize()\n", "CDA101",
         [(4, Severity.NOTE)]),
        # Reading how much memory a GPU has decides nothing on its architecture.
        ("import torch\nmem = torch.cuda.get_device_properties(0).total_memory\n", "CDA109", []),
        ("import torch\nnew = torch.cuda.get_device_properties(0).major >= 9\n", "CDA109", [(2, Severity.ERROR)]),
    ],
)
def test_context_sets_severity(code, rule, expected):
    assert severities(code, rule) == expected


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("if t.device != torch.device('cuda'):\n    t = t.cpu()\n", "CDA103"),
        ("import torch\nfrom typing import Optional\ndef f(s: Optional[torch.cuda.amp.GradScaler]) -> None:\n    pass\n",
         "CDA104"),
        ("from torch.nn.parallel import DistributedDataParallel as DDP\nm = DDP(m, device_ids=None, output_device=None)\n",
         "CDA107"),
        ("backend_name = 'cuda'\n", "CDA103"),
    ],
)
def test_not_lock_in(code, rule):
    assert severities(code, rule) == []


@pytest.mark.parametrize(
    ("code", "rule", "count"),
    [
        ("from torch.nn.parallel import DistributedDataParallel as DDP\nm = DDP(m, device_ids=[r], output_device=r)\n",
         "CDA107", 1),
        ("loc = f'cuda:{gpu_id}'\nstate = torch.load(path, map_location=loc)\n", "CDA103", 1),
        ("dev = 'cuda:' + str(rank)\n", "CDA103", 1),
        ("import torch\ntorch.set_default_device('cuda')\n", "CDA103", 1),
        ("x = x.type('torch.cuda.FloatTensor')\n", "CDA105", 1),
        ("import os\nenv = os.environ.copy()\nenv['CUDA_VISIBLE_DEVICES'] = ids\n", "CDA212", 1),
        ("import subprocess\nsubprocess.run(cmd, env={'CUDA_VISIBLE_DEVICES': '1'})\n", "CDA212", 1),
        ("def test(monkeypatch):\n    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')\n", "CDA212", 1),
        ("import subprocess\nsubprocess.check_output([cuda_home + '/bin/nvcc', '-V'])\n", "CDA211", 1),
        ("import subprocess\nsubprocess.check_output(f'{cuda_home}/bin/nvcc -V', shell=True)\n", "CDA211", 1),
        ("x = x.to(0)\ny = torch.zeros(2, device=1)\nmodel.to(local_rank)\n", "CDA112", 3),
        ("batch = batch.pin_memory()\n", "CDA113", 1),
    ],
)
def test_more_lock_in_shapes(code, rule, count):
    assert len(severities(code, rule)) == count


def test_a_function_local_alias_does_not_leak_to_module_scope():
    code = (
        "import torch\n"
        "def setup():\n    Tensor = torch.cuda.FloatTensor\n    return Tensor\n"
        "Tensor = torch.cuda.FloatTensor if use_cuda else torch.FloatTensor\n"
        "x = Tensor(3)\n"
    )
    assert [(f.span.line, f.rule) for f in analyze(code) if f.rule == "CDA105" and f.severity is not Severity.NOTE] == [
        (3, "CDA105")
    ]


def test_cuda_for_mixed_precision_degrades_rather_than_breaks():
    code = 'import torch\nwith torch.autocast(device_type="cuda"):\n    pass\nscaler = torch.amp.GradScaler("cuda")\n'
    assert [(f.span.line, f.rule, f.severity) for f in analyze(code)] == [
        (2, "CDA103", Severity.WARNING),
        (4, "CDA103", Severity.WARNING),
    ]


def test_a_flag_assigned_from_a_probe_guards_as_its_value_does():
    code = (
        "import torch\n"
        "FAST_PATH = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)\n"
        "def place(x):\n    if FAST_PATH:\n        return x.to('cuda')\n    return x\n"
    )
    [finding] = [f for f in analyze(code) if f.rule == "CDA103"]
    assert finding.severity is Severity.NOTE


def test_a_flag_named_for_its_probe_is_read_by_its_name_and_a_computed_value_is_no_flag():
    # `is_nvidia` says NVIDIA: quiet on ROCm too, though its value only compares a device name.
    named = (
        "import torch\nplatform = detect()\nis_nvidia = platform == 'cuda'\n"
        "if is_nvidia:\n    torch.backends.cuda.matmul.allow_tf32 = True\n"
    )
    [flag] = [f for f in analyze(named) if f.rule == "CDA111"]
    assert flag.targets["rocm"].severity is Severity.NOTE
    # A tensor moved with `.cuda()` is no test of a device: what follows `assert` on it stands.
    computed = "import torch\nlatent = encode(image.cuda())\nresult = decode(latent)\nassert result\nmodel.to('cuda')\n"
    assert any(f.rule == "CDA103" and f.severity is Severity.ERROR for f in analyze(computed))


SKIPPING_FIXTURE = """import pytest
import torch

@pytest.fixture{options}
def gpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a GPU")
    return "cuda"
"""


@pytest.mark.parametrize(
    ("options", "test"),
    [
        ("", "def test_sum(gpu):\n    assert batch(2) is not None\n"),
        ("", "@pytest.mark.usefixtures('gpu')\ndef test_sum():\n    assert batch(2) is not None\n"),
        ("(autouse=True)", "def test_sum():\n    assert batch(2) is not None\n"),
        ("", "@pytest.fixture\ndef data(gpu):\n    return batch(2)\n\ndef test_sum(data):\n    assert data is not None\n"),
    ],
)
def test_a_skipping_fixture_guards_its_requesters_and_the_helpers_only_they_use(options, test):
    helpers = "def batch(n):\n    return inputs(n)\n\ndef inputs(n):\n    return torch.ones(n, device='cuda')\n\n"
    code = SKIPPING_FIXTURE.format(options=options) + helpers + test
    [finding] = [f for f in analyze(code, path="tests/test_ops.py") if f.rule == "CDA103"]
    assert finding.severity is Severity.NOTE


@pytest.mark.parametrize(
    "other_use",
    [
        "def test_plain():\n    assert batch(2) is not None\n",  # an unguarded test calls it
        "SHAPES = [batch]\n",  # handed on at module level
        "def test_plain():\n    return helper_of(batch)\n",  # handed on by an unguarded test
    ],
)
def test_a_helper_any_unguarded_code_uses_keeps_its_severity(other_use):
    helpers = "def batch(n):\n    return torch.ones(n, device='cuda')\n\n"
    code = SKIPPING_FIXTURE.format(options="") + helpers + "def test_sum(gpu):\n    assert batch(2) is not None\n\n" + other_use
    [finding] = [f for f in analyze(code, path="tests/test_ops.py") if f.rule == "CDA103"]
    assert finding.severity is Severity.WARNING  # reached unskipped; a test file's sites are warnings at most


def test_outside_tests_only_private_helpers_take_their_callers_guard():
    code = (
        "import torch\n\ndef _warm():\n    torch.zeros(1, device='cuda')\n\n"
        "def warm():\n    torch.zeros(1, device='cuda')\n\n"
        "if torch.cuda.is_available():\n    _warm()\n    warm()\n"
    )
    found = {f.span.line: f.severity for f in analyze(code, path="pkg/startup.py") if f.rule == "CDA103"}
    assert found == {4: Severity.NOTE, 7: Severity.ERROR}  # another module may call `warm`


GUARDED_METHOD = (
    "import torch\n\nclass Runner:\n"
    "    def {name}(self, x):\n        return torch.cuda.Stream()\n\n"
    "    def run(self, x, fast=True):\n"
    "        if fast and x.device.type == 'cuda':\n            return self.{name}(x)\n        return x\n"
)


@pytest.mark.parametrize(
    ("name", "other_use", "severity"),
    [
        ("_stream", "", Severity.NOTE),  # its only caller calls it under a device test
        ("_stream", "\ndef warm(runner, x):\n    return runner._stream(x)\n", Severity.ERROR),  # through another object
        ("_stream", "\nclass Eager(Runner):\n    def go(self, x):\n        return self._stream(x)\n", Severity.ERROR),
        ("_stream", "\nclass Aliased(Runner):\n    make = Runner._stream\n", Severity.ERROR),
        ("stream", "", Severity.ERROR),  # public: another module may call it
    ],
)
def test_a_private_method_runs_only_where_its_callers_call_it(name, other_use, severity):
    code = GUARDED_METHOD.format(name=name) + other_use
    found = [f.severity for f in analyze(code, path="pkg/runner.py") if f.span.line == 5]
    assert found == [severity]


def test_a_method_a_guarded_test_hands_on_runs_guarded_unless_another_test_calls_it():
    code = (
        "import functools\nimport unittest\nimport torch\n\n"
        "class TestShards(unittest.TestCase):\n"
        "    @unittest.skipUnless(torch.cuda.is_available(), 'gpu')\n"
        "    def test_shards(self):\n"
        "        self.run_subtests({'n': [1, 2]}, self._check)\n"
        "        functools.partial(self._build, 2)()\n\n"
        "    def _check(self, n):\n        torch.zeros(n, device='cuda')\n\n"
        "    def _build(self, n):\n        torch.zeros(n, device='cuda')\n\n"
        "    def test_build(self):\n        self._build(1)\n"
    )
    found = {f.span.line: f.severity for f in analyze(code, path="tests/test_shards.py") if f.rule == "CDA103"}
    assert found == {12: Severity.NOTE, 15: Severity.WARNING}  # a test file's sites are warnings at most


@pytest.mark.parametrize(
    ("handler", "severity"),
    [
        ("except Exception:\n    pass\n", Severity.WARNING),  # swallowed: a feature lost, not the run
        ("except RuntimeError as error:\n    logger.warning('no kernels: %s', error)\n", Severity.WARNING),
        ("except Exception:\n    FUSED = False\n", Severity.NOTE),  # a fallback: a probe
        ("except Exception:\n    MODE, LIMIT = 'eager', -1\n", Severity.NOTE),  # the default it goes on with
        ("except Exception:\n    MODE = pick_mode()\n", Severity.ERROR),  # computed: it may touch the device again
        ("except Exception:\n    MODE = 'cuda'\n", Severity.ERROR),  # no default: the device again
        ("except ImportError:\n    pass\n", Severity.ERROR),  # a missing device raises no ImportError
        ("except Exception:\n    raise\n", Severity.ERROR),
    ],
)
def test_a_try_whose_handler_swallows_the_error_caps_its_body_and_the_functions_only_it_calls(handler, severity):
    direct = "import torch\ntry:\n    torch.zeros(1, device='cuda')\n" + handler
    called = "import torch\n\ndef check_kernels():\n    torch.zeros(1, device='cuda')\n\ntry:\n    check_kernels()\n" + handler
    for code in (direct, called):
        [finding] = [f for f in analyze(code) if f.rule == "CDA103"]
        assert finding.severity is severity, code


SENTINEL = (
    "import torch\n\nclass Prefetch:\n    def __init__(self, model):\n        device = None\n"
    "        for p in model.parameters():\n{search}\n{check}\n"
    "        self.stream = torch.cuda.Stream(device=device)\n"
)
_FOUND_ON_CUDA = "            if p.device.type == 'cuda':\n                device = p.device\n                break"


@pytest.mark.parametrize(
    ("search", "check", "severity"),
    [
        (_FOUND_ON_CUDA, "        if device is None:\n            return", Severity.NOTE),
        (_FOUND_ON_CUDA, "        if not device:\n            return", Severity.NOTE),
        ("            if p.is_cuda:\n                device = p.device", "        if device is None:\n            raise SystemExit", Severity.NOTE),
        ("            pass\n        device = next((q.device for q in model.parameters() if q.is_cuda), None)",
         "        if device is None:\n            return", Severity.NOTE),
        ("            pass\n        device = next((q.device for q in model.parameters()), None)",
         "        if device is None:\n            return", Severity.ERROR),
        # set for any parameter, a CPU one too
        ("            device = p.device\n            break", "        if device is None:\n            return", Severity.ERROR),
        # set off the test's branch as well
        (_FOUND_ON_CUDA + "\n            else:\n                device = p.device",
         "        if device is None:\n            return", Severity.ERROR),
        # set again after the loop, whatever the parameters
        (_FOUND_ON_CUDA, "        device = device or model.device\n        if device is None:\n            return", Severity.ERROR),
        # the test of something else
        (_FOUND_ON_CUDA, "        if model is None:\n            return", Severity.ERROR),
    ],
)
def test_a_name_set_only_under_a_device_test_holds_that_test_where_it_is_not_none(search, check, severity):
    code = SENTINEL.format(search=search, check=check)
    [finding] = [f for f in analyze(code, path="pkg/prefetch.py") if f.rule == "CDA101"]
    assert finding.severity is severity, code


KEPT_DEVICE = (
    "import torch\n\nclass Offload:\n{default}    def __init__(self, model):\n        self._device = None\n"
    "        for p in model.parameters():\n            if p.device.type == 'cuda':\n"
    "                self._device = p.device\n                break\n"
    "        if self._device is None:\n            return\n"
    "        self.stream = torch.cuda.Stream(device=self._device)\n{other}"
)


@pytest.mark.parametrize(
    ("default", "other", "severity"),
    [
        ("", "", Severity.NOTE),
        ("    _device = None\n", "", Severity.NOTE),
        ("    _device = 'cuda'\n", "", Severity.ERROR),  # a class default other than None
        ("", "\n    def to(self, device):\n        self._device = device\n", Severity.ERROR),  # stored elsewhere too
    ],
)
def test_an_attribute_a_method_sets_only_under_a_device_test_holds_that_test(default, other, severity):
    code = KEPT_DEVICE.format(default=default, other=other)
    [finding] = [f for f in analyze(code, path="pkg/offload.py") if f.rule == "CDA101"]
    assert finding.severity is severity, code


def test_a_requirement_among_other_conditions_is_one_and_what_follows_it_keeps_its_severity():
    code = (
        "import torch\n\ndef bench():\n    torch.cuda.synchronize()\n\n"
        "if __name__ == '__main__':\n    assert torch.cuda.is_available() and kernels_built(), 'needs a GPU'\n    bench()\n"
    )
    found = {f.rule: f for f in analyze(code)}
    assert found["CDA114"].severity is Severity.ERROR
    assert found["CDA114"].fix is None  # removing it would drop the other condition too
    assert found["CDA101"].targets["cpu"].severity is Severity.ERROR  # a script's `bench`, called past it


def test_a_tools_own_gpu_check_is_a_cpu_finding_and_what_follows_keeps_its_own():
    """A tool that stops without a GPU in `main()`, before calling its private worker: the stop is
    a CPU error, and so is each line past it that needs CUDA, which lifting the stop must rewrite;
    they work on ROCm."""
    code = (
        "import sys\nimport torch\n\n\n@torch.no_grad()\ndef _measure():\n    torch.cuda.synchronize()\n    return torch.cuda.max_memory_allocated()\n\n\n"
        "def main():\n    if not torch.cuda.is_available():\n        print('needs a GPU')\n        sys.exit(1)\n"
        "    with torch.cuda.amp.autocast():\n        _measure()\n\n\nif __name__ == '__main__':\n    main()\n"
    )
    found = [(f.span.line, f.rule, f.targets["cpu"].severity.value, f.targets["rocm"].severity.value) for f in analyze(code)]
    assert (12, "CDA114", "error", "note") in found
    assert {line for line, rule, cpu, _ in found if cpu != "note"} == {7, 8, 12, 15}
    assert {rocm for _, _, _, rocm in found} == {"note"}



def test_a_raising_call_handed_to_a_shown_statistic_keeps_its_own_severity():
    """A statistic only shown reads 0 without CUDA whatever device it is handed: a note, with the
    device it is given (`torch.device("cuda", 0)` only names one). A call that computes the device,
    `torch.cuda.current_device()`, still raises there: a CPU error on the normal path."""
    code = (
        "import torch\n\n\ndef main(model, loader):\n    for batch in loader:\n        model(batch)\n"
        "        print(torch.cuda.max_memory_reserved(device=torch.cuda.current_device()))\n"
        "        print(torch.cuda.max_memory_allocated(device=torch.device('cuda', 0)))\n\n\n"
        "if __name__ == '__main__':\n    main(None, [])\n"
    )
    found = {(f.span.line, f.span.column, f.rule, f.targets["cpu"].severity.value) for f in analyze(code)}
    assert found == {
        (7, 15, "CDA101", "note"), (7, 53, "CDA101", "error"), (8, 15, "CDA101", "note"), (8, 67, "CDA103", "note"),
    }


def test_a_statistic_stored_twice_in_a_name_every_read_of_which_is_logged_is_only_shown():
    """`after = memory_allocated()` after a load and again after quantizing, each followed by a log line:
    whichever value the name holds is only shown (a note); once a read computes with it, a warning."""
    code = (
        "import logging\nimport torch\n\nlog = logging.getLogger(__name__)\n\n\ndef load(build, quantize):\n"
        "    before = torch.cuda.memory_allocated()\n    model = build()\n    after = torch.cuda.memory_allocated()\n"
        "    log.info(f'loaded with {after - before} bytes')\n    if quantize:\n        model = model.half()\n"
        "        after = torch.cuda.memory_allocated()\n        log.info(f'quantized with {(after - before) / 1e9:.2f} GB')\n"
        "    return model\n\n\nif __name__ == '__main__':\n    load(torch.nn.Identity, True)\n"
    )
    cpu = {f.span.line: f.targets["cpu"].severity.value for f in analyze(code)}
    assert cpu == {8: "note", 10: "note", 14: "note"}
    decided = code.replace("    return model\n", "    return model if after < 2**30 else None\n")
    cpu = {f.span.line: f.targets["cpu"].severity.value for f in analyze(decided)}
    assert cpu == {8: "note", 10: "warning", 14: "warning"}

BENCH_TOOL = """import sys
import torch


def sync_time():
    torch.cuda.synchronize()


def main():
    if not torch.cuda.is_available():
        sys.exit("needs a GPU")
    sync_time()


if __name__ == "__main__":
    main()
"""


def test_a_scripts_function_called_past_its_requirement_keeps_its_severity():
    """Only the script's own `main()` calls `sync_time()`, past the check: lifting the check must
    rewrite it, so it keeps its severity, as it does where another module imports it."""
    cpu = {f.span.line: f.targets["cpu"].severity for f in analyze(BENCH_TOOL, path="bench_tool.py") if f.rule == "CDA101"}
    assert cpu == {6: Severity.ERROR}
    imported = analyze(BENCH_TOOL, path="bench_tool.py", files={"run.py": "from bench_tool import sync_time\nsync_time()\n"})
    assert {f.span.line: f.targets["cpu"].severity for f in imported if f.rule == "CDA101"} == {6: Severity.ERROR}


@pytest.mark.parametrize(
    "check",
    [
        "assert torch.cuda.is_available(), 'needs a GPU'",
        "assert torch.cuda.device_count() > 0",
        "if torch.cuda.device_count() == 0:\n        raise SystemExit('needs a GPU')",
        "if torch.cuda.device_count() < 1:\n        raise SystemExit('needs a GPU')",
        "if not torch.cuda.device_count():\n        raise SystemExit('needs a GPU')",
        "if torch.cuda.is_available() is False:\n        raise SystemExit('needs a GPU')",
    ],
)
def test_every_spelling_of_no_gpu_is_read_the_right_way_round(check):
    code = f"import torch\n\n\ndef fill():\n    {check}\n    torch.cuda.synchronize()\n"
    found = {f.rule: f for f in analyze(code)}
    assert found["CDA114"].targets["cpu"].severity is Severity.ERROR
    assert found["CDA101"].targets["cpu"].severity is Severity.ERROR


@pytest.mark.parametrize(
    ("test", "branch"),
    [
        ("torch.cuda.device_count() == 0", "orelse"),
        ("torch.cuda.device_count() < 1", "orelse"),
        ("0 == torch.cuda.device_count()", "orelse"),
        ("n_gpus == 0", "orelse"),
        ("torch.cuda.is_available() == False", "orelse"),
        ("torch.cuda.device_count() != 0", "body"),
        ("torch.cuda.device_count() > 1", "body"),
        ("num_gpus >= 1", "body"),
    ],
)
def test_a_count_compared_with_a_number_guards_the_branch_with_gpus(test, branch):
    code = f"import torch\nif {test}:\n    torch.cuda.synchronize()\nelse:\n    torch.cuda.synchronize()\n"
    cpu = {f.span.line: f.targets["cpu"].severity for f in analyze(code) if f.rule == "CDA101" and f.span.line > 2}
    guarded, unguarded = (3, 5) if branch == "body" else (5, 3)
    assert cpu == {guarded: Severity.NOTE, unguarded: Severity.ERROR}


@pytest.mark.parametrize(("check", "requirement"), [
    ("assert torch.cuda.device_count() >= get_rank(), 'one machine only'", False),  # 0 >= 0 on one process
    ("assert torch.cuda.device_count() >= args.local_rank", False),  # 0 >= -1 too
    ("assert torch.cuda.device_count() > comm.get_local_rank()", True),  # 0 > 0 fails, 0 > -1 holds: not known
    ("assert torch.cuda.device_count() > local_rank", True),
])
def test_a_count_against_a_rank_is_a_requirement_only_where_one_process_fails_it(check, requirement):
    code = f"import torch\n\n\ndef evaluate(args, comm, local_rank):\n    {check}\n    return 1\n"
    assert ("CDA114" in {f.rule for f in analyze(code)}) is requirement


def test_a_conditional_expression_in_an_assert_is_no_requirement():
    """`assert (x == y if torch.cuda.is_available() else torch.device("cuda"))`: the conditional binds
    loosest, so on a CPU the assert tests a device object, which is true: nothing stops."""
    code = (
        "import torch\n\n\ndef test_normalize():\n"
        "    assert (pick('cuda:1') == torch.device('cuda:1') if torch.cuda.is_available() else torch.device('cuda'))\n"
        "    torch.cuda.synchronize()\n"
    )
    found = {f.rule: f for f in analyze(code)}
    assert "CDA114" not in found
    assert found["CDA101"].targets["cpu"].severity is Severity.ERROR


def test_a_helper_called_in_a_probe_test_runs_whole():
    """The test of `if check_capability():` is quiet itself, but the function it calls runs on every target."""
    code = (
        "import torch\n\ndef _cuda_capability_at_least_9():\n    return torch.cuda.get_device_capability()[0] >= 9\n\n"
        "def pick():\n    if _cuda_capability_at_least_9():\n        return 'fast'\n    return 'slow'\n"
    )
    [finding] = [f for f in analyze(code) if f.rule == "CDA109"]
    assert finding.severity is Severity.ERROR


@pytest.mark.parametrize(
    ("use", "rocm"),
    [
        ("return torch.cuda.get_device_capability() >= (7, 5)", "note"),  # every ROCm GPU passes
        ("major, minor = torch.cuda.get_device_capability()\n    return (major, minor) >= (8, 0)", "note"),
        ("return torch.cuda.get_device_capability()[0] < 7", "note"),  # and none takes this branch
        ("return torch.cuda.get_device_properties(0).major >= 8", "note"),
        ("return cached == torch.cuda.get_device_capability()", "note"),  # a cache check, not a decision
        ('return f"sm{torch.cuda.get_device_capability()[0]}"', "note"),
        ("return torch.cuda.get_device_capability() >= (9, 0)", "warning"),  # Hopper: MI200 passes without its features
        ("return torch.cuda.get_device_capability() == (9, 0)", "warning"),
        ("return torch.cuda.get_device_capability() in ((8, 0), (9, 0))", "warning"),
        ("return torch.cuda.get_device_capability()[1] >= 5", "warning"),
        ("major, minor = torch.cuda.get_device_capability()\n    return major * 10 + minor >= 80", "warning"),
        ('cap = torch.cuda.get_device_capability()\n    return float(f"{cap[0]}.{cap[1]}") >= 8.9', "warning"),
        ("return torch.cuda.get_device_capability() == (cached, 0)", "warning"),  # a caller's architecture
    ],
)
def test_a_capability_decides_on_rocm_only_where_rocm_gpus_differ(use, rocm):
    code = f"import torch\ndef pick(cached):\n    {use}\n"
    (capability,) = [f for f in analyze(code) if f.rule == "CDA109"]
    assert capability.targets["rocm"].severity.value == rocm
    assert capability.targets["cpu"].severity is Severity.ERROR  # CPU builds raise whatever the use


def test_a_capability_helper_judges_the_thresholds_every_call_gives_it():
    """`has_capability(8, 0)`, `has_capability(major=7, minor=5)` against `(major_, minor_) >= (major, minor)`
    in the helper: each call's numbers are a threshold every ROCm GPU passes alike (a note); one call
    above them (`(8, 9)`), or one that passes a name, keeps the decision (a warning)."""
    helper = (
        "import torch\n\n\ndef has_capability(major, minor):\n    if torch.cuda.is_available():\n"
        "        major_, minor_ = torch.cuda.get_device_capability()\n        return (major_, minor_) >= (major, minor)\n"
        "    return False\n"
    )

    def rocm(*calls: str) -> str:
        users = "from gpu import has_capability\n\n" + "".join(f"FLAG_{i} = has_capability({c})\n" for i, c in enumerate(calls))
        files = {"README.md": "Run `python app.py`.\n", "app.py": users}
        (capability,) = [f for f in analyze(helper, path="gpu.py", files=files) if f.rule == "CDA109"]
        return capability.targets["rocm"].severity.value

    assert rocm("8, 0", "major=7, minor=5") == "note"
    assert rocm("8, 0", "8, 9") == "warning"
    assert rocm("8, 0", "MAJOR, 0") == "warning"


def test_a_gpu_request_to_a_scheduler_is_a_requirement_not_a_guard():
    code = (
        "import ray\nimport torch\n"
        "@ray.remote(num_gpus=1)\n"
        "class Sync:\n"
        "    def send(self, t):\n"
        "        torch.cuda.current_stream().synchronize()\n"
    )
    assert [(f.span.line, f.rule, f.severity) for f in analyze(code) if f.rule in ("CDA101", "CDA114")] == [
        (3, "CDA114", Severity.ERROR),  # never scheduled on a machine without a GPU
        (6, "CDA101", Severity.ERROR),  # and what the actor runs keeps its own severity
    ]


SWITCHED_STORE = """
import argparse
import torch

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--retrieval", action="store_true")
    opts = parser.parse_args()
    store = None
    if opts.retrieval:
        store = open_store()
    if store is not None:
        torch.cuda.synchronize()
{other}
"""


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("", Severity.WARNING),  # set only under the switch
        ("    store = Store() if opts.retrieval else None", Severity.WARNING),
        ("def load(store):\n    return store", Severity.WARNING),  # another function's parameter
        ("    def load(store):\n        return store", Severity.WARNING),  # a nested function's own
        ("    with open_store() as store:\n        pass", Severity.ERROR),  # `with ... as` binds it too
        ("    for store in stores():\n        pass", Severity.ERROR),  # a loop binds it too
        ("    store = default_store()", Severity.ERROR),  # an unconditional value
    ],
)
def test_a_name_set_only_under_a_switch_that_is_off_by_default_opens_another_path(other, expected):
    assert severities(SWITCHED_STORE.format(other=other), "CDA101") == [(13, expected)]


CHOSEN_MODE = """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--mode", choices=["generate", "edit", "upscale"], default="generate")
args = parser.parse_args()
{other}
if mode == "edit":
    torch.cuda.synchronize()
"""


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("mode = args.mode", Severity.WARNING),  # a value the user must pick
        ("mode = args.mode.lower()", Severity.WARNING),  # still the option's value
        ("mode = 'edit'", Severity.ERROR),  # a local name bound to something else
        ("mode = args.mode\nparser.add_argument('--mode', choices=['generate', 'edit'], default='edit')", Severity.ERROR),
    ],
)
def test_a_test_for_a_choice_the_option_does_not_start_on_opens_another_path(other, expected):
    assert severities(CHOSEN_MODE.format(other=other), "CDA101") == [(10 + other.count("\n"), expected)]


def test_a_device_option_default_names_the_option_and_the_value_that_avoids_it():
    code = (
        "import argparse\nimport torch\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--device', '-d', default='cuda')\n"
        "parser.add_argument('--dist-backend', default='nccl')\n"
        "args = parser.parse_args()\n"
        "torch.distributed.init_process_group(backend=args.dist_backend)\n"
        "model = torch.nn.Linear(2, 2).to(args.device)\n"
    )
    device, backend = sorted(analyze(code, targets=("rocm", "cpu", "xpu")), key=lambda f: f.span.line)
    assert (device.rule, device.severity, device.option) == ("CDA103", Severity.ERROR, "--device")
    assert device.message.endswith("the default of `--device`")
    assert device.targets["cpu"].replacement.startswith("`--device=cpu` on the command line; as the default, ")
    assert device.targets["xpu"].replacement.startswith("`--device=xpu` on the command line")
    assert device.targets["rocm"].replacement == "", "a `cuda` device is ROCm's GPU: nothing to pass"
    # the module hands the backend to `init_process_group`: the launch of the documented command starts NCCL
    assert (backend.rule, backend.severity, backend.option) == ("CDA106", Severity.ERROR, None)


def test_a_device_option_read_only_in_another_module_stays_a_warning_that_names_it():
    code = "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--device', default='cuda')\n"
    [finding] = analyze(code)
    assert (finding.severity, finding.option) == (Severity.WARNING, "--device")


def test_a_local_flag_holds_its_test_only_where_it_is_bound_once_before_the_if():
    flag = "import torch\n\ndef step(self, i):\n    sync = i == 1 and self.device == 'cuda'\n"
    assert severities(flag + "    if sync:\n        torch.cuda.synchronize()\n", "CDA101") == [(6, Severity.NOTE)]
    rebound = flag + "    sync = True\n    if sync:\n        torch.cuda.synchronize()\n"
    assert severities(rebound, "CDA101") == [(7, Severity.ERROR)]
    parameter = "import torch\n\ndef step(self, sync):\n    if sync:\n        torch.cuda.synchronize()\n"
    assert severities(parameter, "CDA101") == [(5, Severity.ERROR)]
    later = "import torch\n\ndef step(self):\n    if sync:\n        torch.cuda.synchronize()\n    sync = self.device == 'cuda'\n"
    assert severities(later, "CDA101") == [(5, Severity.ERROR)]


def test_code_after_a_statement_that_never_falls_through_runs_on_no_target():
    sync = "torch.cuda.synchronize()\n"
    module_skip = "import pytest\nimport torch\npytest.skip('not ready', allow_module_level=True)\n" + sync
    assert severities(module_skip, "CDA101") == [(4, Severity.NOTE)]
    exited = "import torch\n\ndef main():\n    exit(1)\n    " + sync
    assert severities(exited, "CDA101") == [(5, Severity.NOTE)]
    rebound = "import torch\nfrom tools import exit\n\ndef main():\n    exit(1)\n    " + sync
    assert severities(rebound, "CDA101") == [(6, Severity.ERROR)]
    loop = "import torch\n\nfor step in range(3):\n    if step:\n        continue\n    else:\n        break\n    " + sync + sync
    assert severities(loop, "CDA101") == [(8, Severity.NOTE), (9, Severity.ERROR)]


CUDA_PART_TESTS = '''
import pytest
import torch
from mylib.ops import is_extension_available, is_backend_available

@pytest.mark.skipif(not is_extension_available("mylib_cuda"), reason="needs the CUDA extension")
def test_packed():
    assert packed(torch.ones(4, device="cuda")).sum() == 4

@pytest.mark.skipif(not is_backend_available("cpu_kernels"), reason="needs the CPU kernels")
def test_cpu_kernels():
    assert packed(torch.ones(4, device="cuda")).sum() == 4

def test_dispatch():
    x = torch.ones(4)
    if is_extension_available("mylib_cuda"):
        x = x.cuda()
    assert x.sum() == 4
'''


def test_nothing_named_for_cuda_is_available_without_a_cuda_device():
    """A CUDA extension registers only where CUDA is: its availability guards like `is_available()`.
    One named for anything else says nothing of the device (a CPU kernel library loads on a CPU)."""
    found = {f.span.line: f for f in analyze(CUDA_PART_TESTS, path="tests/test_packed.py")}
    assert found[8].targets["cpu"].severity is Severity.NOTE
    assert found[12].targets["cpu"].severity is Severity.WARNING
    assert found[17].targets["cpu"].severity is Severity.NOTE


CONFIG_TEST = '''
from argparse import Namespace

from myproj.config import RunConfig

def test_the_command_line_device_wins():
    cfg = RunConfig.from_args(Namespace(device="cuda:1", batch_size=8))
    assert cfg.device == "cuda:1"
    assert cfg.rank == RunConfig(device=0).rank
'''


def test_a_test_module_that_never_imports_torch_handles_devices_as_data():
    found = {(f.span.line, f.rule): f.severity for f in analyze(CONFIG_TEST, path="tests/test_config.py")}
    assert found == {(7, "CDA103"): Severity.NOTE, (8, "CDA114"): Severity.NOTE}


def test_device_values_keep_their_verdicts_where_torch_is_imported_or_no_test_is_defined():
    with_torch = "import torch\n" + CONFIG_TEST
    found = {(f.span.line, f.rule): f.severity for f in analyze(with_torch, path="tests/test_config.py")}
    assert found[(8, "CDA103")] is Severity.WARNING and found[(9, "CDA114")] is Severity.WARNING
    helper = CONFIG_TEST.replace("def test_the_command_line_device_wins", "def make_config")
    found = {(f.span.line, f.rule): f.severity for f in analyze(helper, path="tests/helpers.py")}
    assert found[(7, "CDA103")] is Severity.WARNING


RECORD_TESTS = '''
import torch

from bench.naming import file_name


def _on_device(record):
    return torch.zeros(2, device=record["device"])


def test_file_name_drops_the_index():
    record = {"suite": "blur", "device": "cuda:0"}
    assert file_name(record) == "blur--cuda.json"


def test_zeros_land_on_the_recorded_device():
    record = {"device": "cuda:0"}
    assert torch.zeros(2, device=record["device"]).is_cuda


def test_the_helper_places_the_record():
    assert _on_device({"device": "cuda:1"}).is_cuda


def test_the_record_is_spread_into_keywords():
    arguments = {"suite": "blur", "device": "cuda:0"}
    assert file_name(**arguments) == "blur--cuda.json"
'''
"""Four tests of a module that imports PyTorch: the first only hands its record to the code under test."""


def test_a_record_a_test_that_names_no_part_of_torch_writes_out_is_data():
    found = {f.span.line: f.targets["cpu"].severity for f in analyze(RECORD_TESTS, path="tests/test_naming.py")}
    assert found == {12: Severity.NOTE, 17: Severity.WARNING, 22: Severity.WARNING, 26: Severity.WARNING}


CAPTURE = "import torch\n\ndef capture(x):\n    return torch.cuda.CUDAGraph()\n"
"""A public helper in `serving/graphs.py`; its CUDA line is line 4."""
GUARDED_CALLER = (
    "from serving.graphs import capture\n\ndef run(x):\n    if x.device.type == 'cuda':\n        capture(x)\n    return x\n"
)

TEST_CALLER = "from serving.graphs import capture\n\ndef test_capture():\n    capture(1)\n"
"""A test that calls the helper directly."""
LAUNCHED_CALLER = "from serving.graphs import capture\n\ndef go(x, world_size):\n    if world_size {test} 1:\n        {use}\n"
"""A use under a launch test: in a module no Python parses where the test is `=>`."""

@pytest.mark.parametrize(
    ("others", "severity"),
    [
        ({"serving/model.py": GUARDED_CALLER}, Severity.NOTE),
        ({"serving/model.py": GUARDED_CALLER, "serving/eager.py": "from serving.graphs import capture\n\ndef go(x):\n    capture(x)\n"}, Severity.ERROR),
        ({"serving/model.py": GUARDED_CALLER, "serving/eager.py": "from serving import graphs\n\ndef go(x):\n    graphs.capture(x)\n"}, Severity.ERROR),
        ({"serving/model.py": GUARDED_CALLER, "serving/other.py": "from serving.graphs import capture\n\nfn = capture\nrun = fn\n"}, Severity.ERROR),
        ({"serving/model.py": GUARDED_CALLER, "serving/__init__.py": "from .graphs import capture\n"}, Severity.NOTE),  # re-exported only
        ({"serving/model.py": GUARDED_CALLER, "tests/test_graphs.py": TEST_CALLER}, Severity.NOTE),  # the suite's own call
        ({"serving/model.py": "", "tests/test_graphs.py": TEST_CALLER}, Severity.ERROR),  # only tests call it: API
        ({"serving/model.py": "from serving.graphs import capture\n\ndef _warm(x):\n    capture(x)\n\ndef run(x):\n    if x.is_cuda:\n        _warm(x)\n"}, Severity.NOTE),
        ({"serving/model.py": "from serving.graphs import capture\n\ndef warm(x):\n    capture(x)\n\ndef run(x):\n    if x.is_cuda:\n        warm(x)\n"}, Severity.ERROR),
        # A module Python cannot parse never runs; one whose error may be a newer grammar's might.
        ({"serving/model.py": GUARDED_CALLER, "serving/old.py": LAUNCHED_CALLER.format(test="=>", use="capture(x)")}, Severity.NOTE),
        (  # Python 3.12's f-strings: a module an older Python cannot read may run; its use keeps the verdict
            {"serving/model.py": GUARDED_CALLER, "serving/new.py": LAUNCHED_CALLER.format(test=">", use="print(f'{capture(x)['a']}')")},
            Severity.ERROR,
        ),
    ],
    ids=[
        "guarded", "one-unguarded", "module-attribute", "rebound", "re-exported", "test-unguarded", "test-only", "private-helper",
        "public-helper", "unparsable", "newer-f-string",
    ],
)
def test_a_function_runs_only_where_every_module_of_the_project_calls_it(others, severity):
    files = {"README.md": "A project.\n", "serving/__init__.py": "", **others}
    found = [f.severity for f in analyze(CAPTURE, path="serving/graphs.py", files=files) if f.span.line == 4]
    assert found == [severity]


ENVIRONMENT = (
    "import torch\n\nclass GraphEnv:\n    def __init__(self, device):\n        self.graph = torch.cuda.CUDAGraph()\n\n"
    "def env_for(device):\n    return GraphEnv(device)\n"
)
"""A public class whose constructor captures a CUDA graph (line 5), built by a public function of its module."""
ENV_CALLER = "from serving.graphs import env_for\n\ndef run(x):\n    if x.device.type == 'cuda':\n        env_for(x.device)\n"


@pytest.mark.parametrize(
    ("others", "severity"),
    [
        ({"serving/model.py": ENV_CALLER}, Severity.NOTE),
        ({"serving/model.py": ENV_CALLER, "tests/test_env.py": "from serving.graphs import env_for\n\ndef test_env():\n    env_for(0)\n"}, Severity.NOTE),
        ({"serving/model.py": ENV_CALLER, "serving/eager.py": "from serving.graphs import GraphEnv\n\ndef go(x):\n    GraphEnv(x)\n"}, Severity.ERROR),
        (  # another module's use, even a guarded one, is not followed
            {"serving/model.py": ENV_CALLER, "serving/lazy.py": "from serving.graphs import GraphEnv\n\ndef go(x):\n    if x.is_cuda:\n        GraphEnv(x)\n"},
            Severity.ERROR,
        ),
        ({"serving/model.py": ENV_CALLER, "serving/base.py": "from serving.graphs import GraphEnv\n\nclass Env(GraphEnv):\n    pass\n"}, Severity.ERROR),
    ],
    ids=["built-in-guarded-code", "and-by-a-test", "built-unguarded-elsewhere", "built-guarded-elsewhere", "subclassed-elsewhere"],
)
def test_a_public_class_built_only_in_guarded_code_runs_guarded(others, severity):
    files = {"README.md": "A project.\n", "serving/__init__.py": "", **others}
    found = [f.severity for f in analyze(ENVIRONMENT, path="serving/graphs.py", files=files) if f.span.line == 5]
    assert found == [severity]


FACTORY = """import torch
import triton


@triton.jit
def _norm_kernel(x_ptr, n):
    pass


def make_norm(act=None):
    def norm(x):
        _norm_kernel[(1,)](x, x.numel())
        return torch.cuda.CUDAGraph()
    return norm


norm = make_norm()
norm_silu = make_norm(act="silu")
{tail}"""
"""A module-level factory's launcher closure (kernel line 5, CUDA line 13), bound to two module-level names."""
SELF_CHECK = 'if __name__ == "__main__":\n    norm(torch.randn(4).cuda())\n'
NORM_CALLER = "from ops.kernels import norm, norm_silu\n\ndef run(x):\n    if x.device.type != 'cuda':\n        return x\n    return norm(x) + norm_silu(x)\n"


@pytest.mark.parametrize(
    ("others", "tail", "severity"),
    [
        ({"ops/model.py": NORM_CALLER}, "", Severity.NOTE),
        ({"ops/model.py": NORM_CALLER}, SELF_CHECK, Severity.NOTE),  # the module's own self-check
        ({"ops/model.py": NORM_CALLER, "ops/eager.py": "from ops.kernels import norm\n\ndef go(x):\n    return norm(x)\n"}, "", Severity.ERROR),
        ({"ops/model.py": NORM_CALLER}, "\ndef eager(x):\n    return make_norm()(x)\n", Severity.ERROR),  # another call of the factory
        ({}, SELF_CHECK, Severity.WARNING),  # only the self-check runs it: another path (`main_block.py`)
    ],
    ids=["guarded", "and-a-self-check", "unguarded-elsewhere", "factory-called-again", "self-check-only"],
)
def test_a_closure_a_factory_returns_runs_where_the_names_it_is_bound_to_are_used(others, tail, severity):
    files = {"README.md": "A project.\n", "ops/__init__.py": "", **others}
    found = {f.span.line: f.severity for f in analyze(FACTORY.format(tail=tail), path="ops/kernels.py", files=files)}
    assert (found[5], found[13]) == (severity, severity)


def test_a_scan_of_named_files_cannot_tell_that_nothing_else_calls_a_function():
    files = {"serving/__init__.py": "", "serving/model.py": GUARDED_CALLER}  # no document: not a folder's scan
    found = [f.severity for f in analyze(CAPTURE, path="serving/graphs.py", files=files) if f.span.line == 4]
    assert found == [Severity.ERROR]


RUNNER = (
    "import torch\n\nclass Runner:\n    def {name}(self, x):\n        return torch.cuda.Stream()\n\n"
    "    def run(self, x):\n        if x.is_cuda:\n            return self.{name}(x)\n        return x\n"
)


@pytest.mark.parametrize(
    ("name", "other", "severity"),
    [
        ("stream", "", Severity.NOTE),  # public, named nowhere else
        ("stream", "def go(runner, x):\n    return runner.stream(x)\n", Severity.ERROR),  # another module names it
        ("_stream", "class Other:\n    def _stream(self):\n        return None\n\n    def go(self):\n        return self._stream()\n", Severity.NOTE),
        ("_stream", "from serving.runner import Runner\n\nclass Eager(Runner):\n    def go(self, x):\n        return self._stream(x)\n", Severity.ERROR),
    ],
    ids=["public-unnamed", "public-named-elsewhere", "private-its-own-elsewhere", "private-subclass-elsewhere"],
)
def test_a_method_runs_only_where_its_class_calls_it_and_no_other_module_names_it(name, other, severity):
    files = {"README.md": "A project.\n", "serving/__init__.py": "", "serving/other.py": other}
    found = [f.severity for f in analyze(RUNNER.format(name=name), path="serving/runner.py", files=files) if f.span.line == 5]
    assert found == [severity]


@pytest.mark.parametrize(
    ("flag", "severity"),
    [
        ("x.device.type != 'cpu'", Severity.NOTE),  # the branch a CPU run never takes
        ("x.device.type == 'cpu'", Severity.ERROR),  # the CPU's own branch
    ],
)
def test_a_local_flag_that_compares_the_device_with_the_cpu_guards_its_branch(flag, severity):
    code = f"import torch\n\ndef step(x):\n    flag = {flag}\n    if flag:\n        torch.cuda.synchronize()\n"
    found = [f.severity for f in analyze(code) if f.span.line == 6]
    assert found == [severity]


@pytest.mark.parametrize(
    ("elsewhere", "severity"),
    [
        ("", Severity.NOTE),
        ("\ndef force(runner):\n    runner.graphs = True\n", Severity.ERROR),  # set again: it may hold anything
    ],
)
def test_a_flag_the_class_keeps_guards_its_branch_where_nothing_else_sets_it(elsewhere, severity):
    code = (
        "import torch\n\nclass Runner:\n    def __init__(self, x):\n        self.graphs = x.is_cuda\n\n"
        "    def step(self):\n        if self.graphs:\n            torch.cuda.synchronize()\n" + elsewhere
    )
    found = [f.severity for f in analyze(code) if f.span.line == 9]
    assert found == [severity]


@pytest.mark.parametrize(
    ("elsewhere", "severity"),
    [
        ("", Severity.NOTE),
        ("\ndef force(block):\n    block.graphs = True\n", Severity.ERROR),  # set again where nothing names `capture`
    ],
)
def test_a_flag_a_calling_class_keeps_guards_the_call_where_nothing_else_sets_it(elsewhere, severity):
    caller = (
        "from serving.graphs import capture\n\nclass Block:\n    def __init__(self, x):\n        self.graphs = x.is_cuda\n\n"
        "    def run(self, x):\n        if self.graphs:\n            capture(x)\n" + elsewhere
    )
    files = {"README.md": "A project.\n", "serving/__init__.py": "", "serving/model.py": caller}
    found = [f.severity for f in analyze(CAPTURE, path="serving/graphs.py", files=files) if f.span.line == 4]
    assert found == [severity]
def test_a_method_named_cuda_runs_only_where_its_caller_asks_for_cuda():
    code = '''
import torch
from torch import nn

class Batch:
    def cuda(self):
        self.items = [item.cuda() for item in self.items]
        return self

class Model(nn.Module):
    def cuda(self, device=None):
        device = torch.device("cuda", index=device)
        return super().cuda(device)

def prepare(batch):
    return batch.cuda()
'''
    found = {(f.span.line, f.rule): f.severity for f in analyze(code, path="mylib/data.py") if f.severity is not Severity.NOTE}
    # the caller's `.cuda()` is the site; the methods it reaches are quiet
    assert found == {(16, "CDA102"): Severity.ERROR}


def test_a_mock_in_a_cuda_functions_place_runs_no_cuda_function():
    code = '''
from unittest.mock import MagicMock, patch
import torch

@patch("torch.cuda.synchronize", MagicMock())
def test_sync():
    step()
    torch.cuda.synchronize.assert_called_once()
    assert torch.cuda.synchronize.call_count == 1
    torch.cuda.synchronize()
'''
    assert rules(code, path="tests/test_sync.py") == [(10, "CDA101")]


COPIER = '''
import torch

class Copier:
    def __init__(self, device):
        {before}
        assert device.type == "cuda", "CUDA only"
        self.stream = torch.cuda.Stream(device=device)

    def _warm(self):
        torch.cuda.synchronize()

    def submit(self):
        torch.cuda.current_stream().wait_stream(self.stream)

    @staticmethod
    def probe():
        torch.cuda.synchronize()

    def __del__(self):
        torch.cuda.synchronize()
'''


@pytest.mark.parametrize(
    ("before", "line", "severity"),
    [
        ("pass", 11, Severity.NOTE),  # a method: only on an object built past the assert
        ("pass", 14, Severity.NOTE),
        ("self._warm()", 11, Severity.ERROR),  # called before the assert: it runs first
        ("pass", 18, Severity.ERROR),  # a static method needs no object
        ("pass", 21, Severity.ERROR),  # Python calls __del__ on an object whose __init__ raised
    ],
)
def test_a_class_whose_constructor_asserts_a_cuda_device_runs_its_methods_only_there(before, line, severity):
    found = {f.span.line: f for f in analyze(COPIER.format(before=before))}
    assert found[7].rule == "CDA114" and found[7].severity is Severity.ERROR  # the one finding on a CPU
    assert found[line].severity is severity


@pytest.mark.parametrize(
    ("check", "severity"),
    [
        ("if device.type != 'cuda':\n            raise ValueError('CUDA only')", Severity.NOTE),
        ("if not device:\n            return", Severity.ERROR),  # an early return still builds the object
        ("assert size % self.nccl_alignment == 0", Severity.ERROR),  # a device word, no device test
    ],
)
def test_only_a_device_test_that_stops_the_constructor_guards_the_methods(check, severity):
    code = (
        "import torch\n\nclass Swapper:\n    def __init__(self, device, size):\n        " + check + "\n"
        "        self.device = device\n\n    def swap(self):\n        torch.cuda.synchronize()\n"
    )
    found = [f.severity for f in analyze(code) if f.span.line == 9 + check.count("\n")]
    assert found == [severity]


@pytest.mark.parametrize(
    ("use", "severity"),
    [
        ("self.timer = _Timer() if device.type == 'cuda' else None", Severity.NOTE),
        ("self.timer = _Timer()", Severity.ERROR),
    ],
)
def test_a_private_class_built_only_under_a_device_test_runs_its_methods_only_there(use, severity):
    code = (
        "import torch\n\nclass _Timer:\n    def __init__(self):\n        self.start = torch.cuda.Event()\n\n"
        "class Swapper:\n    def __init__(self, device):\n        " + use + "\n"
    )
    found = [f.severity for f in analyze(code) if f.span.line == 5]
    assert found == [severity]


def test_a_private_class_another_module_builds_unguarded_keeps_its_verdicts():
    code = "import torch\n\nclass _Timer:\n    def __init__(self):\n        self.start = torch.cuda.Event()\n\ndef pick(device):\n    return _Timer() if device.type == 'cuda' else None\n"
    other = "from serving.timing import _Timer\n\ndef run():\n    return _Timer()\n"
    files = {"README.md": "A project.\n", "serving/__init__.py": "", "serving/other.py": other}
    found = [f.severity for f in analyze(code, path="serving/timing.py", files=files) if f.span.line == 5]
    assert found == [Severity.ERROR]


@pytest.mark.parametrize(
    ("after", "severity"),
    [
        ("deepspeed.init_distributed()", Severity.ERROR),  # every run is launched: the launch is the normal path
        ("dist.init_process_group('gloo')", Severity.ERROR),
        ("train()", Severity.WARNING),  # a single-process run skips it
        ("if not ready:\n        return\n    deepspeed.init_distributed()", Severity.WARNING),  # not every run joins
    ],
)
def test_a_launch_test_is_the_normal_path_where_the_function_joins_a_process_group_anyway(after, severity):
    code = (
        "import os\nimport deepspeed\nimport torch\nimport torch.distributed as dist\n\n"
        "def setup(ready):\n    local_rank = int(os.environ.get('LOCAL_RANK', '-1'))\n"
        "    if local_rank != -1:\n        torch.cuda.set_device(local_rank)\n    " + after + "\n"
    )
    found = [f.severity for f in analyze(code) if f.span.line == 9]
    assert found == [severity]


@pytest.mark.parametrize(
    ("form", "call", "severity"),
    [
        ("if device is None:\n        device = torch.device('cuda')\n    x = device", "place(t, d)", Severity.NOTE),
        ("if device is None:\n        device = torch.device('cuda')\n    x = device", "place(t)", Severity.ERROR),
        ("x = device or torch.device('cuda')", "place(t, device=d)", Severity.NOTE),
        ("x = device or torch.device('cuda')", "place(t)", Severity.ERROR),
        ("x = torch.device('cuda') if device is None else device", "place(t, d)", Severity.NOTE),
        ("if device is None:\n        device = torch.device('cuda')\n    x = device", "", Severity.WARNING),  # no caller seen
    ],
)
def test_a_cuda_device_in_place_of_a_none_default_is_judged_as_that_default(form, call, severity):
    code = f"import torch\n\ndef place(t, device=None):\n    {form}\n    return t.to(x)\n\ndef build(t, d):\n    {call or 'pass'}\n"
    found = [f.severity for f in analyze(code) if f.rule == "CDA103"]
    assert found == [severity]


@pytest.mark.parametrize(("call", "severity"), [("place(t, device=d)", Severity.NOTE), ("place(t)", Severity.ERROR)])
def test_a_cuda_device_in_place_of_a_none_default_is_judged_by_the_calls_of_other_modules(call, severity):
    code = "import torch\n\ndef place(t, device=None):\n    if device is None:\n        device = torch.device('cuda')\n    return t.to(device)\n"
    user = f"from serving.placing import place\n\ndef run(t, d):\n    return {call}\n"
    files = {"README.md": "A project.\n", "serving/__init__.py": "", "serving/user.py": user}
    found = [f.severity for f in analyze(code, path="serving/placing.py", files=files) if f.rule == "CDA103"]
    assert found == [severity]


@pytest.mark.parametrize(("named", "severity"), [("-> Union[Pool, int]", Severity.NOTE), ("", Severity.NOTE)])
def test_a_class_named_in_an_annotation_is_not_handed_on(named, severity):
    code = (
        "from typing import Union\nimport torch\n\nclass Pool:\n    def __init__(self, size, device='cuda'):\n"
        "        self.buf = torch.zeros(size, device=device)\n\ndef build(size, d) " + named + ":\n"
        "    pool: Pool = Pool(size, device=d)\n    return pool\n"
    )
    found = [f.severity for f in analyze(code) if f.span.line == 5]
    assert found == [severity]


def test_a_class_handed_on_as_a_value_keeps_its_default_on_the_normal_path():
    code = (
        "import torch\n\nclass Pool:\n    def __init__(self, size, device='cuda'):\n"
        "        self.buf = torch.zeros(size, device=device)\n\nCHOICES = {'pool': Pool}\n\ndef build(size, d):\n    return Pool(size, device=d)\n"
    )
    found = [f.severity for f in analyze(code) if f.span.line == 4]
    assert found == [Severity.ERROR]


@pytest.mark.parametrize(
    ("test", "severity"),
    [
        ("n > 0", Severity.NOTE),
        ("n >= 1", Severity.NOTE),
        ("0 < n", Severity.NOTE),
        ("n", Severity.NOTE),
        ("n == 0", Severity.ERROR),
        ("n < 2", Severity.ERROR),
    ],
)
def test_a_local_count_of_devices_guards_as_the_count_itself(test, severity):
    """`n = torch.cuda.device_count()`, then `if n > 0:`: the branch a machine without GPUs never takes,
    as `if torch.cuda.device_count() > 0:` is; a comparison that holds with none keeps the site."""
    code = f"import torch\n\n\ndef setup(rank):\n    n = torch.cuda.device_count()\n    if {test}:\n        torch.cuda.set_device(rank)\n"
    assert severities(code, "CDA101") == [(5, Severity.NOTE), (7, severity)]
    rebound = code.replace("    if", "    n = 2\n    if").replace("(7,", "(8,")
    assert severities(rebound, "CDA101") == [(5, Severity.NOTE), (8, Severity.ERROR)]


TRITON_GATED = '''import torch
from torch.utils._triton import has_triton

if {test}:
    import triton

    @triton.jit
    def _scale_kernel(x_ptr):
        pass


def build():
    if not has_triton():
        return None
    import triton

    @triton.jit
    def _kernel(x_ptr):
        pass

    return _kernel
'''


@pytest.mark.parametrize(
    ("test", "severity"),
    [
        ("has_triton()", Severity.NOTE),
        ("at_least('2.10') and has_triton()", Severity.NOTE),
        ("not has_triton()", Severity.ERROR),
        ("has_triton() or at_least('2.10')", Severity.ERROR),
    ],
)
def test_code_under_has_triton_runs_only_where_some_accelerator_is(test, severity):
    """`torch.utils._triton.has_triton()` is True only where Triton has a device to compile for (a CUDA or
    ROCm GPU, an XPU), never on a CPU-only machine: a kernel defined under it, or past `if not has_triton():
    return None`, is no CPU concern; ROCm runs Triton and is judged as written."""
    found = [f for f in analyze(TRITON_GATED.format(test=test)) if f.rule == "CDA301"]
    assert [(f.span.line, f.targets["cpu"].severity) for f in found] == [(7, severity), (17, Severity.NOTE)]


LAUNCHED_SCRIPT = '''import os
import torch.distributed as dist


def check(cfg):
    if cfg.bad:
        raise ValueError(cfg)


if __name__ == "__main__":
    check(CFG)
    dist.init_process_group("nccl")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    MODEL.to(local_rank)
'''


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        (LAUNCHED_SCRIPT, "error"),  # the script's block joins before it goes on
        (LAUNCHED_SCRIPT.replace('    dist.init_process_group("nccl")\n', ""), "warning"),
        # joined only inside a loop, or only where a flag holds: a single-process run goes on without it
        (LAUNCHED_SCRIPT.replace('    dist.init_process_group("nccl")\n', '    for _ in range(1):\n        dist.init_process_group("nccl")\n'), "warning"),
        (LAUNCHED_SCRIPT.replace('    dist.init_process_group("nccl")\n', '    if CFG.dist:\n        dist.init_process_group("nccl")\n'), "warning"),
    ],
)
def test_a_rank_index_past_a_join_every_route_takes_is_on_the_normal_path(code, severity):
    found = [f.severity.value for f in analyze(code) if f.rule == "CDA112"]
    assert found == [severity]


def test_a_device_word_read_also_as_a_device_keeps_its_verdict_beside_an_execution_provider():
    code = (
        "from landmarks import LandmarkRunner\n\n\n"
        "def build(net, checkpoint, force_cpu=False):\n"
        "    if force_cpu:\n"
        '        device = "cpu"\n'
        "    else:\n"
        '        device = "cuda"\n'
        "    return net.to(device), LandmarkRunner(checkpoint, onnx_provider=device)\n"
    )
    (site,) = [f for f in analyze(code) if f.rule == "CDA103"]
    assert site.targets["cpu"].severity is Severity.ERROR
    only_provider = code.replace("net.to(device), ", "net, ")
    assert all(f.severity is Severity.NOTE for f in analyze(only_provider) if f.rule == "CDA103")


@pytest.mark.parametrize(
    ("store", "severity"),
    [
        ("        if len(frames) > self.limit and frames.is_cuda:\n            self.offload = True\n"
         "        else:\n            self.offload = False\n", Severity.NOTE),  # True only for frames on a CUDA device
        ("        if len(frames) > self.limit and frames.is_cuda:\n            self.offload = False\n"
         "        else:\n            self.offload = True\n", Severity.ERROR),  # True on a CPU too
        ("        if len(frames) > self.limit:\n            self.offload = True\n"
         "        else:\n            self.offload = False\n", Severity.ERROR),  # a length: no test of the device
        ("        self.offload = frames.is_cuda\n", Severity.NOTE),  # stored by a method defined after the test's
    ],
)
def test_a_flag_the_class_sets_true_in_one_arm_and_false_in_the_other_holds_the_arms_test(store, severity):
    code = (
        "import torch\n\n\nclass Propagator(torch.nn.Module):\n    def __init__(self, limit=50):\n"
        "        super().__init__()\n        self.limit = limit\n\n"
        "    def step(self, frame):\n        if self.offload:\n            frame = frame.cuda()\n        return frame\n\n"
        "    def forward(self, frames):\n" + store + "        return [self.step(f) for f in frames]\n"
    )
    assert [f.severity for f in analyze(code) if f.span.line == 11] == [severity]


@pytest.mark.parametrize(
    ("entry", "severity"),
    [
        ("self._all_on_gpu() if x.is_cuda and self.swap else contextlib.nullcontext()", Severity.NOTE),
        ("self._all_on_gpu() if self.swap else contextlib.nullcontext()", Severity.ERROR),  # no test of the device
    ],
)
def test_a_context_manager_method_entered_only_under_a_device_test_runs_only_there(entry, severity):
    """`@contextlib.contextmanager` calls the method only when the object a call returns is entered:
    the call under the test is its one use, as an undecorated helper's."""
    code = (
        "import contextlib\nimport torch\n\n\nclass Chain(torch.nn.Module):\n"
        "    def __init__(self, nets, swap=True):\n        super().__init__()\n"
        "        self.nets = torch.nn.ModuleList(nets)\n        self.swap = swap\n\n"
        "    @contextlib.contextmanager\n    def _all_on_gpu(self):\n        self.cuda()\n        yield\n\n"
        "    def forward(self, x):\n        with " + entry + ":\n            return self.nets[0](x)\n"
    )
    assert [f.severity for f in analyze(code) if f.span.line == 13] == [severity]


def test_an_option_lists_device_value_is_the_setting_its_key_names():
    """`merge_from_list(["MODEL.DEVICE", "cuda"])` and an argument list's `--device cuda:0` set the
    device as `{"MODEL.DEVICE": "cuda"}` would; a CUDA string after another key, or a CPU value, sets none."""
    code = (
        "import torch\n"
        "def build(cfg, parser):\n"
        '    cfg.merge_from_list(["MODEL.DEVICE", "cuda", "SOLVER.BASE_LR", 0.1])\n'
        '    args = parser.parse_args(("show", "--opts", "MODEL.DEVICE", "cuda"))\n'
        '    argv = ["python", "demo.py", "--device", "cuda:0"]\n'
        '    names = ["device", "dtype", "cuda"]\n'
        '    cpu = ["MODEL.DEVICE", "cpu"]\n'
        "    return args, argv, names, cpu\n"
        "build(None, None)\n"
    )
    found = [(f.span.line, f.rule, f.targets["cpu"].severity) for f in analyze(code)]
    assert found == [(3, "CDA103", Severity.ERROR), (4, "CDA103", Severity.ERROR), (5, "CDA103", Severity.ERROR)]
