"""Suppression comments: `# cudaudit: ignore[CDA101]`, a bare `# cudaudit: ignore`, and
`# cudaudit: ignore-file[...]` for a whole file.

The marker is found after `#` (Python, shell, YAML, Dockerfiles, requirement files) or `//`
(C++), so one mechanism serves every file kind; ids are read in any case. A comment after code
applies to findings that start or end on its line. A comment alone on its line applies to the
next line that is not a comment or blank, and to the lines that one continues onto with a
trailing backslash: most Dockerfile instructions cannot carry a trailing comment, so, as with
hadolint, the suppression goes on the line above (`# cudaudit: ignore[CDA501]` before `FROM`).

Two problems are findings themselves, so that a suppression never silently does nothing: an id
that names no rule (CDA001), and, like ruff's RUF100, a suppression that matched no finding of
the file (CDA002), left behind when the code it excused changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cudaudit.model import Finding, Span
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.source import SourceLines

MARKER = "cudaudit:"
_SUPPRESSION = re.compile(r"(?:#|//)\s*cudaudit:\s*ignore(?P<file>-file)?(?![\w-])(?:\[(?P<ids>[^\]]*)\])?")
_COMMENT_ONLY = re.compile(r"\s*(?:#|//)")
_UNUSED_BARE = "cudaudit: ignore"


@dataclass
class Suppression:
    """One suppression comment, and whether it has silenced anything yet."""

    span: Span
    """Where the comment's `cudaudit: ignore...` is: reported when it turns out unused."""
    rules: dict[str, Span] | None
    """The ids it silences, each with where it is written; None silences every rule."""
    lines: frozenset[int] | None
    """The lines it applies to; None for the whole file."""
    used: set[str] = field(default_factory=set)
    """The ids it has silenced (`*` for a bare suppression)."""

    def silences(self, finding: Finding) -> bool:
        if self.lines is not None and not ({finding.span.line, finding.span.end_line} & self.lines):
            return False
        if self.rules is None:
            self.used.add("*")
            return True
        if finding.rule in self.rules:
            self.used.add(finding.rule)
            return True
        return False


@dataclass
class FileSuppressions:
    """The suppression comments of one file's text."""

    path: str
    comments: list[Suppression]

    @classmethod
    def parse(cls, text: str, path: str) -> FileSuppressions:
        if MARKER not in text:
            return cls(path, [])
        lines = SourceLines(text).lines
        comments: list[Suppression] = []
        for index, line in enumerate(lines):
            if MARKER not in line:
                continue
            for match in _SUPPRESSION.finditer(line):
                number = index + 1
                span = Span(number, match.start() + 1, number, match.end() + 1)
                ids = match.group("ids")
                rules = None if ids is None else _ids(ids, number, match.start("ids"))
                if match.group("file"):
                    applies = None
                elif not line[: match.start()].strip():
                    applies = frozenset([number, *_next_statement(lines, index + 1)])
                else:
                    applies = frozenset([number])
                comments.append(Suppression(span, rules, applies))
        return cls(path, comments)

    def filter(self, findings: list[Finding]) -> list[Finding]:
        """The findings no comment silences. Only findings in this file: an analyzer may report
        on another file (an included requirements file), whose own comments decide for it."""
        return [f for f in findings if f.path != self.path or not any(c.silences(f) for c in self.comments)]

    def problems(
        self,
        catalog: Catalog,
        targets: Iterable[str],
        enabled: frozenset[str] | None = None,
        complete: bool = True,
    ) -> list[Finding]:
        """CDA001 for each id that names no rule; CDA002 for each suppression, or id in one, that
        silenced nothing. Nothing is called unused when the analysis was not `complete` (a kind
        of the file failed to parse), nor an id of a rule not `enabled` for the file: findings
        that were never looked for cannot show a suppression is stale."""
        unknown = catalog.lookup("suppression", "")
        unused = catalog.lookup("unused-suppression", "")
        assert unknown is not None and unused is not None, "the catalog defines the suppression rules"
        found = []
        for comment in self.comments:
            if comment.rules is None:
                if complete and not comment.used:
                    found.append(build_finding(unused, self.path, comment.span, _UNUSED_BARE, targets))
                continue
            for rule_id, span in comment.rules.items():
                if rule_id not in catalog.rules:
                    found.append(build_finding(unknown, self.path, span, rule_id, targets))
                elif complete and rule_id not in comment.used and (enabled is None or rule_id in enabled):
                    found.append(build_finding(unused, self.path, span, rule_id, targets))
        return found


def apply_suppressions(
    findings: list[Finding],
    text: str,
    path: str,
    catalog: Catalog,
    targets: Iterable[str],
    complete: bool = True,
) -> list[Finding]:
    """Drop the findings of `path` that its comments silence; add the comments' own problems
    (`complete`: whether all of `text` was analysed, see `FileSuppressions.problems`).

    For analyzers that suppress within a part of a file themselves (a notebook cell, an
    included requirements file); the engine does the rest, once per file."""
    suppressions = FileSuppressions.parse(text, path)
    return suppressions.filter(findings) + suppressions.problems(catalog, targets, complete=complete)


def _ids(written: str, line: int, start: int) -> dict[str, Span]:
    """`CDA101, cda103` -> each id in upper case with the span it is written at."""
    ids: dict[str, Span] = {}
    for match in re.finditer(r"[^,\s]+", written):
        ids.setdefault(match.group().upper(), Span(line, start + match.start() + 1, line, start + match.end() + 1))
    return ids


def _next_statement(lines: list[str], start: int) -> list[int]:
    """1-based numbers of the next line that is not blank or a comment, and of the lines it
    continues onto with a trailing backslash."""
    index = start
    while index < len(lines) and (not lines[index].strip() or _COMMENT_ONLY.match(lines[index])):
        index += 1
    numbers = []
    while index < len(lines):
        numbers.append(index + 1)
        if not lines[index].rstrip().endswith("\\"):
            break
        index += 1
    return numbers
