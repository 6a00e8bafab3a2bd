"""A keyword that defaults to False and that every call of its function turns on: the arm its False
value takes is another path (`rules/python/always_passed.py`, through the project index)."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from cudaudit.rules.python.always_passed import always_passed, passed_on_candidates
from support import analyze

PAINTER = '''import torch


class Painter:
    def __init__(self, quiet_clock=False):
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if not quiet_clock:
            self.start = torch.cuda.Event(enable_timing=True)
        self._quiet_clock = quiet_clock

    def paint(self, x):
        if self._quiet_clock:
            pass
        else:
            self.stream = torch.cuda.current_stream(self.device)
        return (x.to(self.device) * 2).cpu()
'''


def cpu_severities(app: str) -> list[tuple[int, Severity]]:
    files = {"README.md": "# Paint\n\n`python demo/app.py`\n", "demo/__init__.py": "", "demo/app.py": app + "print(painter.paint(2))\n"}
    found = analyze(PAINTER, path="demo/paint.py", files=files)
    return sorted((f.span.line, f.targets["cpu"].severity) for f in found if f.rule == "CDA101" and f.span.line != 6)


def test_timing_every_construction_turns_off_is_another_path():
    app = "from demo.paint import Painter\n\npainter = Painter(quiet_clock=True)\n# painter = Painter()\n"
    assert cpu_severities(app) == [(8, Severity.WARNING), (15, Severity.WARNING)]


@pytest.mark.parametrize("app", [
    "from demo.paint import Painter\n\na = Painter(quiet_clock=True)\npainter = Painter()\n",  # one leaves it out
    "from demo.paint import Painter\n\npainter = Painter(**options)\n",  # a mapping: not known
    "from demo.paint import Painter\n\npainter = Painter(quiet_clock=flag)\n",  # a value not followed
])
def test_a_construction_that_may_keep_the_default_keeps_the_errors(app):
    assert cpu_severities(app) == [(8, Severity.ERROR), (15, Severity.ERROR)]


def test_candidates_are_false_defaults_tested_alone_or_kept_in_a_tested_attribute():
    assert passed_on_candidates(PAINTER.encode()) == (("Painter", "quiet_clock", 0, "_quiet_clock"),)
    assert passed_on_candidates(b"def f(x, fast=False):\n    return fast or x\n") == ()  # never tested alone


def test_always_passed_reads_each_call_by_name_and_by_place():
    candidates = {"paint.py": (("Painter", "quiet_clock", 0, "_quiet_clock"),)}
    kept = {"paint.py": frozenset({"quiet_clock", "_quiet_clock"})}
    assert always_passed(candidates, {"app.py": lambda: b"p = Painter(True)\n"}) == kept
    assert always_passed(candidates, {"app.py": lambda: b"p = Painter(False)\n"}) == {}
    assert always_passed(candidates, {"app.py": lambda: b"p = make_painter()\n"}) == {}  # never called
    tests = {"app.py": lambda: b"p = Painter(True)\n", "tests/test_paint.py": lambda: b"Painter()\n"}
    assert always_passed(candidates, tests) == kept  # the test suite builds it as it likes
