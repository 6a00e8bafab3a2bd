"""A Dockerfile as a list of instructions that know where each of their characters is.

dockerfile-parse finds the instructions (continuation lines, comments between them, the
`escape` directive) and the ARG and ENV values in force at each one. A linter needs more: a
finding points at the physical line and column of the offending word, so each instruction
keeps a map from its logical text (continuation lines joined, as Docker joins them) back to
the file. BuildKit heredocs (`RUN <<EOF ... EOF`) are read here too; dockerfile-parse would
take their lines for instructions.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockerfile_parse import DockerfileParser
from dockerfile_parse.util import extract_key_values

from cudaudit.rules.containers.shell import declared_value
from cudaudit.rules.dependencies.report import Placed
from cudaudit.source import UnparsableError

KEYWORDS = frozenset(
    {
        "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
        "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    }
)
_COMMENT = "COMMENT"
_KEY_VALUE = frozenset({"ENV", "ARG", "LABEL"})
_HEREDOC_OWNERS = frozenset({"RUN", "COPY", "ADD"})
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2|'[^']*'?|\"(?:[^\"\\]|\\.)*\"?")
"""A heredoc marker, or a quoted string that a `<<` inside is no marker in (skipped). An unclosed
quote runs to the end, as the shell reads it, so it is scanned once rather than again from every
later quote."""
_FIRST_LINE = re.compile(r"^\s*(\S+)\s+(.*)$")
_COMMENT_LINE = re.compile(r"^\s*#")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    """Upper-case (`RUN`)."""
    line: int
    """1-based line of the keyword."""
    arguments: Placed
    """Everything after the keyword, continuation lines joined, with where each piece is."""
    variables: dict[str, str]
    """ARG and ENV values in force here; for `FROM`, the ARGs declared before the first `FROM`."""
    heredocs: tuple[Placed, ...] = field(default=())
    """Bodies of the instruction's heredocs, in order."""


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile; raises UnparsableError where Docker would refuse it too."""
    lines = text.split("\n")
    bodies = dict(_heredoc_bodies(_parser(text).structure, lines))
    hidden = _body_lines(bodies)
    masked = ["#" if number in hidden else line for number, line in enumerate(lines)]
    parser = _parser("\n".join(masked))
    structure = parser.structure
    for entry in structure:
        if entry["instruction"] != _COMMENT:
            _check(entry)
    instructions = []
    global_args: dict[str, str] = {}
    declared: dict[str, str] = {}
    in_stage = False
    for entry, context in zip(structure, parser.context_structure):
        keyword = entry["instruction"]
        if keyword == _COMMENT:
            continue
        if keyword == "FROM":
            in_stage = True
            variables = global_args
        else:
            variables = {**context.args, **context.envs}
            if not in_stage:
                if keyword == "ARG":
                    declared = _declared(entry["value"], declared)
                global_args = {**context.args, **declared}
        heredocs = tuple(_body(lines, body) for body in bodies.get(entry["startline"], ()))
        instructions.append(Instruction(keyword, entry["startline"] + 1, _arguments(entry, lines), variables, heredocs))
    return instructions


def _declared(value: str, declared: dict[str, str]) -> dict[str, str]:
    """The global ARGs' values after `ARG value`, each default expanded as Docker expands it where the
    ARG is declared, with the values before it: `ARG BASE=${CUDA:+nvidia/cuda:${CUDA}-devel}` then
    `ARG BASE=${BASE:-ubuntu:22.04}` leaves the CUDA image where `CUDA` has a value (dockerfile-parse
    keeps the last text as written, which names itself)."""
    updated = dict(declared)
    for name, raw in extract_key_values(env_replace=False, args={}, envs={}, instruction_value=value):
        updated[name] = declared_value(raw, updated) if raw else updated.get(name, "")
    return updated


def _parser(text: str) -> DockerfileParser:
    return DockerfileParser(fileobj=io.StringIO(text))


def _body_lines(bodies: dict[int, list[list[int]]]) -> set[int]:
    """Heredoc lines, terminators included: masked as comments so nobody reads them as instructions."""
    return {number for owned in bodies.values() for body in owned for number in body}


def _check(entry: Mapping[str, Any]) -> None:
    """Refuse what Docker refuses, with the line and what to do, before anything reads it."""
    keyword, line = entry["instruction"], entry["startline"] + 1
    if keyword not in KEYWORDS:
        raise UnparsableError(
            f"`{keyword.lower()}` on line {line} is not a Dockerfile instruction (Docker rejects it too); "
            "fix the line, or exclude the file if it is a template",
            line,
        )
    if keyword in _KEY_VALUE:
        try:
            extract_key_values(env_replace=False, args={}, envs={}, instruction_value=entry["value"])
        except (ValueError, IndexError) as exc:
            why = exc if isinstance(exc, ValueError) else "it names no variable"
            raise UnparsableError(f"malformed {keyword} on line {line}: {why}", line) from exc
    if keyword == "FROM" and not entry["value"].strip():
        raise UnparsableError(f"FROM on line {line} names no image", line)


def _heredoc_bodies(structure: Sequence[Mapping[str, Any]], lines: list[str]) -> Iterator[tuple[int, list[list[int]]]]:
    """For each instruction with heredocs, the 0-based line numbers of each body, terminator included.

    Instructions that dockerfile-parse found inside a body are not instructions, so they are
    skipped here and masked out by the caller.
    """
    taken_until = -1
    for entry in structure:
        if entry["startline"] <= taken_until or entry["instruction"] not in _HEREDOC_OWNERS:
            continue
        bodies = []
        after = entry["endline"]
        for match in _HEREDOC.finditer(entry["value"]):
            if match.group(3) is None:
                continue
            strip_tabs, word = bool(match.group(1)), match.group(3)
            body = []
            for number in range(after + 1, len(lines)):
                body.append(number)
                candidate = lines[number].lstrip("\t") if strip_tabs else lines[number]
                if candidate.rstrip() == word:
                    break
            else:
                line = entry["startline"] + 1
                raise UnparsableError(
                    f"the heredoc <<{word} opened on line {line} is never closed; add a line `{word}`", line
                )
            bodies.append(body)
            after = body[-1]
        if bodies:
            taken_until = after
            yield entry["startline"], bodies


def _arguments(entry: Mapping[str, Any], lines: list[str]) -> Placed:
    """The instruction's logical text with the place of each physical piece of it.

    dockerfile-parse joins the lines of an instruction by dropping each line's trailing
    whitespace and escape character, and skips comment lines between them; walking the
    same lines and matching each piece against its value recovers where every piece came from.
    """
    value: str = entry["value"]
    segments: list[tuple[int, int, int]] = []
    at = 0
    for number in range(entry["startline"], entry["endline"] + 1):
        line = lines[number]
        if number == entry["startline"]:
            match = _FIRST_LINE.match(line)
            column = match.start(2) if match else len(line)
        elif _COMMENT_LINE.match(line):
            continue
        else:
            column = 0 if at else len(line) - len(line.lstrip())
        piece = line[column:].rstrip()
        for candidate in (piece, piece[:-1]):
            if candidate and value.startswith(candidate, at):
                segments.append((at, number + 1, column + 1))
                at += len(candidate)
                break
    return Placed(value, tuple(segments) or ((0, entry["startline"] + 1, len(entry["instruction"]) + 2),))


def _body(lines: list[str], numbers: list[int]) -> Placed:
    """A heredoc body, terminator excluded, as one text with one segment per physical line."""
    texts = [lines[n] for n in numbers[:-1]]
    offsets = [sum(len(t) + 1 for t in texts[:i]) for i in range(len(texts))]
    segments = tuple((offset, n + 1, 1) for offset, n in zip(offsets, numbers))
    return Placed("\n".join(texts), segments or ((0, numbers[-1] + 1, 1),))
