"""Fixtures the tests share; what they import by name is in support.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cudaudit.cli import app
from support import working_directory


@pytest.fixture
def cli(tmp_path: Path):
    """Run `cudaudit ...` in-process from a folder (default: the test's tmp_path)."""

    def run(*args: str, cwd: Path | None = None):
        with working_directory(cwd or tmp_path):
            return CliRunner().invoke(app, list(args), catch_exceptions=False)

    return run
