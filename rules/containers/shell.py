"""Split the shell script of a `RUN` into simple commands and words, keeping where each word is.

`shlex` splits words but forgets their positions, and a finding must point at the word
(`cuda-toolkit-12-4` on the third continuation line, not the `RUN`). This reads the subset of
POSIX shell that Dockerfiles use: quotes and escapes, `&&`/`||`/`;`/`|`/`&` between
commands, subshell parentheses, redirections (dropped with their target), comments, and
`$VAR`/`${VAR}`/`${VAR:-default}` references, expanded from the ARG and ENV values in force
and from the script's own earlier assignments (`URL="https://.../x.whl" && wget "${URL}"`) when
known, and kept as written otherwise. Command substitutions stay inside their word, unexpanded.
It never runs anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SEPARATORS = frozenset(";&|()\n")
_BLANKS = frozenset(" \t\r")
_MAX_DEPTH = 4
_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Word:
    """One shell word: its text after quote removal and expansion, and where its characters were.

    `starts[i]:ends[i]` is the part of the script that produced `text[i]`: the character
    itself, or the whole `${VAR}` reference for the characters of an expanded value.
    """

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    start: int
    end: int

    def offsets(self, start: int, end: int) -> tuple[int, int]:
        """The script offsets that `text[start:end]` came from (end exclusive)."""
        if start >= end or end > len(self.text):
            return self.start, self.end
        return self.starts[start], self.ends[end - 1]


def split_commands(script: str, variables: Mapping[str, str] | None = None, start: int = 0) -> list[list[Word]]:
    """The simple commands of `script[start:]`, each a non-empty list of words."""
    return _Reader(script, variables or {}, start).commands()


def _expansion(match: re.Match[str], variables: Mapping[str, str], depth: int = 0) -> str | None:
    """The value of one reference, or None when the variable is unknown and has no default.

    An ARG default may itself name earlier ARGs (`ARG BASE=nvidia/cuda:${CUDA}-devel`), which
    Docker expands when it declares the ARG; dockerfile-parse keeps them as written, so they
    are expanded here, a few levels deep at most.
    """
    name = match.group("braced") or match.group("plain")
    value = variables.get(name)
    if value and "$" in value and depth < _MAX_DEPTH:
        value = _REFERENCE.sub(lambda m: _kept(m, variables, depth + 1), value)
    op = match.group("op")
    if op == "-":
        return value if value else match.group("word")
    if op == "+":
        return match.group("word") if value else ("" if value is not None else None)
    return value


def declared_value(text: str, variables: Mapping[str, str]) -> str:
    """An ARG's default as Docker holds it once declared: its references expanded with the values in
    force, a modifier's word too, where it nests references of its own (`${CUDA:+nvidia/cuda:${CUDA}-devel}`,
    `${BASE:-ubuntu:${UBUNTU}}`, the previous value of the same name); a variable nothing declared
    keeps its reference as written."""
    out, at = [], 0
    while at < len(text):
        start = text.find("${", at)
        plain = _REFERENCE.search(text, at)
        if plain is not None and plain.group("plain") and (start < 0 or plain.start() < start):
            out.append(text[at:plain.start()])
            value = variables.get(plain.group("plain"))
            out.append(plain.group(0) if value is None else value)
            at = plain.end()
            continue
        if start < 0:
            out.append(text[at:])
            break
        end = _closing_brace(text, start + 2)
        inner = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])(.*))?", text[start + 2:end], re.DOTALL)
        out.append(text[at:start])
        if inner is None or end >= len(text):
            out.append(text[start:end + 1])
        else:
            name, op, word = inner.groups()
            value = variables.get(name)
            if op is None:
                out.append(text[start:end + 1] if value is None else value)
            elif (op == "-") == bool(value):
                out.append(value or "")
            else:
                out.append(declared_value(word.replace('"', ""), variables))
        at = end + 1
    return "".join(out)


def _closing_brace(text: str, at: int) -> int:
    """The offset of the `}` that closes a `${` whose name starts at `at` (the text's length if none)."""
    depth = 1
    while at < len(text):
        if text.startswith("${", at):
            depth += 1
            at += 2
            continue
        if text[at] == "}":
            depth -= 1
            if depth == 0:
                return at
        at += 1
    return len(text)


def _kept(match: re.Match[str], variables: Mapping[str, str], depth: int) -> str:
    value = _expansion(match, variables, depth)
    return match.group(0) if value is None else value


class _Reader:
    """A one-pass reader over the script; `commands()` consumes it."""

    def __init__(self, script: str, variables: Mapping[str, str], start: int) -> None:
        self.script = script
        self.variables = dict(variables)
        self.at = start
        self.found: list[list[Word]] = []
        self.command: list[Word] = []
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.word_start: int | None = None
        self.depth = 0
        """How many `if`/`for`/`while`/`until`/`case` blocks the reader is inside."""

    def commands(self) -> list[list[Word]]:
        script = self.script
        while self.at < len(script):
            char = script[self.at]
            if char in _BLANKS:
                self._end_word()
                self.at += 1
            elif char == "#" and self.word_start is None:
                end = script.find("\n", self.at)
                self.at = len(script) if end < 0 else end
            elif char == "\\" and script.startswith("\n", self.at + 1):
                self.at += 2  # a line continuation inside a heredoc script
            elif char in _SEPARATORS:
                self._end_word()
                self._end_command()
                self.at += 1
            elif char in "<>":
                self._redirection()
            else:
                self._word_part()
        self._end_word()
        self._end_command()
        return self.found

    def _word_part(self) -> None:
        script, char = self.script, self.script[self.at]
        if self.word_start is None:
            self.word_start = self.at
        if char == "'":
            end = script.find("'", self.at + 1)
            end = len(script) if end < 0 else end
            self._take(self.at + 1, end)
            self.at = end + 1
        elif char == '"':
            self._double_quoted()
        elif char == "\\":
            if self.at + 1 < len(script):
                self._take(self.at + 1, self.at + 2)
            self.at += 2
        elif char == "$":
            self._dollar()
        elif char == "`":
            end = script.find("`", self.at + 1)
            end = len(script) if end < 0 else end + 1
            self._take(self.at, end)
            self.at = end
        else:
            self._take(self.at, self.at + 1)
            self.at += 1

    def _double_quoted(self) -> None:
        script = self.script
        self.at += 1
        while self.at < len(script) and script[self.at] != '"':
            char = script[self.at]
            if char == "\\" and self.at + 1 < len(script) and script[self.at + 1] in '"\\$`':
                self._take(self.at + 1, self.at + 2)
                self.at += 2
            elif char == "$":
                self._dollar()
            else:
                self._take(self.at, self.at + 1)
                self.at += 1
        self.at += 1

    def _dollar(self) -> None:
        """A reference (expanded when known) or a command substitution (kept as written)."""
        script = self.script
        if script.startswith("$(", self.at):
            end = _closing_paren(script, self.at + 2)
            self._take(self.at, end)
            self.at = end
            return
        match = _REFERENCE.match(script, self.at)
        if match is None:
            self._take(self.at, self.at + 1)
            self.at += 1
            return
        value = _expansion(match, self.variables)
        if value is None:
            self._take(match.start(), match.end())
        else:
            self.chars.append(value)
            self.starts.extend([match.start()] * len(value))
            self.ends.extend([match.end()] * len(value))
        self.at = match.end()

    def _redirection(self) -> None:
        """`> file`, `2>&1`, `<<<` and the like: neither the operator nor its target is an argument."""
        script = self.script
        if self.word_start is not None and "".join(self.chars).isdigit():
            self._discard_word()  # the file descriptor of `2>`
        self._end_word()
        while self.at < len(script) and script[self.at] in "<>&|":
            self.at += 1
        while self.at < len(script) and script[self.at] in _BLANKS:
            self.at += 1
        while self.at < len(script) and script[self.at] not in _BLANKS and script[self.at] not in _SEPARATORS:
            self._word_part()
        self._discard_word()

    def _take(self, start: int, end: int) -> None:
        self.chars.append(self.script[start:end])
        self.starts.extend(range(start, end))
        self.ends.extend(range(start + 1, end + 1))

    def _end_word(self) -> None:
        if self.word_start is not None:
            text = "".join(self.chars)
            self.command.append(Word(text, tuple(self.starts), tuple(self.ends), self.word_start, self.at))
        self._discard_word()

    def _discard_word(self) -> None:
        self.chars, self.starts, self.ends, self.word_start = [], [], [], None

    def _end_command(self) -> None:
        if self.command:
            self.found.append(self.command)
            self._assign(self.command)
        self.command = []

    def _assign(self, command: list[Word]) -> None:
        """Track the script's assignments (`_set`); one inside `if`/`for`/`while`/`case` holds on
        some paths only, so the variable is unknown after it."""
        self.depth = max(0, self.depth + _OPENS.get(command[0].text, 0))
        if self.depth == 0:
            self._set(command)
            return
        for word in command:
            if _is_assignment(word.text):
                self.variables.pop(word.text.partition("=")[0], None)

    def _set(self, command: list[Word]) -> None:
        """`NAME=value` and `export NAME=value` with no command after them set the variable for the
        rest of the script (a prefix assignment, `NAME=value cmd`, is for that one command). Only a
        value of one word is taken (a path, a URL, a version): what a command substitution prints is
        unknown, and a list of options or a whole command line (`OPTS="--backend nccl"`) is read
        where it is written, not again at each place that expands it."""
        words = command[1:] if command[0].text in ("export", "declare", "readonly") else command
        if not words or not all(_is_assignment(word.text) for word in words):
            return
        for word in words:
            name, value = word.text.split("=", 1)
            if "$(" in value or "`" in value or any(char.isspace() for char in value):
                self.variables.pop(name, None)  # kept as written: see the docstring
            else:
                self.variables[name] = value


_OPENS = {"if": 1, "for": 1, "while": 1, "until": 1, "case": 1, "fi": -1, "done": -1, "esac": -1}
"""Words that open or close a compound command, as the first word of a simple command."""


def _is_assignment(text: str) -> bool:
    """`NAME=value`, NAME a shell variable's name."""
    name, equals, _ = text.partition("=")
    return bool(equals) and name.isascii() and name.isidentifier()


def _closing_paren(script: str, at: int) -> int:
    """The offset just past the `)` that closes a `$(` opened before `at`."""
    depth = 1
    while at < len(script):
        char = script[at]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return at + 1
        elif char in "'\"":
            close = script.find(char, at + 1)
            at = len(script) - 1 if close < 0 else close
        at += 1
    return len(script)
