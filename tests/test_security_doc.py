"""docs/security.md names, for each guard, the module that holds it and the test that fails
without it: each name must exist, or the page promises what nothing checks."""

from __future__ import annotations

import re

from support import REPO

DOC = (REPO / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_test_the_page_names_exists():
    named, current = [], None
    for file, test in re.findall(r"`(test_\w+\.py)?(?:::)?(test_\w+)?`", DOC):
        current = file or current
        if test:
            named.append((current, test))
        elif file:
            named.append((file, None))
    assert len(named) > 25
    for file, test in named:
        source = (REPO / "tests" / file).read_text(encoding="utf-8")
        assert test is None or f"def {test}(" in source, (file, test)


def test_every_module_the_page_names_exists():
    paths = re.findall(r"`((?:auditor|rules|fixers|resolvers)/[\w/]+(?:\.py)?)`", DOC)
    assert len(paths) > 15
    assert [path for path in paths if not (REPO / path).exists()] == []
