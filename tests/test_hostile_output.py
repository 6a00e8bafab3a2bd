"""Reports of a hostile tree: markup and escape sequences in names and lines, names that are not
UTF-8, characters a URI must encode, and a file with half a million findings."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import jsonschema
import pytest

from cudaudit import engine
from cudaudit.safe_read import MAX_FILE_BYTES
from support import REPO, raw_name, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"
SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e")


def test_markup_in_a_path_is_printed_as_written(cli, tmp_path):
    write(tmp_path / "[red]" / "[" / "x.py", "import torch\ntorch.cuda.synchronize()\ndef broken(:\n")
    write(tmp_path / "[bold]x[/]" / "y.py", LOCKED)
    result = cli("scan", ".")
    assert result.exit_code == 1
    assert "[red]/[/x.py:3" in result.stderr
    assert "[bold]x[/]/y.py" in result.stdout


def test_escape_sequences_in_names_and_lines_never_reach_the_terminal(cli, tmp_path):
    write(raw_name(tmp_path, b"clear\x1b[2J\x1b]0;owned\x07.py"), "import torch\ntorch.cuda.synchronize()  # \x1b[2J\x9b\u202e\n")
    write(raw_name(tmp_path, b"bad\x1b[31m.py"), "torch.cuda\ndef broken(:\n")
    for args in (("scan", "--show-portable", "."), ("scan", "-f", "github", "--show-portable", "."), ("fix", "--diff", "--show-portable", "."), ("fix", "--show-portable", ".")):
        result = cli(*args)
        # a diff written to a pipe keeps the changed lines verbatim, for `git apply`; its header
        # quotes the name as git does
        shown = result.stderr + (result.stdout if "--diff" not in args else result.stdout.split("\n@@")[0])
        assert "clear" in shown or args[:2] == ("fix", "--show-portable"), args
        assert not any(escape in shown for escape in ESCAPES), (args, shown)
    assert "clear\\x1b[2J\\x1b]0;owned\\x07.py" in cli("scan", "--show-portable", ".").stdout


def test_a_name_that_is_not_utf8_gives_valid_json_sarif_and_baseline(cli, tmp_path):
    write(raw_name(tmp_path, b"caf\xe9.py"), LOCKED)
    report = cli("scan", "-f", "json", ".")
    document = json.loads(report.stdout_bytes.decode("utf-8"))  # strict: raises on invalid UTF-8
    assert {f["path"] for f in document["findings"]} == {"caf\\xe9.py"}
    sarif = cli("scan", "-f", "sarif", ".")
    assert sarif.exit_code == 1, sarif.output
    document = json.loads(sarif.stdout_bytes.decode("utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"
    written = cli("scan", "--write-baseline", "baseline.json", ".")
    assert written.exit_code == 0, written.output
    json.loads((tmp_path / "baseline.json").read_bytes().decode("utf-8"))
    assert cli("scan", "-f", "json", "--baseline", "baseline.json", ".").exit_code == 0


def test_sarif_uris_are_percent_encoded(cli, tmp_path):
    write(tmp_path / "my dir" / "a #1?%.py", LOCKED)
    document = json.loads(cli("scan", "-f", "sarif", ".").stdout)
    jsonschema.validate(document, SCHEMA)
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in document["runs"][0]["results"]
        for location in result["locations"]
    }
    assert uris == {"my%20dir/a%20%231%3F%25.py"}


def test_findings_past_the_limit_are_counted_not_listed(cli, tmp_path, monkeypatch):
    # The limit lowered so the four reports render a few dozen findings, not a thousand each.
    limit = 40
    monkeypatch.setattr(engine, "MAX_FINDINGS_PER_FILE", limit)
    write(tmp_path / "generated.py", "import torch\n" + "x.cuda()\n" * (limit + 7))
    write(tmp_path / "small.py", LOCKED)
    result = cli("scan", "-f", "json", ".")
    document = json.loads(result.stdout)
    by_path = {}
    for finding in document["findings"]:
        by_path[finding["path"]] = by_path.get(finding["path"], 0) + 1
    assert by_path == {"generated.py": limit, "small.py": 1}
    assert document["omitted"] == [{"path": "generated.py", "findings": 7, "limit": limit}]
    assert result.stdout == json.dumps(document, indent=2, ensure_ascii=False) + "\n"  # streamed, same layout
    text = cli("scan", ".").stdout
    assert f"… and 7 more (only the first {limit} of a file are listed)" in text
    assert "::notice file=generated.py" in cli("scan", "-f", "github", ".").stdout
    sarif = json.loads(cli("scan", "-f", "sarif", ".").stdout)
    jsonschema.validate(sarif, SCHEMA)
    assert "7 more" in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


@pytest.mark.slow
def test_a_five_megabyte_file_of_cuda_calls_gives_small_reports(tmp_path):
    line = "x.cuda()\n"
    write(tmp_path / "x.py", "import torch\n" + line * ((MAX_FILE_BYTES - 100) // len(line)))
    for format in ("json", "text"):
        started = _children_cpu_seconds()
        done = subprocess.run(
            [sys.executable, "-m", "cudaudit", "scan", "-f", format, "x.py"],
            cwd=tmp_path, capture_output=True, timeout=1800,
        )
        assert done.returncode == 1, done.stderr
        assert len(done.stdout) < 2_000_000, format
        # Processor time, not wall time: a bound against a quadratic walk that holds on a loaded machine.
        assert _children_cpu_seconds() - started < 300, format
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib < 3 * 2**20  # the syntax tree of 540,000 statements is most of it


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
