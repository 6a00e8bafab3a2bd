"""Dockerfiles through the real CLI: which files are read, bad files, suppressions, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.engine import FileTask, analyze_bytes
from cudaudit.filekinds import FileKind
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings
from support import scan_json, write

CUDA_IMAGE = "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"


def test_every_dockerfile_name_is_scanned(cli, tmp_path):
    for name in ["Dockerfile", "Dockerfile.gpu", "train.Dockerfile", "Containerfile", "docker/serve/Dockerfile"]:
        write(tmp_path / name, CUDA_IMAGE)
    report = scan_json(cli)
    assert report["errors"] == []
    assert sorted(f["path"] for f in report["findings"]) == [
        "Containerfile",
        "Dockerfile",
        "Dockerfile.gpu",
        "docker/serve/Dockerfile",
        "train.Dockerfile",
    ]
    assert {(f["rule"], f["line"], f["column"]) for f in report["findings"]} == {("CDA501", 1, 6)}


def test_a_malformed_dockerfile_is_one_error_with_its_line_and_the_scan_goes_on(cli, tmp_path):
    write(tmp_path / "Dockerfile", CUDA_IMAGE)
    write(tmp_path / "broken/Dockerfile", "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\nRUNN apt-get install cuda\n")
    write(tmp_path / "heredoc/Dockerfile", "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\nRUN <<EOF\nnvidia-smi\n")
    write(tmp_path / "env/Dockerfile", "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\nENV CUDA_HOME=/usr/local/cuda PATH\n")
    result = cli("scan", "--format", "json", ".")
    assert result.exit_code == 1
    report = scan_json(cli)
    errors = {e["path"]: e for e in report["errors"]}
    assert set(errors) == {"broken/Dockerfile", "heredoc/Dockerfile", "env/Dockerfile"}
    assert errors["broken/Dockerfile"]["line"] == 2
    assert "`runn`" in errors["broken/Dockerfile"]["message"]
    assert errors["heredoc/Dockerfile"]["line"] == 2 and "never closed" in errors["heredoc/Dockerfile"]["message"]
    assert errors["env/Dockerfile"]["line"] == 2 and "malformed ENV" in errors["env/Dockerfile"]["message"]
    assert [f["path"] for f in report["findings"]] == ["Dockerfile"]


def test_a_suppression_comment_silences_a_line(cli, tmp_path):
    write(
        tmp_path / "Dockerfile",
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS build  # cudaudit: ignore[CDA501]\n"
        "RUN apt-get install -y libnccl2  # cudaudit: ignore\n"
        "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n",
    )
    report = scan_json(cli)
    assert [(f["rule"], f["line"]) for f in report["findings"]] == [("CDA501", 3)]


def test_the_text_report_shows_both_targets_for_a_stage(cli, tmp_path):
    write(tmp_path / "Dockerfile", "ARG UBUNTU=24.04\nFROM nvidia/cuda:12.6.3-cudnn-devel-ubuntu${UBUNTU}\n")
    result = cli("scan", "--verbose", "--target", "rocm,cpu", ".")
    assert result.exit_code == 1
    assert "Dockerfile" in result.stdout and "CDA501" in result.stdout
    assert "rocm/dev-ubuntu-24.04:7.0-complete" in result.stdout
    assert "ubuntu:24.04" in result.stdout


PIECES = [
    "FROM ", "RUN ", "ENV ", "ARG ", "COPY ", "CMD ", "HEALTHCHECK ", "nvidia/cuda:12.4.1-devel-ubuntu22.04",
    "${X", "}", "$", "=", '"', "'", "\\\n", "\n", " ", "<<EOF", "EOF", "apt-get install ", "cuda-toolkit",
    "pip install ", "torch==2.3.1+cu121", "--index-url=", "https://download.pytorch.org/whl/cu121", "&&", "|",
    ";", "(", ")", "#", "[", "]", ",", "bash -c ", "conda install -c nvidia ", "/usr/local/cuda", " AS ",
    "--from=", "ż", "\t", "`",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES)).map("".join))
def test_analysis_never_raises(text):
    task = FileTask("Dockerfile", "Dockerfile", (FileKind.DOCKERFILE,), frozenset(load_catalog().rules))
    findings, errors = analyze_bytes(("FROM ubuntu:22.04\n" + text).encode(), task, AnalysisSettings())
    assert not any("internal error" in e.message for e in errors), errors
    assert not (findings and errors)
