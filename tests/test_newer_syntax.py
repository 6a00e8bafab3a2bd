"""Python 3.12's type parameter syntax is analysed on older interpreters (`auditor/newer_syntax.py`)."""

from __future__ import annotations

from cudaudit.newer_syntax import older_grammar
from cudaudit.source import parse_python
from support import analyze

PEP_695 = '''import torch

type Batch = list[torch.Tensor]


def first[T](items: list[T]) -> T:
    return items[0]


class Box[T]:
    def to_gpu(self, value: T) -> T:
        return value.to("cuda")
'''


def test_a_module_with_type_parameters_is_analysed_with_its_lines_kept():
    [finding] = [f for f in analyze(PEP_695) if f.rule == "CDA103"]
    assert finding.span.line == 12


def test_the_rewrite_keeps_every_line_and_drops_only_the_new_syntax():
    older = older_grammar(PEP_695)
    assert older is not None
    assert older.splitlines()[2] == "Batch = list[torch.Tensor]"
    assert older.splitlines()[5].startswith("def first(items")
    assert len(older.splitlines()) == len(PEP_695.splitlines())
    parse_python(PEP_695)


def test_code_no_grammar_parses_stays_a_syntax_error():
    assert older_grammar("def f(:\n") is None


def test_a_module_without_the_new_syntax_is_left_to_fail():
    assert older_grammar("x = [1, 2\n") is None
    assert older_grammar("type = 3\nprint(type)\n") is None


def test_type_parameters_over_several_lines_are_refused():
    assert older_grammar("def f[\n    T,\n](x: T) -> T:\n    return x\n") is None
