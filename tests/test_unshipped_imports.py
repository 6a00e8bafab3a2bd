"""A test module that imports a module its own package does not ship fails at collection on every
target: its sites run nowhere."""

from __future__ import annotations

import pytest

from support import scan_json, write

TEST = (
    "import torch\n\nfrom kernels.interface import scan_fn\nfrom {module} import pack_states\n\n\n"
    "def test_pack():\n    x = torch.randn(4, device='cuda')\n    assert pack_states(scan_fn(x)) is not None\n"
)


@pytest.mark.parametrize(
    ("module", "extra", "severity"),
    [
        ("kernels.varlen", {}, "note"),  # the package holds no `varlen` module: collection fails
        ("kernels.interface", {}, "warning"),  # shipped
        ("kernels.varlen", {"kernels/varlen.pyx": "def pack_states(x):\n    return x\n",
                            "setup.py": "from Cython.Build import cythonize\nfrom setuptools import setup\n\nsetup(ext_modules=cythonize('kernels/*.pyx'))\n"}, "warning"),
        ("kernels.varlen", {"setup.py": "from setuptools import Extension, setup\n\nsetup(ext_modules=[Extension('kernels.varlen', ['src/varlen.c'])])\n"}, "warning"),  # built
        ("kernels.varlen", {"kernels/varlen/__init__.py": "def pack_states(x):\n    return x\n"}, "warning"),  # a package
        ("other.varlen", {}, "warning"),  # a package the project does not hold: installed from elsewhere
    ],
)
def test_a_test_module_importing_a_module_its_package_lacks_never_runs(cli, tmp_path, module, extra, severity):
    write(tmp_path / "kernels/__init__.py", "from .interface import scan_fn\n")
    write(tmp_path / "kernels/interface.py", "def scan_fn(x):\n    return x.cumsum(0)\n")
    write(tmp_path / "tests/test_pack.py", TEST.format(module=module))
    for path, text in extra.items():
        write(tmp_path / path, text)
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA103"] == [
        ("tests/test_pack.py", 8, severity)
    ]


def test_a_scan_by_absolute_path_reads_the_same(cli, tmp_path):
    project = tmp_path / "project"
    write(project / "kernels/__init__.py", "")
    write(project / "kernels/interface.py", "def scan_fn(x):\n    return x.cumsum(0)\n")
    write(project / "tests/test_pack.py", TEST.format(module="kernels.varlen"))
    (tmp_path / "elsewhere").mkdir()
    report = scan_json(cli, str(project), "--no-cache", "--show-portable", cwd=tmp_path / "elsewhere")
    assert [(f["line"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA103"] == [(8, "note")]
