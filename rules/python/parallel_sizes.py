"""Whether every shipped configuration runs the project on one model-parallel rank, through the project index.

Model parallelism splits one model over several processes; its sizes are 1 unless a configuration
sets them, and a process's rank in them is then 0 (the catalog's `[[model_parallel]]` tables). A
branch taken only where a rank is not 0 or a size is above 1 (`if mpu.get_model_parallel_rank() !=
0:` allocating the buffers a broadcast fills, `if cfg.tp_size > 1:`) runs only in a model-parallel
launch. Where the project's own configurations, scripts, documents and declarations all keep every
size at 1 (or 0, off), and at least one of them says so, such a branch is another path than the
normal one (principle 1): `model_parallel_settings` hands each module the sizes as settings that
start on 1 and the ranks as settings that start on 0, which `names.picks_another` then reads.

Conservative on purpose: a size set above 1 anywhere outside the test suite (`tp_size: 2` in YAML,
`--tensor-model-parallel-size 8` in a script or a README's command, `tp_size=2` in a call, an
option's `default=2`), or set from something the reading cannot follow (`--tp $N`, `tp_size=world`,
`for tp_size in (1, 2):`),
keeps every branch on the normal path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cudaudit.facts import Evidence, SettingValue
from cudaudit.rules.catalog import word_automaton

QUERY_SUFFIX = "()"
"""What marks a query's name among the settings (`get_tp_rank()`): a call, never an attribute."""


@dataclass(frozen=True)
class ParallelNames:
    """The catalog's model-parallel vocabulary (`[[model_parallel]]`)."""

    sizes: frozenset[str]
    ranks: frozenset[str]
    size_queries: frozenset[str]
    rank_queries: frozenset[str]

    @classmethod
    def from_tables(cls, tables: Iterable[tuple[str, Any]]) -> ParallelNames:
        fields: dict[str, set[str]] = {"sizes": set(), "ranks": set(), "size_queries": set(), "rank_queries": set()}
        for _, entries in tables:
            for entry in entries:
                for key, names in fields.items():
                    names.update(entry.get(key, ()))
        return cls(**{key: frozenset(names) for key, names in fields.items()})

    def settings(self) -> tuple[tuple[str, SettingValue], ...]:
        """Each name as a setting with the value it holds on one rank: sizes 1, ranks 0, and the
        queries of either, marked as calls (`QUERY_SUFFIX`)."""
        found: dict[str, SettingValue] = {name: 1 for name in self.sizes}
        found.update((name, 0) for name in self.ranks)
        found.update((name + QUERY_SUFFIX, 1) for name in self.size_queries)
        found.update((name + QUERY_SUFFIX, 0) for name in self.rank_queries)
        return tuple(sorted(found.items()))


def one_rank(
    names: ParallelNames,
    files: Mapping[str, Callable[[], bytes]],
    declared: Mapping[str, tuple[tuple[str, SettingValue], ...]],
) -> Evidence | None:
    """Where the project keeps every model-parallel size at one rank: the first place a file of
    `files` (configurations, scripts, documents and the Python code outside the test suite) or a
    declaration of `declared` (`choice_settings.declared_choices`, by module: an option's
    `default=1`, a settings field `tp_size: int = 1`) gives a size 1 or 0; None where none does, or
    where any gives one another value or one the reading cannot follow."""
    first: Evidence | None = None
    for path, settings in sorted(declared.items()):
        for name, value in settings:
            if name not in names.sizes:
                continue
            if not _single(value):
                return None
            first = first or Evidence(path, 1, f"{name} = {value}")
    spellings = {spelling: name for name in names.sizes for spelling in (name, name.replace("_", "-"))}
    search = word_automaton(spelling.encode() for spelling in spellings)
    if search is None:
        return None
    followed = names.sizes | names.ranks | names.size_queries | names.rank_queries
    for path, read in sorted(files.items()):
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file sets nothing; its own analysis says why
            continue
        python = path.endswith(".py")
        for _, start, end in search.matches(data):
            if not _stands_alone(data, start, end):
                continue
            if python and _LOOPED.match(data, end):
                return None  # `for tp_size in (1, 2, 4):` runs several sizes
            given = _PYTHON_VALUE.match(data, end) if python else _VALUE.match(data, end)
            if given is None:
                continue
            token = given.group("value").decode("ascii", "replace")
            number = _number(token)
            if number is None and token in _NOTHING:
                continue  # `tp_size=None`: given elsewhere
            if number is None:
                if python and token.rpartition(".")[2].split("(")[0] in followed:
                    continue  # `tp_size=self.tp_size`, `tp_size = get_tp_world_size()`: handed on
                if python or token[:1] in _TEMPLATED:
                    return None  # `tp_size=world`, `--tp-size $N`: may hold anything
                continue  # prose: "model_parallel_size is ..."
            if not _single(number):
                return None
            if first is None:
                line = data.count(b"\n", 0, start) + 1
                first = Evidence(path, line, data[start:given.end()].decode("utf-8", "replace").strip())
    return first


_VALUE = re.compile(rb"""['"]?(?:[ \t]*[:=][ \t]*|[ \t]+)['"]?(?P<value>[$%{][^\s'",]*|[\w.+-]+)""")
"""What follows a size's name where a configuration, script or document gives it a value:
`: 1`, `=1`, ` 8`, `": 2`, ` $TP`."""
_PYTHON_VALUE = re.compile(
    rb"""(?:['"][ \t]*:|[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]*?[ \t]*=(?!=)|[ \t]*=(?!=))[ \t]*(?P<value>[\w.+-]+(?:\()?)"""
)
"""What follows a size's name where Python code gives it a value: a keyword or an assignment
(`tp_size=2`, `tp_size: int = 1`), a dictionary's entry (`"tp_size": 2`); never a comparison."""
_LOOPED = re.compile(rb"[ \t]+in[ \t]")
"""A size's name before `in`: a loop over sizes (`for tp_size in sizes:`), or a test of several."""
_TEMPLATED = frozenset("$%{")
_NOTHING = frozenset({"None", "null", "~"})
_NAME_GOES_ON = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _stands_alone(data: bytes, start: int, end: int) -> bool:
    """Whether the name at `start:end` is a word of its own or an option (`--tp-size`), not part
    of a longer name or an attribute (`args.tp_size`)."""
    if end < len(data) and data[end] in _NAME_GOES_ON:
        return False
    if data[max(0, start - 2) : start] == b"--":
        start -= 2
    return start == 0 or data[start - 1] not in _NAME_GOES_ON


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _single(value: object) -> bool:
    """A size of one rank: 1, or 0 where a project turns the parallelism off with it."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value in (0, 1)


def model_parallel_settings(
    tables: Iterable[tuple[str, Any]],
    files: Mapping[str, Callable[[], bytes]],
    declared: Mapping[str, tuple[tuple[str, SettingValue], ...]],
) -> tuple[tuple[str, SettingValue], ...]:
    """The catalog's model-parallel names (`tables`) as settings that hold their one-rank values
    (`ParallelNames.settings`) where the project keeps every size at one rank (`one_rank`); none
    elsewhere."""
    names = ParallelNames.from_tables(tables)
    return names.settings() if one_rank(names, files, declared) is not None else ()
