"""Which declared ranges of a library allow the release a target needs (`cudaudit.releases`)."""

from __future__ import annotations

import pytest

from cudaudit.releases import excluding, first_working

NEEDS = "bitsandbytes>=0.49.0"


@pytest.mark.parametrize(
    "declared",
    ["", ">=0.49", ">=0.50", "==0.52.0", "~=0.48", "<0.50,>=0.40", "==0.49.*", ">0.45", "!=0.49.0"],
)
def test_a_range_that_reaches_the_release_holds_nothing_back(declared):
    assert excluding(NEEDS, [("bitsandbytes", declared)]) is None


@pytest.mark.parametrize("declared", ["==0.43.1", "<0.45", "<=0.48.2", "~=0.48.0", "<0.49,>=0.48", "===0.45.0"])
def test_a_range_below_the_release_is_named(declared):
    assert excluding(NEEDS, [("bitsandbytes", declared)]) == f"bitsandbytes{declared}"


def test_only_the_librarys_own_ranges_count():
    assert excluding(NEEDS, [("torch", "<2.0"), ("bitsandbytes", ">=0.45")]) is None
    assert excluding(NEEDS, [("bitsandbytes", ">=0.45"), ("bitsandbytes", "<0.46")]) == "bitsandbytes<0.46"


@pytest.mark.parametrize("requirement", ["bitsandbytes", "bitsandbytes<1", "bitsandbytes>=0.4,<1", "not a requirement"])
def test_the_catalog_states_one_floor(requirement):
    assert first_working(requirement) is None
