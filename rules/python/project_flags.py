"""The project's own device flags: module-level names assigned from a device probe.

A project often decides once, in one module, what the machine can do (`SUPPORTS_BF16 =
torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)`, `IS_AMD =
torch.version.hip is not None`) and tests the name in others (`from .utils import SUPPORTS_BF16`,
then `if SUPPORTS_BF16:`). The name says nothing; its value does. The project index reads each
module's flags here, once per scan, and hands every Python module the flags of the project by
qualified name (`pkg.utils.SUPPORTS_BF16`), so a test of an imported flag is read as the test of
its value (`guards.flag_meaning`).

Only a module with a top-level assignment that names a device probe on its first line is parsed
(a byte search finds it): most modules define no flag and are parsed once, by their analysis.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.guards import names_a_probe, value_meaning
from cudaudit.rules.python.names import ImportTable
from cudaudit.source import decode_python, parse_python

DeviceFlags = tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]
"""(flag name, ((probe, the branch that needs it, or None), ...)) for each flag of a module, as
plain strings (the values of `guards.Probe` and `guards.Polarity`), for the cache and the digest."""

_CANDIDATE = re.compile(
    rb"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)(?:[^\n]*|[ \t]*\([ \t]*\n[^\n]*)"
    rb"(?:is_available|device_count|version\.hip|version\.cuda)",
    re.MULTILINE,
)
"""A top-level assignment whose first line names a probe of the CUDA device or of the build, or
whose value opens a parenthesis there and names one on the next line (`SUPPORTS_X = (` then
`torch.cuda.is_available() and ...`, as formatters wrap a long condition)."""
_PROBE_WORDS = (b"is_available", b"device_count", b"version.hip", b"version.cuda")
"""The probes `_CANDIDATE` looks for: a module that spells none has no candidate, found without
trying the pattern at each line (most modules)."""


def read_device_flags(path: str, data: bytes) -> DeviceFlags:
    """The device flags the module at display path `path` defines; raises SyntaxError for a module
    that does not parse (its own analysis reports it)."""
    if not any(word in data for word in _PROBE_WORDS) or all(
        names_a_probe(match.group(1).decode("ascii")) for match in _CANDIDATE.finditer(data)
    ):
        return ()  # no candidate (`TEST_CUDA = torch.cuda.is_available()` is read by its name): no parse
    tree = parse_python(decode_python(data), filename=path)
    names = ImportTable(tree)
    found = []
    assigned: dict[str, int] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = assigned.get(target.id, 0) + 1
    for name, count in sorted(assigned.items()):
        if names_a_probe(name):
            continue  # read by its name wherever it is tested
        value = names.module_value(name) if count == 1 else None
        meaning = value_meaning(value, names) if value is not None else None
        if meaning:
            found.append((name, tuple((probe.value, side.value if side else None) for probe, side in meaning)))
    return tuple(found)
