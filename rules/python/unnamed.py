"""Monkey patches in a package that nothing in the project imports or names.

A project keeps patches that nothing applies any more: an attention monkey patch
(`LlamaAttention.forward = forward` in a `replace_llama_attn()`) left beside the
`attn_implementation=` path that replaced it. Importing the module and calling it is what applies
the patch; where no module, script or configuration of the project spells the module's name, only a
user who imports it by hand does: another path, at most a warning. Only a patch counts (a module that
assigns to an attribute of a name it imports): a library module nothing in the project imports is
more often its API, for users to import.

`unnamed_modules` reads, for the candidates the index gives it (modules inside a package that the
catalog's prefilter passes, with no `__main__` block), whether any other file of the scan spells the
module's last name word as a word of its own (`llama_flash_attn_monkey_patch`): any Python module,
notebook, script, YAML or TOML file outside the test suite, and the import statements of the test
modules (a module the tests import is maintained API; a name in a test's command-line string is not
a use), but not a Python module's commented-out import (`# from pkg.patch import apply`: an import
turned off). A module that is no patch is left alone, and so is one whose top level runs something (a
call, a loop, a `with`, a test of `__name__`: a script run by path), and one in a package whose `__init__.py` imports its
modules by a name built at run time (`importlib.import_module`, `pkgutil.iter_modules`, a folder
listing), which this reading cannot follow. A misreading keeps a verdict: a name spelled anywhere
counts as a use.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.opt_in import import_statements, without_commented_imports
from cudaudit.source import decode_python, read_tree

_BUILT_IMPORTS = (b"import_module", b"__import__", b"iter_modules", b"walk_packages", b"listdir", b"scandir", b"glob")
"""What a package's `__init__.py` imports its modules by a built name through."""
_ATTRIBUTE_ASSIGNMENT = re.compile(rb"\n[ \t]*([A-Za-z_]\w*)(?:\.\w+)+[ \t]*(?::[^=\n]*)?[-+*/|&]?=(?!=)")
"""A line that assigns to an attribute (`pkg.Class.forward = forward`), with the name it starts from,
found from the newline before it (searched in the module's text after a newline): the engine skips
from newline to newline."""
_RUNS = (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)
"""Top-level statements that run something when the file runs, besides a call and a `__name__` test."""


def unnamed_modules(
    candidates: Iterable[str],
    sources: Mapping[str, Callable[[], bytes]],
    tests: Mapping[str, Callable[[], bytes]],
) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each of `candidates` (package modules, display
    paths among `sources`) whose last name word no other file of `sources` (the scan's files outside
    the test suite that may name a module) spells, nor any import statement of `tests` (the test
    suite's Python modules)."""
    stems: dict[bytes, set[str]] = {}
    for path in candidates:
        data = read_or_none(sources.get(path))
        if data is not None and _may_patch(data) and _unapplied_patch(path, data, sources):  # before any search
            stems.setdefault(posixpath.basename(path)[:-3].encode(), set()).add(path)
    named: set[str] = set()
    left = dict(stems)
    automaton = word_automaton(left)
    for other, read in sorted({**sources, **tests}.items()):
        if automaton is None:
            break  # every name is spelled somewhere
        data = read_or_none(read)
        if data is None:
            continue
        if other in tests:
            data = b"\n".join(statement for _, statement in import_statements(data))
        elif other.endswith(".py"):
            data = without_commented_imports(data)
        matches = automaton.matches(data)
        text = data.decode("latin-1") if matches else ""  # a character per byte: the words' edges as text
        found = {
            automaton.words[index] for index, start, end in matches
            if _word_edge(text, start - 1) and _word_edge(text, end)
        }
        for word in found:
            named |= left[word] - {other}
        if any(not left[word] - named for word in found):
            # A name found is looked for no more: most are imported early, and the rest of the
            # files are searched for the few names still unspelled.
            left = {stem: paths for stem, paths in left.items() if paths - named}
            automaton = word_automaton(left)
    return {
        path: Evidence(path, 0, "nothing in the project imports or names this module: only a user who imports it runs it")
        for stem, paths in sorted(left.items()) for path in sorted(paths - named)
    }


def _may_patch(data: bytes) -> bool:
    """Whether a line of the module assigns to an attribute of a name one of its import statements
    binds: what a patch does, read from bytes before any name is searched or the module parsed."""
    roots = {match.group(1) for match in _ATTRIBUTE_ASSIGNMENT.finditer(b"\n" + data)} - {b"self", b"cls"}
    if not roots:
        return False
    bound = set()
    for _, statement in import_statements(data):
        words = statement.replace(b"(", b" ").replace(b")", b" ").replace(b",", b" ").split()
        if words[:1] == [b"import"]:
            bound |= {word.partition(b".")[0] for word in words[1:]}
        else:
            bound |= set(words[words.index(b"import") + 1:]) if b"import" in words else set()
    return bool(roots & bound)


def _unapplied_patch(path: str, data: bytes, sources: Mapping[str, Callable[[], bytes]]) -> bool:
    """Whether `path` is a patch that only importing runs: it patches another module, its top level
    runs nothing, and no `__init__.py` above it imports modules by a name built at run time."""
    folder, above = posixpath.dirname(path), None
    while folder != above:
        init = sources.get(posixpath.join(folder, "__init__.py"))
        package = read_or_none(init) if init is not None else b""
        if package is None or any(word in package for word in _BUILT_IMPORTS):
            return False
        folder, above = posixpath.dirname(folder), folder
    try:
        tree = read_tree(decode_python(data), filename=path)
    except (SyntaxError, ValueError):
        return False
    return not any(_runs(statement) for statement in tree.body) and _patches(tree)


def _patches(tree: ast.Module) -> bool:
    """Whether the module patches another: it assigns to an attribute of a name it imports
    (`transformers.models.llama.modeling_llama.LlamaAttention.forward = forward`)."""
    imported = {
        (alias.asname or alias.name).partition(".")[0]
        for node in subtree(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for node in subtree(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            while isinstance(target, ast.Attribute):
                target = target.value
                if isinstance(target, ast.Name) and target.id in imported:
                    return True
    return False


def _runs(statement: ast.stmt) -> bool:
    """Whether a top-level statement runs something when the file runs: a call, a loop, a `with`, or
    a test of `__name__` (`if __name__ == "__main__" and torch.cuda.is_available():`)."""
    if isinstance(statement, ast.Expr):
        return not isinstance(statement.value, ast.Constant)  # a docstring runs nothing
    if isinstance(statement, ast.If):
        return any(isinstance(node, ast.Name) and node.id == "__name__" for node in subtree(statement.test))
    return isinstance(statement, _RUNS)


def _word_edge(text: str, at: int) -> bool:
    """Whether the character at `at` ends a word there (or there is none)."""
    return at < 0 or at >= len(text) or not (text[at].isalnum() or text[at] == "_")


def read_or_none(read: Callable[[], bytes] | None) -> bytes | None:
    """A file's bytes through its reader; None where there is no reader or it fails."""
    if read is None:
        return None
    try:
        return read()
    except Exception:  # noqa: BLE001 - an unreadable file names nothing here; its own analysis says why
        return None
