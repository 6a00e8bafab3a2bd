"""Fixtures and collection hooks the tests share; what they import by name is in support.py."""

from __future__ import annotations

import inspect
import os
import re
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

# Bytecode is cached as it is for an installed cudaudit (pip compiles it at install), also where the
# environment says not to (PYTHONDONTWRITEBYTECODE): otherwise every run, and every `cudaudit` child
# process a test starts, compiles the whole package from source again, and pytest rewrites every test
# module's asserts again. Set before any test module imports cudaudit; `__pycache__/` is ignored by git.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@pytest.fixture(autouse=True, scope="session")
def _cache_of_this_run(tmp_path_factory: pytest.TempPathFactory):
    """Scans in tests (in-process and in subprocesses) share a cache of their own, never the user's."""
    os.environ["CUDAUDIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("cudaudit-cache"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _temporary_files_of_this_run(tmp_path_factory: pytest.TempPathFactory):
    """What cudaudit leaves in the system's temporary folder on purpose (the pull-request text of
    `fix --branch`, kept for the user to read) goes under pytest's own folder, which pytest prunes,
    not into the machine's /tmp, where every run of the suite would add more."""
    folder = tmp_path_factory.mktemp("system-tmp")
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    yield


@pytest.fixture
def cli(tmp_path: Path):
    """Run `cudaudit ...` in-process from a folder (default: the test's tmp_path)."""
    from typer.testing import CliRunner

    from cudaudit.cli import app
    from support import working_directory

    def run(*args: str, cwd: Path | None = None):
        with working_directory(cwd or tmp_path):
            return CliRunner().invoke(app, list(args), catch_exceptions=False)

    return run


RULE_ID = re.compile(r"\bCDA\d{3}\b")


@cache
def _rules_named_in(function: Callable[..., object]) -> frozenset[str]:
    try:
        return frozenset(RULE_ID.findall(inspect.getsource(function)))
    except (OSError, TypeError):
        return frozenset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every rule id a test's code names is one of its keywords, so `pytest -k CDA102` selects the
    hand-written tests of a rule as well as the parametrised runs of its examples."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None:
            item.extra_keyword_matches.update(_rules_named_in(function))
