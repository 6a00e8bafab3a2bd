"""Multi-process switches that the project's own configuration turns on.

A test of the program's distributed switch (`if config.distributed:`) is read as the branch a
launch of several processes takes: another path than the single-process run a machine without GPUs
makes (`guards.py`). That holds where the switch is off unless the user asks for it. A project that
ships its training configuration with the switch on (`"distributed": True` in the table of defaults
its configuration reader merges, `distributed: true` in its YAML) runs that branch on its
documented route, and the other branch (`elif config.gpu is None: model = DataParallel(model.cuda())`)
only where a user turns the switch off.

Conservative on purpose: a switch is on only where at least one configuration table or YAML file of
the project sets it true and nothing outside the test suite sets it false, declares it as a
command-line option (whose default a user may keep off), or declares it as a typed field, whose
default may be anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.python.guards import Probe, identifier_probes

_SWITCH_NAME = rb"([A-Za-z_]\w*)"
_TABLE_ENTRY = re.compile(rb"""["']""" + _SWITCH_NAME + rb"""["'][ \t]*:[ \t]*(True|False)\b""")
"""An entry of a dict literal: `"distributed": True`."""
_YAML_ENTRY = re.compile(rb"(?m)^[ \t]*" + _SWITCH_NAME + rb"[ \t]*:[ \t]*(true|True|false|False|yes|no)[ \t]*(?:#.*)?$")
"""A YAML key set to a truth value: `distributed: true`."""
_SET_OFF = re.compile(rb"(?<!\w)" + _SWITCH_NAME + rb"(?:[ \t]*:[^=\n]{0,40})?[ \t]*=[ \t]*(?:False|0)\b")
"""An assignment or a field default that keeps a switch off: `args.distributed = False`, `ddp: bool = False`."""
_OPTION_FLAG = re.compile(rb"""["']--?""" + _SWITCH_NAME + rb"""["']""")
"""A command-line option's flag (`"--distributed"`): the user's choice, whatever its default."""
_TYPED_FIELD = re.compile(rb"(?m)^[ \t]+" + _SWITCH_NAME + rb"[ \t]*:[ \t]*(?:bool|Optional\[bool\]|bool[ \t]*\|[ \t]*None)\b")
"""A typed field of a configuration class (`distributed: bool = True`): a user's configuration may set it either way."""


def _is_switch(name: bytes) -> bool:
    """Whether a name is a multi-process switch by its words (`distributed`, `ddp`, `use_ddp`)."""
    return Probe.MULTI_PROCESS in identifier_probes(name.decode("ascii", "replace"))


def switch_values(data: bytes, python: bool) -> tuple[tuple[str, bool | None], ...]:
    """(switch, True or False) for each multi-process switch a Python module's dict literals or a
    YAML file sets to a truth value, and (switch, None) for each one a Python module sets off in
    code, declares as an option or as a typed field: a choice this reading cannot take as on."""
    if b"distributed" not in data and b"ddp" not in data:
        return ()
    found: set[tuple[str, bool | None]] = set()
    lines = _switch_lines(data)
    entries = _TABLE_ENTRY if python else _YAML_ENTRY
    for start, end in lines:
        for match in entries.finditer(data, start, end):
            if _is_switch(match.group(1)):
                found.add((match.group(1).decode("ascii"), match.group(2) in (b"True", b"true", b"yes")))
    if python:
        for pattern in (_SET_OFF, _OPTION_FLAG, _TYPED_FIELD):
            found.update(
                (match.group(1).decode("ascii"), None)
                for start, end in lines for match in pattern.finditer(data, start, end) if _is_switch(match.group(1))
            )
    return tuple(sorted(found, key=repr))


def _switch_lines(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each line of `data` that spells `dist` or `ddp` in any case: the only lines
    where a switch can be named (`_is_switch` wants one of those words). Every pattern above matches
    within one line, so reading these lines alone finds the same switches as reading the whole file,
    where the patterns (which start with a name, not a literal) were tried at every byte of it."""
    lowered = data.lower()
    starts: dict[int, int] = {}
    for word in (b"dist", b"ddp"):
        found = lowered.find(word)
        while found >= 0:
            start = lowered.rfind(b"\n", 0, found) + 1
            end = lowered.find(b"\n", found)
            starts[start] = len(data) if end < 0 else end
            found = lowered.find(word, starts[start])
    return sorted(starts.items())


def switches_on(
    tested: Iterable[str], python: Mapping[str, Callable[[], bytes]], configs: Mapping[str, Callable[[], bytes]]
) -> frozenset[str]:
    """The multi-process switches of `tested` that some configuration table or YAML file of the
    project turns on and nothing (outside the test suite: the caller leaves its modules out) keeps
    off or leaves to the user."""
    wanted = frozenset(name for name in tested if _is_switch(name.encode()))
    if not wanted:
        return frozenset()
    values: dict[str, set[bool | None]] = {}
    for sources, is_python in ((python, True), (configs, False)):
        for read in sources.values():
            try:
                data = read()
            except Exception:  # noqa: BLE001 - an unreadable file sets nothing; its own analysis says why
                continue
            for name, value in switch_values(data, is_python):
                if name in wanted:
                    values.setdefault(name, set()).add(value)
    return frozenset(name for name, seen in values.items() if seen == {True})
