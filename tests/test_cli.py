"""The real CLI: exit codes, formats, options, configuration, the rule commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cudaudit import __version__, engine
from cudaudit.rules.catalog import load_catalog
from support import REPO, scan_json, write

LOCKED = "import torch\nmodel = Net().cuda()\ntorch.cuda.synchronize()\n"
CLEAN = "import torch\nx = torch.zeros(3)\n"


def test_exit_codes(cli, tmp_path):
    write(tmp_path / "clean.py", CLEAN)
    assert cli("scan", "clean.py").exit_code == 0
    write(tmp_path / "locked.py", LOCKED)
    assert cli("scan", ".").exit_code == 1
    assert cli("scan", ".", "--exit-zero").exit_code == 0
    assert cli("scan", "missing.py").exit_code == 2
    assert cli("scan", ".", "--target", "tpu").exit_code == 2
    assert cli("scan", ".", "--select", "CDA999").exit_code == 2
    assert cli("scan", ".", "--format", "xml").exit_code == 2


def test_json_contract(cli, tmp_path):
    write(tmp_path / "pkg" / "locked.py", LOCKED)
    report = scan_json(cli)
    assert set(report) == {"version", "findings", "errors", "omitted", "summary"}
    assert report["version"] == __version__
    first = report["findings"][0]
    assert set(first) == {
        "rule", "path", "line", "column", "end_line", "end_column", "severity", "message", "targets", "fix", "topic", "sites",
    }
    assert first["path"] == "pkg/locked.py"
    assert (first["rule"], first["line"], first["column"], first["end_column"]) == ("CDA102", 2, 9, 21)
    assert first["fix"]["safety"] == "unsafe" and first["fix"]["edits"][0]["replacement"] == ".to(DEVICE_TYPE)"
    assert set(first["targets"]) == {"rocm", "cpu"}
    assert set(first["targets"]["cpu"]) == {"status", "replacement", "source", "severity"}
    summary = report["summary"]
    assert summary["findings"] == 2 and summary["files"] == 1
    assert summary["by_rule"] == {"CDA101": 1, "CDA102": 1}
    assert summary["by_target"]["cpu"]["change"] == 2


def test_paths_outside_the_current_folder_are_absolute(cli, tmp_path):
    outside = write(tmp_path / "outside" / "locked.py", LOCKED)
    inside = tmp_path / "inside"
    inside.mkdir()
    report = scan_json(cli, str(outside), cwd=inside)
    assert report["findings"][0]["path"] == outside.as_posix()


def test_target_select_ignore(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    only_rocm = scan_json(cli, "--target", "rocm")
    assert only_rocm["findings"] == [] and only_rocm["summary"]["portable_hidden"] == 2  # it all works on ROCm
    shown = scan_json(cli, "--target", "rocm", "--show-portable")
    assert {tuple(f["targets"]) for f in shown["findings"]} == {("rocm",)}
    assert {f["severity"] for f in shown["findings"]} == {"note"}
    assert [f["rule"] for f in scan_json(cli, "--select", "CDA102")["findings"]] == ["CDA102"]
    assert [f["rule"] for f in scan_json(cli, "--ignore", "CDA102")["findings"]] == ["CDA101"]
    assert scan_json(cli, "--ignore", "CDA1")["findings"] == []
    everything = scan_json(cli, "-t", "rocm,cpu,xpu,mps")
    assert set(everything["findings"][0]["targets"]) == {"rocm", "cpu", "xpu", "mps"}


def test_output_file_and_text_report(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    result = cli("scan", ".", "--verbose", "--output", "report.txt")
    assert result.exit_code == 1
    text = (tmp_path / "report.txt").read_text()
    assert "locked.py" in text and "CDA102" in text and "model = Net().cuda()" in text
    assert "^^^^^^^^^^^^" in text  # the span is marked under the source line
    assert "cpu   change" in text and "2 findings" in text
    result = cli("scan", ".", "-f", "json", "-o", "report.json")
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["findings"] == 2


def test_configuration_in_pyproject(cli, tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.cudaudit]\ntargets = ["cpu"]\nignore = ["CDA101"]\nexclude = ["vendored/"]\n'
        '[tool.cudaudit.per-file-ignores]\n"tests/*" = ["CDA1"]\n',
    )
    write(tmp_path / "locked.py", LOCKED)
    write(tmp_path / "vendored" / "locked.py", LOCKED)
    write(tmp_path / "tests" / "test_locked.py", LOCKED)
    report = scan_json(cli)
    assert [(f["path"], f["rule"]) for f in report["findings"]] == [("locked.py", "CDA102")]
    assert report["summary"]["targets"] == ["cpu"]
    # The command line overrides the configured targets; an explicit path skips excludes.
    report = scan_json(cli, "-t", "rocm", "--show-portable", "vendored/locked.py")
    assert [f["path"] for f in report["findings"]] == ["vendored/locked.py"]


def test_bad_configuration_is_a_clear_usage_error(cli, tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.cudaudit]\ntargts = ["cpu"]\n')
    write(tmp_path / "a.py", CLEAN)
    result = cli("scan", ".")
    assert result.exit_code == 2
    assert "unknown key 'targts'" in result.stderr
    write(tmp_path / "pyproject.toml", "[tool.cudaudit\n")
    assert cli("scan", ".").exit_code == 2


def test_rules_and_rule(cli):
    listing = cli("rules", "--format", "json")
    ids = [r["id"] for r in json.loads(listing.stdout)]
    assert ids == sorted(load_catalog().rules)
    explained = cli("rule", "cda102")
    assert explained.exit_code == 0
    assert "cuda-method" in explained.stdout and "rocm" in explained.stdout and "Flagged" in explained.stdout
    assert cli("rule", "CDA999").exit_code == 2


def test_docs_rule_reference_is_current(cli):
    generated = cli("rules", "--format", "markdown").stdout
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == generated, (
        "docs/rules.md is stale: run `cudaudit rules --format markdown > docs/rules.md`"
    )


def test_console_script_and_module_entry_points(tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    for command in (["cudaudit"], [sys.executable, "-m", "cudaudit"]):
        if command == ["cudaudit"]:
            command = [str(Path(sys.executable).with_name("cudaudit"))]
        done = subprocess.run([*command, "scan", "locked.py"], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 1, done.stderr
        assert "CDA102" in done.stdout
        assert subprocess.run([*command, "--version"], capture_output=True, text=True).stdout.strip() == (
            f"cudaudit {__version__}"
        )


def test_parallel_scan_matches_a_serial_scan(cli, tmp_path):
    for i in range(150):
        body = LOCKED if i % 3 else CLEAN
        write(tmp_path / f"pkg{i % 7}" / f"mod{i}.py", body + f"x{i} = torch.zeros({i}, device='cuda')\n")
    write(tmp_path / "pkg0" / "broken.py", "import torch\ndef f(:\n    torch.cuda.synchronize()\n")
    serial = scan_json(cli, "--jobs", "1")
    parallel = scan_json(cli, "--jobs", "2")
    assert serial == parallel
    assert serial["summary"]["files"] == 151 and len(serial["errors"]) == 1


CAPS = "import torch\nFAST_PATH = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)\n"


@pytest.mark.parametrize("caps", [CAPS, "FAST_PATH = True\n"])
def test_a_parallel_scan_takes_the_index_readings_its_workers_read_ahead(cli, tmp_path, caps):
    """With several workers, the index's readings of each file are taken in them first: the facts
    one module gives the others (a device flag, imported) are the ones a serial scan finds."""
    write(tmp_path / "README.md", "# A project\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "caps.py", caps)
    for i in range(80):
        write(tmp_path / "pkg" / f"mod{i}.py",
              f"import torch\nfrom pkg.caps import FAST_PATH\n\ndef run{i}(x):\n    if FAST_PATH:\n"
              "        return x.to('cuda')\n    return x\n")
    serial = scan_json(cli, "--jobs", "1", "--no-cache")
    assert scan_json(cli, "--jobs", "2", "--no-cache") == serial
    assert scan_json(cli, "--jobs", "2") == serial  # a cold cache: read ahead, and the readings kept
    assert scan_json(cli, "--jobs", "2") == serial  # a warm one: the index from the cache
    moves = [f for f in serial["findings"] if f["rule"] == "CDA103"]
    # A probe behind the flag guards every move; a flag that probes nothing guards none.
    assert len(moves) == (0 if caps == CAPS else 80)


def _worker_lost(*_: object, **__: object) -> list:
    os._exit(1)  # as a worker the system kills for its memory


def test_a_worker_lost_while_reading_ahead_for_the_index_costs_only_time(cli, tmp_path, monkeypatch):
    write(tmp_path / "README.md", "# A project\n")
    write(tmp_path / "pkg" / "caps.py", CAPS)
    for i in range(80):
        write(tmp_path / "pkg" / f"mod{i}.py", f"from pkg.caps import FAST_PATH\nif FAST_PATH:\n    x{i} = 'cuda'\n")
    serial = scan_json(cli, "--jobs", "1", "--no-cache")
    monkeypatch.setattr(engine, "_read_chunk", _worker_lost)
    assert scan_json(cli, "--jobs", "2", "--no-cache") == serial



def test_a_parallel_scan_walks_the_importers_of_a_definition_in_its_workers(cli, tmp_path, tmp_path_factory, monkeypatch):
    """The callers' reading walks each module that imports a definition (`callers.uses_elsewhere`); with
    several workers each walk is taken by the worker that read its module, and one lost is taken here."""
    monkeypatch.setenv("CUDAUDIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # cold: no other test's readings
    write(tmp_path / "README.md", "# A project\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "ops.py", "import torch\n\n\ndef to_gpu(x):\n    return x.to('cuda')\n")
    for i in range(80):
        guard = "if torch.cuda.is_available():" if i % 2 else "if True:"
        write(tmp_path / "pkg" / f"mod{i}.py",
              f"import torch\nfrom pkg.ops import to_gpu\n\n\ndef run{i}(x):\n    {guard}\n        x = to_gpu(x)\n    return x\n")
    serial = scan_json(cli, "--jobs", "1", "--no-cache")
    taken: list[int] = []
    walk_ahead = engine._walk_ahead

    def counting(tasks, settings, workers, read_ahead, walks):
        walk_ahead(tasks, settings, workers, read_ahead, walks)
        taken.append(sum(reader.startswith("callers:") for reader, _ in read_ahead))

    monkeypatch.setattr(engine, "_walk_ahead", counting)
    assert scan_json(cli, "--jobs", "2", "--no-cache") == serial
    assert scan_json(cli, "--jobs", "2") == serial  # a cold cache: walked ahead, and the readings kept
    assert scan_json(cli, "--jobs", "2") == serial  # a warm one: nothing walked
    assert taken == [80, 80]
    monkeypatch.setattr(engine, "_walk_chunk", _worker_lost)
    assert scan_json(cli, "--jobs", "2", "--no-cache") == serial
    assert taken[2:] == [0]
    assert [f["line"] for f in serial["findings"] if f["path"] == "pkg/ops.py"] == [5]


_analyze_chunk = engine._analyze_chunk


def _lost_on_mod7(chunk: list, settings: object) -> list:
    if any(task.display.endswith("/mod7.py") for task, _, _, _ in chunk):
        os._exit(1)  # as a worker the system kills for its memory
    return _analyze_chunk(chunk, settings)


def test_a_worker_lost_while_analysing_costs_its_files_a_diagnostic_and_the_scan_goes_on(cli, tmp_path, monkeypatch):
    for i in range(80):
        write(tmp_path / "pkg" / f"mod{i}.py", LOCKED + f"x{i} = {i}\n" * (i % 9))
    serial = scan_json(cli, "--jobs", "1", "--no-cache")
    monkeypatch.setattr(engine, "_analyze_chunk", _lost_on_mod7)
    parallel = scan_json(cli, "--jobs", "2")
    lost = {error["path"] for error in parallel["errors"]}
    assert "pkg/mod7.py" in lost and len(lost) < 80
    assert all("not analysed: its worker process ended" in error["message"] for error in parallel["errors"])
    assert [f for f in parallel["findings"] if f["path"] not in lost] == [
        f for f in serial["findings"] if f["path"] not in lost
    ]
    monkeypatch.setattr(engine, "_analyze_chunk", _analyze_chunk)
    assert scan_json(cli, "--jobs", "2") == serial  # the lost files' diagnostics were not cached


def test_show_sources_names_where_each_fact_comes_from(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    plain = cli("scan", "locked.py").stdout
    sourced = cli("scan", "locked.py", "--show-sources").stdout
    assert "source:" not in plain
    assert "source: https://docs.pytorch.org/docs/stable/notes/hip.html" in sourced
    assert "source: torch 2.13.0 CPU build" in sourced


def test_progress_is_shown_on_a_terminal_only():
    import io

    from rich.console import Console

    from cudaudit.progress import progress_bar

    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True), "fixing", 10, 4) as advance:
        assert advance is not None
        advance(5, 10)
    assert "fixing" in screen.getvalue()
    for console, total in ((Console(file=io.StringIO()), 10), (Console(file=io.StringIO(), force_terminal=True), 3)):
        with progress_bar(console, "fixing", total, 4) as advance:
            assert advance is None


def test_concise_format_is_one_clickable_line_per_finding(cli, tmp_path):
    write(tmp_path / "pkg" / "locked.py", LOCKED)
    result = cli("scan", "-f", "concise")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "pkg/locked.py:2:9: CDA102 `Net().cuda()` moves data to a CUDA device; use `.to(device)` with a device chosen at run time",
        "pkg/locked.py:3:1: CDA101 `torch.cuda.synchronize` raises on PyTorch builds without CUDA or ROCm (CPU-only, XPU, MPS wheels)",
    ]
    assert lines[2].startswith("2 findings (2 error) in 1 file") and len(lines) == 3


def test_statistics_count_findings_per_rule_with_what_fix_can_do(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED + 'x = torch.zeros(1, device="cuda")\ny = torch.ones(1, device="cuda")\n')
    text = cli("scan", "--statistics").stdout.splitlines()
    assert text[0].split() == ["2", "CDA103", "[*]", "hardcoded-cuda-device"]
    assert "CDA102  [-]  cuda-method" in "\n".join(text) and text[-1].startswith("[-] `cudaudit fix --unsafe-fixes`")
    rows = json.loads(cli("scan", "--statistics", "-f", "json").stdout)
    assert rows[0] == {"rule": "CDA103", "name": "hardcoded-cuda-device", "count": 2, "fixable": "safe"}
    assert {row["rule"]: row["fixable"] for row in rows}["CDA102"] == "unsafe"
    refused = cli("scan", "--statistics", "-f", "sarif")
    assert refused.exit_code == 2 and "text or json" in refused.stderr


def test_summary_format_prints_the_totals_only(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    summary = cli("scan", "-f", "summary")
    assert summary.exit_code == 1
    assert "Findings by rule" in summary.stdout and "Sites by target" in summary.stdout
    assert "2 findings (2 error)" in summary.stdout
    assert "model = Net().cuda()" not in summary.stdout and "^^^" not in summary.stdout


def test_a_report_written_to_a_file_leaves_one_summary_line_on_stderr(cli, tmp_path):
    write(tmp_path / "locked.py", LOCKED)
    for fmt in ("text", "json", "sarif", "concise"):
        result = cli("scan", "-f", fmt, "-o", f"report.{fmt}")
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"cudaudit: wrote report.{fmt}: 2 findings (2 error) in 1 file (3 lines) scanned for targets rocm, cpu."
        ]


def test_reports_that_are_not_on_a_terminal_are_never_cut_at_80_columns(cli, tmp_path):
    deep = "third_party/" + "/".join(f"component_{i}" for i in range(8)) + "/kernels/attention_forward.cu"
    write(tmp_path / deep, "#include <cuda_runtime.h>\n__global__ void k(float* x) { x[threadIdx.x] = 0; }\n")
    report = cli("scan", "-o", "report.txt")
    assert report.exit_code == 1 and len(deep) > 80
    text = (tmp_path / "report.txt").read_text()
    assert "…" not in text and any(line.startswith(deep) and "references" not in line for line in text.splitlines())
    listing = cli("rules").stdout
    assert "…" not in listing
    assert any(line.startswith("CDA603") and "`nvidia-nccl-cu12`, ...)" in line for line in listing.splitlines())
    explained = cli("rule", "CDA603").stdout
    assert explained.startswith("# CDA603 nvidia-cuda-wheel")
    assert "https://github.com/pytorch/pytorch/blob/main/.ci/manywheel/build_rocm.sh" in explained


def test_a_named_file_of_no_known_kind_is_said_and_alone_is_a_usage_error(cli, tmp_path):
    write(tmp_path / "notes.txt", "torch.cuda.synchronize()\n")
    write(tmp_path / "locked.py", LOCKED)
    alone = cli("scan", "notes.txt")
    assert alone.exit_code == 2 and "nothing to scan: notes.txt is not a kind of file cudaudit reads" in alone.stderr
    mixed = cli("scan", "notes.txt", "locked.py")
    assert mixed.exit_code == 1 and "skipped: notes.txt is not a kind of file" in mixed.stderr
    assert "CDA102" in mixed.stdout
    write(tmp_path / "tool", "#!/usr/bin/env python3\nimport torch\ntorch.cuda.synchronize()\n")
    assert cli("scan", "tool").exit_code == 1, "a script named explicitly is read by its shebang"


def test_a_run_that_names_a_command_builds_that_command_and_the_group_keeps_every_command(tmp_path, capsys):
    """The entry point makes only the named command (`NamedCommandOnly`); what the run prints is
    what the whole group prints, and the group lists every command again afterwards."""
    from cudaudit.cli import app

    every = [command.name for command in app.registered_commands]
    shown = {}
    for arguments in (["rule", "CDA102"], ["--help"], ["rlue", "CDA102"]):
        with pytest.raises(SystemExit):
            app(arguments, prog_name="cudaudit")
        shown[arguments[0]] = capsys.readouterr()
        assert [command.name for command in app.registered_commands] == every
    assert "CDA102" in shown["rule"].out
    assert all(name in shown["--help"].out for name in every)
    assert "Did you mean 'rule'" in shown["rlue"].err
    module = subprocess.run([sys.executable, "-m", "cudaudit", "rule", "CDA102"], capture_output=True, text=True)
    assert module.stdout == shown["rule"].out


def test_help_shows_flags_without_a_value():
    from typer.testing import CliRunner

    from cudaudit.cli import app

    for command in ([], ["scan"], ["fix"], ["report"], ["rules"]):
        shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "160"}).stdout
        assert "--help" in shown and "<bool>" not in shown, command
    assert "<path>" in CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "160"}).stdout


def test_configuration_errors_name_the_file_the_table_and_the_key(cli, tmp_path):
    write(tmp_path / "a.py", CLEAN)
    for table, expected in (
        ('targts = ["cpu"]\n', "[tool.cudaudit]: unknown key 'targts'"),
        ('targets = ["tpu"]\n', "[tool.cudaudit]: targets: unknown target 'tpu'"),
        ('ignore = ["CDA9"]\n', "[tool.cudaudit]: ignore: 'CDA9' matches no rule"),
        ('[tool.cudaudit.per-file-ignores]\n"t/*" = ["XX"]\n', "[tool.cudaudit]: per-file-ignores 't/*': 'XX'"),
    ):
        write(tmp_path / "pyproject.toml", "[tool.cudaudit]\n" + table)
        result = cli("scan", "a.py")
        assert result.exit_code == 2 and f"{tmp_path / 'pyproject.toml'}: {expected}" in result.stderr, result.stderr


def test_stdin_filename_scans_an_editor_buffer_as_that_file(tmp_path):
    from typer.testing import CliRunner

    from cudaudit.cli import app
    from support import working_directory

    write(tmp_path / "pyproject.toml", '[tool.cudaudit]\n[tool.cudaudit.per-file-ignores]\n"tests/*" = ["CDA102"]\n')
    write(tmp_path / "src" / "train.py", CLEAN)  # on disk: clean; in the editor: not yet saved
    with working_directory(tmp_path):
        run = lambda name, text: CliRunner().invoke(app, ["scan", "-f", "concise", "--stdin-filename", name], input=text)  # noqa: E731
        edited = run("src/train.py", LOCKED)
        assert edited.exit_code == 1 and edited.stdout.startswith("src/train.py:2:9: CDA102 ")
        assert "in 1 file (3 lines)" in edited.stdout
        assert run("tests/test_train.py", "import torch\nmodel = Net().cuda()\n").exit_code == 0, "per-file-ignores apply"
        assert run("new/unsaved.py", LOCKED).exit_code == 1, "the file need not exist"
        assert run("notes.txt", LOCKED).exit_code == 2
        both = CliRunner().invoke(app, ["scan", "--stdin-filename", "a.py", "src"], input=LOCKED)
        assert both.exit_code == 2 and "give no paths" in both.stderr


def test_a_buffer_from_stdin_is_quoted_and_fingerprinted_as_piped_not_as_saved(tmp_path):
    from typer.testing import CliRunner

    from cudaudit.cli import app
    from support import working_directory

    write(tmp_path / "train.py", "# saved before the edit\n# nothing here yet\n")
    with working_directory(tmp_path):
        piped = CliRunner().invoke(app, ["scan", "--verbose", "--stdin-filename", "train.py"], input=LOCKED)
        assert piped.exit_code == 1 and "model = Net().cuda()" in piped.stdout, piped.stdout
        assert "nothing here yet" not in piped.stdout
        sarif = CliRunner().invoke(app, ["scan", "-f", "sarif", "--stdin-filename", "train.py"], input=LOCKED)
        write(tmp_path / "train.py", LOCKED)
        saved = CliRunner().invoke(app, ["scan", "-f", "sarif", "train.py"])
    hashes = [
        [r["partialFingerprints"] for r in json.loads(run.stdout)["runs"][0]["results"]] for run in (sarif, saved)
    ]
    assert hashes[0] and hashes[0] == hashes[1], "the buffer's alert is the one its saved file will raise"


def test_a_reader_that_stops_early_gets_no_error(tmp_path):
    for i in range(40):
        write(tmp_path / f"m{i}.py", LOCKED)
    command = f"{Path(sys.executable).with_name('cudaudit')} scan -f json . | head -c 10"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert done.stdout == '{\n  "versi' and done.stderr == ""
    assert done.returncode == 1, "the exit status still says there are findings"
