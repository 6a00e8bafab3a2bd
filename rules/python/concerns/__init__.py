"""The Python walker's concerns: one module per kind of syntax the catalog has keys for.

Each module's `CONCERN` is a `cudaudit.rules.python.walker.Concern` subclass, registered in
`cudaudit.rules.registry` under the catalog `detector` strings it reports.
"""
