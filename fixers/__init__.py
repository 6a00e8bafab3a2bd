"""Apply the edits findings carry and write the files (`cudaudit fix`).

The rewrites themselves are built by the analyzers, with the builder `rules/registry.py` names
for each catalog `fix.kind` (`rules/*/rewrites.py`), and carried by the findings; this package
applies them to a file, adds the imports Python edits need, checks the result parses, writes
atomically and, with `--branch`, commits on a new branch.
"""
