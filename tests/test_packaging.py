"""The built wheel carries every module and data file of the tree, under the names it is imported by.

`pyproject.toml` lists the packages by hand (the package-dir mapping defeats setuptools'
discovery), so a new subpackage would work in an editable checkout and be missing from the
wheel. Building the real wheel is the only check that cannot drift from what users install.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cudaudit.resolvers.ci_plan import CiPlan
from cudaudit.resolvers.ci_workflow import job
from support import REPO

PACKAGES = {"auditor": "cudaudit", "rules": "cudaudit/rules", "fixers": "cudaudit/fixers", "resolvers": "cudaudit/resolvers"}
"""Each folder of the tree and where setuptools' package-dir puts it in the wheel."""


def _tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--", *PACKAGES], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return listed.splitlines()


def _in_wheel(path: str) -> str:
    folder, _, rest = path.partition("/")
    return f"{PACKAGES[folder]}/{rest}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from the tracked files alone."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    for path in [*_tracked_files(), "pyproject.toml", "README.md"]:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, source / path)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (found,) = (tmp_path / "dist").glob("cudaudit-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file(wheel):
    contents = set(zipfile.ZipFile(wheel).namelist())
    expected = {_in_wheel(path) for path in _tracked_files()}
    assert "cudaudit/py.typed" in expected and "cudaudit/rules/data/torch.toml" in expected
    assert expected - contents == set()


@pytest.mark.slow
def test_the_ci_job_installs_the_released_cudaudit_that_wrote_it(wheel, tmp_path):
    """The install line of the job `cudaudit resolve --ci github` writes picks this wheel from an index of it."""
    line = next(text for text in job(CiPlan(("requirements.txt",), "python -m pytest"), "cpu").splitlines() if "cudaudit==" in text)
    requirement = shlex.split(line.strip())[-1]
    chosen = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--no-index", "--find-links", str(wheel.parent),
         "--report", str(tmp_path / "report.json"), "--quiet", requirement],
        capture_output=True,
        text=True,
    )
    assert chosen.returncode == 0, chosen.stderr
    [install] = json.loads((tmp_path / "report.json").read_text())["install"]
    assert install["download_info"]["url"] == wheel.as_uri()
