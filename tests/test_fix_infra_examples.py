"""Every dependency and Dockerfile rule's before/after fix pairs, through the real analyzer and text fixer.

Python pairs run in test_fix.py; these are made for the one target the pair names, and must
not be made at all when two targets are asked about.
"""

from __future__ import annotations

import pytest

from cudaudit.filekinds import FileKind
from cudaudit.fixers.text_fixer import fix_text
from cudaudit.resolvers.variants import FIX_TARGETS
from cudaudit.rules.catalog import Rule, load_catalog
from support import analyze, example_path

CATALOG = load_catalog()
PAIRS = [
    pytest.param(rule, example, id=f"{rule.id}-fixed-{i}-{example.target}")
    for rule in CATALOG.rules.values()
    if rule.kind != "python"
    for i, example in enumerate(rule.fixed)
]


def fix_as(rule: Rule, code: str, target: str, only: str | None = None) -> str:
    path = example_path(rule)
    findings = [f for f in analyze(code, (target,), path) if f.fix and (only is None or f.rule == only)]
    result = fix_text(code, findings, FileKind(rule.kind))
    assert result.error is None, result.error
    return result.text


@pytest.mark.parametrize(("rule", "example"), PAIRS)
def test_fixed_example_for_its_target(rule, example, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # requirement includes are read relative to the example's file
    assert example.target in FIX_TARGETS, f"{rule.id}: a dependency or Dockerfile fix pair names its `target`"
    assert fix_as(rule, example.before, example.target, only=rule.id) == example.after
    assert fix_as(rule, example.after, example.target) == example.after, "a second run must change nothing"
    both = analyze(example.before, FIX_TARGETS, example_path(rule))
    assert not [f for f in both if f.fix], "nothing is fixed when two targets are asked about"


FIXED_DETECTORS = (
    *("pip-package", "local-version", "package-index", "conda-package", "conda-build", "conda-channel"),
    *("container-image", "ci-job-targets"),
)


def test_every_non_python_fix_kind_has_a_pair():
    kinds = {
        entry.fix.kind
        for detector in FIXED_DETECTORS
        for key in CATALOG.keys(detector)
        if (entry := CATALOG.lookup(detector, key)) is not None and entry.fix is not None
    }
    shown = {rule.fix.kind for rule in CATALOG.rules.values() if rule.kind != "python" and rule.fix and rule.fixed}
    assert kinds == shown == {"wheel-index", "wheel-label", "target-build", "image", "ci-job"}
