"""Optional accelerator packages no install route of the project names (`rules/python/unrequested.py`,
the project index, `concerns/imports.py`): a tried import of one fails alike on every install."""

from __future__ import annotations

import pytest

from cudaudit.rules.python.unrequested import code_folders, named_packages, scope, unrequested_packages
from support import analyze

TRIED_XFORMERS = """\
import torch

try:
    import xformers.ops
    FAST = True
except ImportError:
    FAST = False


def attend(q, k, v):
    if not FAST:
        return torch.nn.functional.scaled_dot_product_attention(q, k, v)
    return xformers.ops.memory_efficient_attention(q, k, v)
"""
"""xFormers' kernel taken wherever it imported, on any device: a CPU host that installs it runs it."""

TRIED_FLASH = """\
import torch.nn.functional as F

try:
    from flash_attn import flash_attn_func
except ImportError:
    flash_attn_func = None


def attend(q, k, v):
    if flash_attn_func is not None:
        return flash_attn_func(q, k, v)
    return F.scaled_dot_product_attention(q, k, v)
"""

README = "# Demo\n\n`pip install -r requirements.txt`\n"


def severities(code: str, files: dict[str, str], rule: str, path: str = "app/attention.py") -> list[tuple[int, str, str]]:
    """(line, ROCm severity, CPU severity) of each finding of `rule` in the module at `path`."""
    found = analyze(code, path=path, files={"app/__init__.py": "", **files})
    return [(f.span.line, f.targets["rocm"].severity.value, f.targets["cpu"].severity.value) for f in found if f.rule == rule]


def test_a_package_nothing_installs_is_quiet_on_rocm_and_keeps_cpu_where_its_kernel_runs_on_any_device():
    files = {"requirements.txt": "torch>=2.0\nnumpy\n", "README.md": README}
    assert severities(TRIED_XFORMERS, files, "CDA210") == [(4, "note", "warning")]


def test_a_package_the_requirements_install_keeps_its_rocm_warning():
    files = {"requirements.txt": "torch>=2.0\nxformers==0.0.28\n", "README.md": README}
    assert severities(TRIED_XFORMERS, files, "CDA210") == [(4, "warning", "warning")]


def test_a_package_no_machine_without_a_gpu_installs_is_quiet_everywhere_where_nothing_installs_it():
    files = {"pyproject.toml": '[project]\nname = "app"\nversion = "1"\ndependencies = ["torch"]\n', "README.md": README}
    assert severities(TRIED_FLASH, files, "CDA209") == [(4, "note", "note")]


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("README.md", "# Demo\n\nFor speed: `pip install flash-attn --no-build-isolation`.\n"),
        ("docs/install.md", "Then install FlashAttention: `pip install flash_attn`.\n"),
        ("requirements/gpu.txt", "flash-attn>=2.5\n"),
        ("requirements/pyproject-gpu.toml", '[project]\ndependencies = ["flash-attn"]\n'),
        ("app/Dockerfile", "FROM python:3.11\nRUN pip install flash-attn\n"),
    ],
)
def test_an_install_route_that_names_the_package_keeps_the_verdict(where, text):
    files = {"requirements.txt": "torch\n", "README.md": README, where: text}
    assert severities(TRIED_FLASH, files, "CDA209") == [(4, "warning", "warning")]


def test_another_folders_requirements_speak_only_for_that_folder():
    files = {
        "requirements.txt": "torch\n", "README.md": README,
        "tools/caption/requirements.txt": "flash-attn\n", "tools/caption/run.py": "print('a tool')\n",
    }
    assert severities(TRIED_FLASH, files, "CDA209") == [(4, "note", "note")]
    assert severities(TRIED_FLASH, files, "CDA209", path="tools/caption/attention.py") == [(4, "warning", "warning")]


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": README},  # no install declared: what is installed is unknown
        {"requirements.txt": "torch\n"},  # named files only, no documents: the scan does not see the project
        {"pyproject.toml": "[tool.ruff]\nline-length = 100\n", "README.md": README},  # settings, no install
    ],
)
def test_without_a_declared_install_seen_whole_the_verdict_stays(files):
    assert severities(TRIED_FLASH, files, "CDA209") == [(4, "warning", "warning")]


def test_a_handler_that_stops_the_program_keeps_the_verdict():
    code = TRIED_FLASH.replace("    flash_attn_func = None\n", '    raise SystemExit("install flash-attn")\n')
    files = {"requirements.txt": "torch\n", "README.md": README}
    assert severities(code, files, "CDA209") == [(4, "warning", "warning")]


def test_an_import_under_a_call_that_asks_for_the_package_by_name_cannot_fail():
    code = 'from helpers import is_module_available\n\nif is_module_available("xformers"):\n    import xformers.ops\n'
    assert severities(code, {}, "CDA210") == [(4, "note", "note")]


def test_named_packages_reads_installs_not_longer_names_or_flags():
    spellings = (("flash_attn", ("flash-attn", "flash_attn")), ("xformers", ("xformers",)))
    assert named_packages(b"pip install Flash-Attn==2.6\n", spellings) == ("flash_attn",)
    assert named_packages(b"python train.py --xformers\nfrom flash_attn_func import x\n", spellings) == ()


def test_scope_lifts_files_of_folders_without_code_to_the_nearest_folder_with_code():
    code = code_folders(["proj/pkg/model.py", "proj/tools/run.py"])
    assert scope("proj/requirements/gpu.txt", code) == "proj"
    assert scope("proj/containers/docker/Dockerfile", code) == "proj"
    assert scope("proj/tools/requirements.txt", code) == "proj/tools"
    assert scope("proj/tools/extra/README.md", code) == "proj/tools"


def test_absolute_paths_reach_their_top():
    code = code_folders(["/home/u/proj/pkg/model.py"])
    assert scope("/home/u/proj/docs/install.md", code) == "/home/u/proj"
    assert scope("/elsewhere/requirements.txt", code) == "/"


def test_unrequested_packages_needs_a_declared_install_above_the_module():
    spellings = (("xformers", ("xformers",)),)
    modules = {"a/m.py": frozenset({"xformers", "ops"}), "b/m.py": frozenset({"xformers"})}
    code = code_folders(modules)
    assert unrequested_packages(modules, ["a/requirements.txt"], {}, spellings, code) == {"a/m.py": ("xformers",)}


def test_a_base_image_that_ships_the_package_names_it():
    files = {
        "requirements.txt": "torch\n", "README.md": README,
        "containers/docker/Dockerfile": "ARG BASE=nvcr.io/nvidia/pytorch:24.05-py3\nFROM ${BASE}\n",
    }
    assert severities(TRIED_FLASH, files, "CDA209") == [(4, "warning", "warning")]


def test_a_cog_configuration_declares_the_install_of_a_project_without_dependency_files():
    """`cog.yaml` lists the packages its image installs: where it names none of them, nothing installs
    the package; where it lists it, the verdict stays."""
    cog = 'build:\n  gpu: true\n  python_packages:\n    - "torch==2.4.0"\n'
    assert severities(TRIED_FLASH, {"cog.yaml": cog, "README.md": README}, "CDA209") == [(4, "note", "note")]
    listed = cog + '    - "flash-attn==2.6.3"\n'
    assert severities(TRIED_FLASH, {"cog.yaml": listed, "README.md": README}, "CDA209") == [(4, "warning", "warning")]
