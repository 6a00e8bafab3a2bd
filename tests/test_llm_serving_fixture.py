"""The llm-serving fixture: every layer's CUDA lock-in is found, the portable counterparts stay silent."""

from __future__ import annotations

from support import FIXTURES, scan_json

PROJECT = FIXTURES / "llm-serving"


def sites(report):
    return sorted({(f["path"].split("llm-serving/", 1)[1], f["rule"]) for f in report["findings"]})


def test_each_layer_is_reported(cli):
    report = scan_json(cli, str(PROJECT))
    assert report["errors"] == []
    assert sites(report) == [
        ("Dockerfile", "CDA212"),
        ("Dockerfile", "CDA443"),
        ("Dockerfile", "CDA507"),
        ("Dockerfile", "CDA509"),
        ("Makefile", "CDA211"),
        ("Makefile", "CDA443"),
        ("compose.yaml", "CDA507"),
        ("requirements.txt", "CDA604"),
        ("serve/explore.ipynb", "CDA102"),
        ("serve/explore.ipynb", "CDA211"),
        ("serve/explore.ipynb", "CDA601"),
        ("serve/launch.sh", "CDA211"),  # CUDA_VISIBLE_DEVICES there works on ROCm too: not reported
        ("serve/launch.sh", "CDA508"),
        ("serve/pipeline.py", "CDA115"),  # CDA116, a note on every target, is shown with --show-portable
        ("serve/pipeline.py", "CDA219"),
        ("serve/pipeline.py", "CDA220"),
        ("serve/pipeline.py", "CDA221"),
        ("serve/quantize.py", "CDA217"),
        ("serve/quantize.py", "CDA218"),
    ]
    cells = {f["cell"] for f in report["findings"] if f["path"].endswith("explore.ipynb")}
    assert cells == {2, 3}


def test_portable_counterparts_are_silent(cli):
    report = scan_json(cli, str(PROJECT / "portable"))
    assert report["findings"] == [] and report["errors"] == []
