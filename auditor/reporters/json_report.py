"""The JSON report: a stable contract documented in docs/json-format.md.

It is written item by item, so a large report never exists as one string, and every string
passes through `utf8_safe`, so a file name with a byte that is not UTF-8 still makes a valid
document. The layout is exactly `json.dumps(document, indent=2)`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from cudaudit import __version__
from cudaudit.model import ScanResult
from cudaudit.printable import utf8_safe
from cudaudit.reporters.summary import summarize


def write_json(result: ScanResult, targets: tuple[str, ...], stream: TextIO) -> None:
    stream.write("{\n")
    _member(stream, "version", __version__)
    _array(stream, "findings", (f.to_json() for f in result.findings))
    _array(stream, "errors", (e.to_json() for e in result.errors))
    _array(stream, "omitted", (o.to_json() for o in result.omitted))
    _member(stream, "summary", summarize(result, targets), last=True)
    stream.write("}\n")


def json_safe(value: Any) -> Any:
    """`value` with every string, keys included, made valid UTF-8 (`utf8_safe`)."""
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def _member(stream: TextIO, key: str, value: Any, last: bool = False) -> None:
    stream.write(f"  {_dumps(key)}: {_indent(_dumps(value), 2)}{'' if last else ','}\n")


def _array(stream: TextIO, key: str, items: Iterable[Any]) -> None:
    stream.write(f"  {_dumps(key)}: [")
    first = True
    for item in items:
        stream.write(("\n" if first else ",\n") + "    " + _indent(_dumps(item), 4))
        first = False
    stream.write("],\n" if first else "\n  ],\n")


def _dumps(value: Any) -> str:
    return json.dumps(json_safe(value), indent=2, ensure_ascii=False)


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)
