"""`env-var` keys: environment variables a module reads or sets for itself or a child process.

`os.environ["CUDA_HOME"]`, `os.getenv("CUDA_VISIBLE_DEVICES")`, `"NCCL_DEBUG" in os.environ`,
`os.environ.update({...})`, `subprocess.run(..., env={"CUDA_VISIBLE_DEVICES": ids})`,
`monkeypatch.setenv(...)` in tests, and a string key of any dict or subscript that is one of
the catalog's variables (`env["CUDA_VISIBLE_DEVICES"] = ids` for a child process).

A variable's presence test and what the branch it guards does with that variable work on every
target: `if "CUDA_PATH" in os.environ: os.add_dll_directory(os.environ["CUDA_PATH"])` runs only
where a CUDA toolkit set the variable, and is skipped on a ROCm or CPU host. Both sites are notes.
A test the other way round (`if "CUDA_HOME" not in os.environ: raise ...`) is a requirement and
keeps its severity; only the uses in its `else` branch are quiet.

Removing a variable (`monkeypatch.delenv("CUDA_HOME")`, `os.environ.pop(...)`, `os.unsetenv(...)`,
`del os.environ[...]`) as a statement of its own makes the process use less of CUDA, never more:
it works on every target and is a note. `home = os.environ.pop("CUDA_HOME")` reads the value too.

A read whose value is only shown (`print(os.environ.get("TORCH_CUDA_ARCH_LIST"))`, a row of an
environment report: `shown.is_shown`) decides nothing: what it holds on another host is printed. A note.

An NCCL variable in a function (or module) that also names a Gloo one (`os.environ["GLOO_DEVICE_TRANSPORT"]
= "TCP"` beside `os.environ["NCCL_SOCKET_IFNAME"] = "lo"`) configures both backends: where Gloo runs
(a CPU), it has its own settings and nothing reads the NCCL one. A note.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache

from cudaudit.model import Severity
from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.nodes import Parents, subtree
from cudaudit.rules.python.shown import is_shown
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "env-var"
ENVIRON = "os.environ"
ENV_CALLS = frozenset(
    {
        "os.getenv",
        "os.putenv",
        "os.unsetenv",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
    }
)
"""Callables whose first argument is a variable's name."""
ENV_METHODS = frozenset({"setenv", "delenv"})
"""`monkeypatch.setenv("CUDA_VISIBLE_DEVICES", ...)` in tests."""
SETTERS = frozenset({"os.putenv", "os.environ.setdefault"})
"""Of `ENV_CALLS`, those whose second argument is the value the variable is set to."""
NCCL = "NCCL_"
GLOO = "GLOO_"
"""The prefixes of the two backends' own variables."""
REMOVERS = frozenset({"os.unsetenv", "os.environ.pop", "delenv"})
"""Calls (and the test method) that remove the variable they name."""
PRESENCE_CALLS = frozenset({"os.getenv", "os.environ.get"})
"""Calls that, used as a condition, hold only where the variable is set (and not empty)."""


class EnvironmentVariables(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._where_set: set[int] = set()
        """Ids of the name nodes of sites that run only where their variable is set."""
        self._set_to: dict[int, str] = {}
        """The string a variable is set to, by the id of its name node (`os.environ["X"] = "0"`)."""
        self._module: ast.Module | None = None
        self._names_gloo: dict[int, bool] = {}
        """Whether a function (or the module) names a Gloo variable, by its id, found where first needed."""
        self._parents: Parents | None = None
        """The module's parents, made where a read is first asked about."""

    def on_Module(self, node: ast.Module) -> None:
        self._module = node

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A string that names a variable the catalog has a key for (`X`, or the `X` of `X=0`)."""
        return survey.has_string(_variable_names(survey.catalog.keys(DETECTOR)).__contains__)

    def on_Assign(self, node: ast.Assign) -> None:
        value = string_value(node.value)
        if value is not None:
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    self._set_to[id(target.slice)] = value

    def on_If(self, node: ast.If) -> None:
        self._quiet_where_set(node.test, node.body, node.orelse)

    def on_IfExp(self, node: ast.IfExp) -> None:
        self._quiet_where_set(node.test, [node.body], [node.orelse])

    def _quiet_where_set(self, test: ast.expr, body: list, orelse: list) -> None:
        for name, tested, present in self._presence(test):
            if present:
                self._where_set.add(id(tested))  # the probe's own test
            for branch_node in body if present else orelse:
                self._where_set.update(
                    id(n) for n in subtree(branch_node) if isinstance(n, ast.Constant) and n.value == name
                )

    def _presence(self, test: ast.expr) -> Iterator[tuple[str, ast.expr, bool]]:
        """(variable, its name node, whether the true branch is where it is set) for each presence
        test in a condition: `"X" in os.environ`, `os.getenv("X")`, `not ...`, `... and ...`."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            for value in test.values:
                yield from self._presence(value)
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            yield from ((name, node, not present) for name, node, present in self._presence(test.operand))
        elif (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.In, ast.NotIn))
            and self.walk.names.resolve(test.comparators[0]) == ENVIRON
            and string_value(test.left)
        ):
            yield string_value(test.left) or "", test.left, isinstance(test.ops[0], ast.In)
        elif (
            isinstance(test, ast.Call)
            and len(test.args) == 1
            and not test.keywords
            and self.walk.names.resolve(test.func) in PRESENCE_CALLS
            and string_value(test.args[0])
        ):
            yield string_value(test.args[0]) or "", test.args[0], True
    def on_call(self, call: ast.Call, callee: str | None) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ENV_METHODS and call.args:
            self._report(call.args[0], _second_string(call), removed=self._removes(call, func.attr))
        if not self.walk.in_comparison:
            for keyword in call.keywords:
                if keyword.arg == "env" and isinstance(keyword.value, ast.Dict):
                    self._report_keys(keyword.value)
        if callee is None or not call.args:
            return
        if callee in ENV_CALLS:
            shown = callee in PRESENCE_CALLS and self._shown(call)
            self._report(call.args[0], _second_string(call) if callee in SETTERS else None, removed=self._removes(call, callee), shown=shown)
        elif callee == ENVIRON + ".update" and isinstance(call.args[0], ast.Dict):
            self._report_keys(call.args[0])

    def _removes(self, call: ast.Call, name: str) -> bool:
        """Whether `call` removes its variable and its result is dropped."""
        statement = self.walk.statement
        return name in REMOVERS and isinstance(statement, ast.Expr) and statement.value is call

    def on_Subscript(self, node: ast.Subscript) -> None:
        if self.walk.names.resolve(node.value) == ENVIRON or string_value(node.slice) in self.walk.keys(DETECTOR):
            shown = isinstance(node.ctx, ast.Load) and self._shown(node)
            self._report(node.slice, removed=isinstance(node.ctx, ast.Del), shown=shown)

    def on_Compare(self, node: ast.Compare) -> None:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self.walk.names.resolve(node.comparators[0]) == ENVIRON
        ):
            self._report(node.left)

    def on_Dict(self, node: ast.Dict) -> None:
        names = self.walk.keys(DETECTOR)
        for key, value in zip(node.keys, node.values):
            if key is not None and string_value(key) in names:
                self._report(key, string_value(value))

    def _shown(self, read: ast.expr) -> bool:
        """Whether the value `read` (`os.environ.get("X")`, `os.environ["X"]`) is only shown."""
        if self._module is None:
            return False
        if self._parents is None:
            self._parents = Parents(self._module)
        return is_shown(read, self._parents)

    def _report(self, node: ast.expr, value: str | None = None, *, removed: bool = False, shown: bool = False) -> None:
        """A site of the variable `node` names; `value`, the string it is set to, if known, picks
        the catalog's entry for that setting (`CUDA_LAUNCH_BLOCKING=0`) where there is one;
        `removed`, whether the site takes the variable away; `shown`, whether it reads a value only shown."""
        name = string_value(node)
        if not name:
            return
        value = self._set_to.get(id(node), value)
        key = f"{name}={value}" if value is not None and f"{name}={value}" in self.walk.keys(DETECTOR) else name
        quiet = removed or shown or id(node) in self._where_set or (name.startswith(NCCL) and self._beside_gloo())
        self.walk.report(DETECTOR, key, node, cap=Severity.NOTE if quiet else None)

    def _beside_gloo(self) -> bool:
        """Whether the function the walk is in (or the module) names a Gloo variable."""
        scope: ast.AST | None = self.walk.functions[-1] if self.walk.functions else self._module
        if scope is None:
            return False
        known = self._names_gloo.get(id(scope))
        if known is None:
            known = self._names_gloo[id(scope)] = any(
                isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith(GLOO)
                for n in subtree(scope)
            )
        return known

    def _report_keys(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            if key is not None:
                self._report(key, string_value(value))


@cache
def _variable_names(keys: frozenset[str]) -> frozenset[str]:
    """The names a site's string may be for one of `keys` to be its key: each key, and what comes
    before any `=` in it (the variable of a setting's key, `CUDA_LAUNCH_BLOCKING=0`)."""
    return keys | {key[:at] for key in keys for at, char in enumerate(key) if char == "="}


def _second_string(call: ast.Call) -> str | None:
    """The value of `os.environ.setdefault("X", "0")`, `monkeypatch.setenv("X", "0")`."""
    return string_value(call.args[1]) if len(call.args) > 1 else None


CONCERN = EnvironmentVariables
