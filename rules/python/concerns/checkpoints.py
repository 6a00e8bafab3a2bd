"""`checkpoint-load` keys: `torch.load` without `map_location`.

Without it, tensors go back to the device they were saved from, so a checkpoint written on a
GPU fails to load on a CPU-only machine. A call that passes `**kwargs` or `*args` may name one,
and one with a second positional argument does (`torch.load(path, "cpu")`: `map_location` is the
second parameter): not met.

A load that reads back what the same process wrote is not met either: from an in-memory buffer
(`buf = io.BytesIO()` in the same function), or from what the same function passed to
`torch.save` before it (`path`, `file.name`, `"test.pt"`: a save-and-reload round trip), or from a
path built as that one was, in the same folder and with the same literal parts, differing only in
the values formatted into an f-string (`os.path.join(d, f"part_{rank}.pkl")`, then the same for
every rank: a gather through the file system, whose files the same job's processes wrote). A save
after the load is a cache a previous run wrote (`if exists: load, else: compute and save`), and
the load is still met. The tensors were
saved from devices this process has, so they load where it runs. A path saved in one function and
loaded in another (`save_checkpoint(path)`, `resume(path)`) is still met: the two may run on
different machines, unless the file is one the module itself writes from CPU tensors: a load
whose path names the same file (`"trainfeat.pth"` in `os.path.join(args.load, "trainfeat.pth")`)
as the module's every `torch.save` of that name, each saving an object moved to the CPU
(`feats.cpu()`, `.to("cpu")`, `{k: v.cpu() for ...}`), reads back CPU tensors on any machine.
Moving what was loaded (`model.load_state_dict(torch.load(path))`, `.to(device)`) does not help:
the load itself restores each tensor to the device it was saved from. Nor are loads in test modules met: a test reads what its own suite wrote or
fixture data, and runs in the project's test suite, not on its users' normal path (in the review
of public repositories, none of the test modules' loads was lock-in).
"""

from __future__ import annotations

import ast
import copy

from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "checkpoint-load"
LOADERS = frozenset({"torch.load"})
SAVERS = frozenset({"torch.save"})
BUFFERS = frozenset({"io.BytesIO"})


class CheckpointLoads(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._module: ast.Module | None = None
        self._functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        """Every function entered so far; the last one whose lines hold a call is its own."""
        self._written: dict[int, dict[str, tuple[int, int]]] = {}
        """Per scope (read only when it loads a checkpoint): what it saves to or makes buffers of."""
        self._cpu_files: frozenset[str] | None = None
        """The file names the module saves only objects moved to the CPU to (read on the first load met)."""

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A call of a loader the catalog has a key for."""
        return survey.keyed(DETECTOR, (callee for _, callee in survey.calls if callee in LOADERS))

    def on_Module(self, node: ast.Module) -> None:
        self._module = node

    def on_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._functions.append(node)

    on_AsyncFunctionDef = on_FunctionDef

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if callee not in LOADERS or not call.args or any(k.arg in (None, "map_location") for k in call.keywords):
            return
        if len(call.args) > 1 or isinstance(call.args[0], ast.Starred):
            return  # `torch.load(path, "cpu")`: map_location is the second positional parameter
        if self.walk.in_tests:
            return
        if not self._reads_back(call) and not self._reads_cpu_file(call.args[0]):
            self.walk.report(DETECTOR, callee, call.func)

    def _reads_cpu_file(self, path: ast.expr) -> bool:
        """Whether `path` names a file the module saves only CPU objects to."""
        if self._cpu_files is None:
            self._cpu_files = self._files_saved_from_cpu()
        name = _file_name(path)
        return name is not None and name in self._cpu_files

    def _files_saved_from_cpu(self) -> frozenset[str]:
        cpu: set[str] = set()
        other: set[str] = set()
        for node in subtree(self._module) if self._module is not None else ():
            if isinstance(node, ast.Call) and self._calls(node, SAVERS) and len(node.args) > 1:
                name = _file_name(node.args[1])
                if name is not None:
                    (cpu if _on_cpu(node.args[0]) else other).add(name)
        return frozenset(cpu - other)

    def _reads_back(self, call: ast.Call) -> bool:
        """Whether the call loads what its own function (or module) saved to or made an in-memory buffer."""
        scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | None = next(
            (f for f in reversed(self._functions) if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)), self._module
        )
        if scope is None:
            return False
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
        return isinstance(node, ast.Call) and self.walk.names.resolve(node.func) in callees


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


def _file_name(path: ast.expr) -> str | None:
    """The file a path expression names by a literal: the last string constant in it that has an
    extension (`os.path.join(d, "trainfeat.pth")`, `d / "model.pt"`, `f"{d}/model.pt"`)."""
    names = [
        node.value.rpartition("/")[2]
        for node in subtree(path)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value.rpartition("/")[2]
    ]
    return names[-1] if names else None


def _on_cpu(value: ast.expr) -> bool:
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
        return _on_cpu(value.value)
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return _on_cpu(value.elt)
    if isinstance(value, ast.Dict):
        return bool(value.values) and all(_on_cpu(v) for v in value.values)
    if isinstance(value, (ast.List, ast.Tuple)):
        return bool(value.elts) and all(_on_cpu(v) for v in value.elts)
    return False




CONCERN = CheckpointLoads
