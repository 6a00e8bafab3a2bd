"""What the tests share: run the real CLI and the real analysis pipeline on real files.

Fixtures are in conftest.py; everything a test imports by name is here, since conftest is not
meant to be imported.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from cudaudit.engine import FileTask, analyze_bytes
from cudaudit.filekinds import EXAMPLE_NAMES, FileKind, classify
from cudaudit.model import Finding
from cudaudit.project_index import IndexedFile, build_index
from cudaudit.rules.catalog import Rule, load_catalog
from cudaudit.settings import AnalysisSettings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def scan_json(cli_run, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    result = cli_run("scan", "--format", "json", *args, cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def rule_severity(cli_run, rule: str, target: str, cwd: Path, tree: str = "proj") -> str:
    """The `target` severity of the one `rule` finding of a fresh scan of `tree`: for tests that
    rewrite a project's documents between scans and read how one site's verdict follows them."""
    report = scan_json(cli_run, "--no-cache", tree, cwd=cwd)
    [finding] = [f for f in report["findings"] if f["rule"] == rule]
    return finding["targets"][target]["severity"]


def severities_by_file(report: dict[str, Any], target: str) -> dict[str, set[str]]:
    """The `target` severities of a report's findings, by file name (the path's last part)."""
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["path"].rpartition("/")[2], set()).add(finding["targets"][target]["severity"])
    return found


def sites(report: dict[str, Any], path: str) -> list[tuple[int, int, int, str, str]]:
    """(line, column, end column, rule, severity) of each finding in `path`."""
    return [
        (f["line"], f["column"], f["end_column"], f["rule"], f["severity"])
        for f in report["findings"]
        if f["path"] == path
    ]


def analyze(
    code: str,
    targets: tuple[str, ...] = ("rocm", "cpu"),
    path: str = "example.py",
    torch_version: str | None = None,
    files: dict[str, str] | None = None,
) -> list[Finding]:
    """Findings for one snippet, analysed as the kinds its file name gives, as a scan would; `files`
    are the other files of its project (path -> text), which the project index reads first."""
    catalog = load_catalog()
    texts = {**(files or {}), path: code}
    index = build_index(
        (IndexedFile(name, classify(PurePath(name)), partial(str.encode, text)) for name, text in texts.items()), catalog
    )
    task = FileTask(path, path, classify(PurePath(path)), frozenset(catalog.rules))
    settings = AnalysisSettings(targets, torch_version=torch_version)
    findings, errors = analyze_bytes(code.encode(), task, settings, index.facts(path, task.kinds))
    assert not errors, errors
    return sorted(findings, key=lambda f: f.sort_key)


def example_path(rule: Rule) -> str:
    """The file name a rule's examples are analysed under: its own, or its kind's usual one."""
    if rule.example_path:
        return rule.example_path
    return EXAMPLE_NAMES[FileKind(rule.kind)] if rule.kind != "any" else "example.py"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def raw_name(folder: Path, name: bytes) -> Path:
    """A path whose last part is the given bytes, whatever the file system encoding says."""
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), name)))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
)
"""Headless Chromium as the tests run it: no network of its own, nothing remembered between runs."""


def chromium_binary() -> str | None:
    """Debian's `chromium` (what `.ci/run` installs), or None; CI must have it."""
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        raise AssertionError("CI must install Chromium: apt-get install -y chromium")
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with a fresh profile folder."""
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180
    )
