"""Allow `python -m cudaudit`."""

from cudaudit.cli import app

app(prog_name="cudaudit")
