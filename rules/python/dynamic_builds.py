"""What the project's own code adds to every construction a configuration file names.

A class a YAML file names (`target: pkg.sample.Sampler` with `params: {steps: 20}`,
`configured_calls.py`) is built by a line of the project that imports it by that dotted path and
calls it: `get_obj_from_str(cfg["target"])(model, device=device, **cfg["params"])`. The mapping's
keys are the `**` part; the arguments written in that call are given too, to whatever class the
configurations name there. Which configuration reaches which such call is not read, so only what
every one of them gives counts: the keywords all name and the fewest positional arguments
(`instantiate_from_config`'s `(**config.get("params", dict()))` gives nothing more, and then no
construction gets more than its mapping).

A dynamic construction is a call of a call (`f(x)(...)`) whose inner call reads one of the keys that
name a class in a configuration (`config["target"]`, `config.target`, `config.get("class_path")`).
Only modules whose bytes spell `)(` and such a key are parsed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.python.project_calls import CallShape

_KEYS = ("target", "class_path", "_target_")
"""The keys that name a class by its dotted path (`configured_calls._ARGUMENTS`)."""


def with_constructions(
    configured: Mapping[str, tuple[tuple[str, CallShape], ...]], sources: Mapping[str, Callable[[], bytes]]
) -> dict[str, tuple[tuple[str, CallShape], ...]]:
    """`configured` (configuration path -> (dotted path, call shape), `configured_calls.py`) with what
    every dynamic construction of the project's modules (`sources`) gives added to each shape."""
    common = construction_shape(sources) if configured else None
    if common is None:
        return dict(configured)
    positional, keywords, _ = common
    return {
        path: tuple((dotted, (max(shape[0], positional), tuple(sorted({*shape[1], *keywords})), shape[2])) for dotted, shape in built)
        for path, built in configured.items()
    }


def construction_shape(sources: Mapping[str, Callable[[], bytes]]) -> CallShape | None:
    """(the fewest positional arguments, the keywords every call names, False) over the project's
    dynamic constructions; None where it has none. A `**mapping` and `*sequence` are left out: they
    are the configuration's own arguments, which its mapping already lists."""
    shapes = [shape for read in sources.values() for shape in _module_shapes(read)]
    if not shapes:
        return None
    keywords = set.intersection(*(set(names) for _, names in shapes))
    return min(positional for positional, _ in shapes), tuple(sorted(keywords)), False


def _module_shapes(read: Callable[[], bytes]) -> Iterable[tuple[int, tuple[str, ...]]]:
    try:
        data = read()
        if b")(" not in data or not any(key.encode() in data for key in _KEYS):
            return ()
        tree = ast.parse(data)
    except Exception:  # noqa: BLE001 - an unreadable module builds nothing here; its own analysis says why
        return ()
    return [
        (
            sum(not isinstance(arg, ast.Starred) for arg in node.args),
            tuple(keyword.arg for keyword in node.keywords if keyword.arg is not None),
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and any(map(_reads_key, node.func.args))
    ]


def _reads_key(argument: ast.expr) -> bool:
    """`cfg["sampler"]["target"]`, `config.target`, `config.get("target")`: an expression that reads a
    key naming a class."""
    return any(
        (isinstance(node, ast.Constant) and node.value in _KEYS) or (isinstance(node, ast.Attribute) and node.attr in _KEYS)
        for node in ast.walk(argument)
    )
