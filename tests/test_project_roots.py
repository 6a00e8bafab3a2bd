"""A file's place in its project (`tests/`, `benchmarks/`) is read below the project's root, never from the
folders above it: a project checked out under a folder named `tests` keeps its verdicts, and a scan of a
project's `tests/` folder keeps its files' test-ness."""

from __future__ import annotations

from pathlib import Path

from cudaudit.filekinds import BENCHMARK_DIRS, TEST_DIRS
from cudaudit.project_roots import project_prefixes
from support import scan_json

DEVICE_CALL = "import torch\n\nmodel = torch.nn.Linear(2, 2).cuda()\n"
ROLES = TEST_DIRS | BENCHMARK_DIRS


def make_project(folder: Path, marker: bool = True) -> Path:
    """A package with one `.cuda()` call, and a test helper with another."""
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "train.py").write_text(DEVICE_CALL)
    (folder / "tests").mkdir()
    (folder / "tests" / "helpers.py").write_text(DEVICE_CALL)
    if marker:
        (folder / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "1"\n')
    return folder


def severities(report: dict) -> dict[str, str]:
    """Severity of the `.cuda()` finding per file name (the package's, the test helper's)."""
    return {f["path"].rsplit("/", 1)[-1]: f["severity"] for f in report["findings"] if f["path"].endswith(".py")}


def test_a_project_under_a_folder_named_tests_keeps_its_verdicts(cli, tmp_path: Path) -> None:
    plain = make_project(tmp_path / "work" / "project")
    under_tests = make_project(tmp_path / "tests" / "project", marker=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    expected = severities(scan_json(cli, str(plain), cwd=elsewhere))
    assert expected == {"train.py": "error", "helpers.py": "warning"}
    assert severities(scan_json(cli, str(under_tests), cwd=elsewhere)) == expected  # absolute paths
    assert severities(scan_json(cli, "tests/project", cwd=tmp_path)) == expected  # paths from the current folder


def test_a_project_among_another_repositorys_test_data_keeps_its_verdicts(cli, tmp_path: Path) -> None:
    """The repository around the scanned folder (its `.git`, its `pyproject.toml`) is not looked at."""
    outer = make_project(tmp_path / "outer")
    (outer / ".git").mkdir()
    make_project(outer / "tests" / "data" / "project", marker=False)
    report = scan_json(cli, "tests/data/project", cwd=outer)
    assert severities(report) == {"train.py": "error", "helpers.py": "warning"}


def test_a_scan_of_the_projects_tests_folder_keeps_their_test_ness(cli, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert severities(scan_json(cli, "tests", cwd=project)) == {"helpers.py": "warning"}
    assert severities(scan_json(cli, str(project / "tests"), cwd=outside)) == {"helpers.py": "warning"}
    assert severities(scan_json(cli, "tests/helpers.py", "pkg/train.py", cwd=project)) == {  # pre-commit
        "train.py": "error", "helpers.py": "warning"}


def test_prefixes_spell_the_project_folder_as_reports_do(tmp_path: Path) -> None:
    project = make_project(tmp_path / "tests" / "project")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert project_prefixes([project], outside, ROLES) == (str(project),)
    assert project_prefixes([project / "tests"], outside, ROLES) == (str(project),)
    assert project_prefixes([project], tmp_path, ROLES) == ("tests/project",)
    assert project_prefixes([project / "tests"], project, ROLES) == ()  # the current folder
    assert project_prefixes([project / "pkg" / "train.py"], project, ROLES) == ()  # a file named from the project
    assert project_prefixes([project / "pkg" / "train.py"], outside, ROLES) == (f"{project}/pkg",)
