"""Python 3.12's type parameter syntax read by an older interpreter.

A project that requires Python 3.12 writes `type Vector = list[float]` and `def first[T](xs: list[T])
-> T:` (PEP 695); `ast` on Python 3.11 cannot parse them, and the whole module would be "not
analysed". The tokenizer of every supported Python reads them (`type` is a soft keyword, the brackets
are plain operators), so a module that `ast` rejects is written in the older grammar from its tokens,
line for line: `type X = V` becomes `X = V` and a definition loses its `[T, ...]`. Neither carries a
device, a backend or a call, so what the analyzers see is unchanged but for columns on those lines.
A rewrite that would move lines (type parameters spread over several) is refused, and the module
fails as it did. Tokens, not a second parser: a parser in native code meeting hostile bytes may
crash the process, which a scan must never do.
"""

from __future__ import annotations

import io
import keyword
import tokenize

_SKIPPED = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE})


def older_grammar(text: str) -> str | None:
    """`text` without PEP 695's statements and type parameters, or None where it has none, does not
    tokenize, or the rewrite would move its lines."""
    try:
        tokens = [token for token in tokenize.generate_tokens(io.StringIO(text).readline) if token.type not in _SKIPPED]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    cuts = list(_cuts(tokens))
    if not cuts:
        return None
    pieces, done = [], 0
    for (start_row, start_col), (end_row, end_col) in cuts:
        if start_row != end_row:
            return None  # the cut would join lines: every later finding would move
        pieces.append(text[done : starts[start_row - 1] + start_col])
        done = starts[end_row - 1] + end_col
    pieces.append(text[done:])
    return "".join(pieces)


def _cuts(tokens: list[tokenize.TokenInfo]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The spans to drop, in order: `type ` before an alias's name, and each `[...]` of type
    parameters after an alias's, a function's or a class's name."""
    cuts: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for index, token in enumerate(tokens[:-2]):
        name, after = tokens[index + 1], tokens[index + 2]
        at_statement = index == 0 or tokens[index - 1].end[0] < token.start[0] or tokens[index - 1].string in {";", ":"}
        alias = token.string == "type" and at_statement and name.type == tokenize.NAME and after.string in {"=", "["}
        definition = token.string in {"def", "class"} and name.type == tokenize.NAME and after.string == "["
        if not (alias or definition) or keyword.iskeyword(name.string):
            continue
        if alias:
            cuts.append((token.start, name.start))
        if after.string == "[":
            closing = _closing_bracket(tokens, index + 2)
            if closing is None:
                return []
            cuts.append((after.start, tokens[closing].end))
    return cuts


def _closing_bracket(tokens: list[tokenize.TokenInfo], opening: int) -> int | None:
    """The index of the `]` that closes the `[` at `opening`."""
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].string in {"[", "(", "{"}:
            depth += 1
        elif tokens[index].string in {"]", ")", "}"}:
            depth -= 1
            if depth == 0:
                return index
    return None
