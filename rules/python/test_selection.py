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
"""

from __future__ import annotations

import ast
import configparser
import re
import shlex

from cudaudit.rules.python.names import ImportTable
from cudaudit.source import decode_python, parse_python
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
    tree = parse_python(decode_python(data), filename=path)
    names = ImportTable(tree)
    found: set[str] = set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and _skips(function, names):
            found.update(_asked_marks(function))
    return tuple(sorted(found))


def _skips(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> bool:
    return any(
        isinstance(node, (ast.Attribute, ast.Name)) and names.resolve(node) in _SKIPS for node in ast.walk(function)
    )


def _asked_marks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The mark names a function asks a test item about: the string left of `in item.keywords`,
    or given to `get_closest_marker`/`iter_markers` (first, or as `name=`)."""
    asked: set[str] = set()
    for node in ast.walk(function):
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
    return any(isinstance(sub, ast.Attribute) and sub.attr == "keywords" for sub in ast.walk(node))


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


def _addopts(path: str, text: str) -> list[str]:
    """The `addopts` of the file's pytest section, word by word: a string split as a shell splits
    it, a TOML array item by item (as pytest takes them)."""
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
        value = parser.get("tool:pytest", "addopts", fallback="")
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
