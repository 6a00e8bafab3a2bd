"""The import graph of the project index: modules only another target's code path imports."""

from __future__ import annotations

from functools import partial

from cudaudit.rules.python.import_paths import _IMPORT, _import_statements, other_target_modules
from support import analyze

KERNEL = "import torch\n\ndef run(x):\n    return x.cuda()\n"


def marked(files: dict[str, str]) -> dict[str, set[str]]:
    found = other_target_modules({path: partial(str.encode, text) for path, text in files.items()})
    return {path: {target for target, _ in targets} for path, targets in found.items()}


def test_a_module_imported_only_under_a_device_branch_is_off_every_other_targets_path():
    files = {
        "pkg/__init__.py": "",
        "pkg/npu_ops.py": KERNEL,
        "pkg/model.py": "from transformers.utils import is_torch_npu_available\n"
        "if is_torch_npu_available():\n    from .npu_ops import run\n",
    }
    assert marked(files) == {"pkg/npu_ops.py": {"rocm", "cpu", "xpu", "mps"}}


def test_a_module_imported_only_under_an_xla_test_is_off_every_targets_path():
    files = {
        "pkg/__init__.py": "",
        "pkg/spmd.py": KERNEL,
        "pkg/trainer.py": "def shard(model):\n    if state.distributed_type == DistributedType.XLA:\n"
        "        from .spmd import run\n        return run(model)\n    return model\n",
    }
    assert marked(files) == {"pkg/spmd.py": {"rocm", "cpu", "xpu", "mps"}}


def test_one_import_on_the_normal_path_keeps_the_module_on_every_path():
    files = {
        "pkg/__init__.py": "",
        "pkg/npu_ops.py": KERNEL,
        "pkg/model.py": "if torch.npu.is_available():\n    from .npu_ops import run\n",
        "pkg/train.py": "from pkg.npu_ops import run\n",
    }
    assert marked(files) == {}


def test_a_module_no_file_imports_keeps_its_verdicts():
    assert marked({"pkg/__init__.py": "", "pkg/npu_ops.py": KERNEL, "pkg/cli.py": "import os\n"}) == {}


def test_a_function_called_only_from_a_device_branch_puts_its_imports_on_that_path():
    files = {
        "pkg/__init__.py": "",
        "pkg/kernels/__init__.py": "",
        "pkg/kernels/fused.py": "from .helpers import tile\n" + KERNEL,
        "pkg/kernels/helpers.py": "def tile(x):\n    return x\n",
        "pkg/patch.py": "def patch_for_ascend(model):\n    from .kernels.fused import run\n    model.run = run\n\n"
        "def patch(model):\n    if is_torch_npu_available():\n        patch_for_ascend(model)\n",
    }
    # the package `__init__.py` runs only on that path too
    assert set(marked(files)) == {"pkg/kernels/__init__.py", "pkg/kernels/fused.py", "pkg/kernels/helpers.py"}


def test_a_function_handed_on_as_a_value_may_run_anywhere():
    files = {
        "pkg/__init__.py": "",
        "pkg/npu_ops.py": KERNEL,
        "pkg/patch.py": "def patch_npu(model):\n    from .npu_ops import run\n\n"
        "PATCHES = {'npu': patch_npu}\n\ndef patch(model):\n    if is_torch_npu_available():\n        patch_npu(model)\n",
    }
    assert marked(files) == {}


def test_a_function_a_dispatcher_returns_only_in_a_device_branch_runs_only_on_that_path():
    dispatcher = (
        "def _npu_norm(x):\n    from .npu_ops import run\n    return run(x)\n\n"
        "def get_norm(device):\n    if device == 'npu':\n        return _npu_norm  # handed out here only\n    return None\n\n"
        "norm = get_norm(pick())\n"
    )
    files = {"pkg/__init__.py": "", "pkg/npu_ops.py": KERNEL, "pkg/norm.py": dispatcher}
    assert marked(files) == {"pkg/npu_ops.py": {"rocm", "cpu", "xpu", "mps"}}
    # returned on the normal path too, or kept in a table as well: it may run anywhere
    everywhere = {**files, "pkg/norm.py": dispatcher + "\ndef default():\n    return _npu_norm\n"}
    assert marked(everywhere) == {}
    table = {**files, "pkg/norm.py": dispatcher + "\nNORMS = {'npu': _npu_norm}\n"}
    assert marked(table) == {}


def test_both_branches_of_a_rocm_test_and_a_negated_device_test():
    files = {
        "pkg/__init__.py": "",
        "pkg/rocm_ops.py": KERNEL,
        "pkg/cuda_ops.py": KERNEL,
        "pkg/other.py": KERNEL,
        "pkg/dispatch.py": "import torch\nif torch.version.hip:\n    from .rocm_ops import run\nelse:\n"
        "    from .cuda_ops import run\nif not is_torch_npu_available():\n    from .other import run\n",
    }
    assert marked(files) == {"pkg/rocm_ops.py": {"cpu", "xpu", "mps"}, "pkg/cuda_ops.py": {"rocm"}}


def test_an_accelerator_switch_leaves_each_arm_to_its_device():
    files = {
        "acc/__init__.py": "",
        "acc/xpu_accelerator.py": KERNEL,
        "acc/cuda_accelerator.py": KERNEL,
        "acc/real.py": 'def get(name):\n    if name == "xpu":\n        from .xpu_accelerator import run\n'
        '    elif name == "cuda":\n        from .cuda_accelerator import run\n    return run\n',
    }
    # ROCm's PyTorch answers to "cuda": the CUDA arm is skipped by CPU, XPU and MPS only
    assert marked(files) == {"acc/xpu_accelerator.py": {"rocm", "cpu", "mps"}, "acc/cuda_accelerator.py": {"cpu", "xpu", "mps"}}


def test_a_module_imported_only_under_a_cuda_test_is_off_the_path_of_targets_without_cuda():
    files = {
        "pkg/__init__.py": "",
        "pkg/fused.py": KERNEL,
        "pkg/fallback.py": KERNEL,
        "pkg/layers.py": "import torch\nif torch.cuda.is_available():\n    from .fused import run\nelse:\n"
        "    from .fallback import run\n",
    }
    # a CUDA test passes on ROCm; its `else` may run anywhere (a CUDA build on a machine without a GPU)
    assert marked(files) == {"pkg/fused.py": {"cpu", "xpu", "mps"}}
    flag = {**files, "pkg/layers.py": "HAS_CUDA = probe()\n\ndef load():\n    from .fused import run\n    return run\n\n"
            "def pick():\n    if HAS_CUDA:\n        return load()\n"}
    assert marked(flag) == {"pkg/fused.py": {"cpu", "xpu", "mps"}}
    # `cuda` in a function's name alone says nothing about where its callers run
    named = {**files, "pkg/layers.py": "def load_cuda_kernels():\n    from .fused import run\n    return run\n"}
    assert marked(named) == {}


def test_imports_after_a_gate_that_returns_run_where_its_test_fails():
    def layers(gate: str, exit: str) -> dict[str, str]:
        body = f"def load():\n    if {gate}:\n        log('gate')\n        {exit}\n    from .fused import run\n    return run\n"
        return {"pkg/__init__.py": "", "pkg/fused.py": KERNEL, "pkg/layers.py": body}

    assert marked(layers("not is_torch_npu_available()", "return None")) == {"pkg/fused.py": {"rocm", "cpu", "xpu", "mps"}}
    assert marked(layers("not torch.cuda.is_available()", "raise RuntimeError('needs a GPU')")) == {"pkg/fused.py": {"cpu", "xpu", "mps"}}
    assert marked(layers("torch.version.hip", "return")) == {"pkg/fused.py": {"rocm"}}
    # a gate that lets the code through, or one whose return is inside a nested branch, is no gate
    assert marked(layers("not is_torch_npu_available()", "pass")) == {}
    nested = layers("not is_torch_npu_available()", "if verbose:\n            return")
    assert marked(nested) == {}
    one_line = "def load():\n    if not is_torch_npu_available(): return None\n    from .fused import run\n    return run\n"
    assert marked({**layers("x", "pass"), "pkg/layers.py": one_line}) == {"pkg/fused.py": {"rocm", "cpu", "xpu", "mps"}}
    not_a_gate = one_line.replace(": return None", ": log('no NPU')")
    assert marked({**layers("x", "pass"), "pkg/layers.py": not_a_gate}) == {}


def test_findings_of_such_a_module_are_notes_that_name_the_import():
    files = {
        "pkg/__init__.py": "",
        "pkg/model.py": "if is_torch_npu_available():\n    from .fused_ops import run\n",
    }
    found = analyze(KERNEL, path="pkg/fused_ops.py", files=files)
    assert found and all(f.severity.value == "note" for f in found)
    assert "`pkg/model.py:2`" in found[0].targets["cpu"].replacement
    unguarded = analyze(KERNEL, path="pkg/fused_ops.py", files={**files, "pkg/train.py": "from .fused_ops import run\n"})
    assert {f.severity.value for f in unguarded} == {"error"}


def test_a_file_named_for_another_target_is_judged_for_its_own_target_only():
    assert {f.severity.value for f in analyze(KERNEL, path="pkg/npu_ops.py")} == {"note"}
    assert {f.severity.value for f in analyze(KERNEL, path="pkg/cpu_offload.py")} == {"error"}
    rocm = analyze("--extra-index-url https://download.pytorch.org/whl/cu121\ntorch==2.3.1\n", path="requirements-rocm.txt")
    assert rocm and all(f.targets["cpu"].severity.value == "note" for f in rocm)
    assert any(f.targets["rocm"].severity.value != "note" for f in rocm)
    intel = analyze("nvidia-cublas-cu12==12.4.5.8\n", path="requirements_intel.txt")  # Intel's GPUs and CPUs
    assert intel and all(f.targets["rocm"].severity.value == "note" for f in intel)
    assert any(f.targets["cpu"].severity.value != "note" for f in intel)
    launcher = 'ENV_DIR="$(pwd)/env"\nexport CUDA_HOME="$ENV_DIR"\npip install -e .\n'  # ROCm runs on Linux and Windows only
    assert {f.severity.value for f in analyze(launcher, path="start_linux.sh")} == {"warning"}
    assert {f.severity.value for f in analyze(launcher, path="start_macos.sh")} == {"note"}


def test_a_flag_the_index_knows_for_a_cuda_test_is_that_test_where_its_module_can_name_it():
    def marked_with(layers: str) -> dict[str, set[str]]:
        files = {"pkg/__init__.py": "", "pkg/fused.py": KERNEL, "pkg/layers.py": layers}
        found = other_target_modules({p: partial(str.encode, t) for p, t in files.items()}, cuda_flags=("SUPPORTS_FUSED",))
        return {path: {target for target, _ in targets} for path, targets in found.items()}

    imported = "from .caps import SUPPORTS_FUSED\n\nif SUPPORTS_FUSED:\n    from .fused import run\n"
    assert marked_with(imported) == {"pkg/fused.py": {"cpu", "xpu", "mps"}}
    defined = "SUPPORTS_FUSED = probe()\n\ndef load():\n    if not SUPPORTS_FUSED:\n        return None\n    from .fused import run\n"
    assert marked_with(defined) == {"pkg/fused.py": {"cpu", "xpu", "mps"}}
    # the same name bound some other way (a parameter) is not the project's flag
    assert marked_with("def load(SUPPORTS_FUSED):\n    if SUPPORTS_FUSED:\n        from .fused import run\n") == {}
    assert marked_with(imported.replace("if SUPPORTS_FUSED", "if not SUPPORTS_FUSED")) == {}


def test_a_cache_answers_as_reading_every_module_does_when_many_modules_spell_the_name():
    # The name is in the text of more modules than the mention limit, none of which imports it:
    # with or without remembered readings, only the imports count.
    files = {
        "pkg/__init__.py": "",
        "pkg/npu_ops.py": KERNEL,
        "pkg/model.py": "from transformers.utils import is_torch_npu_available\n"
        "if is_torch_npu_available():\n    from .npu_ops import run\n",
        **{f"pkg/tool_{n}.py": "import os\n# see npu_ops for the kernels\n" for n in range(120)},
    }
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    stored: dict[tuple[str, str], object] = {}

    def remember(reader, path, compute):
        if (reader, path) not in stored:
            stored[reader, path] = compute()
        return stored[reader, path]

    uncached = other_target_modules(sources)
    assert set(uncached) == {"pkg/npu_ops.py"}
    assert other_target_modules(sources, remember) == uncached
    assert other_target_modules(sources, remember) == uncached


def test_import_statements_are_the_lines_the_import_pattern_finds():
    # Found from the word `import`, then matched at their line's start: the same matches as the
    # pattern searched at every line, on lines that only mention the word or end the text.
    text = (
        b"import os\r\nfrom . import (a,\n    b)\n'''import this is prose'''\nx = 1  # import nothing\n"
        b"    from ..pkg.sub import run as go  # late\nimportlib.reload(m)\nfrom\tpkg import\tthing\n"
        b"def f():\n    import  numpy as np, torch\nreimport x\nimport"
    )
    for data in (text, text + b" last", b"", b"import\n", b"from x import y"):
        expected = list(_IMPORT.finditer(data))
        found = list(_import_statements(data))
        assert [m.span() for m in found] == [m.span() for m in expected]
    assert len(list(_import_statements(text))) == 5


def test_a_module_imported_only_on_cuda_builds_of_pytorch_is_off_every_targets_path():
    """`torch.version.cuda` is None on ROCm builds as on CPU ones: its branch runs on none of the
    targets, and its `else` (a HIP sibling) on ROCm."""
    files = {
        "pkg/__init__.py": "",
        "pkg/nv.py": KERNEL,
        "pkg/amd.py": KERNEL,
        "pkg/ops.py": "import torch\nif torch.version.cuda is not None:\n    from .nv import run\n"
        "elif torch.version.hip:\n    from .amd import run\n",
    }
    assert marked(files) == {"pkg/nv.py": {"rocm", "cpu", "xpu", "mps"}, "pkg/amd.py": {"cpu", "xpu", "mps"}}


def test_the_else_of_a_cuda_build_test_runs_on_every_target():
    files = {
        "pkg/__init__.py": "",
        "pkg/nv.py": KERNEL,
        "pkg/plain.py": KERNEL,
        "pkg/ops.py": "import torch\nif not torch.version.cuda:\n    from .plain import run\nelse:\n    from .nv import run\n",
    }
    assert marked(files) == {"pkg/nv.py": {"rocm", "cpu", "xpu", "mps"}}
