"""Analyzers of dependency files: requirements, pyproject.toml, setup.py/setup.cfg, lock files, conda.

Each file kind has its own module; all of them read requirement strings through
`cudaudit.resolvers.requirements` and turn its hits into findings through `report.py`.
"""
