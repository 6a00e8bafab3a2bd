"""A module that a reader of the project index parses is parsed once in a scan (`source.keeping_trees`)."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from cudaudit.source import keeping_trees, parse_python, read_tree
from support import scan_json, write

FLAGS = """import torch

SUPPORTS_FAST = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)
"""
USER = """import torch
from pkg.caps import SUPPORTS_FAST

def step(x):
    if SUPPORTS_FAST:
        torch.cuda.synchronize()
    return x.cuda()
"""


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times `ast.parse` parsed each text."""
    counts: Counter[str] = Counter()
    original = ast.parse

    def counting(source, *args, **kwargs):
        counts[source] += 1
        return original(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return counts


def test_a_module_the_index_reads_is_parsed_once_in_a_scan(cli, tmp_path, parsed):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "caps.py", FLAGS)
    write(tmp_path / "pkg" / "train.py", USER)
    findings = scan_json(cli, "--no-cache")["findings"]
    assert {f["path"] for f in findings} >= {"pkg/train.py"}
    assert parsed[FLAGS] == 1  # the device flags' reader parsed it; its analysis took that tree
    assert parsed[USER] == 1


def test_a_kept_tree_is_handed_out_once_and_dropped_after_the_scan(parsed):
    with keeping_trees(len(FLAGS)):
        read = read_tree(FLAGS)
        assert read_tree(FLAGS) is read  # readers that only read share it
        assert parse_python(FLAGS) is read  # the analysis takes it, and may change it
        assert parse_python(FLAGS) is not read
        read_tree(FLAGS)
    assert parse_python(FLAGS) is not read
    assert parsed[FLAGS] == 4


def test_beyond_the_room_only_the_last_tree_read_is_kept(parsed):
    with keeping_trees(len(FLAGS) - 1):
        first = read_tree(FLAGS)
        assert read_tree(FLAGS) is first  # the next reader of the same module
        read_tree(USER)
        again = read_tree(FLAGS)
        assert again is not first  # another module was read in between
        assert parse_python(FLAGS) is again  # the analysis takes it, and may change it
        assert parse_python(FLAGS) is not again
    read_tree(USER)
    assert parse_python(USER) is not read_tree(USER)  # outside a scan nothing is kept
    assert parsed == {FLAGS: 3, USER: 4}
