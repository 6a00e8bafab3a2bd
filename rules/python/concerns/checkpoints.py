"""`checkpoint-load` keys: `torch.load` without `map_location`.

Without it, tensors go back to the device they were saved from, so a checkpoint written on a
GPU fails to load on a CPU-only machine. Moving what was loaded (`model.load_state_dict(
torch.load(path))`, `.to(device)`) does not help: the load itself restores each tensor to the
device it was saved from.

Not met:
- a call that passes `**kwargs` or `*args`, which may name a `map_location`, or a second positional
  argument (`torch.load(path, "cpu")`: `map_location` is the second parameter);
- a load of a file that cannot hold another machine's GPU tensors, or that the same process wrote
  (`checkpoint_sources.py`: read back, a CPU file, an array cache, rebuilt on failure), or a file
  name every save of the project fills with CPU values only (`checkpoint_writers.py`: a data
  preparation script's `"train.pt"` of token ids, a conversion script's weights loaded with
  `map_location="cpu"`, a preprocessing step's `".spec.pt"` spectrograms built on the CPU:
  `cpu_built.py`), or a file the project ships whose pickle records only CPU storages
  (`shipped_checkpoints.py`: `torch.load(os.path.join(os.path.dirname(__file__), "norms.pth"))`). A path
  saved in one function and loaded in another (`save_checkpoint(path)`, `resume(path)`) is still
  met: the two may run on different machines. So is a save after the load: a cache a previous run
  wrote (`if exists: load, else: compute and save`);
- loads in test modules: a test reads what its own suite wrote or fixture data, and runs in the
  project's test suite, not on its users' normal path (in the review of public repositories, none
  of the test modules' loads was lock-in).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.checkpoint_sources import SavedFiles, Scope
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "checkpoint-load"
LOADERS = frozenset({"torch.load"})


class CheckpointLoads(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._module: ast.Module | None = None
        self._functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        """Every function entered so far; the last one whose lines hold a call is its own."""
        self._saved: SavedFiles | None = None

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A call of a loader the catalog has a key for."""
        return survey.keyed(DETECTOR, (callee for _, callee in survey.calls if callee in LOADERS))

    def on_Module(self, node: ast.Module) -> None:
        self._module = node
        self._saved = SavedFiles(node, self.walk.names, self.walk.cpu_saved_files)

    def on_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._functions.append(node)

    on_AsyncFunctionDef = on_FunctionDef

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if callee not in LOADERS or not call.args or any(k.arg in (None, "map_location") for k in call.keywords):
            return
        if len(call.args) > 1 or isinstance(call.args[0], ast.Starred):
            return  # `torch.load(path, "cpu")`: map_location is the second positional parameter
        if self.walk.in_tests or (call.lineno, call.col_offset) in self.walk.cpu_loads:
            return  # a test's fixture, or a file the project ships whose storages are all on the CPU
        scope, saved = self._scope(call), self._saved
        if scope is not None and saved is not None and (
            saved.read_back(call, scope)
            or saved.cpu_file(call.args[0], scope)
            or saved.rebuilt_on_failure(call, scope)
            or saved.array_cache(call, scope)
        ):
            return
        self.walk.report(DETECTOR, callee, call.func)

    def _scope(self, call: ast.Call) -> Scope | None:
        """The function whose lines hold the call, else the module."""
        return next(
            (f for f in reversed(self._functions) if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)), self._module
        )


CONCERN = CheckpointLoads
