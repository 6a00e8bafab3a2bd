"""Which custom pytest marks a plain `pytest` run leaves out, read for the project index.

A custom mark written bare (`@pytest.mark.gpu`, `@pytest.mark.requires_cuda`) only labels its tests
for `pytest -m`: registered in `pytest_configure` or the `markers` list of the configuration, it
skips nothing, and a plain `pytest` on a machine without a GPU runs the test. Two things make a
plain run leave such tests out:

- a hook of a `conftest.py` that skips the tests carrying it (`if "gpu" in item.keywords:
  item.add_marker(skip_gpu)`, `if item.get_closest_marker("requires_cuda") and not
  torch.cuda.is_available(): pytest.skip(...)`), for the test modules in its folder and below;
- the `-m "not gpu and not slow"` of the `addopts` in `pyproject.toml`'s `[tool.pytest.ini_options]`
  or `setup.cfg`'s `[tool:pytest]`, which deselects them unless `-m` is given, for the test modules
  in the configuration's folder and below.

Whole modules are left out too: a `conftest.py` that sets `collect_ignore_glob = ["*"]` (or
`collect_ignore`) when `torch.cuda.is_available()` is False keeps every test module the patterns
cover from being collected on a CPU, so nothing in them runs there; they run on ROCm, where
`torch.cuda` has a device. `ignored_without_cuda` reads what the lists hold on a machine without
CUDA, evaluating the conftest's module-level code with `skip_conditions.skips_where`;
`ignored_by_function` reads a list a function of another module returns (`collect_ignore_glob =
gpu_only()`), and `uncollected` matches the items against a module's path as pytest does.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import posixpath
import re
import shlex

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.skip_conditions import skips_where
from cudaudit.source import decode_python, read_tree
from cudaudit.tomlcompat import tomllib

_MARKER_LOOKUPS = frozenset({"get_closest_marker", "iter_markers", "get_marker"})
"""pytest's `item.get_closest_marker("gpu")`: the marks of a collected test, by name."""
_SKIPS = frozenset({"pytest.skip", "pytest.mark.skip", "pytest.mark.skipif"})
_MARK_NAME = re.compile(r"[A-Za-z_]\w*")


def skipping_hooks(path: str, data: bytes) -> tuple[str, ...]:
    """The marks the functions of the `conftest.py` at display path `path` skip tests by: a function
    that skips (`pytest.skip(...)`, or adds a `pytest.mark.skip`) and asks a test item for a mark
    by name (`"gpu" in item.keywords`, `item.get_closest_marker("gpu")`). Raises SyntaxError for a
    file that does not parse (its own analysis reports it)."""
    if b"skip" not in data or not (b"keywords" in data or b"_marker" in data):
        return ()
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree)
    found: set[str] = set()
    for function in subtree(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and _skips(function, names):
            found.update(_asked_marks(function))
    return tuple(sorted(found))


def _skips(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> bool:
    return any(
        isinstance(node, (ast.Attribute, ast.Name)) and names.resolve(node) in _SKIPS for node in subtree(function)
    )


def _asked_marks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The mark names a function asks a test item about: the string left of `in item.keywords`,
    or given to `get_closest_marker`/`iter_markers` (first, or as `name=`)."""
    asked: set[str] = set()
    for node in subtree(function):
        if isinstance(node, ast.Compare) and all(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            if any(_names_keywords(comparator) for comparator in node.comparators):
                asked.update(_mark_name(node.left))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MARKER_LOOKUPS:
            arguments = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "name")]
            for argument in arguments:
                asked.update(_mark_name(argument))
    return asked


def _names_keywords(node: ast.expr) -> bool:
    """`item.keywords`, `item.keywords.keys()`: the names of the marks (and more) a test item carries."""
    return any(isinstance(sub, ast.Attribute) and sub.attr == "keywords" for sub in subtree(node))


def _mark_name(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _MARK_NAME.fullmatch(node.value):
        return [node.value]
    return []


def deselected_marks(path: str, text: str) -> tuple[str, ...]:
    """The marks the `addopts` of the pytest configuration in `pyproject.toml` or `setup.cfg` at
    display path `path` deselect by default: each `not NAME` of a `-m` expression that is a
    conjunction (`-m 'not gpu and not slow'`); an expression with `or` or brackets says nothing."""
    words = _addopts(path, text)
    expressions = [later for word, later in zip(words, [*words[1:], ""]) if word == "-m"]
    expressions += [word[2:] for word in words if word.startswith("-m") and len(word) > 2]
    found: set[str] = set()
    for expression in expressions:
        found.update(_negated_terms(expression))
    return tuple(sorted(found))


CONFIGURATION_FILES = frozenset({"pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"})
"""The files pytest reads its configuration from (https://docs.pytest.org/en/stable/reference/customize.html)."""


def ignored_by_configuration(path: str, text: str) -> tuple[IgnoredItem, ...]:
    """What the pytest configuration at display path `path` leaves out of every run: each
    `--ignore=PATH` and `--ignore-glob=PATTERN` of its `addopts` (`addopts = --ignore=tests/legacy`),
    as ("path", path) and ("glob", pattern) items relative to the file's folder, pytest's rootdir.
    A run never collects a test module under them, whatever the machine."""
    words = _addopts(path, text)
    found: list[IgnoredItem] = []
    for word, later in zip(words, [*words[1:], ""]):
        for option, kind in (("--ignore", "path"), ("--ignore-glob", "glob")):
            if word == option and later:
                found.append((kind, later))
            elif word.startswith(option + "="):
                found.append((kind, word[len(option) + 1 :]))
    return tuple(sorted({(kind, value.rstrip("/")) for kind, value in found if value.rstrip("/") not in ("", ".")}))


def _addopts(path: str, text: str) -> list[str]:
    """The `addopts` of the file's pytest section, word by word: a string split as a shell splits
    it, a TOML array item by item (as pytest takes them). `pytest.ini` and `tox.ini` keep it in
    `[pytest]`, `setup.cfg` in `[tool:pytest]`, `pyproject.toml` in `[tool.pytest.ini_options]`."""
    value: object = ""
    if path.endswith(".toml"):
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError:
            return []
        options = tool.get("pytest", {}).get("ini_options", {}) if isinstance(tool, dict) else {}
        value = options.get("addopts", "") if isinstance(options, dict) else ""
    else:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            return []
        section = "tool:pytest" if posixpath.basename(path) == "setup.cfg" else "pytest"
        value = parser.get(section, "addopts", fallback="")
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    try:
        return shlex.split(value) if isinstance(value, str) else []
    except ValueError:
        return []


def _negated_terms(expression: str) -> list[str]:
    if "(" in expression or ")" in expression:
        return []
    terms = [term.split() for term in re.split(r"\band\b", expression)]
    if any(not term or "or" in term for term in terms):
        return []
    return [term[1] for term in terms if len(term) == 2 and term[0] == "not" and _MARK_NAME.fullmatch(term[1])]


IgnoredItem = tuple[str, str]
"""What a `conftest.py` leaves out of collection: ("glob", pattern) from `collect_ignore_glob`,
("path", path) from `collect_ignore`, both relative to the conftest's folder; or ("call",
qualified name) for a list a function of another module returns (`ignored_by_function`)."""

_IGNORE_LISTS = {"collect_ignore": "path", "collect_ignore_glob": "glob"}
"""The module-level lists of a `conftest.py` that pytest reads to leave paths out of collection."""


def ignored_without_cuda(path: str, data: bytes) -> tuple[IgnoredItem, ...]:
    """What the `conftest.py` at display path `path` leaves out of collection on a machine without a
    CUDA device: its `collect_ignore_glob` and `collect_ignore` lists as they stand after its
    module-level code runs there (`if not torch.cuda.is_available(): collect_ignore_glob = ["*"]`,
    `collect_ignore_glob = ["*"] if not torch.cuda.is_available() else []`, or the value a
    function returns there). Only what runs whatever the machine, or only without CUDA, counts; a
    list an unknown condition may change says nothing. Raises SyntaxError for a file that does not
    parse (its own analysis reports it)."""
    if b"collect_ignore" not in data:
        return ()
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree)
    lists: dict[str, list[IgnoredItem] | None] = {}
    _run_without_cuda(tree.body, _Module(tree, names), lists)
    return tuple(sorted({item for items in lists.values() if items for item in items}))


def ignored_by_function(path: str, data: bytes, function: str, kind: str) -> tuple[IgnoredItem, ...]:
    """The (`kind`, pattern) items the module-level function `function` of the module at display
    path `path` returns on a machine without a CUDA device (`if not torch.cuda.is_available(): return
    ["**/test_*.py"]`); none where that is not known. Raises SyntaxError for a file that does not parse."""
    tree = read_tree(decode_python(data), filename=path)
    module = _Module(tree, ImportTable(tree))
    definition = module.functions.get(function)
    returned = module.returned_without_cuda(definition, kind) if definition is not None else None
    return tuple(item for item in returned or () if item[0] == kind)


class _Module:
    """A module's names, module-level functions and literal string lists, for the evaluation below."""

    def __init__(self, tree: ast.Module, names: ImportTable) -> None:
        self.names = names
        self.functions = {
            s.name: s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.literals: dict[str, list[str]] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                strings = _strings(statement.value)
                if strings is not None:
                    self.literals[statement.targets[0].id] = strings

    def without_cuda(self, condition: ast.expr) -> bool | None:
        """Whether `condition` holds on a machine without a CUDA device; None where that is not known."""
        return skips_where(condition, self.names).without_cuda

    def items(self, value: ast.expr, kind: str) -> list[IgnoredItem] | None:
        """The items a value of an ignore list holds without CUDA; None where that is not known."""
        if isinstance(value, ast.IfExp):
            holds = self.without_cuda(value.test)
            return None if holds is None else self.items(value.body if holds else value.orelse, kind)
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            left, right = self.items(value.left, kind), self.items(value.right, kind)
            return None if left is None or right is None else left + right
        strings = self.strings(value)
        if strings is not None:
            return [(kind, string) for string in strings]
        if isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Name) and func.id in self.functions and self.names.binding(func.id) is None:
                return self.returned_without_cuda(self.functions[func.id], kind)
            qualified = self.names.resolve(func)
            if qualified is not None and "." in qualified:
                return [("call", f"{kind}:{qualified}")]
        return None

    def strings(self, value: ast.expr) -> list[str] | None:
        """A literal list of strings, one the module keeps in a name, or `list(NAME)` of one."""
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in ("list", "tuple")
            and len(value.args) == 1
            and not value.keywords
        ):
            value = value.args[0]
        if isinstance(value, ast.Name) and value.id in self.literals:
            return self.literals[value.id]
        return _strings(value)

    def returned_without_cuda(self, function: ast.FunctionDef | ast.AsyncFunctionDef, kind: str) -> list[IgnoredItem] | None:
        """What `function` returns on a machine without CUDA, where its body says so plainly: the
        first `return` reached on that path through `if`s whose conditions are known there."""
        return self._first_return(function.body, kind)

    def _first_return(self, body: list[ast.stmt], kind: str) -> list[IgnoredItem] | None:
        for statement in body:
            if isinstance(statement, ast.Return):
                return self.items(statement.value, kind) if statement.value is not None else None
            if isinstance(statement, ast.If):
                holds = self.without_cuda(statement.test)
                if holds is None:
                    if _returns_in(statement):
                        return None
                    continue
                taken = statement.body if holds else statement.orelse
                if _returns_in_body(taken):
                    return self._first_return(taken, kind)
            elif _returns_in(statement):
                return None  # a return inside a loop, `try` or `with`: not followed
        return None


def _run_without_cuda(body: list[ast.stmt], module: _Module, lists: dict[str, list[IgnoredItem] | None]) -> None:
    """The module-level statements of a `conftest.py`, run on a machine without CUDA, as they change the ignore lists."""
    for statement in body:
        if isinstance(statement, ast.If):
            holds = module.without_cuda(statement.test)
            if holds is None:
                for name in _assigned_lists(statement):
                    lists[name] = None
            else:
                _run_without_cuda(statement.body if holds else statement.orelse, module, lists)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id in _IGNORE_LISTS:
                lists[target.id] = module.items(statement.value, _IGNORE_LISTS[target.id])
        elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            if name in _IGNORE_LISTS:
                added = module.items(statement.value, _IGNORE_LISTS[name]) if isinstance(statement.op, ast.Add) else None
                known = lists.get(name, [])
                lists[name] = None if added is None or known is None else known + added
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            _run_call(statement.value, module, lists)
        else:
            for name in _assigned_lists(statement):
                lists[name] = None


def _run_call(call: ast.Call, module: _Module, lists: dict[str, list[IgnoredItem] | None]) -> None:
    """`collect_ignore_glob.append("x")`, `.extend([...])`."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in _IGNORE_LISTS):
        return
    name, kind = func.value.id, _IGNORE_LISTS[func.value.id]
    known = lists.get(name, [])
    added: list[IgnoredItem] | None = None
    if func.attr == "append" and len(call.args) == 1:
        strings = _strings(ast.List([call.args[0]]))
        added = [(kind, s) for s in strings] if strings is not None else None
    elif func.attr == "extend" and len(call.args) == 1:
        added = module.items(call.args[0], kind)
    lists[name] = None if added is None or known is None else known + added


def _strings(value: ast.expr) -> list[str] | None:
    if isinstance(value, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
    ):
        return [e.value for e in value.elts]  # type: ignore[attr-defined]
    return None


def _assigned_lists(statement: ast.stmt) -> set[str]:
    """The ignore lists a statement may change, whatever it is."""
    changed = set()
    for node in subtree(statement):
        if isinstance(node, ast.Name) and node.id in _IGNORE_LISTS and isinstance(node.ctx, ast.Store):
            changed.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in _IGNORE_LISTS:
            changed.add(node.value.id)
    return changed


def _returns_in(statement: ast.stmt) -> bool:
    return any(isinstance(node, ast.Return) for node in subtree(statement))


def _returns_in_body(body: list[ast.stmt]) -> bool:
    return any(_returns_in(statement) for statement in body)


def uncollected(path: str, folder: str, items: tuple[IgnoredItem, ...]) -> bool:
    """Whether the items a `conftest.py` in `folder` leaves out (globs and paths resolved) cover the
    module at display path `path` as pytest applies them: a glob matched (`fnmatch`, whose `*` spans
    folders) against the conftest's folder joined with the pattern, a path equal to that join, for the
    module and for each folder between it and the conftest, which pytest collects first."""
    collected = [path]  # pytest asks about each folder on the way down, then the module
    while posixpath.dirname(collected[-1]) not in (folder, collected[-1]):
        collected.append(posixpath.dirname(collected[-1]))
    for kind, pattern in items:
        joined = posixpath.normpath(posixpath.join(folder, pattern)) if folder else posixpath.normpath(pattern)
        if kind == "glob" and any(fnmatch.fnmatchcase(step, joined) for step in collected):
            return True
        if kind == "path" and joined in collected:
            return True
    return False
