"""The README demo: the bundled example project gives exactly the expected findings."""

from __future__ import annotations

from support import FIXTURES, REPO, scan_json

DEMO = FIXTURES / "demo-project"
EXPECTED = REPO / "tests" / "expected" / "demo-project.txt"


def render(report: dict) -> str:
    return "".join(
        f"{f['path']}:{f['line']}:{f['column']} {f['rule']} {f['severity']}\n" for f in report["findings"]
    )


def test_demo_project_findings_match_the_expected_list(cli):
    report = scan_json(cli, cwd=DEMO)
    assert report["errors"] == []
    assert render(report) == EXPECTED.read_text(), "after a deliberate change: python tests/test_demo_project.py"


def test_demo_project_config_excludes_vendored_code_and_portable_code_is_quiet(cli):
    report = scan_json(cli, cwd=DEMO)
    paths = {f["path"] for f in report["findings"]}
    assert not any(p.startswith("third_party/") for p in paths)
    assert not [f for f in report["findings"] if f["path"] == "tinygpt/portable.py"]
    shown = scan_json(cli, "--show-portable", cwd=DEMO)
    portable = [f for f in shown["findings"] if f["path"] == "tinygpt/portable.py"]
    assert portable and {f["severity"] for f in portable} == {"note"}


if __name__ == "__main__":  # rewrite the expected list after a deliberate change
    import json
    import subprocess
    import sys

    scan = [sys.executable, "-m", "cudaudit", "scan", "--format", "json"]
    output = subprocess.run(scan, cwd=DEMO, capture_output=True, text=True, check=False).stdout
    EXPECTED.write_text(render(json.loads(output)))
