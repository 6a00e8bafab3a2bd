"""The import layering of docs/architecture.md, checked with import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from support import REPO

LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS, "import-linter is part of the `lint` extra: pip install -e '.[test,lint]'"
    return subprocess.run([LINT_IMPORTS, *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_the_code_keeps_every_layering_contract():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_against_the_layers_breaks_a_contract(tmp_path):
    """The contracts see the real import graph: one the code does break (commands import reporters) is reported."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "cudaudit"\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "commands never import reporters"\ntype = "forbidden"\n'
        'source_modules = ["cudaudit.commands"]\nforbidden_modules = ["cudaudit.reporters"]\n',
        encoding="utf-8",
    )
    result = _lint_imports("--config", str(config))
    assert result.returncode == 1
    assert "BROKEN" in result.stdout and "cudaudit.commands.scan -> cudaudit.reporters" in result.stdout
