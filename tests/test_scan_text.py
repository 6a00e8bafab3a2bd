"""`cudaudit scan`'s text report through the real CLI: one line per finding under its file, then
the totals and, for a folder, the project's verdict per target (the same as `cudaudit report`'s);
`--verbose` adds each site's source and per-target needs; a progress bar on a terminal only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from support import FIXTURES, REPO, write

DEMO = FIXTURES / "demo-project"
GUTTER = re.compile(r"^\s+\d+ │ ", re.MULTILINE)


def test_default_is_one_line_per_finding_grouped_by_file_then_the_verdicts(cli):
    text = cli("scan", cwd=DEMO).stdout
    findings = json.loads(cli("scan", "-f", "json", cwd=DEMO).stdout)["findings"]
    verdicts = json.loads(cli("report", "-f", "json", cwd=DEMO).stdout)["targets"]
    lines = text.splitlines()
    for path in {f["path"] for f in findings}:
        assert lines.count(path) == 1, f"{path} heads its findings once"
    sites = [line for line in lines if re.match(r"^  \d+:\d+ +(error|warning|note) +CDA\d{3}  ", line)]
    assert len(sites) == len(findings), "one line per finding"
    assert not GUTTER.search(text) and "Findings by rule" not in text, "source lines and tables are for --verbose"
    assert "  `cupy` imports CuPy" in text and "[rocm cpu]" in text, "each line names the targets it breaks"
    closing = text[text.index("Verdict per target") :]
    for target, verdict in verdicts.items():
        assert re.search(rf"^  {target} +{verdict['verdict']} +{re.escape(verdict['why'][:40])}", closing, re.MULTILINE)
    assert "--verbose" in closing and "cudaudit report" in closing


def test_verbose_and_show_sources_show_each_site_and_what_every_target_needs(cli):
    plain = cli("scan", cwd=DEMO).stdout
    verbose = cli("scan", "--verbose", cwd=DEMO).stdout
    sourced = cli("scan", "--show-sources", cwd=DEMO).stdout
    for detailed in (verbose, sourced):
        assert GUTTER.search(detailed) and "Findings by rule" in detailed and "Sites by target" in detailed
        assert re.search(r"^ +cpu +change → ", detailed, re.MULTILINE)
        assert "Verdict per target" in detailed
    assert "source: " in sourced and "source: " not in verbose
    assert len(verbose.splitlines()) > 3 * len(plain.splitlines())


def test_named_files_are_no_project_so_no_verdict_is_given(cli, tmp_path):
    write(tmp_path / "train.py", "import torch\nmodel = torch.nn.Linear(2, 2).cuda()\n")
    text = cli("scan", "train.py").stdout
    assert "Verdict per target" not in text
    assert "cudaudit report on its folder" in text
    folder = cli("scan", ".").stdout
    assert re.search(r"^  cpu +blocked +Blocked by script train\.py", folder, re.MULTILINE)


def _scan_with_stderr_on(tmp_path, terminal: bool) -> str:
    """`cudaudit scan` in a child process whose stderr is a pseudo-terminal, or a pipe."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("CI", None)  # rich treats CI as a terminal that cannot redraw
    command = [sys.executable, "-m", "cudaudit", "scan", str(tmp_path), "-f", "summary", "--exit-zero"]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        return done.stderr
    import pty

    primary, secondary = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=secondary, env=env, cwd=REPO) as child:
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        child.wait(timeout=300)
    os.close(primary)
    return seen.decode("utf-8", "replace")


def test_a_long_scan_shows_progress_on_a_terminal_and_nothing_in_a_pipe(tmp_path):
    for index in range(240):  # more files than PROGRESS_MIN_FILES
        write(tmp_path / f"pkg{index % 6}" / f"mod{index}.py", f"import torch\nx{index} = torch.zeros(2).cuda()\n")
    on_terminal = _scan_with_stderr_on(tmp_path, terminal=True)
    assert "scanning" in on_terminal and "240" in on_terminal
    assert "scanning" not in _scan_with_stderr_on(tmp_path, terminal=False)
