"""Start-up: what `cudaudit scan` of a few Python files loads.

The pre-commit hook starts cudaudit on every commit for a handful of files, so every module it
imports is paid on every commit. Each command module is imported at start-up (typer reads their
signatures), so they import their implementation where it runs; this test keeps what a scan of
Python files does not use out of it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from support import REPO, write

NOT_USED_BY_A_PYTHON_SCAN = {
    "libcst": "the fixers' codemods",
    "cudaudit.fixers.run": "the fixers",
    "cudaudit.resolvers.resolution": "cudaudit resolve",
    "cudaudit.resolvers.ci_plan": "fixes for one named target",
    "cudaudit.resolvers.builds": "the package build tables of dependency rewrites",
    "tree_sitter": "the C++ parser",
    "yaml": "the YAML analyzers",
    "dockerfile_parse": "the Dockerfile analyzer",
    "sarif_om": "the SARIF report",
    "multiprocessing": "the worker pool, which a handful of files does not start",
    "concurrent.futures.process": "the worker pool",
    "pathspec": "exclude patterns, when none are configured",
    "rich.progress": "the progress bar of long scans",
    "pydantic": "option validation (typer 0.29 and later validates every option with it)",
}


def test_a_scan_of_a_few_python_files_loads_only_what_it_uses(tmp_path):
    for index in range(5):
        write(tmp_path / f"train{index}.py", "import torch\nmodel = Net().cuda()\ntorch.cuda.synchronize()\n")
    probe = (
        "import json, sys\n"
        "from cudaudit.cli import app\n"
        "try:\n"
        f"    app(['scan', *{[str(p) for p in sorted(tmp_path.iterdir())]!r}, '--exit-zero'], prog_name='cudaudit')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert "CDA102" in completed.stdout
    loaded = json.loads(completed.stderr.strip().splitlines()[-1])
    unexpected = {
        name: why
        for name, why in NOT_USED_BY_A_PYTHON_SCAN.items()
        if any(module == name or module.startswith(name + ".") for module in loaded)
    }
    assert unexpected == {}


def test_a_json_scan_of_a_folder_never_loads_rich(tmp_path):
    """rich prints the text report, errors and the progress bar; a JSON report of a tree large
    enough for a bar, with standard error in a pipe, needs none of them."""
    from cudaudit.session import PROGRESS_MIN_FILES

    for index in range(PROGRESS_MIN_FILES + 1):
        write(tmp_path / "src" / f"m{index}.py", "import torch\nx = torch.zeros(1).cuda()\n")
    probe = (
        "import json, sys\n"
        "from cudaudit.cli import app\n"
        "try:\n"
        f"    app(['scan', {str(tmp_path / 'src')!r}, '-f', 'json', '--exit-zero', '--no-cache'], prog_name='cudaudit')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(completed.stdout)["summary"]["files"] == PROGRESS_MIN_FILES + 1
    loaded = json.loads(completed.stderr.strip().splitlines()[-1])
    assert [module for module in loaded if module == "rich" or module.startswith("rich.")] == []
