"""Every regular expression of cudaudit compiles on Python 3.10, the oldest interpreter pyproject allows.

CI runs Python 3.11, whose `re` added possessive quantifiers (`*+`, `++`, `?+`, `{m,n}+`) and atomic
groups (`(?>...)`); 3.10 refuses both, so a pattern that spells one compiles in CI and fails to import
(or, built in a function, fails mid-scan) on 3.10. Each pattern is parsed here by the running
interpreter's own parser and its tree searched for the two constructs: the module-level, inline and
catalog patterns `test_regex_linear.patterns` finds, and every pattern cudaudit's own code compiles
while the demo project is scanned (those a reader builds from names at run time).

3.11's `fnmatch.translate` writes an atomic group of its own for each `*` before a literal
(`(?>.*?requir)`), where 3.10's writes a lookahead: a pattern built from a glob compiles on each, so
those groups are set aside.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest
from test_regex_linear import patterns
from typer.testing import CliRunner

from cudaudit.cli import app
from support import FIXTURES

NEWER = ("ATOMIC_GROUP", "POSSESSIVE_REPEAT")
"""The opcodes of Python 3.11's `re` parser that 3.10's has not: an atomic group, a possessive repeat."""
GLOB_GROUP = re.compile(r"\(\?>\.\*\?(?:\\.|[^\\()\[\]|*+?{}^$.])*\)")
"""The atomic group 3.11's `fnmatch.translate` writes for a `*` and the literal after it."""
DEMO = FIXTURES / "demo-project"

_parser = pytest.importorskip("re._parser")  # Python 3.11's name; 3.10 would refuse the patterns itself


def newer_syntax(pattern: str | bytes, flags: int = 0) -> set[str]:
    """The constructs of `NEWER` that `pattern` uses, a glob's translation aside."""
    if isinstance(pattern, str):
        pattern = GLOB_GROUP.sub("", pattern)
    return {str(op) for op in _opcodes(_parser.parse(pattern, flags & ~re.DEBUG)) if str(op) in NEWER}


def _opcodes(parsed) -> Iterator[object]:
    """Every opcode of a parsed pattern, nested ones (groups, repeats, assertions, branches) included."""
    for op, argument in parsed:
        yield op
        for part in argument if isinstance(argument, (list, tuple)) else [argument]:
            for nested in part if isinstance(part, list) else [part]:  # a branch's alternatives are a list
                if isinstance(nested, _parser.SubPattern):
                    yield from _opcodes(nested)


def compiled_while_scanning(monkeypatch) -> dict[str, tuple[str | bytes, int]]:
    """The patterns cudaudit's own modules have `re` compile while the CLI scans the demo project, the
    cache of compiled patterns emptied first."""
    seen: dict[str, tuple[str | bytes, int]] = {}
    compile_ = re._compiler.compile

    def recording(pattern, flags):
        caller = sys._getframe(1)
        while caller.f_back is not None and caller.f_globals.get("__name__", "").partition(".")[0] == "re":
            caller = caller.f_back
        if caller.f_globals.get("__name__", "").startswith("cudaudit."):
            seen.setdefault(repr((pattern, flags)), (pattern, int(flags)))
        return compile_(pattern, flags)

    re.purge()
    monkeypatch.setattr(re._compiler, "compile", recording)
    outcome = CliRunner().invoke(app, ["scan", str(DEMO), "-f", "json", "--no-cache", "-j", "1", "--exit-zero"])
    assert outcome.exit_code == 0, outcome.output
    return seen


def test_no_pattern_uses_syntax_python_3_10_lacks(monkeypatch):
    held = {name: (pattern.pattern, pattern.flags) for name, pattern in patterns().items()}
    built = compiled_while_scanning(monkeypatch)
    assert built  # the recorder saw the patterns cudaudit builds as it reads (most are compiled, and cached, ahead)
    newer = {name: found for name, (pattern, flags) in {**held, **built}.items() if (found := newer_syntax(pattern, flags))}
    assert newer == {}


@pytest.mark.parametrize(
    ("pattern", "found"),
    [
        (rb"(?:\w+\.)*+\w+", {"POSSESSIVE_REPEAT"}),
        (r"[ \t]++#", {"POSSESSIVE_REPEAT"}),
        (r"a{2,5}+|(?:b|c?+)", {"POSSESSIVE_REPEAT"}),
        (r"(?>\s+)#", {"ATOMIC_GROUP"}),
        (r"x(?:y|(?>z+))", {"ATOMIC_GROUP"}),
        (r"(?<=a)(?:\w+\.)*\w+|c\+\+|[*+?]+", set()),
        ("|".join(__import__("fnmatch").translate(glob) for glob in ("*requir*.txt", "Dockerfile.*")), set()),
    ],
)
def test_the_check_finds_possessive_quantifiers_and_atomic_groups(pattern, found):
    assert newer_syntax(pattern) == found
