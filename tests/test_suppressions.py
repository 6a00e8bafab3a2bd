"""Suppression comments of every form, through the real CLI and analysis: the line above (for
Dockerfiles, whose instructions take no trailing comment), whole files, ids in any case, and
suppressions that silence nothing (reported, like ruff's RUF100)."""

from __future__ import annotations

from support import analyze, scan_json, write

SYNC = "torch.cuda.synchronize()"


def sites(code: str, path: str = "example.py") -> list[tuple[int, str]]:
    return sorted((f.span.line, f.rule) for f in analyze(code, path=path))


def test_a_comment_alone_on_its_line_silences_the_next_statement_in_a_dockerfile(cli, tmp_path):
    write(
        tmp_path / "Dockerfile",
        "# base image: CUDA on purpose, see docs/gpu.md\n"
        "# cudaudit: ignore[CDA501]\n"
        "\n"
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "# cudaudit: ignore[CDA506]\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y libnccl2\n"
        "RUN apt-get install -y libnccl-dev\n",
    )
    found = [(f["line"], f["rule"]) for f in scan_json(cli, "Dockerfile")["findings"]]
    assert (4, "CDA501") not in found and (7, "CDA506") not in found, "the continued RUN is one statement"
    assert (8, "CDA506") in found
    assert not [rule for _, rule in found if rule in ("CDA001", "CDA002")]


def test_the_line_above_and_trailing_forms_in_python():
    code = f"import torch\n# cudaudit: ignore[CDA101]\n{SYNC}\n{SYNC}  # cudaudit: ignore\n{SYNC}\n"
    assert sites(code) == [(5, "CDA101")]


def test_ids_in_any_case():
    assert sites(f"import torch\n{SYNC}  # cudaudit: ignore[cda101]\n") == []
    assert sites(f"import torch\n{SYNC}  # CUDAUDIT: ignore[CDA101]\n") == [(2, "CDA101")], "the marker is lower case"


def test_a_whole_file_form():
    code = f"#!/usr/bin/env python\n# cudaudit: ignore-file[CDA101]\nimport torch\n{SYNC}\nx = torch.zeros(1, device='cuda')\n"
    assert sites(code) == [(5, "CDA103")]
    assert sites(f"# cudaudit: ignore-file\nimport torch\n{SYNC}\nx = torch.zeros(1, device='cuda')\n") == []


def test_unused_suppressions_are_reported_where_they_are_written():
    code = (
        "import torch\n"
        "x = torch.zeros(3)  # cudaudit: ignore[CDA101]\n"
        f"{SYNC}  # cudaudit: ignore[CDA101,CDA103]\n"
        "# cudaudit: ignore\n"
        "y = 1\n"
    )
    found = analyze(code)
    assert sorted((f.span.line, f.span.column, f.rule) for f in found) == [
        (2, 40, "CDA002"),
        (3, 53, "CDA002"),
        (4, 1, "CDA002"),
    ]
    assert {f.message.split("`")[1] for f in found} == {"CDA101", "CDA103", "cudaudit: ignore"}


def test_unused_is_not_claimed_for_rules_not_looked_for_or_files_that_did_not_parse(cli, tmp_path):
    write(tmp_path / "a.py", f"import torch\n{SYNC}  # cudaudit: ignore[CDA101, CDA103]\n")
    everything = scan_json(cli, "a.py", "--fail-on", "note")
    assert [(f["rule"], f["severity"]) for f in everything["findings"]] == [("CDA002", "note")]
    assert scan_json(cli, "a.py", "--ignore", "CDA103")["findings"] == []
    assert cli("scan", "a.py").exit_code == 0, "an unused suppression is a note: it never fails by default"
    assert cli("scan", "a.py", "--fail-on", "note").exit_code == 1
    write(tmp_path / "b.py", "import torch\ndef f(:\n    pass  # cudaudit: ignore[CDA101]\n")
    assert scan_json(cli, "b.py")["findings"] == []


def test_suppressions_in_files_the_prefilter_skips_are_still_checked():
    code = "FROM ubuntu:22.04\n# cudaudit: ignore[CDA501]\nRUN true\n"
    assert sites(code, "Dockerfile") == [(2, "CDA002")]


def test_a_notebook_cell_suppresses_within_itself():
    import json

    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import torch\n", "# cudaudit: ignore[CDA101]\n", SYNC]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["x = 1  # cudaudit: ignore[CDA101]\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["def broken(:  # cudaudit: ignore[CDA101]\n"]},
    ]
    notebook = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    found = analyze(notebook, path="nb.ipynb")
    assert [(f.cell.index, f.span.line, f.rule) for f in found] == [(2, 1, "CDA002")]
