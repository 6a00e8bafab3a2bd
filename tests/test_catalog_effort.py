"""Every rule says what porting one of its sites takes, and the catalog's topics and per-target
severities reach the findings: `cudaudit report` plans work with them."""

from __future__ import annotations

import pytest

from cudaudit.model import Status
from cudaudit.rules.catalog import EFFORT_LEVELS, CatalogError, _parse_effort, _parse_topic, load_catalog
from support import scan_json, write


def test_every_rule_grades_its_effort():
    ungraded = [rule.id for rule in load_catalog().rules.values() if rule.effort is None]
    assert ungraded == [], "add an [effort.ID] table to rules/data/effort.toml for: " + ", ".join(ungraded)


def test_effort_levels_and_their_sources():
    for rule in load_catalog().rules.values():
        assert rule.effort.change in EFFORT_LEVELS and rule.effort.blocked in EFFORT_LEVELS
        assert rule.effort.why
        if rule.effort.like:
            assert rule.effort.like.startswith("DPCT1") and "oneapi-src/SYCLomatic" in rule.effort.source


def test_effort_of_a_site_follows_its_status():
    ptx = load_catalog().rules["CDA410"].effort
    assert ptx.level(Status.CHANGE) == "high"
    rename = load_catalog().rules["CDA401"].effort
    assert (rename.level(Status.CHANGE), rename.level(Status.BLOCKED)) == ("low", "high")


def test_malformed_effort_and_topic_are_load_errors():
    with pytest.raises(CatalogError, match="unknown effort 'days'"):
        _parse_effort("effort.toml: CDA999", {"change": "days", "why": "x"})
    with pytest.raises(CatalogError, match="needs the `source`"):
        _parse_effort("effort.toml: CDA999", {"change": "low", "why": "x", "like": "DPCT1007"})
    with pytest.raises(CatalogError, match="unknown topic"):
        _parse_topic("rule CDA999", "kernels")


def test_topic_and_per_target_severity_reach_the_finding(cli, tmp_path):
    write(tmp_path / "attn.py", "import torch\nimport flash_attn\nif torch.cuda.is_available():\n    torch.cuda.synchronize()\n")
    write(tmp_path / "requirements.txt", "xformers==0.0.28\n")
    report = scan_json(cli, "--target", "rocm,cpu", "--show-portable")
    findings = {(f["path"], f["rule"]): f for f in report["findings"]}
    assert findings[("attn.py", "CDA209")]["topic"] == "attention"
    assert findings[("requirements.txt", "CDA604")]["topic"] == "attention"
    guarded = findings[("attn.py", "CDA101")]
    # Under the availability guard the CPU never runs it: a note there, whatever the catalog's severity.
    assert guarded["targets"]["cpu"]["severity"] == "note" and guarded["severity"] == "note"
