"""Package modules that nothing in the project reaches: code no documented route runs.

A package keeps modules that nothing of the project runs: a vendored pipeline the scripts replaced
with their own loops, an unfinished feature's subpackage that only its tests import. Its CUDA sites
break no target on the project's normal path; a user who imports the module by hand runs them, a
caller outside the tree: another path, at most a warning (`verdicts.off_default_path`).

`unreached_modules` follows the project's static imports (`firstparty.ModuleMap` resolves each,
with the packages above it) from what runs without being imported: a module outside every package
(a script, an example, a top-level runner), a package's own top level (`import pkg` runs
`pkg/__init__.py`), a module with a `__main__` block or named `__main__.py`. It also counts what the
project names as text, in any file of the scan outside the test suite: a module's dotted name or
its path, whole or from a package below the top one (an entry point `pkg.cli:main`, `python -m
pkg.tool` in a README, an `importlib.import_module("pkg.ops.fused")`, `--module ops.fused`; not a
Python module's commented-out import, `# from pkg.patch import apply`), and, in the `__init__.py` files above it and its
reached siblings, its last name word as a whole string (`_import_structure["fused"]`, a lazy
module's table). Lint and packaging settings that list paths (`[tool.*]` tables of
`pyproject.toml`, `.pre-commit-config.yaml`) name no use, and neither does a `setup.py`'s extension build
(`CUDAExtension(name="pkg.ops.fused_ext", sources=[...])`, or a helper's `make_ext(module="ops.fused",
sources=[...])`): it names where the compiled module goes and what it compiles, not the Python
modules of that folder, which only an import or a document reaches. The test suite reaches nothing: a module
only its tests import is a maintained feature the normal path does not run. A package whose
`__init__.py` imports modules by a name built at run time (`import_module`, `pkgutil`, a folder
listing) reaches all its modules, which this reading cannot tell apart. A package none of whose
modules below its top level is reached shows no route of its own (a library whose users import its
modules, with no script or document in the tree): it is left alone. The files the index already
knows to be another path (`aside`: a script nothing names, a nested project nothing of the host
names) start no walk and name nothing: a training helper only an undocumented trainer imports runs
only where that trainer does. A misreading keeps a verdict: what is named anywhere counts as reached.

In an application (a project that installs nothing: no `setup.py` or `pyproject.toml` at its top),
no install puts a package on a user's path, so nothing of a package runs by itself: not its top
level, not a module with a `__main__` block or top-level calls (a registry's `register_module`),
but a `__main__.py` still does. A package the project's routes never import or name (a copy of a
segmentation toolkit beside the annotators the app uses) is then unreached as a whole, its top level
too; its bare name as a word in a document or a reached module (`sys.path.append("annotators")` then
`import seg`, `import_module("annotators.seg")`) reaches it, outside its own folder's files and a
comment line's URL; an `__init__.py` that imports by built names reaches its modules only where it
is itself reached. Such a package runs on no route at all: nothing of the project imports it, and no
install puts it where a user's own code would, so its sites are notes (`runs_nowhere`), where a module
nothing imports of a package the application does use stays a warning (a user may import that one
module by hand). The package's own tests and the scripts in it that nothing names (a copy's
`engine/test.py`, a `collect_env.py` self-report) run only where it does: what only they import runs
nowhere too. A document, a `__main__.py` or a file above that names a module of the package reaches
it, and with it the package.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_document, is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.catalog import WORD_BYTES, has_word, word_automaton
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.opt_in import import_statements, statement_modules, without_commented_imports
from cudaudit.rules.python.unnamed import read_or_none
from cudaudit.source import parse_python

Reader = Callable[[], bytes]

_BUILT_IMPORTS = (b"import_module", b"__import__", b"iter_modules", b"walk_packages", b"listdir", b"scandir", b"glob", b"walk(")
"""What a package's `__init__.py` imports its modules by a built name through."""
_TOOL_TABLE = re.compile(rb"^\[+\s*tool\.[^\n]*\n(?:(?!\[)[^\n]*\n?)*", re.M)
"""A `[tool.*]` table of a `pyproject.toml`, up to the next table: a linter's or a packager's
settings, whose path lists (`exclude = ["pkg/vendored.py"]`) name no use."""
_SETTINGS_FILES = frozenset({".pre-commit-config.yaml", ".pre-commit-config.yml", "ruff.toml", ".ruff.toml", "mypy.ini", ".coveragerc"})
"""Files of a tool's settings, whose paths are what the tool skips or checks, never a use."""
_RUNS = re.compile(rb"\n(?:[A-Za-z_][\w.]*\(|(?:async[ \t]+)?(?:for|with)[ \t]|while[ \t])")
"""A top-level statement that runs something when the file runs (a call, a loop, a `with`): a module
inside a package that does its work at its top level is a script run by its path. Searched in the
module after a newline put in front, so that the engine skips from newline to newline."""
NO_ROUTE = "no route of the project runs this package"
"""How the evidence of a module of a wholly unreached package in an application begins (`runs_nowhere`)."""
_BUILT_NAME = re.compile(rb"""(?:import_module|__import__)\(\s*f?["']([A-Za-z_][\w.]*)\.(?:\{|["']\s*\+)""")
"""An import of a name built from a literal package and a value (`import_module(f"pkg.models.{name}")`,
`__import__("pkg.models." + name)`): any module below that package may be the one loaded."""


def unreached_modules(
    candidates: Iterable[str],
    python: Mapping[str, Reader],
    others: Mapping[str, Reader],
    aside: Mapping[str, Evidence] | None = None,
    application: bool = False,
) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each of `candidates` (package modules outside the
    test suite, display paths among `python`, the scan's Python modules) that nothing of the project
    reaches (see the module docstring); `others` are the scan's other files that may name a module;
    `aside` the modules already known to be another path (a script nothing names), which reach
    nothing on the normal path by running themselves. In an `application` (a project that installs
    nothing), a top-level package's `__init__.py` runs only where something imports or names the
    package: no install puts it on a user's path, and a package nothing reaches is vendored code the
    project's routes left aside, not a library's entry."""
    aside = aside or {}
    modules = module_map(python)
    wanted = sorted(
        path for path in candidates
        if ("." in modules.name(path) or (application and posixpath.basename(path) == "__init__.py")) and not is_test_path(path)
    )
    if not wanted:
        return {}
    texts: dict[str, bytes | None] = {}

    def text(path: str) -> bytes | None:
        if path not in texts:
            texts[path] = read_or_none(python.get(path))
        return texts[path]

    code = [path for path in sorted(python) if not is_test_path(path)]
    reached: set[str] = set()
    queue = [path for path in code if path not in aside and _runs_itself(path, modules, text, application)]
    if application:  # a package's script that a file of its folder or above runs (`cd ops; python setup.py`)
        run_by_name = _names_files_above(others)
        queue += [
            path for path in code
            if path not in aside and path not in queue and _runs_itself(path, modules, text, False) and run_by_name(path)
        ]
    naming: list[str] = sorted(others)
    left = set(wanted)
    while True:
        while queue:
            path = queue.pop()
            if path in reached:
                continue
            reached.add(path)
            left.discard(path)
            naming.append(path)
            data = text(path)
            if data is not None:
                queue.extend(sorted(imported_modules(modules, path, data) - reached))
        if not left or not naming:
            break
        unreached = [path for path in code if path not in reached]
        queue = sorted(
            _named(unreached, modules, naming, others, text, reached, application)
            | _built_packages(unreached, text, reached if application else None)
        )
        naming = []
    routed = {modules.name(path).partition(".")[0] for path in reached if "." in modules.name(path)}
    scripts_run = application and any("." not in modules.name(path) and not path.endswith("__init__.py") for path in reached)
    left = {path for path in left if modules.name(path).partition(".")[0] in routed or scripts_run}
    if not left:
        return {}
    tops = {path: _top_package(path, modules) for path in left} if application else {}
    live = {
        folder for path in reached if "." in modules.name(path) or posixpath.basename(path) == "__init__.py"
        for folder in _folders_above(posixpath.dirname(path))
    }  # the folders of the package modules reached (a script in a package's folder, `configs/base.py`, is none)
    unrun = {top for top in tops.values() if top not in live}
    # a package's own tests and scripts run where the package does: in an unrun package, nowhere
    outside = [path for path in sorted(python) if not unrun.intersection(_folders_above(posixpath.dirname(path)))]
    imported_by_tests = _imported_by([path for path in outside if is_test_path(path)], left, modules, text)
    scripts = sorted(path for path in aside if path in python and not unrun.intersection(_folders_above(posixpath.dirname(path))))
    spelled = _named(sorted(left), modules, scripts, {}, text, set()) if scripts else set()
    imported_aside = spelled | _imported_by([*scripts, *sorted(spelled)], left, modules, text)
    return {
        path: Evidence(
            path, 0,
            "only the test suite imports this module: nothing on the project's own routes runs it"
            if path in imported_by_tests else
            "only files that are themselves another path (a script nothing names, a nested project's files) "
            "import or name this module: nothing on the project's own routes runs it"
            if path in imported_aside else
            f"{NO_ROUTE} (`{tops[path]}/`): no module in its folder is reached, nothing imports or names any of"
            " them, and the project installs nothing that puts it on a user's path"
            if tops.get(path) in unrun else
            "nothing in the project imports or names this module: only a user who imports it runs it",
        )
        for path in sorted(left)
    }


def runs_nowhere(found: Mapping[str, Evidence]) -> dict[str, str]:
    """Display path -> why no route runs it, for the modules of `found` (`unreached_modules`) whose
    package an application never imports or names at all: a copy nobody imports breaks no target, so
    its sites are notes (`verdicts.never_built`), where a module of a package the project uses
    stays a warning (a user may import the one module by hand)."""
    return {path: evidence.text for path, evidence in found.items() if evidence.text.startswith(NO_ROUTE)}


def _top_package(path: str, modules: ModuleMap) -> str:
    """The folder of the top-level package that holds module `path` (`third_party/seg` for
    `third_party/seg/ops/fused.py` named `seg.ops.fused`), by the module's own name: a folder some
    reached module lies in is a package the project uses, whatever name that module is imported by."""
    name = modules.name(path)
    depth = name.count(".") + (posixpath.basename(path) == "__init__.py")
    if not depth or not name:
        return ""
    folder = path
    for _ in range(depth):
        folder = posixpath.dirname(folder)
    return folder


def _imported_by(importers: list[str], left: set[str], modules: ModuleMap, text: Callable[[str], bytes | None]) -> set[str]:
    """The modules of `left` that `importers` import at any depth (through modules of `left`)."""
    found: set[str] = set()
    queue = list(importers)
    while queue:
        importer = queue.pop()
        data = text(importer)
        if data is not None:
            reached = (imported_modules(modules, importer, data) & left) - found
            found |= reached
            queue.extend(sorted(reached))
    return found


def _runs_itself(path: str, modules: ModuleMap, text: Callable[[str], bytes | None], application: bool) -> bool:
    """Whether the module runs without another module importing it: it sits outside every package (a
    script), it is a package's top level (outside an `application`, whose packages no install puts
    on a user's path), it is a `__main__.py` or a file no import can name, it tests `__name__` (run by
    path or with `-m`), or its top level runs something (`_RUNS`; outside an application, where a
    package module's top-level calls are what importing it runs, a registry's `register_module`, and
    a script run by its path is one a file names)."""
    name = posixpath.basename(path)
    top_package = name == "__init__.py" and "." not in modules.name(path)
    if ("." not in modules.name(path) and not (application and top_package)) or name == "__main__.py" or not name[:-3].isidentifier():
        return True  # a file no import statement can name (`convert-v1.2.py`) is run by its path
    data = text(path)
    if application:  # a package module of an application runs by its path or `-m` where a file names it
        return False
    return data is not None and (b"__main__" in data or (name != "__init__.py" and runs_at_top_level(data)))


def runs_at_top_level(data: bytes) -> bool:
    """Whether module `data`'s top level runs something when the file runs (a call, a loop, a `with`: `_RUNS`)."""
    return _RUNS.search(b"\n" + data) is not None


def imported_modules(modules: ModuleMap, importer: str, data: bytes) -> set[str]:
    """The scan's modules the import statements of `importer` (`data`) run, at any depth of it. An
    absolute import is also read from the importer's own folder, which Python puts first on the path
    of a script it runs (`from helpers.loss import x` beside `helpers/`, where the script's folder is
    itself a package)."""
    found: set[str] = set()
    for _, statement in import_statements(data):
        for level, module, names in statement_modules(statement):
            found |= modules.resolve(importer, level, module, names)
            if not level and module and _beside(importer, module.partition(".")[0], modules):
                found |= modules.resolve(importer, 1, module, names)
    return found - {importer}


def _beside(importer: str, name: str, modules: ModuleMap) -> bool:
    """Whether the importer's folder holds a module or package named `name`."""
    base = posixpath.join(posixpath.dirname(importer), name)
    return bool(modules.name(base + ".py") or modules.name(base + "/__init__.py"))


def _named(
    unreached: list[str],
    modules: ModuleMap,
    naming: list[str],
    others: Mapping[str, Reader],
    text: Callable[[str], bytes | None],
    reached: set[str],
    application: bool = False,
) -> set[str]:
    """The modules of `unreached` that a file of `naming` (Python modules of `reached`, the project's
    other files) names by dotted name or path, or whose last name word a reached `__init__.py` above
    them or a reached sibling spells as a whole string. In an `application`, a top-level package is
    also named by its bare name as a word (`sys.path.append("third_party")` then `import kit`, `from
    third_party.kit import x` in a README, `import_module("kit")`)."""
    spellings: dict[bytes, set[str]] = {}
    bare: set[bytes] = set()
    for path in unreached:
        if application and posixpath.basename(path) == "__init__.py" and "." not in modules.name(path):
            bare.add(modules.name(path).encode())
            spellings.setdefault(modules.name(path).encode(), set()).add(path)
        for name in modules.import_names(path):
            parts = name.split(".")
            for start in range(len(parts) - 1):  # a package-relative name too: `--module layers.fused`
                spellings.setdefault(".".join(parts[start:]).encode(), set()).add(path)
                spellings.setdefault("/".join(parts[start:]).encode(), set()).add(path)
    automaton = word_automaton(spellings)
    found: set[str] = set()
    if automaton is not None:
        for other in naming:
            data = _settings_free(other, read_or_none(others[other])) if other in others else text(other)
            if data and other.endswith(".py"):
                data = without_commented_imports(data)
            if data and posixpath.basename(other) == "setup.py":
                data = _without_extension_builds(other, data)
            if not data:
                continue
            for index, start, end in automaton.matches(data):
                word = automaton.words[index]
                after_dot = data[start - 1:start] == b"." and word not in bare
                if (start and (data[start - 1] in WORD_BYTES or after_dot)) or (end < len(data) and data[end] in WORD_BYTES):
                    continue
                if application and other.endswith(".py") and _in_comment(data, start):
                    continue
                found |= {
                    path for path in spellings[word] - {other}
                    if word not in bare or not other.startswith(posixpath.dirname(path) + "/")  # its own README
                }
    by_folder: dict[str, list[str]] = {}
    for other in sorted(reached):
        by_folder.setdefault(posixpath.dirname(other), []).append(other)
    for other in naming:
        if other in others:
            continue
        data = text(other) or b""
        if b"import_module" not in data and b"__import__" not in data:
            continue  # most modules: the pattern's alternation would be tried at every byte
        for prefix in _BUILT_NAME.findall(data):
            package = prefix.decode("ascii", "replace") + "."
            found.update(path for path in unreached if modules.name(path).startswith(package))
    documents = [other for other in others if is_document(PurePosixPath(other))]
    for path in unreached:
        if path in found:
            continue
        stem = posixpath.basename(path.removesuffix("/__init__.py").removesuffix(".py")).encode()
        quoted = re.compile(rb"""(?:["']|\.)""" + re.escape(stem) + rb"""(?:\.\w+)*["']""")
        folder = posixpath.dirname(path.removesuffix("/__init__.py"))
        nearby = [*by_folder.get(folder, ()), *(
            init for above in _folders_above(folder) for init in by_folder.get(above, ()) if init.endswith("/__init__.py")
        )]
        in_string = any((data := text(other)) is not None and quoted.search(data) for other in nearby)
        if in_string or (not path.endswith("/__init__.py") and _in_folder_document(path, documents, others)):
            found.add(path)
    return found


def _in_comment(data: bytes, start: int) -> bool:
    """Whether position `start` of a Python module lies on a comment line (a URL `# from
    .../core/utils/utils.py` names no module of the project)."""
    line = data.rfind(b"\n", 0, start) + 1
    return data[line:start].lstrip().startswith(b"#")


def _names_files_above(others: Mapping[str, Reader]) -> Callable[[str], bool]:
    """Whether a file of `others` in a module's folder or above spells its file name as a word (a
    `make.sh` beside `setup.py`, an `install.sh` that changes into its folder); each file read once."""
    read: dict[str, bytes] = {}

    def spelled(path: str) -> bool:
        name = posixpath.basename(path).encode()
        above = set(_folders_above(posixpath.dirname(path)))
        for other in others:
            if posixpath.dirname(other) in above:
                if other not in read:
                    read[other] = read_or_none(others[other]) or b""
                if has_word(read[other], name):
                    return True
        return False

    return spelled


def _folders_above(folder: str) -> list[str]:
    """`folder` and each folder above it, up to the scan's root."""
    found = [folder]
    while (above := posixpath.dirname(folder)) != folder:
        folder = above
        found.append(folder)
    return found


def _in_folder_document(path: str, documents: list[str], others: Mapping[str, Reader]) -> bool:
    """Whether a document in the module's folder or above it spells its file name (`see
    `predict_single.py``, in the README beside it)."""
    name = posixpath.basename(path).encode()
    above = set(_folders_above(posixpath.dirname(path)))
    for document in documents:
        if posixpath.dirname(document) in above and has_word(read_or_none(others[document]) or b"", name):
            return True
    return False


def _built_packages(unreached: list[str], text: Callable[[str], bytes | None], reached: set[str] | None) -> set[str]:
    """The modules of `unreached` below an `__init__.py` that imports modules by a built name; where
    `reached` is given (an application's), an `__init__.py` among them: one nothing runs imports nothing."""
    found = set()
    for path in unreached:
        folder, above = posixpath.dirname(path.removesuffix("/__init__.py")), None
        while folder != above:
            init = posixpath.join(folder, "__init__.py")
            data = text(init)
            if data is not None and (reached is None or init in reached) and any(word in data for word in _BUILT_IMPORTS):
                found.add(path)
                break
            folder, above = posixpath.dirname(folder), folder
    return found


def _without_extension_builds(path: str, data: bytes) -> bytes:
    """A `setup.py`'s text with each extension build call blanked: a call whose callee's name ends in
    `Extension` or that is given `sources=`, whose names and paths place and compile a module
    (https://setuptools.pypa.io/en/latest/userguide/ext_modules.html) rather than import one. An
    unparsable script keeps its text (a misreading keeps a verdict)."""
    if b"Extension" not in data and b"sources" not in data:
        return data
    try:
        tree = parse_python(data.decode("utf-8", "replace"), filename=path)
    except (SyntaxError, ValueError):
        return data
    lines = data.split(b"\n")
    for node in subtree(tree):
        if not isinstance(node, ast.Call) or node.end_lineno is None or node.end_col_offset is None:
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if callee.endswith("Extension") or any(keyword.arg == "sources" for keyword in node.keywords):
            for number in range(node.lineno - 1, node.end_lineno):
                line = lines[number]
                start = node.col_offset if number == node.lineno - 1 else 0
                end = node.end_col_offset if number == node.end_lineno - 1 else len(line)
                lines[number] = line[:start] + b" " * (end - start) + line[end:]
    return b"\n".join(lines)


def _settings_free(path: str, data: bytes | None) -> bytes | None:
    """A file's text without what only a tool's settings say: nothing for a settings file, a
    `pyproject.toml` without its `[tool.*]` tables."""
    name = posixpath.basename(path).lower()
    if data is None or name in _SETTINGS_FILES:
        return None
    if name == "pyproject.toml":
        return _TOOL_TABLE.sub(b"", data)
    return data

