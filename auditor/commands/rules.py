"""`cudaudit rules` lists the catalog's rules; `cudaudit rule ID` explains one."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated

import typer

from cudaudit.commands.options import fail, report_console
from cudaudit.ruledocs import reference_markdown, rule_page
from cudaudit.rules.catalog import load_catalog


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def rules_command(
    format: Annotated[RulesFormat, typer.Option("--format", "-f", help="Listing format.")] = RulesFormat.text,
) -> None:
    """List every rule: id, name and what it finds. `--format markdown` prints docs/rules.md."""
    catalog = load_catalog()
    if format is RulesFormat.markdown:
        sys.stdout.write(reference_markdown(catalog))
    elif format is RulesFormat.json:
        listing = [{"id": r.id, "name": r.name, "summary": r.summary} for r in catalog.rules.values()]
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_header=True)
        for column in ("id", "name", "what it finds"):
            table.add_column(column, overflow="fold")
        for rule in catalog.rules.values():
            table.add_row(rule.id, rule.name, rule.summary)
        report_console().print(table, highlight=False)


def rule_command(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. CDA101.")]) -> None:
    """Explain one rule: what it finds, why, the per-target mapping with sources, examples, and where it lives.

    On a terminal the Markdown is rendered; piped or redirected, it is printed as Markdown."""
    catalog = load_catalog()
    rule = catalog.rules.get(rule_id.upper())
    if rule is None:
        raise fail(f"no rule {rule_id!r}; `cudaudit rules` lists them")
    console = report_console()
    if not console.is_terminal:  # the Markdown itself: nothing cut to a width, links whole
        sys.stdout.write(rule_page(rule, catalog))
        return
    from rich.markdown import Markdown  # markdown-it loads only to explain a rule

    console.print(Markdown(rule_page(rule, catalog)))
