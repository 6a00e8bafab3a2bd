"""The report as people see it, rendered by headless Chromium: the HTML page draws its charts and
tables from nothing but itself, and the demo project's Markdown, as GitHub renders it, prints on
one page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import FIXTURES, chromium_binary, run_chromium, write

DEMO = FIXTURES / "demo-project"
GITHUB_LIKE_CSS = (
    "body{font:14px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:880px;margin:0 auto}"
    "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:4px 8px}code{font-size:85%}"
)
"""Close to a GitHub comment's layout: its width, font and table cells."""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("needs Chromium: apt-get install -y chromium")
    return binary


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_html_report_is_self_contained_and_renders(cli, chromium, tmp_path):
    page = tmp_path / "report.html"
    assert cli("report", str(DEMO), "-o", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r'(?:src|href)="(?:https?:)?//', html), "nothing loads from a network"
    assert html.count("<svg") == 2, "one readiness chart per target"
    shot = tmp_path / "report.png"
    done = run_chromium(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert shot.is_file(), done.stderr
    assert shot.stat().st_size > 50_000, "a page with cards, charts and tables, not a blank one"


def test_demo_markdown_report_fits_one_printed_page(cli, chromium, tmp_path):
    import cmarkgfm  # a test dependency: GitHub's own renderer
    markdown = cli("report", cwd=DEMO).stdout
    body = cmarkgfm.github_flavored_markdown_to_html(markdown)
    page = write(tmp_path / "comment.html", f"<!DOCTYPE html><meta charset='utf-8'><style>{GITHUB_LIKE_CSS}</style>{body}")
    pdf = tmp_path / "comment.pdf"
    done = run_chromium(chromium, tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.is_file(), done.stderr
    assert pdf_pages(pdf.read_bytes()) == 1


def test_fleet_page_renders(cli, chromium, tmp_path):
    reports = []
    for n in range(5):
        write(tmp_path / f"r{n}" / "train.py", "import torch\nx = torch.zeros(2).cuda()\n" if n % 2 else "import torch\n")
        reports.append(str(tmp_path / f"r{n}.json"))
        assert cli("report", str(tmp_path / f"r{n}"), "-o", reports[-1]).exit_code == 0
    fleet = tmp_path / "fleet.html"
    assert cli("report", "merge", *reports, "-o", str(fleet)).exit_code == 0
    shot = tmp_path / "fleet.png"
    run_chromium(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900", fleet.as_uri())
    assert Path(shot).is_file() and shot.stat().st_size > 20_000
