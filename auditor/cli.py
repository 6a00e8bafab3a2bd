"""The `cudaudit` command line: the typer app, its global options, and each command registered.

Exit codes: 0 nothing to report, 1 findings (or files that could not be analysed, or with
`fix --diff` changes to make), 2 usage, configuration or internal errors.

Each command is a module of `cudaudit.commands`; the options several share are in
`cudaudit.commands.options`. A new command is a new module plus one line below.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from cudaudit import __version__
from cudaudit.commands import clean, fix, report, resolve, rules, scan


class _PlainFlags:
    """Help that shows a flag as a flag: typer prints `<bool>` after every option of type bool,
    as if `--exit-zero` took a value; a flag's empty metavar prints nothing there."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]  # a mixin of typer's command classes
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class FlagCommand(_PlainFlags, TyperCommand):
    pass


class FlagGroup(_PlainFlags, TyperGroup):
    pass


class NamedCommandOnly(typer.Typer):
    """A Typer that makes only the command the arguments name, when they start with one: typer
    builds every registered command's options from its signature on each run (0.014 s of CPU,
    0.009 s of it for the commands a run does not use; a warm scan takes about 0.22 s). Any other
    arguments (`--version`, `--help`, a mistyped command) get the whole group."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arguments = args[0] if args else kwargs.get("args")
        first = (sys.argv[1:] if arguments is None else list(arguments))[:1]
        named = [command for command in self.registered_commands if [command.name] == first]
        if not named:
            return super().__call__(*args, **kwargs)
        every = self.registered_commands
        self.registered_commands = named
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.registered_commands = every


app = NamedCommandOnly(
    cls=FlagGroup,
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


app.command("scan", epilog=scan.EXAMPLES, cls=FlagCommand)(scan.scan_command)
app.command("fix", epilog=fix.EXAMPLES, cls=FlagCommand)(fix.fix_command)
app.command("resolve", epilog=resolve.EXAMPLES, cls=FlagCommand)(resolve.resolve_command)
app.command("report", epilog=report.EXAMPLES, cls=FlagCommand)(report.report_command)
app.command("rules", cls=FlagCommand)(rules.rules_command)
app.command("rule", cls=FlagCommand)(rules.rule_command)
app.command("clean", cls=FlagCommand)(clean.clean_command)
