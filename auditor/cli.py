"""The `cudaudit` command line: the typer app, its global options, and each command registered.

Exit codes: 0 nothing to report, 1 findings (or files that could not be analysed, or with
`fix --diff` changes to make), 2 usage, configuration or internal errors.

Each command is a module of `cudaudit.commands`; the options several share are in
`cudaudit.commands.options`. A new command is a new module plus one line below.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cudaudit import __version__
from cudaudit.commands import fix, report, resolve, rules, scan

app = typer.Typer(
    name="cudaudit",
    help="Find CUDA lock-in in ML code and say what each target (ROCm, CPU, XPU, MPS) needs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"cudaudit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find CUDA lock-in in ML code and say what each target (ROCm, CPU, XPU, MPS) needs."""


app.command("scan", epilog=scan.EXAMPLES)(scan.scan_command)
app.command("fix", epilog=fix.EXAMPLES)(fix.fix_command)
app.command("resolve", epilog=resolve.EXAMPLES)(resolve.resolve_command)
app.command("report", epilog=report.EXAMPLES)(report.report_command)
app.command("rules")(rules.rules_command)
app.command("rule")(rules.rule_command)
