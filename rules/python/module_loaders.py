"""The project's functions that import a library which fails only at its first call, and return it.

A library whose import works on any host and whose first call needs NVIDIA's driver (the catalog's
`[[fails_at_use]]`: `import pynvml`, then `nvmlInit()` raises without it) is often loaded through
one helper of the project that works around a platform's quirks and hands the module back:

    def load_nvml():
        import pynvml
        pynvml.nvmlInit()
        return pynvml

and every other module calls it: `nvml = load_nvml()`, then `nvml.nvmlDeviceGetHandleByIndex(i)`.
That binding is where the caller takes the library, as an import of it there would be: the
`import` concern reports it as such an import at the same place (`concerns/imports.py`), with the
severity the place gives one (behind an availability test, quiet without CUDA).

Two readings:

- `module_loaders`, per module (the index keeps it with the file's digest): its top-level functions
  every `return` of a value of which returns a name an import of such a library binds, in the
  function or at the module's top level (another import binding the same name on one branch, a
  drop-in for one platform, is allowed), with the library;
- `handed_loaders`, once per scan: for each module, the loaders it defines or imports by their own
  name from the module that defines them (or a package above it, a star import too:
  `project_calls.importers`), with the library.

A loader imported under another name, or called through its module (`gate.load_nvml()`), is not followed.
The loader's own import is judged as any function's lines are: by the guards of its calls in the
rest of the project (`callers.py`, a star import's too), all of which it has in common; where the
project calls it nowhere, as a library's public function.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from cudaudit.firstparty import module_map
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.idle_imports import use_failing_modules
from cudaudit.rules.python.nodes import own_nodes
from cudaudit.rules.python.project_calls import importers
from cudaudit.source import decode_python, read_tree

Loaders = tuple[tuple[str, str], ...]
"""(function name, the library's top-level module it returns), sorted."""


def module_loaders(path: str, data: bytes, catalog: Catalog) -> Loaders:
    """The module's top-level functions that return a `[[fails_at_use]]` library they (or the module)
    import; none for a module that spells no such library after a `return`, or does not parse (its
    own analysis reports it)."""
    failing = use_failing_modules(catalog)
    if b"return" not in data or not any(module.encode() in data for module in failing):
        return ()
    try:
        tree = read_tree(decode_python(data), filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    top = dict(_imported(own_nodes(tree.body), failing))
    found: list[tuple[str, str]] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            library = _returned_library(statement, top, failing)
            if library is not None:
                found.append((statement.name, library))
    return tuple(sorted(found))


def handed_loaders(
    sources: Mapping[str, Callable[[], bytes]],
    loaders: Mapping[str, Loaders],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
) -> dict[str, Loaders]:
    """Module's display path -> the loaders of `loaders` (display path -> `module_loaders`) it defines
    or imports from their module, with their libraries."""
    if not loaders:
        return {}
    libraries = {(path, name): library for path, found in loaders.items() for name, library in found}
    result: dict[str, dict[str, str]] = {path: dict(found) for path, found in loaders.items()}
    defined = {path: [name for name, _ in found] for path, found in loaders.items()}
    for path, reached in importers(module_map(sources), defined, imports).items():
        own = result.setdefault(path, {})
        for name, owners in reached.items():
            chosen = {libraries[(owner, name)] for owner in owners}
            if len(chosen) == 1 and name not in own:  # two loaders of one name for different libraries say nothing
                own[name] = chosen.pop()
    return {path: tuple(sorted(names.items())) for path, names in result.items() if names}


def _returned_library(function: ast.FunctionDef | ast.AsyncFunctionDef, top: Mapping[str, str], failing: Collection[str]) -> str | None:
    """The library every `return` of a value of `function` returns by a name an import binds (the
    function's own, or the module's where the function binds the name no other way)."""
    body = list(own_nodes(function.body))
    local = dict(_imported(body, failing))
    stored = {node.id for node in body if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    returns = [node for node in body if isinstance(node, ast.Return) and node.value is not None]
    libraries: set[str] = set()
    for returned in returns:
        value = returned.value
        if not isinstance(value, ast.Name):
            return None
        library = local.get(value.id) or (top.get(value.id) if value.id not in stored else None)
        if library is None:
            return None
        libraries.add(library)
    return libraries.pop() if len(libraries) == 1 else None


def _imported(nodes: Iterable[ast.AST], failing: Collection[str]) -> Iterator[tuple[str, str]]:
    """(the name bound, the library) for each name an `import` among `nodes` (a scope's own) binds to
    a `failing` library's module itself: `import pynvml as nv` binds `nv`."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in failing:
                    yield alias.asname or alias.name, alias.name
