"""The byte prefilter: a file of a kind is analysed when it holds any of the kind's trigger words.

The prefilter looks for every word at once (an Aho-Corasick automaton over the file's bytes); it
must pass exactly the files the rules' own words pass, or a finding is lost.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.rules.catalog import load_catalog

CATALOG = load_catalog()
KINDS = sorted({rule.kind for rule in CATALOG.rules.values()} | {"notebook"})


def by_the_rules(kind: str, data: bytes) -> bool:
    pattern = CATALOG._trigger_patterns.get(kind)
    return any(word in data for word in CATALOG.triggers(kind)) or (pattern is not None and pattern.search(data) is not None)


def test_every_trigger_word_alone_passes_the_prefilter_of_its_kind():
    for kind in KINDS:
        for word in CATALOG.triggers(kind):
            assert CATALOG.may_match(kind, b"x = 1\n" + word + b"\n"), (kind, word)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    picks=st.lists(st.integers(min_value=0, max_value=500), max_size=4),
    filler=st.binary(max_size=40),
    cut=st.integers(min_value=0, max_value=6),
)
def test_the_prefilter_passes_exactly_what_the_rules_words_pass(kind, picks, filler, cut):
    words = CATALOG.triggers(kind)
    pieces = [words[i % len(words)][cut:] for i in picks] if words else []
    data = filler.join(pieces) + filler
    assert CATALOG.may_match(kind, data) == by_the_rules(kind, data)
