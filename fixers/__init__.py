"""Apply the edits findings carry and write the files (`cudaudit fix`).

The rewrites themselves are built by the detectors (`rules/*/rewrites.py`); this package
applies them to a file, adds the imports Python edits need, checks the result parses, writes
atomically and, with `--branch`, commits on a new branch.
"""
