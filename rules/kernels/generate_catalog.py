"""Build `rules/data/cuda_api.toml` from HIPIFY's CUDA -> HIP name tables.

    python -m cudaudit.rules.kernels.generate_catalog [--tables DIR] [--output FILE]

Inputs, all next to this script: HIPIFY's Markdown tables in `hipify-tables/` (ROCm/HIPIFY
`docs/tables` at the commit its README names; `--tables` names another copy, such as a newer
release's), the rules in `api_rules.toml` and the hand-written names and headers in
`hipify_gaps.toml`. The output holds those rules verbatim and one `[api]` table whose `rows` string
lists every name, one tab-separated line each: thousands of `[[entry]]` tables would make every
scan parse them, while one string costs the TOML parser next to nothing and is split only when
a CUDA source is analysed (see `api_table.py`).

A name is kept when HIP or a ROCm library spells it differently (`change`) or lacks it
(`blocked`); a name HIP keeps unchanged (`__syncthreads`, `sqrtf`) is nothing to port.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cudaudit.tomlcompat import tomllib

HERE = Path(__file__).resolve().parent
DEFAULT_TABLES = HERE / "hipify-tables"
DEFAULT_OUTPUT = HERE.parent / "data" / "cuda_api.toml"
TABLES_URL = "https://github.com/ROCm/HIPIFY/blob/014177bc2e434ce3e834aa4f3d0e2abb1efa9796/docs/tables/"
COLUMNS = ("match", "kind", "rule", "family", "status", "replacement", "source", "severity", "note")
BLOCKED_RULE = "CDA402"
INCLUDE_RULE = "CDA404"
_VERSION_FIELDS = frozenset({"A", "D", "C", "R", "E"})


@dataclass(frozen=True)
class Spelling:
    """One column group of a HIPIFY table row: a name and the versions that added/removed it."""

    library: str
    name: str
    added: str
    deprecated: str
    removed: str
    experimental: str


@dataclass
class Row:
    match: str
    kind: str
    rule: str
    family: str
    status: str
    replacement: str
    source: str
    severity: str = ""
    note: str = ""


def read_table(path: Path) -> Iterator[tuple[Spelling, list[Spelling]]]:
    """Each row of a HIPIFY table: the CUDA spelling and the HIP/ROC spellings after it."""
    groups: list[tuple[str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|**"):
            groups = []
            for cell in (c.strip("*") for c in cells):
                if cell in _VERSION_FIELDS and groups:
                    groups[-1][1].append(cell)
                else:
                    groups.append((cell, []))
        elif line.startswith("|`") and groups:
            spellings = list(_spellings(groups, cells))
            yield spellings[0], spellings[1:]


def _spellings(groups: list[tuple[str, list[str]]], cells: list[str]) -> Iterator[Spelling]:
    position = 0
    for library, fields in groups:
        values = dict(zip(fields, cells[position + 1 : position + 1 + len(fields)]))
        yield Spelling(
            library,
            cells[position].strip("`"),
            values.get("A", ""),
            values.get("D", ""),
            values.get("R", ""),
            values.get("E", ""),
        )
        position += 1 + len(fields)


def table_rows(family: str, spec: dict, path: Path, source: str) -> Iterator[Row]:
    """The rows one HIPIFY table contributes; names HIP spells the same are skipped."""
    prefer = spec.get("prefer", [])
    labels = spec.get("libraries", {})
    for cuda, others in read_table(path):
        usable = [s for s in others if s.name and not s.removed and s.library in (prefer or [s.library])]
        if any(s.name == cuda.name for s in usable):
            continue
        usable.sort(key=lambda s: prefer.index(s.library) if s.library in prefer else len(prefer))
        note = _cuda_note(cuda)
        if not usable:
            yield Row(cuda.name, "n", BLOCKED_RULE, family, "blocked", "", source, note=note)
            continue
        replacement = " or ".join(_describe(s, labels) for s in usable)
        yield Row(cuda.name, "n", spec["rule"], family, "change", replacement, source, note=note)


def _describe(spelling: Spelling, labels: dict[str, str]) -> str:
    text = f"`{spelling.name}`"
    if spelling.library in labels:
        text += f" ({labels[spelling.library]})"
    if spelling.experimental:
        text += f", experimental in HIP {spelling.experimental}"
    return text


def _cuda_note(cuda: Spelling) -> str:
    if cuda.removed:
        return f" (removed in CUDA {cuda.removed})"
    if cuda.deprecated:
        return f" (deprecated since CUDA {cuda.deprecated})"
    return ""


def build_rows(tables: Path, gaps: dict) -> list[Row]:
    families = gaps["family"]
    rows: dict[tuple[str, str], Row] = {}
    for family, spec in families.items():
        if "table" not in spec:
            continue
        path = tables / spec["table"]
        for row in table_rows(family, spec, path, TABLES_URL + spec["table"]):
            rows.setdefault((row.kind, row.match), row)
    for raw in gaps.get("name", ()):
        _apply(rows, _hand_written(raw, "n", families[raw["family"]]["rule"], raw["family"]))
    for raw in gaps.get("include", ()):
        _apply(rows, _hand_written(raw, "i", INCLUDE_RULE, "header"))
    return sorted(rows.values(), key=lambda r: (r.kind, r.match))


def _hand_written(raw: dict, kind: str, mapped_rule: str, family: str) -> Row:
    status = raw.get("status", "change")
    rule = BLOCKED_RULE if status == "blocked" and kind == "n" else mapped_rule
    return Row(
        raw["match"], kind, rule, family, status, raw.get("replacement", ""), raw["source"], raw.get("severity", "")
    )


def _apply(rows: dict[tuple[str, str], Row], row: Row) -> None:
    key = (row.kind, row.match)
    if row.status == "works" and not row.replacement:
        rows.pop(key, None)  # HIP has it under the CUDA name: nothing to port
    else:
        rows[key] = row


def render(rules_text: str, rows: list[Row], families: dict) -> str:
    sources = sorted({row.source for row in rows})
    index = {source: str(i) for i, source in enumerate(sources)}
    lines = []
    for row in rows:
        values = [getattr(row, column) for column in COLUMNS]
        values[COLUMNS.index("source")] = index[row.source]
        if any("\t" in v or "\n" in v or "'''" in v for v in values):
            raise ValueError(f"row {row.match!r} holds a tab, newline or ''' and cannot be written")
        lines.append("\t".join(values))
    labels = ", ".join(f'{name} = "{spec["label"]}"' for name, spec in families.items())
    quoted_sources = ",\n".join(f'  "{source}"' for source in sources)
    return (
        "# GENERATED by rules/kernels/generate_catalog.py from HIPIFY's tables (ROCm/HIPIFY docs/tables at\n"
        "# 014177bc, HIP 6.3), rules/kernels/api_rules.toml and rules/kernels/hipify_gaps.toml. Do not edit:\n"
        "# change those and run `python -m cudaudit.rules.kernels.generate_catalog`.\n\n"
        + _without_header(rules_text)
        + "\n[api]\n"
        + f"columns = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in COLUMNS)}]\n"
        + f"families = {{ {labels} }}\n"
        + f"sources = [\n{quoted_sources},\n]\n"
        + "rows = '''\n"
        + "\n".join(lines)
        + "\n'''\n"
    )


def _without_header(text: str) -> str:
    return text[text.index("[[rule]]") :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=DEFAULT_TABLES, help="folder of HIPIFY's *.md tables")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not args.tables.is_dir():
        parser.error(f"{args.tables} is not a folder of HIPIFY tables; pass --tables DIR")
    rules_text = (HERE / "api_rules.toml").read_text(encoding="utf-8")
    tomllib.loads(rules_text)  # fail here, not in every scan, if the hand-written rules are malformed
    gaps = tomllib.loads((HERE / "hipify_gaps.toml").read_text(encoding="utf-8"))
    rows = build_rows(args.tables, gaps)
    text = render(rules_text, rows, gaps["family"])
    tomllib.loads(text)
    args.output.write_text(text, encoding="utf-8")
    counts = {status: sum(r.status == status for r in rows) for status in ("change", "blocked", "works")}
    print(f"wrote {args.output}: {len(rows)} names ({', '.join(f'{n} {s}' for s, n in counts.items())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
