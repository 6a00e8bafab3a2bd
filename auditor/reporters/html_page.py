"""What the HTML reports share: one self-contained page (inline CSS, inline SVG, no script, no
network) and the readiness chart, a stacked bar of works / partial / blocked."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

STATUS_COLOURS = {
    "works": "#2e7d32", "partial": "#ef8f00", "blocked": "#c62828",
    "ok": "#2e7d32", "gap": "#ef8f00", "blocker": "#c62828", "not-applicable": "#9e9e9e",
}
STATUS_LABELS = {"works": "works", "partial": "partial", "blocked": "blocked", "ok": "ok", "gap": "gap",
                 "blocker": "blocker", "not-applicable": "n/a"}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d232a;
       margin: 0; background: #f4f6f8; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
.sub { color: #57606a; margin: 0 0 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 14px; }
.card { background: #fff; border: 1px solid #d8dee4; border-radius: 8px; padding: 14px 16px; }
.card h3 { margin: 0 0 6px; font-size: 16px; display: flex; align-items: center; gap: 8px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600;
         text-transform: uppercase; letter-spacing: .03em; }
.why { margin: 6px 0 10px; }
.effort { color: #57606a; font-size: 12px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d8dee4; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #eaeef2; overflow-wrap: anywhere; }
table.components td { font-size: 13px; }
.nowrap { white-space: nowrap; overflow-wrap: normal; }
.name { overflow-wrap: normal; }
th { background: #f6f8fa; font-weight: 600; font-size: 13px; }
td.status { white-space: nowrap; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 5px; vertical-align: baseline; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f0f2f4; padding: 0 3px;
       border-radius: 3px; word-break: break-all; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
.small { font-size: 12px; color: #57606a; }
details { margin-top: 10px; }
summary { cursor: pointer; font-weight: 600; }
.findings td { font-size: 12px; }
footer { margin-top: 28px; color: #57606a; font-size: 12px; }
@media print { body { background: #fff; } main { padding: 0; } details { display: none; } }
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def badge(status: str) -> str:
    return f'<span class="badge" style="background:{STATUS_COLOURS[status]}">{escape(STATUS_LABELS[status])}</span>'


def dot(status: str) -> str:
    return f'<span class="dot" style="background:{STATUS_COLOURS[status]}"></span>{escape(STATUS_LABELS[status])}'


def stacked_bar(counts: Sequence[tuple[str, int]], title: str, width: int = 300) -> str:
    """An SVG bar split by status, with its legend: how many of the things counted are in each state."""
    total = sum(n for _, n in counts) or 1
    x = 0.0
    parts = []
    for status, n in counts:
        if not n:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="16" fill="{STATUS_COLOURS[status]}">'
                     f"<title>{n} {escape(STATUS_LABELS[status])}</title></rect>")
        x += w
    if not parts:
        parts.append(f'<rect x="0" y="0" width="{width}" height="16" fill="#e0e0e0"></rect>')
    legend = []
    lx = 0
    for status, n in counts:
        label = f"{n} {STATUS_LABELS[status]}"
        legend.append(f'<rect x="{lx}" y="24" width="10" height="10" rx="2" fill="{STATUS_COLOURS[status]}"></rect>'
                      f'<text x="{lx + 14}" y="33" font-size="11" fill="#1d232a">{escape(label)}</text>')
        lx += 18 + 7 * len(label)
    return (f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="40" viewBox="0 0 {width} 40" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(parts)}{"".join(legend)}</svg>')


def e(text: object) -> str:
    return escape(str(text))


def inline_code(text: str) -> str:
    """Markdown-ish backticks in a message or answer become <code>; everything else is escaped."""
    pieces = text.split("`")
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p) for i, p in enumerate(pieces))
