"""Baselines: record today's findings, then report only what is new.

A baseline entry is (rule, path, fingerprint); the fingerprint follows the finding's line
text, so findings that only moved still match. Paths are stored relative to the baseline
file's folder, so the file can be committed and used from anywhere in the repository.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from cudaudit import __version__
from cudaudit.fingerprints import fingerprints
from cudaudit.model import Finding
from cudaudit.printable import utf8_safe

FORMAT = 1


class BaselineError(ValueError):
    """The baseline file cannot be read; the message says why."""


def write_baseline(path: Path, findings: list[Finding], buffers: Mapping[str, bytes] | None = None) -> None:
    entries = sorted(Counter(_keys(path, findings, buffers)).elements())
    document = {
        "format": FORMAT,
        "cudaudit": __version__,
        "findings": [{"rule": rule, "path": file, "fingerprint": fp} for rule, file, fp in entries],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def new_findings(path: Path, findings: list[Finding], buffers: Mapping[str, bytes] | None = None) -> list[Finding]:
    """The findings not in the baseline at `path` (each baseline entry absorbs one finding);
    `buffers` as for `fingerprints`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        known = Counter((e["rule"], e["path"], e["fingerprint"]) for e in document["findings"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from exc
    fresh = []
    for finding, key in zip(findings, _keys(path, findings, buffers)):
        if known[key] > 0:
            known[key] -= 1
        else:
            fresh.append(finding)
    return fresh


def _keys(
    baseline: Path, findings: list[Finding], buffers: Mapping[str, bytes] | None
) -> list[tuple[str, str, str]]:
    hashes = fingerprints(findings, buffers)
    folder = baseline.absolute().parent
    return [
        (f.rule, utf8_safe(Path(os.path.relpath(Path(f.path).absolute(), folder)).as_posix()), hashes[id(f)])
        for f in findings
    ]
