"""One module per `cudaudit` command; `cudaudit.cli` registers each on the app.

A command module defines its function with its typer options and an `EXAMPLES` epilog where it
has one; the options several commands take, and the functions behind them, are in `options.py`.
"""
