"""The project code a documented script's run reaches: which of the scan's Python sites it runs.

A project of scripts is used through the commands its documents give (`python test.py --name
...`, `documented_scripts`); a site that stops a target stops each of those commands whose run
reaches it, wherever the site is written (`models/generator.py`'s `x.cuda()` in the method the
script's model calls), and the project runs on the target where one command reaches none. Which
lines a run reaches is read from the modules' syntax alone, never by running them, by name:

- a script runs its module level, its `__main__` block and its own functions and classes (`main()`);
  an imported module runs its level without that block;
- a reached body reaches what it names: a function or class of its own module, or one it imports
  (`from models.models import create_model`, in any block: an import in a function runs when the
  function does), and the module level of every module an import in it names (with the packages
  above, whose `__init__.py` runs first); a name a module imports from a module that itself
  imports it is followed there (a package's re-export, `from .pipeline import *` too);
- an absolute import the project's module names do not resolve takes the module beside the importer
  (`from kmeans import KMeans` in `cluster/train.py`, which Python finds first where the script runs);
- a string that names a module's function or class (`{"target": "pkg.models.Generator"}`, which a
  configuration's factory imports) reaches it, and the module's level;
- an attribute of `self` or `cls` in a method (`self.encode_input(x)`) reaches the method of that
  name of the method's class, or of the first of its bases (by name) that has one; any other
  attribute (`model.inference(x)`, `util.tensor2im(x)`) reaches the methods of that name of every
  class reached (but `forward`, which nearly every model class defines), and the functions and
  classes of that name of the modules the body's module imports; a class reached runs its construction (`__init__`), and its
  other methods only where a reached body names them (`model(x)` is not read as `forward`);
- a call of an object a body built or declared of a class of the project (`pipe = Pipeline(...)`
  then `pipe(x)`; `self.engine: Engine = load()` then `self.engine(x)`, or `pipe.engine(x)` from
  another body) reaches that class's `__call__`: the object's class is written, not guessed;
- a site in a parameter's default (`device="cuda"`) is reached where a body the run reaches calls the
  function (a class, for `__init__`) leaving that parameter out: a call that passes it (`build(cfg,
  device=device)`), or passes `*args`/`**kwargs`, does not take the default. A call is the function's
  where its name resolves to it as the calling module reads it: a bare name through the module's own
  definitions and imports, an attribute of an imported module through that module (`models.load(x)`;
  `torch.load(x)`, of a library, calls nothing of the project's), and an attribute of anything else
  (`self.run(x)`, `net.run(x)`) a method of that name. A site elsewhere in a header (a decorator, an
  annotation) is reached by none.

Branches are not read: a site's own severity already says whether its branch is the normal path.
A module that cannot be read or parsed reaches nothing (the scan reports it already).
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from cudaudit.cache import Store
from cudaudit.firstparty import ModuleMap, file_or_package, module_map
from cudaudit.rules.python.nodes import is_main_test
from cudaudit.safe_read import UnreadableFile, content_digest, read_tree_file
from cudaudit.source import UndecodableError, decode_python, read_tree

_Key = TypeVar("_Key")
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\Z")
CALLED_BY_PYTHON = ("__init__", "__post_init__")
"""Methods a reached class runs without a call spelled by name: its construction. Not `__call__` nor
`forward` (which `torch.nn.Module.__call__` runs): a class is often built for its other methods (a
model's `test()` at inference, `forward()` only in training), and a run is said to stop only where
the reading is sure enough to name the site."""
GENERIC_METHODS = frozenset({"forward"})
"""Methods nearly every class of a model's code defines: a call of one on an unknown receiver
(`facemodel.forward(x)`) names no class in particular, and reaches none."""
SELF = ("self", "cls")
"""The names a method reads its own object by."""
MAX_BASES = 8
"""How far up a class's bases `self.name` is looked for."""
TOP = ""
"""The name of a module's own level among its bodies."""
MAIN = "__main__"
"""The name of a module's `if __name__ == "__main__":` block, which runs only where it is the script."""


@dataclass
class _Body:
    """What one function, method or module level names: the names it reads, the attributes it
    takes, the modules its imports run."""

    names: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)
    own: set[str] = field(default_factory=set)
    """Attributes taken of `self` or `cls`: the methods of the body's class and of those it derives from."""
    imported: set[str] = field(default_factory=set)
    dotted: set[str] = field(default_factory=set)
    """Strings that may name a function or class by its module (`"pkg.models.Generator"`)."""
    typed: dict[str, set[str]] = field(default_factory=dict)
    """Local name -> the classes it is built of or declared as (`pipe = Pipeline()`, `pipe: Pipeline`)."""
    own_typed: dict[str, set[str]] = field(default_factory=dict)
    """The same of the attributes of `self` the body sets (`self.engine: Engine = ...`)."""
    arguments: dict[tuple[str | None, str], list[tuple[int, frozenset[str], bool]]] = field(default_factory=dict)
    """(the name a called attribute is taken of, None for a bare name, "" for anything else; the
    callee's name) (`build` as (None, "build"), `models.load` as ("models", "load"), `net.fc.run` as
    ("", "run")) -> each call's positional count, keyword names, and whether it passes `*args` or
    `**kwargs`."""
    called: set[tuple[str, str]] = field(default_factory=set)
    """The objects the body calls: (name, "") for `pipe(x)`, (name, attribute) for `pipe.engine(x)`
    and `self.engine(x)`."""


@dataclass(frozen=True)
class _Default:
    """A parameter's default: its lines, its function (`f`, `Class.method`), the parameter's name, and
    its position among those a call may pass by position (None for a keyword-only one)."""

    first: int
    last: int
    function: str
    parameter: str
    position: int | None

    def callee(self, path: str) -> tuple[str, str]:
        """What a call of the function, defined in module `path`, resolves to (`_Calls`): (module,
        name) of a function, or of the class for `__init__`; ("", name) of another method."""
        owner, _, method = self.function.rpartition(".")
        if not owner:
            return path, method
        return (path, owner) if method == "__init__" else ("", method)

    def left_out(self, call: tuple[int, frozenset[str], bool]) -> bool:
        """Whether a call (positional count, keyword names, `*`/`**` passed) leaves the parameter out."""
        positional, keywords, spread = call
        return not spread and self.parameter not in keywords and (self.position is None or positional <= self.position)


@dataclass
class _Module:
    """One module's bodies by name (`f`, `Class.method`, `TOP`), its classes' methods, the names
    its imports bind (name -> (modules, the name imported there or None for a module)), and the
    line ranges of each body and each header."""

    bodies: dict[str, _Body] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)
    classes: dict[str, set[str]] = field(default_factory=dict)
    bases: dict[str, list[str]] = field(default_factory=dict)
    """Class -> the names of its bases (`BaseModel`, `nn.Module` as `Module`)."""
    bound: dict[str, list[tuple[frozenset[str], str | None]]] = field(default_factory=dict)
    spans: list[tuple[int, int, str | None]] = field(default_factory=list)
    """(first line, last line, body name, or None for a header), innermost last."""
    defaults: list[_Default] = field(default_factory=list)
    """The parameters' defaults of each function's header."""

    def unit(self, line: int) -> str | None:
        """The body a line is in (`TOP` outside every function), None in a function's header and in
        a module not read."""
        found: str | None = TOP if self.bodies else None
        for first, last, name in self.spans:
            if first <= line <= last:
                found = name
        return found

    def defaults_at(self, line: int) -> list[_Default]:
        """The parameters' defaults a line is in (`a=1, b="cuda"` on one line: both)."""
        return [found for found in self.defaults if found.first <= line <= found.last]


def reached_sites(
    scripts: Iterable[str], sources: Iterable[str], sites: Mapping[_Key, tuple[str, int]], root: str,
    store: Store | None = None,
) -> dict[str, frozenset[_Key]]:
    """Script -> the keys of `sites` (key -> (display path, line)) that a run of it reaches, for each
    of `scripts`; `sources` are the scan's Python modules (display paths), read under `root`.

    The answer is a function of the scripts, the sites' places and each source's path and bytes:
    `store` keeps it under those (the sources' content digests), so that a warm scan of an
    unchanged tree reads each module's bytes but parses none."""
    listed = list(sources)
    reader = _Reader(module_map(listed), root or ".", frozenset(listed))
    places = list(sites.items())
    ordered = sorted(scripts)
    if store is None:
        return _reached(reader, ordered, places)
    key = store.key(root, *ordered, "", *(f"{path}\0{reader.digest(path)}" for path in listed),
                    "", *(f"{path}\0{line}" for _, (path, line) in places))
    slot = os.path.abspath(root or ".")
    found = store.get(slot, key)
    if _is_answer(found, ordered, len(places)):
        return {script: frozenset(places[index][0] for index in indices) for script, indices in found}
    answer = _reached(reader, ordered, places)
    position = {site: index for index, (site, _) in enumerate(places)}
    store.put(slot, key, tuple((script, tuple(sorted(position[site] for site in answer[script]))) for script in ordered))
    store.save()
    return answer


def _reached(reader: _Reader, scripts: list[str], places: list[tuple[_Key, tuple[str, int]]]) -> dict[str, frozenset[_Key]]:
    by_path: dict[str, list[tuple[_Key, int]]] = {}
    for key, (path, line) in places:
        by_path.setdefault(path, []).append((key, line))
    found = {}
    for script in scripts:
        units = reader.reach(script)
        calls = _Calls(reader, units)
        found[script] = frozenset(
            key for path, keyed in by_path.items() if path in units
            for key, line in keyed if _reaches(path, reader.module(path), line, units[path], calls)
        )
    return found


class _Calls:
    """The calls a run's reached bodies make, by what each callee resolves to (`_Default.callee`),
    gathered on the first question only."""

    def __init__(self, reader: _Reader, units: dict[str, set[str]]) -> None:
        self._reader = reader
        self._units = units
        self._found: dict[tuple[str, str], list[tuple[int, frozenset[str], bool]]] | None = None

    def __call__(self) -> dict[tuple[str, str], list[tuple[int, frozenset[str], bool]]]:
        if self._found is None:
            self._found = {}
            for path, names in self._units.items():
                module = self._reader.module(path)
                for name in names:
                    for (base, callee), shapes in (module.bodies[name].arguments.items() if name in module.bodies else ()):
                        for key in self._reader.callees(path, base, callee):
                            self._found.setdefault(key, []).extend(shapes)
        return self._found


def _reaches(
    path: str, module: _Module, line: int, bodies: set[str], calls: Callable[[], dict[tuple[str, str], list]]
) -> bool:
    """Whether a run that reaches `bodies` of `module` (at `path`) reaches `line`: in one of them, or in
    a default of a function among them that a call the run makes (`calls`: callee -> argument shapes)
    leaves out."""
    if module.unit(line) in bodies:
        return True
    return any(default.function in bodies and any(map(default.left_out, calls().get(default.callee(path), ())))
               for default in module.defaults_at(line))


def _is_answer(value: object, scripts: list[str], count: int) -> bool:
    """Whether a stored value is an answer for `scripts`: (script, positions in the sites) each."""
    return (
        isinstance(value, tuple) and len(value) == len(scripts)
        and all(isinstance(entry, tuple) and len(entry) == 2 and entry[0] == script and isinstance(entry[1], tuple)
                and all(isinstance(index, int) and 0 <= index < count for index in entry[1])
                for entry, script in zip(value, scripts))
    )


class _Reader:
    """The modules of one scan, each read once however many scripts reach it."""

    def __init__(self, modules: ModuleMap, root: str, sources: frozenset[str] = frozenset()) -> None:
        self._modules = modules
        self._root = root
        self._sources = sources
        self._read: dict[str, _Module] = {}
        self._bytes: dict[str, bytes] = {}
        self._defined: dict[tuple[str, str, frozenset[str]], list[tuple[str, str]]] = {}
        self._imports: dict[str, list[str]] = {}

    def module(self, path: str) -> _Module:
        known = self._read.get(path)
        if known is None:
            known = self._read[path] = self._parse(path)
        return known

    def digest(self, path: str) -> str:
        """The content digest of a module's bytes, which are kept for its parse."""
        try:
            data = self._bytes[path] = read_tree_file(path, self._root)
        except UnreadableFile as exc:
            return f"unreadable: {exc.reason}"
        return content_digest(data)

    def reach(self, script: str) -> dict[str, set[str]]:
        """Module -> the bodies a run of `script` reaches."""
        reached: dict[str, set[str]] = {}
        classes: set[tuple[str, str]] = set()
        having: dict[str, list[tuple[str, str]]] = {}  # method -> the reached classes that define it
        attributes: set[str] = set()
        queue: list[tuple[str, str]] = []

        def add(path: str, body: str) -> None:
            if body not in reached.setdefault(path, set()):
                reached[path].add(body)
                queue.append((path, body))

        def add_class(path: str, name: str) -> None:
            if (path, name) not in classes:
                classes.add((path, name))
                methods = self.module(path).classes[name]
                for method in methods:
                    having.setdefault(method, []).append((path, name))
                for method in sorted(methods & (set(CALLED_BY_PYTHON) | attributes)):
                    add(path, f"{name}.{method}")

        def add_name(path: str, name: str, seen: frozenset[str] = frozenset()) -> None:
            for where, kind in self._definitions(path, name, seen):
                if kind == "function":
                    add(where, name)
                else:
                    add_class(where, kind)

        def add_own(path: str, cls: str, method: str, depth: int = 0) -> None:
            module = self.module(path)
            if method in module.classes.get(cls, ()):
                add(path, f"{cls}.{method}")
            elif depth < MAX_BASES:
                for base in module.bases.get(cls, ()):
                    for where, kind in self._definitions(path, base):
                        if kind != "function":
                            add_own(where, kind, method, depth + 1)

        start = self.module(script)
        for own in start.bodies:
            add(script, own)
        for name in start.classes:
            add_class(script, name)
        while queue:
            path, name = queue.pop()
            module = self.module(path)
            body = module.bodies.get(name)
            if body is None:
                continue
            for target in body.imported:
                add(target, TOP)
            for word in body.names:
                add_name(path, word)
            for dotted in body.dotted:
                named, _, last = dotted.rpartition(".")
                for target in sorted(self._modules.resolve(path, 0, named)):
                    add(target, TOP)
                    add_name(target, last, frozenset({target}))
            owner_class = name.partition(".")[0] if "." in name else None
            for word in body.own:
                if owner_class is not None:
                    add_own(path, owner_class, word)
            for cls_path, cls in self._called(path, module, body, owner_class):
                add_class(cls_path, cls)
                add_own(cls_path, cls, "__call__")
            new = (body.attributes | (body.own if owner_class is None else set())) - attributes - GENERIC_METHODS
            attributes |= new
            for method in sorted(new):
                for owner, cls in sorted(having.get(method, ())):
                    add(owner, f"{cls}.{method}")
            for target in self._imported(path) if body.attributes else ():
                for word in body.attributes:
                    add_name(target, word, frozenset({target}))
        return reached

    def callees(self, path: str, base: str | None, callee: str) -> list[tuple[str, str]]:
        """What a call in `path` resolves to (`_Default.callee`): a bare name (`base` None) the
        functions and classes it names there; an attribute of a module of the project the module's
        imports bind, what that module defines of that name (of a library's, nothing: `torch.load`);
        an attribute of anything else (`self`, a local, an imported class) a method of that name."""
        if base is None:
            return [(where, callee if kind == "function" else kind) for where, kind in self._definitions(path, callee)]
        bound = self.module(path).bound.get(base) if base and base not in SELF else None
        if not bound or self._definitions(path, base):
            return [("", callee)]
        return [
            (where, callee if kind == "function" else kind)
            for targets, _ in bound for target in sorted(targets)
            for where, kind in self._definitions(target, callee, frozenset({target}))
        ]

    def _called(self, path: str, module: _Module, body: _Body, owner: str | None) -> list[tuple[str, str]]:
        """The classes (module, name) whose objects `body` calls: of a local built or declared of a
        class (`pipe(x)`), or of an attribute such a class's methods set (`self.engine(x)`, `pipe.engine(x)`)."""
        found: list[tuple[str, str]] = []
        for name, attribute in body.called:
            if name in SELF:
                holders = [(path, owner)] if owner is not None else []
            else:
                holders = self._classes(path, body.typed.get(name) or module.bodies[TOP].typed.get(name, set()))
            if not attribute:
                found += holders
                continue
            for where, cls in holders:
                held = self.module(where)
                kinds = {kind for method in held.classes.get(cls, ()) for kind in held.bodies[f"{cls}.{method}"].own_typed.get(attribute, ())}
                found += self._classes(where, kinds)
        return found

    def _classes(self, path: str, names: Iterable[str]) -> list[tuple[str, str]]:
        """The project's classes (module, name) that `names`, as `path` reads them, are."""
        return [(where, kind) for name in sorted(names) for where, kind in self._definitions(path, name) if kind != "function"]

    def _imported(self, path: str) -> list[str]:
        """The modules `path`'s imports name, in order, once per module."""
        known = self._imports.get(path)
        if known is None:
            known = self._imports[path] = sorted(_imported_modules(self.module(path)))
        return known

    def _definitions(self, path: str, name: str, seen: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Where `name` as `path` reads it is defined: (module, "function") or (module, class name),
        through the imports that bind it (a package's re-export, a star import); each answer once
        per scan (a big project asks the same ones a hundred thousand times)."""
        key = (path, name, seen)
        known = self._defined.get(key)
        if known is None:
            known = self._defined[key] = self._find(path, name, seen)
        return known

    def _find(self, path: str, name: str, seen: frozenset[str]) -> list[tuple[str, str]]:
        module = self.module(path)
        if name in module.functions:
            return [(path, "function")]
        if name in module.classes:
            return [(path, name)]
        if path in seen:
            return []
        found = []
        for targets, imported in (*module.bound.get(name, ()), *module.bound.get("*", ())):
            for target in sorted(targets):
                if imported is not None:
                    found += self._definitions(target, name if imported == "*" else imported, seen | {path})
        return found

    def _parse(self, path: str) -> _Module:
        try:
            data = self._bytes.pop(path, None)
            tree = read_tree(decode_python(read_tree_file(path, self._root) if data is None else data), path)
        except (UnreadableFile, UndecodableError, SyntaxError, ValueError, RecursionError):
            return _Module()
        module = _Module()
        top = module.bodies[TOP] = _Body()
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions.add(statement.name)
                self._function(module, path, statement, statement.name)
            elif isinstance(statement, ast.ClassDef):
                methods = module.classes[statement.name] = set()
                module.bases[statement.name] = [
                    base.id if isinstance(base, ast.Name) else base.attr
                    for base in statement.bases if isinstance(base, (ast.Name, ast.Attribute))
                ]
                for member in statement.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        methods.add(member.name)
                        self._function(module, path, member, f"{statement.name}.{member.name}")
                    else:
                        self._read_into(module, path, member, top)
                for node in (*statement.bases, *statement.keywords, *statement.decorator_list):
                    self._read_into(module, path, node, top)
            elif isinstance(statement, ast.If) and is_main_test(statement.test):
                main = module.bodies[MAIN] = _Body()
                module.spans.append((statement.lineno, statement.end_lineno or statement.lineno, MAIN))
                self._read_into(module, path, statement, main)
            else:
                self._read_into(module, path, statement, top)
        return module

    def _function(self, module: _Module, path: str, node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
        body = module.bodies[name] = _Body()
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        start = node.body[0].lineno
        if start > first:
            module.spans.append((first, start - 1, None))
        module.defaults += _defaults(node, name)
        module.spans.append((start, node.end_lineno or start, name))
        for statement in node.body:
            self._read_into(module, path, statement, body)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:  # what a header's defaults name is built at the definition
                self._read_into(module, path, default, module.bodies[TOP])

    def _resolve(self, path: str, level: int, name: str, names: Iterable[str] = ()) -> frozenset[str]:
        """The modules an import in `path` runs; for an absolute one the project's names do not resolve,
        the module beside `path` (`from kmeans import KMeans` in `cluster/train.py`, run as a script:
        Python puts the script's folder first on the path)."""
        found = frozenset(self._modules.resolve(path, level, name, names))
        if found or level or not name:
            return found
        return frozenset(file_or_package(posixpath.join(posixpath.dirname(path), *name.split(".")), self._sources))

    def _read_into(self, module: _Module, path: str, node: ast.AST, body: _Body) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                body.names.add(child.id)
            elif isinstance(child, ast.Attribute):
                (body.own if _is_self(child.value) else body.attributes).add(child.attr)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str) and _DOTTED.match(child.value):
                body.dotted.add(child.value)
            elif isinstance(child, (ast.Assign, ast.AnnAssign)):
                _type_of(child, body)
            elif isinstance(child, ast.Call):
                _called_object(child.func, body)
                _note_arguments(child, body)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    targets = self._resolve(path, 0, alias.name)
                    body.imported |= targets
                    bound = alias.asname or alias.name.partition(".")[0]
                    named = targets if alias.asname else frozenset(self._modules.resolve(path, 0, bound))
                    module.bound.setdefault(bound, []).append((named, None))
            elif isinstance(child, ast.ImportFrom):
                for alias in child.names:
                    targets = self._resolve(path, child.level, child.module or "", [alias.name])
                    body.imported |= targets
                    module.bound.setdefault(alias.asname or alias.name, []).append((targets, alias.name))


def _imported_modules(module: _Module) -> set[str]:
    """The modules a module's imports name, in any of its blocks."""
    return {target for entries in module.bound.values() for targets, _ in entries for target in targets}


def _type_of(node: ast.Assign | ast.AnnAssign, body: _Body) -> None:
    """Note the class an assignment builds its targets of (`x = Cls(...)`) or declares them as (`x: Cls`)."""
    named = (_class_name(node.annotation) or _built(node.value)) if isinstance(node, ast.AnnAssign) else _built(node.value)
    targets: list[ast.expr] = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
    if named is None:
        return
    for target in targets:
        if isinstance(target, ast.Name):
            body.typed.setdefault(target.id, set()).add(named)
        elif isinstance(target, ast.Attribute) and _is_self(target.value):
            body.own_typed.setdefault(target.attr, set()).add(named)


def _built(value: ast.expr | None) -> str | None:
    """The class a value is built of: `Cls(...)`, `pkg.Cls(...)`."""
    return _class_name(value.func) if isinstance(value, ast.Call) else None


def _class_name(node: ast.expr | None) -> str | None:
    """The name an annotation or a callee spells (`Cls`, `pkg.Cls`, `"Cls"`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
        return node.value
    return None


def _called_object(func: ast.expr, body: _Body) -> None:
    """Note a call of a name (`pipe(x)`) or of one attribute of a name (`pipe.engine(x)`, `self.engine(x)`)."""
    if isinstance(func, ast.Name):
        body.called.add((func.id, ""))
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        body.called.add((func.value.id, func.attr))


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in SELF


def _defaults(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[_Default]:
    """The defaults of a function's parameters; a method's own object (`self`) is no position a call passes."""
    ordered = [*node.args.posonlyargs, *node.args.args]
    skip = 1 if "." in name and ordered and ordered[0].arg in SELF else 0
    found = [
        _Default(value.lineno, value.end_lineno or value.lineno, name, parameter.arg, index - skip)
        for index, (parameter, value) in enumerate(zip(ordered[len(ordered) - len(node.args.defaults):], node.args.defaults),
                                                   start=len(ordered) - len(node.args.defaults))
    ]
    found += [_Default(value.lineno, value.end_lineno or value.lineno, name, parameter.arg, None)
              for parameter, value in zip(node.args.kwonlyargs, node.args.kw_defaults) if value is not None]
    return found


def _note_arguments(call: ast.Call, body: _Body) -> None:
    """Note the shape of a call by name (`build(cfg, device=d)`, `obj.run(x)`): what it passes."""
    func = call.func
    if isinstance(func, ast.Name):
        callee: tuple[str | None, str] = (None, func.id)
    elif isinstance(func, ast.Attribute):
        callee = (func.value.id if isinstance(func.value, ast.Name) else "", func.attr)
    else:
        return
    spread = any(isinstance(arg, ast.Starred) for arg in call.args) or any(keyword.arg is None for keyword in call.keywords)
    shape = (len(call.args), frozenset(keyword.arg for keyword in call.keywords if keyword.arg is not None), spread)
    body.arguments.setdefault(callee, []).append(shape)
