"""The report as JSON: the contract documented in docs/report-format.md (fields are only added)."""

from __future__ import annotations

import json

from cudaudit.assessment.model import Assessment


def render_report_json(assessment: Assessment) -> str:
    return json.dumps(assessment.to_json(), indent=2, ensure_ascii=False) + "\n"
