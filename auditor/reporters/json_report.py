"""The JSON report: a stable contract documented in docs/json-format.md."""

from __future__ import annotations

import json

from cudaudit import __version__
from cudaudit.model import ScanResult
from cudaudit.reporters.summary import summarize


def render_json(result: ScanResult, targets: tuple[str, ...]) -> str:
    document = {
        "version": __version__,
        "findings": [f.to_json() for f in result.findings],
        "errors": [e.to_json() for e in result.errors],
        "summary": summarize(result, targets),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
