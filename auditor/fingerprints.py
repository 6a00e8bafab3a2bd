"""Fingerprints that follow a finding when unrelated lines move.

A finding's fingerprint hashes its rule, its file and the text of its line (whitespace
squeezed), plus which occurrence of that same text in the file it is. Inserting or deleting
other lines leaves it unchanged, so a baseline keeps matching and GitHub code scanning keeps
one alert open instead of closing and reopening it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping

from cudaudit.model import Finding
from cudaudit.source import SourceLines, reread_lines


def fingerprints(findings: Iterable[Finding], buffers: Mapping[str, bytes] | None = None) -> dict[int, str]:
    """`id(finding)` → `"<hash>:<occurrence>"`, in the format GitHub's primaryLocationLineHash uses;
    `buffers` holds the files analysed from standard input (see `ScanResult.buffers`)."""
    sources: dict[str, SourceLines] = {}
    seen: Counter[tuple[str, str, str]] = Counter()
    result: dict[int, str] = {}
    for finding in sorted(findings, key=lambda f: f.sort_key):
        lines = sources.get(finding.path)
        if lines is None:
            lines = sources[finding.path] = reread_lines(finding.path, buffers)
        line = finding.cell.file_line if finding.cell is not None else finding.span.line  # a notebook's JSON line
        content = " ".join(lines.line(line).split())
        key = (finding.rule, finding.path, content)
        seen[key] += 1
        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        result[id(finding)] = f"{digest}:{seen[key]}"
    return result

