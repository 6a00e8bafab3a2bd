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


METRIC = (
    "import torch\n\nfrom {module} import InceptionNet\n\n\n"
    "def load_inception(device='cuda'):\n    return InceptionNet().to(device)\n"
)


@pytest.mark.parametrize(
    ("module", "imported", "severity"),
    [
        ("kit.archs.inception", False, "note"),  # nothing imports it, and its own import fails: it runs nowhere
        ("kit.archs.backbone", False, "warning"),  # shipped: a user may import it by hand, another path
        ("kit.archs.inception", True, "warning"),  # imported by the project: its importer's failure is its own finding
    ],
)
def test_a_module_nothing_imports_whose_own_import_fails_never_runs(cli, tmp_path, module, imported, severity):
    write(tmp_path / "README.md", "Train with `python train.py`.\n")
    write(tmp_path / "train.py", "from kit.archs.backbone import Net\n" + ("from kit.metrics.fid import load_inception\n" if imported else "") + "\nnet = Net()\n"
          + ("metrics = {'fid': load_inception}\n" if imported else ""))
    write(tmp_path / "kit/__init__.py", "")
    write(tmp_path / "kit/archs/__init__.py", "")
    write(tmp_path / "kit/archs/backbone.py", "class Net:\n    pass\n\n\nclass InceptionNet:\n    pass\n")
    write(tmp_path / "kit/metrics/__init__.py", "")
    write(tmp_path / "kit/metrics/fid.py", METRIC.format(module=module))
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA103"] == [
        ("kit/metrics/fid.py", 6, severity)
    ]
