"""setup.py and setup.cfg as dependency lists, read statically.

setup.py is parsed with `ast` and never run: the `install_requires`, `setup_requires`,
`tests_require` and `extras_require` arguments of a `setup(...)` call are read when they are
literals (lists, tuples, dicts, strings), or names bound once at module level to such
literals. Anything computed (`open("requirements.txt").read()`) is out of reach and skipped.
setup.cfg is read with `configparser` (for validity) and a scan of its lines (for positions).
An extra named for CUDA (`extras_require={"cuda": [...]}`) is opt-in, as in pyproject.toml.
"""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Iterator
from pathlib import PurePath

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import pinned_torch, requirement_hits
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.report import (
    DependencyContext,
    Placed,
    findings,
    one_per_variant_extra,
    optional_group,
    pins_cuda_build,
    unique,
    unrequested_extra,
)
from cudaudit.rules.dependencies.toml_text import placed_string
from cudaudit.rules.python.nodes import is_setup_call, subtree
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, UnparsableError, parse_python

REQUIREMENT_ARGUMENTS = ("install_requires", "setup_requires", "tests_require")
_CFG_KEY = re.compile(r"^([A-Za-z0-9_.-]+)[ \t]*[=:][ \t]*(.*)$")
_CFG_SECTION = re.compile(r"^\[([^\]]+)\]")
_INLINE_COMMENT = re.compile(r"(?<!\s)\s+[#;].*$")

Requirement = tuple[Placed, str | None]
"""One requirement string where it is written, and the extra it belongs to (None for the base)."""


def analyze_setup(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in setup.py or setup.cfg; code that does not parse raises `SyntaxError`/`UnparsableError`."""
    if PurePath(path).name.lower() == "setup.cfg":
        requirements = list(_cfg_requirements(text, path))
    else:
        requirements = list(setup_py_requirements(text, path))
    torch = pinned_torch(placed.text for placed, _ in requirements)
    found: list[tuple[str | None, Finding]] = []
    cuda_builds = frozenset(extra for placed, extra in requirements if extra and pins_cuda_build(placed.text, catalog))
    for placed, extra in requirements:
        context = DependencyContext(
            torch, optional_group(extra, facts, extra in cuda_builds) if extra else frozenset(),
            unimported=frozenset(facts.unimported_bindings), switched_off=frozenset(facts.switched_off_packages),
        )
        hits = requirement_hits(placed.text, catalog)
        reported = findings(placed, hits, path, catalog, settings, context)
        found.extend((extra, f) for f in (unrequested_extra(reported, extra, facts) if extra else reported))
    return unique(one_per_variant_extra(found, facts, cuda_builds))


def setup_py_requirements(text: str, path: str) -> Iterator[Requirement]:
    tree = parse_python(text, filename=path)
    lines = SourceLines(text)
    literals = _module_literals(tree)
    for argument, value in _setup_arguments(tree, literals):
        if argument in REQUIREMENT_ARGUMENTS:
            yield from ((placed, None) for placed in _strings(value, lines))
        elif argument == "extras_require" and isinstance(value, ast.Dict):
            for key, items in zip(value.keys, value.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    items = literals.get(items.id, items) if isinstance(items, ast.Name) else items
                    yield from ((placed, key.value) for placed in _strings(items, lines))


def setup_py_extras(text: str, path: str) -> Iterator[tuple[str, int]]:
    """The name and line of every extra a setup.py's `setup(extras_require=...)` declares."""
    tree = parse_python(text, filename=path)
    for argument, value in _setup_arguments(tree, _module_literals(tree)):
        if argument == "extras_require" and isinstance(value, ast.Dict):
            for key in value.keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value, key.lineno


def _setup_arguments(tree: ast.Module, literals: dict[str, ast.expr]) -> Iterator[tuple[str | None, ast.expr]]:
    """Each keyword argument of each `setup(...)` call, a name bound to a literal replaced by the literal."""
    for call in subtree(tree):
        if is_setup_call(call):
            for keyword in call.keywords:
                value = keyword.value
                yield keyword.arg, literals.get(value.id, value) if isinstance(value, ast.Name) else value


def _module_literals(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound at module level to a literal list, tuple, dict or string (the last binding wins)."""
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple, ast.Dict, ast.Constant)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _strings(node: ast.expr, lines: SourceLines) -> Iterator[Placed]:
    """Each requirement written in a literal: list items, or the lines of one string."""
    items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            yield from _requirement_lines(_placed_constant(item, item.value, lines))


def _placed_constant(node: ast.Constant, value: str, lines: SourceLines) -> Placed:
    """Where the characters of the string literal `node` (of `value`) are; exact only for plain quotes without escapes."""
    line = node.lineno
    column = lines.char_column(line, node.col_offset)
    source = lines.line(line)[column:]
    quote = next((q for q in ('"""', "'''", '"', "'") if source.startswith(q)), None)
    exact = quote is not None and "\\" not in value and source[len(quote) :].startswith(value.split("\n")[0])
    return placed_string(value, line, column + 1 + (len(quote) if exact and quote else 0), exact)


def _requirement_lines(placed: Placed) -> Iterator[Placed]:
    """The non-empty, non-comment lines of a string, each placed (one requirement per line)."""
    offset = 0
    for raw in placed.text.split("\n"):
        text = _INLINE_COMMENT.sub("", raw)
        if text.strip() and not text.lstrip().startswith("#"):
            yield placed.sub(offset, offset + len(text))
        offset += len(raw) + 1


def _cfg_requirements(text: str, path: str) -> Iterator[Requirement]:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise UnparsableError("setup.cfg: text before the first [section]; not an INI file", exc.lineno) from exc
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None) or (exc.errors[0][0] if isinstance(exc, configparser.ParsingError) and exc.errors else None)
        raise UnparsableError(f"setup.cfg is not valid INI: {exc.message.splitlines()[0]}", line) from exc
    section, extra = "", None
    for number, raw in enumerate(text.split("\n"), start=1):
        header = _CFG_SECTION.match(raw)
        if header:
            section, extra = header.group(1).strip(), None
            continue
        key = _CFG_KEY.match(raw)
        if key and not raw[:1].isspace():
            name = key.group(1)
            if section == "options" and name in REQUIREMENT_ARGUMENTS:
                extra = ""
            elif section == "options.extras_require":
                extra = name
            else:
                extra = None
                continue
            value, column = key.group(2), key.start(2) + 1
        elif extra is not None and raw[:1].isspace():
            value, column = raw.lstrip(), len(raw) - len(raw.lstrip()) + 1
        else:
            extra = None if raw.strip() and not raw.lstrip().startswith(("#", ";")) else extra
            continue
        requirement = _INLINE_COMMENT.sub("", value)
        if requirement.strip() and not requirement.startswith(("#", ";", "file:")):
            yield Placed.at(requirement, number, column), extra or None
