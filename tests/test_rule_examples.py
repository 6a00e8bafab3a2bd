"""Every rule's own examples, run through the real parser: the one test per rule."""

from __future__ import annotations

import pytest

from cudaudit.rules.catalog import load_catalog
from cudaudit.verdicts import is_portable
from support import analyze, example_path

CATALOG = load_catalog()


FLAGGED = [
    pytest.param(rule, example, id=f"{rule.id}-flagged-{i}")
    for rule in CATALOG.rules.values()
    for i, example in enumerate(rule.flagged)
]
CLEAN = [
    pytest.param(rule, example, id=f"{rule.id}-clean-{i}")
    for rule in CATALOG.rules.values()
    for i, example in enumerate(rule.clean)
]


@pytest.mark.parametrize(("rule", "example"), FLAGGED)
def test_flagged_example_is_reported(rule, example):
    path = example.path or example_path(rule)
    found = [f for f in analyze(example.code, path=path, files=example.files) if f.rule == rule.id]
    assert found, f"{rule.id} did not flag:\n{example.code}"
    if example.severity is not None:
        assert {f.severity for f in found} == {example.severity}


@pytest.mark.parametrize(("rule", "example"), CLEAN)
def test_clean_example_is_not_reported(rule, example):
    """Clean: no finding a scan reports by default (a site that works everywhere is left out)."""
    found = analyze(example.code, path=example.path or example_path(rule), files=example.files)
    reported = [f for f in found if f.rule == rule.id and not is_portable(f)]
    assert not reported, f"{rule.id} flagged clean code: {[f.message for f in reported]}"


@pytest.mark.parametrize("rule", CATALOG.rules.values(), ids=lambda r: r.id)
def test_every_rule_has_both_kinds_of_example(rule):
    assert rule.flagged and rule.clean
