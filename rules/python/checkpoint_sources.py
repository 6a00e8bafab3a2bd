"""Where the file a `torch.load` reads comes from, read from the module that loads it.

A checkpoint saved from GPU tensors loads only where that GPU exists, unless the load names a
`map_location`. Some files cannot hold such tensors, or are written by the same process that
reads them; `concerns/checkpoints.py` asks this module whether the file of a load is one of them:
- read back: what the same scope saved before the load, or made an in-memory buffer of, or a
  path built as the saved one was (the files of one job's processes);
- a CPU file: a file name the module saves only objects moved to the CPU to;
- an array cache: a path the loading scope hands to a function of the module that saves there
  only a value built from NumPy arrays and Python values;
- rebuilt on failure: a load bound in a `try` whose broad handler builds the value again and saves
  it to the same path, so a file that does not load costs time, not the run.
"""

from __future__ import annotations

import ast
import copy
from typing import TypeAlias

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import call_arguments, handler_catches, own_nodes, subtree

Scope: TypeAlias = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
"""The function whose lines hold a load, else the module."""
SAVERS = frozenset({"torch.save"})
BUFFERS = frozenset({"io.BytesIO"})


class SavedFiles:
    """What one module writes, read lazily: most modules load no checkpoint, and those that do
    usually have one load that the first reading settles."""

    def __init__(self, module: ast.Module, names: ImportTable, saved_elsewhere: frozenset[str] = frozenset()) -> None:
        self._module = module
        self._names = names
        self._saved_elsewhere = saved_elsewhere
        """The file names every save of the project fills with CPU values only (`checkpoint_writers.py`)."""
        self._written: dict[int, dict[str, tuple[int, int]]] = {}
        """Per scope (read only when it loads a checkpoint): what it saves to or makes buffers of."""
        self._cpu_files: frozenset[str] | None = None
        """The file names the module saves only objects moved to the CPU to (read on the first load met)."""
        self._array_writers: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] | None = None
        """The module's functions that save only values built from arrays to a path parameter (read on the first load met)."""

    def rebuilt_on_failure(self, call: ast.Call, scope: Scope) -> bool:
        """Whether the call's value is bound inside a `try` whose handler, catching the `RuntimeError`
        of a failed load, binds the same name again and saves it to the same path (`spec =
        torch.load(path)`, `except Exception: spec = compute(); torch.save(spec, path)`): a cache file
        that does not load is rebuilt, never fatal. A handler that only logs, or binds `None`, is not
        such a rebuild: the value is lost."""
        for node in own_nodes(scope.body):
            if not isinstance(node, ast.Try):
                continue
            bound = {
                name
                for statement in node.body
                for part in own_nodes([statement])
                if isinstance(part, ast.Assign) and any(n is call for n in subtree(part.value))
                for name in _names_bound([part])
            }
            if bound and any(
                handler_catches(h, _LOAD_ERRORS) and bound & _names_bound(h.body) and self._saves_to(h.body, call.args[0])
                for h in node.handlers
            ):
                return True
        return False

    def _saves_to(self, body: list[ast.stmt], path: ast.expr) -> bool:
        where = ast.dump(path)
        return any(
            isinstance(n, ast.Call) and self._calls(n, SAVERS) and len(n.args) > 1 and ast.dump(n.args[1]) == where
            for n in own_nodes(body)
        )

    def array_cache(self, call: ast.Call, scope: Scope) -> bool:
        """Whether the path loaded is one the same scope hands to a function of the module that saves
        to it only a value it builds from arrays and Python values (`_array_writers`): `torch.load(path)`
        if the file exists, else `cache_labels(files, path)`, which fills a dict with `np.zeros(...)`,
        sizes and hashes and `torch.save`s it there. Such a file holds no tensors to put back on a GPU."""
        if self._array_writers is None:
            self._array_writers = self._writers_of_arrays()
        if not self._array_writers:
            return False
        path = ast.dump(call.args[0])
        for node in subtree(scope):
            if not isinstance(node, ast.Call) or node is call:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            writer = self._array_writers.get(name or "")
            if writer is None:
                continue
            function, parameter = writer
            given = node
            if isinstance(node.func, ast.Attribute) and function.args.args[:1] and function.args.args[0].arg in ("self", "cls"):
                given = ast.Call(node.func, [ast.Name(function.args.args[0].arg, ast.Load()), *node.args], node.keywords)
            argument = call_arguments(function, given)[0].get(parameter)
            if argument is not None and ast.dump(argument) == path:
                return True
        return False

    def _writers_of_arrays(self) -> dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
        """The module's functions that `torch.save` a value built from arrays to a path parameter, by
        name, with that parameter; a name defined twice, or a function that saves anything else, is left out."""
        writers: dict[str, tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = {}
        seen: set[str] = set()
        for function in subtree(self._module):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if function.name in seen:
                writers.pop(function.name, None)
                continue
            seen.add(function.name)
            saves = [n for n in own_nodes(function.body) if isinstance(n, ast.Call) and self._calls(n, SAVERS)]
            parameters = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
            targets = {s.args[1].id if len(s.args) > 1 and isinstance(s.args[1], ast.Name) else "" for s in saves}
            if len(targets) != 1:
                continue  # no save, or saves to two places
            (target,) = targets
            if target in parameters and all(self._built_from_arrays(s.args[0], function, parameters) for s in saves):
                writers[function.name] = (function, target)
        return writers

    def _built_from_arrays(
        self, payload: ast.expr, function: ast.FunctionDef | ast.AsyncFunctionDef, parameters: set[str]
    ) -> bool:
        """Whether `payload` is a name the function binds (not a parameter) to a container display
        or a NumPy call, in a function that calls NumPy and makes or reads no tensor: it calls nothing
        of `torch` but the save, and no method that hands out a model's tensors or moves them
        (`state_dict`, `parameters`, `to`, `cuda`, ...). What it saves are arrays, sizes and hashes."""
        if not isinstance(payload, ast.Name) or payload.id in parameters:
            return False
        values = [
            n.value
            for n in own_nodes(function.body)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == payload.id for t in n.targets)
        ]
        if not values or not all(isinstance(v, _DISPLAYS) or self._resolves_to(v, "numpy.") for v in values):
            return False
        calls = [n for n in subtree(function) if isinstance(n, ast.Call)]
        if any(isinstance(c.func, ast.Attribute) and c.func.attr in _TENSOR_METHODS for c in calls):
            return False
        if any(self._resolves_to(c, "torch.") and not self._calls(c, SAVERS) for c in calls):
            return False
        return any(self._resolves_to(c, "numpy.") for c in calls)

    def _resolves_to(self, node: ast.expr, prefix: str) -> bool:
        if not isinstance(node, ast.Call):
            return False
        resolved = self._names.resolve(node.func)
        return resolved is not None and resolved.startswith(prefix)

    def cpu_file(self, path: ast.expr, scope: Scope) -> bool:
        """Whether `path` names a file (`"trainfeat.pth"` in `os.path.join(args.load, "trainfeat.pth")`,
        or in what spells it: `_spelled`) or a file of a name pattern (`"test.qnt.pt"` of `".qnt.pt"`)
        that every `torch.save` of the module to that name fills with objects moved to the CPU
        (`feats.cpu()`, `.to("cpu")`, `{k: v.cpu() for ...}`), or that every save of the project to
        that name fills with CPU values only (a data preparation script's `"train.pt"`): it holds
        CPU tensors on any machine."""
        name = file_name(self._spelled(path, scope))
        if name is None:
            return False
        if name in self._saved_elsewhere or any(
            pattern.startswith(".") and name.endswith(pattern) for pattern in self._saved_elsewhere
        ):
            return True
        if self._cpu_files is None:
            self._cpu_files = self._files_saved_from_cpu()
        return name in self._cpu_files

    def _spelled(self, path: ast.expr, scope: Scope) -> ast.expr:
        """The expression that spells `path`: the value of a name the scope binds once, and what a
        function of the module returns in its one statement (`def quant_path(p): return
        p.with_suffix(".qnt.pt")`), followed twice at most, until a file name shows."""
        for _ in range(2):
            if file_name(path) is not None:
                break
            if isinstance(path, ast.Name):
                path = _assigned_once(scope.body).get(path.id, path)
            if isinstance(path, ast.Call) and isinstance(path.func, ast.Name):
                function = self._names.function(path.func.id)
                body = [s for s in function.body if not isinstance(s, ast.Expr)] if function is not None else []
                if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                    path = body[0].value
        return path

    def _files_saved_from_cpu(self) -> frozenset[str]:
        cpu: set[str] = set()
        other: set[str] = set()
        for node in subtree(self._module):
            if isinstance(node, ast.Call) and self._calls(node, SAVERS) and len(node.args) > 1:
                name = file_name(node.args[1])
                if name is not None:
                    (cpu if on_cpu(node.args[0]) else other).add(name)
        return frozenset(cpu - other)

    def read_back(self, call: ast.Call, scope: Scope) -> bool:
        """Whether the call loads what its own function (or module) saved to before it or made an
        in-memory buffer of (`buf = io.BytesIO()`; `torch.save(x, path)`, then `torch.load(path)`),
        or a path built as a saved one was, in the same folder and with the same literal parts
        (`os.path.join(d, f"part_{rank}.pkl")`: a gather through the file system, whose files the
        same job's processes wrote). The tensors were saved from devices this process has."""
        written = self._written.get(id(scope))
        if written is None:
            written = self._written[id(scope)] = self._names_written(scope.body)
        first = written.get(ast.dump(call.args[0]))
        if first is None:
            first = written.get(_PATTERN + _pattern(call.args[0], _assigned_once(scope.body)))
        return first is not None and first < (call.lineno, call.col_offset)

    def _names_written(self, body: list[ast.stmt]) -> dict[str, tuple[int, int]]:
        """`buf = io.BytesIO()` and `torch.save(obj, where)` in the scope's own statements: the `ast.dump`
        of the expression a load would name them by, and where the first of them is."""
        written: dict[str, tuple[int, int]] = {}
        assigned: dict[str, ast.expr] | None = None
        for node in own_nodes(reversed(body)):
            if isinstance(node, ast.Assign) and self._calls(node.value, BUFFERS):
                names = [ast.dump(ast.Name(t.id, ast.Load())) for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.Call) and self._calls(node, SAVERS) and len(node.args) > 1:
                assigned = _assigned_once(body) if assigned is None else assigned
                names = [ast.dump(node.args[1]), _PATTERN + _pattern(node.args[1], assigned)]
            else:
                continue
            for name in names:
                written[name] = min(written.get(name, (node.lineno, node.col_offset)), (node.lineno, node.col_offset))
        return written

    def _calls(self, node: ast.AST, callees: frozenset[str]) -> bool:
        return isinstance(node, ast.Call) and self._names.resolve(node.func) in callees


_DISPLAYS = (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp, ast.Constant)
_TENSOR_METHODS = frozenset({"state_dict", "parameters", "named_parameters", "buffers", "to", "cuda", "detach", "tensor"})
"""Methods that hand out a model's tensors or move tensors: a function that calls one may save tensors."""
_LOAD_ERRORS = frozenset({"Exception", "BaseException", "RuntimeError"})
"""Handlers that catch the `RuntimeError` of a CUDA tensor deserialized without CUDA."""


def _names_bound(body: list[ast.stmt]) -> set[str]:
    """The names the statements assign to (`x = ...`, `x, y = ...`), outside the functions they define."""
    return {
        n.id for s in own_nodes(body) if isinstance(s, ast.Assign) for t in s.targets for n in subtree(t)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


_PATTERN = "pattern:"
"""Marks a path's pattern among the `ast.dump`s of what a scope writes (`_pattern`)."""


def _assigned_once(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """The names a scope's own statements bind exactly once, by a plain assignment, with their values."""
    values: dict[str, ast.expr] = {}
    bound: dict[str, int] = {}
    for node in own_nodes(reversed(body)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] = bound.get(node.id, 0) + 1
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    return {name: value for name, value in values.items() if bound.get(name) == 1}


def _pattern(path: ast.expr, assigned: dict[str, ast.expr]) -> str:
    """How a path is built, with the names bound once in its scope replaced by their values and the
    values formatted into the file name of an f-string left out: `os.path.join(folder,
    f"part_{rank}.pkl")` and `os.path.join(folder, f"part_{other}.pkl")` are one pattern, the files of
    the processes of one job; another folder (`in_dir` for `out_dir`, `f"{in_dir}/part_{rank}.pkl"`)
    or another literal part is another."""

    class Inline(ast.NodeTransformer):
        depth = 3

        def visit_Name(self, node: ast.Name) -> ast.AST:
            value = assigned.get(node.id) if self.depth else None
            if value is None:
                return node
            self.depth -= 1
            try:
                return self.visit(copy.deepcopy(value))
            finally:
                self.depth += 1

        def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
            slashes = [i for i, v in enumerate(node.values) if isinstance(v, ast.Constant) and "/" in str(v.value)]
            folder = slashes[-1] if slashes else -1  # what comes before the last "/" names the folder
            node.values = [
                ast.Constant("{}") if isinstance(v, ast.FormattedValue) and i > folder else self.visit(v)
                for i, v in enumerate(node.values)
            ]
            return node

    return ast.dump(Inline().visit(copy.deepcopy(path)))


def file_name(path: ast.expr) -> str | None:
    """The file a path expression names by a literal: the last string constant in it that has an
    extension (`os.path.join(d, "trainfeat.pth")`, `d / "model.pt"`, `f"{d}/model.pt"`)."""
    names = [
        node.value.rpartition("/")[2]
        for node in subtree(path)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value.rpartition("/")[2]
    ]
    return names[-1] if names else None


def on_cpu(value: ast.expr) -> bool:
    """`x.cpu()`, `x.to("cpu")`, `x.to(device="cpu")`, and dict, list or tuple displays and
    comprehensions all of whose values are such."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr == "cpu" and not value.args:
            return True
        if value.func.attr == "to":
            targets = [*value.args[:1], *(k.value for k in value.keywords if k.arg == "device")]
            return any(isinstance(t, ast.Constant) and t.value == "cpu" for t in targets)
        return False
    if isinstance(value, ast.DictComp):
        return on_cpu(value.value)
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return on_cpu(value.elt)
    if isinstance(value, ast.Dict):
        return bool(value.values) and all(on_cpu(v) for v in value.values)
    if isinstance(value, (ast.List, ast.Tuple)):
        return bool(value.elts) and all(on_cpu(v) for v in value.elts)
    return False



