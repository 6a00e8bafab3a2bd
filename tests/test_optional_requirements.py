"""Requirements files of optional features (`rules/dependencies/optional_requirements.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cudaudit.rules.dependencies.optional_requirements import feature, optional_files
from support import scan_json, write


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("requirements.txt", ""),
        ("requirements/requirements.txt", ""),
        ("requirements/runtime.txt", ""),
        ("requirements-dev.txt", "dev"),
        ("dev-requirements.txt", "dev"),
        ("requirements_fastattn.txt", "fastattn"),
        ("requirements/requirements-fastattn.txt", "fastattn"),
        ("requirements/serving.txt", "serving"),
        ("constraints-gpu.txt", ""),
    ],
)
def test_the_feature_a_name_names(path, expected):
    assert feature(path) == expected


def optional(paths, includes=None, declarations=None, assigned=None, readme=""):
    return sorted(optional_files(paths, includes or {}, declarations or {}, assigned or {}, readme))


def test_a_feature_file_beside_the_base_is_optional():
    assert optional(["requirements.txt", "requirements-fastattn.txt"]) == ["requirements-fastattn.txt"]
    assert optional(["requirements/requirements.txt", "requirements/requirements-fastattn.txt"]) == [
        "requirements/requirements-fastattn.txt"
    ]
    assert optional(["requirements/serving.txt"], declarations={"pyproject.toml": "[project]\n"}) == ["requirements/serving.txt"]


def test_what_the_base_install_takes_in_is_no_option():
    paths = ["requirements.txt", "requirements-fastattn.txt"]
    assert optional(paths, includes={"requirements.txt": frozenset({"requirements-fastattn.txt"})}) == []
    assert optional(paths, declarations={"setup.py": "open('requirements-fastattn.txt')"}) == []
    assert optional(paths, readme="pip install -r requirements.txt -r requirements-fastattn.txt\n") == []


def test_a_feature_file_with_no_base_beside_it_keeps_its_verdicts():
    assert optional(["serving/requirements-fastattn.txt", "requirements.txt"]) == []


def test_a_file_a_setup_py_assigns_to_an_extra_is_optional_whatever_it_spells():
    paths = ["requirements/fastattn.txt"]
    declarations = {"setup.py": "extras['fast'] = read('requirements/fastattn.txt')"}
    assert optional(paths, declarations=declarations, assigned={"requirements/fastattn.txt": "fast"}) == paths


README = "# kit\n\npip install -r requirements.txt\n\nTo use fused attention, install the packages in `requirements-fastattn.txt`.\n"


def test_a_cuda_only_package_of_an_optional_feature_is_a_warning(cli, tmp_path: Path):
    write(tmp_path / "requirements.txt", "numpy\ntorch\n")
    write(tmp_path / "requirements-fastattn.txt", "cupy-cuda12x\n")
    write(tmp_path / "README.md", README)
    write(tmp_path / "kit" / "__init__.py", "")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    found = [f for f in report["findings"] if f["path"] == "requirements-fastattn.txt"]
    assert found and {f["severity"] for f in found} == {"warning"}
    assert all(target["severity"] != "error" for f in found for target in f["targets"].values())


def test_the_same_package_in_a_file_the_readme_installs_keeps_its_error(cli, tmp_path: Path):
    write(tmp_path / "requirements.txt", "numpy\ntorch\n")
    write(tmp_path / "requirements-fastattn.txt", "cupy-cuda12x\n")
    write(tmp_path / "README.md", README.replace("-r requirements.txt", "-r requirements.txt -r requirements-fastattn.txt"))
    write(tmp_path / "kit" / "__init__.py", "")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert "error" in {f["severity"] for f in report["findings"] if f["path"] == "requirements-fastattn.txt"}
