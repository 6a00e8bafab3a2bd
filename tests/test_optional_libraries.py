"""Optional accelerated libraries and their fallbacks: imports under the project's own probes of a
package (`package_probes.py`, `flag_functions.imported_library`, `concerns/imports.py`), and modules
the project imports under `try` whose own import can or cannot fail on a target
(`optional_modules.importable`, `optional_modules.failing_without_gpu`)."""

from __future__ import annotations

import ast

import pytest

from cudaudit.rules.python.flag_functions import imported_library
from support import analyze

VERSION_PROBE = """\
from packaging import version


def fused_attention_ok(minimum: str = "2.0.0"):
    assert minimum
    try:
        import flash_attn
    except ImportError:
        return False
    return version.parse(flash_attn.__version__) >= version.parse(minimum)
"""
"""A probe whose name says nothing of the package, with a parameter, returning a comparison."""


def severities(findings, rule: str) -> list[tuple[int, str, str]]:
    """(line, ROCm severity, CPU severity) of each finding of `rule`."""
    return [(f.span.line, f.targets["rocm"].severity.value, f.targets["cpu"].severity.value) for f in findings if f.rule == rule]


@pytest.mark.parametrize("test", ["fused_attention_ok()", "probe.fused_attention_ok('2.1')", "ready and fused_attention_ok()"])
def test_an_import_under_a_probe_function_of_another_module_cannot_fail(test):
    importer = "from proj import probe\n" if test.startswith("probe.") else "from proj.probe import fused_attention_ok\n"
    code = f"{importer}ready = True\n\nif {test}:\n    try:\n        from flash_attn import bert_padding\n    except Exception as e:\n        raise e\n"
    files = {"proj/__init__.py": "", "proj/probe.py": VERSION_PROBE}
    assert severities(analyze(code, path="proj/model.py", files=files), "CDA209") == [(6, "note", "note")]


def test_a_probe_of_another_package_or_the_false_branch_says_nothing():
    files = {"proj/__init__.py": "", "proj/probe.py": VERSION_PROBE.replace("flash_attn", "apex")}
    code = "from proj.probe import fused_attention_ok\n\nif fused_attention_ok():\n    from flash_attn import bert_padding\n"
    assert severities(analyze(code, path="proj/model.py", files=files), "CDA209") == [(4, "warning", "error")]
    files = {"proj/__init__.py": "", "proj/probe.py": VERSION_PROBE}
    code = "from proj.probe import fused_attention_ok\n\nif not fused_attention_ok():\n    from flash_attn import bert_padding\n"
    assert severities(analyze(code, path="proj/model.py", files=files), "CDA209") == [(4, "warning", "error")]
    code = "from proj.probe import fused_attention_ok\n\nif not fused_attention_ok():\n    pass\nelse:\n    from flash_attn import bert_padding\n"
    assert severities(analyze(code, path="proj/model.py", files=files), "CDA209") == [(6, "note", "note")]


def test_the_import_inside_a_probe_function_is_a_probe():
    assert severities(analyze(VERSION_PROBE, path="proj/probe.py", files={"proj/__init__.py": ""}), "CDA209") == [
        (7, "note", "note")
    ]


@pytest.mark.parametrize(
    ("source", "library"),
    [
        (VERSION_PROBE, "flash_attn"),
        ("def ok():\n    try:\n        import apex.normalization\n        return True\n    except ImportError:\n        return False\n", "apex"),
        ("def ok():\n    try:\n        import xformers\n    except ImportError:\n        print('no xformers')\n        return None\n    return xformers.__version__\n", "xformers"),
        ("def ok():\n    if fast:\n        return True\n    try:\n        import apex\n    except ImportError:\n        return False\n    return True\n", None),
        ("def ok():\n    try:\n        import apex\n    except ImportError:\n        pass\n    return True\n", None),
        ("def ok():\n    try:\n        import torch.cuda\n    except ImportError:\n        return False\n    return True\n", None),
        ("@register\ndef ok():\n    try:\n        import apex\n    except ImportError:\n        return False\n    return True\n", None),
        ("@lru_cache\ndef ok():\n    try:\n        import apex\n    except ImportError:\n        return False\n    return True\n", "apex"),
    ],
)
def test_a_probe_function_is_read_by_what_its_true_returns_follow(source, library):
    function = ast.parse(source).body[-1]
    assert isinstance(function, ast.FunctionDef)
    assert imported_library(function) == library


ATTENTION_WRAPPER = """\
import torch
from einops import rearrange

try:
    from flash_attn.flash_attn_interface import flash_attn_varlen_qkvpacked_func
except ImportError:
    from flash_attn.flash_attn_interface import flash_attn_unpadded_qkvpacked_func as flash_attn_varlen_qkvpacked_func

from flash_attn.bert_padding import pad_input


class FusedAttention(torch.nn.Module):
    def forward(self, qkv):
        return flash_attn_varlen_qkvpacked_func(qkv.cuda())
"""
"""A module of the project whose top level imports a package no machine without a GPU installs."""
VISION_MODEL = """\
import torch

try:
    from .fused_attention import FusedAttention
    has_fused = True
except ImportError:
    print("FlashAttention is not installed: standard attention")
    has_fused = False
"""


def test_an_optional_module_that_cannot_import_without_a_gpu_is_a_note_there():
    files = {"proj/__init__.py": "", "proj/vision.py": VISION_MODEL, "pyproject.toml": '[project]\nname = "proj"\ndependencies = ["torch", "einops"]\n'}
    findings = analyze(ATTENTION_WRAPPER, path="proj/fused_attention.py", files=files)
    assert severities(findings, "CDA209") == [(5, "warning", "note"), (7, "warning", "note"), (9, "warning", "note")]
    assert {f.targets["cpu"].severity.value for f in findings} == {"note"}  # the module never loads there
    assert "has no build for a machine without a GPU" in findings[0].targets["cpu"].replacement
    # One import outside a `try` puts it on every target's normal path.
    files["proj/train.py"] = "from proj.fused_attention import FusedAttention\n"
    assert severities(analyze(ATTENTION_WRAPPER, path="proj/fused_attention.py", files=files), "CDA209")[-1] == (9, "warning", "error")


KERNEL = """\
import torch
import triton
import triton.language as tl

from proj.ops.activations import softplus


@triton.jit
def _step_kernel(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, softplus(tl.load(x_ptr + offs, mask=offs < n)), mask=offs < n)


def step(x):
    _step_kernel[(triton.cdiv(x.numel(), 128),)](x, x.numel(), BLOCK=128)
    return x
"""
"""A Triton kernel module that imports only what a base install declaring `triton` has."""
BLOCK = """\
import torch

try:
    from proj.ops.step import step
except ImportError:
    step = None


class Block(torch.nn.Module):
    def forward(self, x):
        if step is None:
            return torch.nn.functional.softplus(x)
        return step(x)
"""


@pytest.mark.parametrize(
    ("dependencies", "cpu"),
    [
        ('["torch", "triton>=3"]', "error"),  # the import succeeds on a CPU install: the kernel is launched there
        ('["torch"]', "warning"),  # triton may be missing: the fallback runs there
    ],
)
def test_a_tried_module_that_imports_wherever_the_project_installs_keeps_its_verdicts(dependencies, cpu):
    files = {
        "proj/__init__.py": "",
        "proj/ops/__init__.py": "",
        "proj/ops/activations.py": "import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef softplus(x):\n    return tl.log(1 + tl.exp(x))\n",
        "proj/block.py": BLOCK,
        "pyproject.toml": f'[project]\nname = "proj"\ndependencies = {dependencies}\n',
    }
    assert severities(analyze(KERNEL, path="proj/ops/step.py", files=files), "CDA301") == [(8, "note", cpu)]


def test_a_try_that_catches_every_error_around_the_call_keeps_the_module_optional():
    # `except Exception:` around the import and the launch: where the kernel fails at run time (a CPU
    # tensor), the block falls back all the same.
    block = (
        "import torch\n\n\nclass Block(torch.nn.Module):\n    def forward(self, x):\n        try:\n"
        "            from proj.ops.step import step\n            return step(x)\n        except Exception:\n"
        "            return torch.nn.functional.softplus(x)\n"
    )
    files = {
        "proj/__init__.py": "",
        "proj/ops/__init__.py": "",
        "proj/ops/activations.py": "import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef softplus(x):\n    return tl.log(1 + tl.exp(x))\n",
        "proj/block.py": block,
        "pyproject.toml": '[project]\nname = "proj"\ndependencies = ["torch", "triton>=3"]\n',
    }
    assert severities(analyze(KERNEL, path="proj/ops/step.py", files=files), "CDA301") == [(8, "note", "warning")]
    files["proj/block.py"] = block.replace("except Exception:", "except ImportError:")
    assert severities(analyze(KERNEL, path="proj/ops/step.py", files=files), "CDA301") == [(8, "note", "error")]


def test_a_module_that_defines_its_names_only_after_a_compiled_extension_imported_can_fail():
    # `from proj.ops.step import step` fails where `step` is defined only once `proj._step_ext` imported.
    kernel = KERNEL.replace("def step(x):", "try:\n    from proj import _step_ext\nexcept ImportError:\n    pass\nelse:\n  def step(x):")
    kernel = kernel.replace("\n    _step_kernel[", "\n      _step_kernel[").replace("\n    return x", "\n      return x")
    files = {
        "proj/__init__.py": "",
        "proj/ops/__init__.py": "",
        "proj/ops/activations.py": "import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef softplus(x):\n    return tl.log(1 + tl.exp(x))\n",
        "proj/block.py": BLOCK,
        "pyproject.toml": '[project]\nname = "proj"\ndependencies = ["torch", "triton>=3"]\n',
    }
    assert severities(analyze(kernel, path="proj/ops/step.py", files=files), "CDA301") == [(8, "note", "warning")]


def test_the_package_a_project_is_is_no_package_it_goes_without():
    # In FlashAttention's own tree, `flash_attn` is the project: its optional module keeps its verdicts.
    files = {
        "flash_attn/__init__.py": "",
        "flash_attn/layers/__init__.py": "",
        "flash_attn/layers/vision.py": VISION_MODEL,
        "pyproject.toml": '[project]\nname = "flash_attn"\ndependencies = ["torch", "einops"]\n',
    }
    code = ATTENTION_WRAPPER.replace("from flash_attn.flash_attn_interface", "from flash_attn.interface").replace(
        "from flash_attn.bert_padding", "from flash_attn.padding"
    )
    findings = analyze(code, path="flash_attn/layers/fused_attention.py", files=files)
    assert {f.targets["cpu"].severity.value for f in findings} == {"warning"}
