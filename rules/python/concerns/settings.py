"""`device-string` and `dist-backend` keys in named settings: a value whose name says what it is.

`device = "cuda"`, `self.device: str = "cuda"`, `cfg["device"] = "cuda"`, `{"device": "cuda"}`,
`def run(device="cuda")`, `parser.add_argument("--device", default="cuda")`, an option list's
`["MODEL.DEVICE", "cuda"]` set a device, and
`backend = "nccl"` (`--dist-backend`) a distributed backend, even where nothing takes them yet.
An indexed device string (`"cuda:0"`, `f"cuda:{rank}"`) is a device whatever its name.

A default the command line overrides, a command-line option's (`add_argument`, `click.option`) or a
script's module-level setting followed by an `exec(...)` of its configuration in the module's own
namespace (a configurator that rebinds `device` from `--device=cpu`), is what the program runs
with when it is run as documented, without the flag: where the module reads the setting outside
comparisons (`model.to(args.device)`, `model.to(device)`), or fills a parser its caller gave it (a
shared-arguments helper whose callers read the options), a CUDA device default keeps its own
severity, an error on CPU. The finding names the option (`Finding.option`), and each target it
breaks is told the value that avoids it. A default nothing in the module reads, or reads only in
comparisons (`if args.device == "cuda":`), chooses no device there: a warning at most
(`COMMAND_LINE_DEFAULT`), and so is one every documented command of the module's route
overrides (`bash demo.sh IMAGE`, whose line `python demo.py ... --device cuda:0` the shell analyzer
reports: the default applies only to a run by hand without the option). A default the module replaces with another device under a test of CUDA's
availability (`elif not torch.cuda.is_available(): args.device = "cpu"`) never reaches a device on
a host without CUDA: a note (`REPLACED_WITHOUT_CUDA`). An option's distributed backend (`--dist-backend nccl`) is judged the same
way: a module that hands `args.dist_backend` to `init_process_group` starts NCCL with it. A backend
under a key of a dict display (`{"backend": "nccl"}`) is data a launcher reads when it starts
several processes: a warning at most (`LAUNCH_SETTING`). A device setting or option whose every read
hands it to a callee of the project that replaces it with the CPU where CUDA is unavailable, or
shows it, breaks nothing: a note at most (`fallback_callees.py`, `HANDED_TO_FALLBACK`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import partial

from cudaudit.rules.python.amp_parameters import only_amp_device
from cudaudit.rules.python.concerns.devices import AMP_DEVICE_KEY
from cudaudit.rules.python.device_syntax import (
    NCCL,
    cli_option_names,
    is_cuda_device_string,
    is_indexed_cuda_device_string,
    is_nccl_string,
    may_spell_cuda_device,
    names_setting,
    parameter_defaults,
    target_name,
)
from cudaudit.rules.python.guards import Probe, probes_in
from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import (
    COMMAND_LINE_DEFAULT,
    CPU_DOCUMENTED_DEFAULT,
    FALLBACK_VALUE,
    HANDED_TO_FALLBACK,
    LAUNCH_SETTING,
    ONLY_COMPARED,
    REPLACED_WITHOUT_CUDA,
)
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

DEVICE_STRING = "device-string"
BACKEND = "dist-backend"


_OPTION_CALLS = frozenset({"add_argument", "option"})
"""`parser.add_argument("--device", default=...)`, `@click.option("--device", default=...)`."""


class NamedSettings(Concern):
    _configured: frozenset[int] = frozenset()
    """Module-level assignments that a later `exec(...)` of the module's configuration may rebind."""
    _module: ast.Module | None = None
    _reads: SettingReads | None = None
    """What the module reads of its settings, found when the first command-line default asks."""

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A CUDA device string or the NCCL backend's."""
        return survey.has_string(lambda value: may_spell_cuda_device(value) or value.lower() == NCCL)

    def on_Module(self, node: ast.Module) -> None:
        self._module = node
        last = max((i for i, statement in enumerate(node.body) if self._execs_configuration(statement)), default=0)
        self._configured = frozenset(
            id(statement) for statement in node.body[:last] if isinstance(statement, (ast.Assign, ast.AnnAssign))
        )

    def _execs_configuration(self, statement: ast.stmt) -> bool:
        """`exec(open("configurator.py").read())` at module level: code run in the module's own
        namespace, able to rebind its settings (an `exec` given a namespace of its own is not)."""
        call = statement.value if isinstance(statement, ast.Expr) else None
        return (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "exec"
            and self.walk.names.binding("exec") is None
            and len(call.args) == 1
            and not call.keywords
        )

    def on_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name) and self._only_compared(target.id, node.value):
                self.walk.within(ONLY_COMPARED, partial(self._report, target.id, node.value))
                continue
            name = target_name(target)
            if isinstance(target, ast.Name) and self._handed_to_fallback(name, attribute=False):
                self.walk.within(HANDED_TO_FALLBACK, partial(self._setting, node, name, node.value))
                continue
            self._setting(node, name, node.value)

    def _handed_to_fallback(self, name: str | None, attribute: bool) -> bool:
        """Whether the device setting `name` is read only as a device handed to a callee of the
        project that replaces it with the CPU without CUDA, or shown (`fallback_callees.py`)."""
        calls = self.walk.fallback_calls
        return bool(calls) and bool(name) and names_setting(name or "", "device") and calls.only_handed_on(name or "", attribute)

    def _only_compared(self, name: str, value: ast.expr) -> bool:
        """Whether a local name given a CUDA device string is read only as an operand of
        comparisons in its function (`expected = "cuda"`, then `sum(d.type == expected for d in
        devices)`): the string never chooses a device, it only matches one."""
        if not (self.walk.functions and isinstance(value, ast.Constant) and is_cuda_device_string(value)):
            return False
        function = self.walk.functions[-1]
        reads = compared = 0
        for node in subtree(function):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                reads += 1
            elif isinstance(node, ast.Compare):
                for operand in (node.left, *node.comparators):
                    items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                    compared += sum(isinstance(item, ast.Name) and item.id == name for item in items)
        return reads > 0 and reads == compared

    def on_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._setting(node, target_name(node.target), node.value)

    def _setting(self, node: ast.Assign | ast.AnnAssign, name: str | None, value: ast.expr) -> None:
        if id(node) in self._configured and name:
            self._command_line_default(name, value, f"--{name}", lambda reads: reads.reads_name(name), name)
        else:
            self._report(name, value)

    def _command_line_default(
        self, name: str, value: ast.expr, option: str, read: Callable[[SettingReads], bool], dest: str
    ) -> None:
        """A setting's default that `option` overrides: quiet on the CPU where a documented command
        sets the option to `cpu`; its own severity where the module `read`s it to choose a device or
        a distributed backend, a note where the module replaces it without CUDA, a warning at most
        where it does not read it (see the module docstring)."""
        if not (names_setting(name, "device") or names_setting(name, "backend")):
            self.walk.within(COMMAND_LINE_DEFAULT, partial(self._report, name, value))
            return
        flag = option.lstrip("-").replace("-", "_")  # `--image-size` -> `image_size`, as the documents' options are kept
        if flag in self.walk.names.cpu_routes:
            self.walk.within(CPU_DOCUMENTED_DEFAULT, partial(self._report, name, value, option))
            return
        if self._reads is None:
            self._reads = SettingReads(self._module, self.walk.names)
        if self._reads.replaced_without_cuda(dest):
            self.walk.within(REPLACED_WITHOUT_CUDA, partial(self._report, name, value, option))
        elif self.walk.names.documented(flag):
            self.walk.within(COMMAND_LINE_DEFAULT, partial(self._report, name, value, option))
        elif read(self._reads):
            self._report(name, value, option)
        else:
            self.walk.within(COMMAND_LINE_DEFAULT, partial(self._report, name, value, option))

    def on_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            name = string_value(key) if key is not None else None
            if name and names_setting(name, "backend"):  # `{"backend": "nccl"}`: data for a launch
                self.walk.within(LAUNCH_SETTING, partial(self._report, name, value))
            else:
                self._report(name, value)

    def on_List(self, node: ast.List | ast.Tuple) -> None:
        """An option list pairs each setting's name with the value after it: the CUDA device string
        after a device-named key is that setting's value (`cfg.merge_from_list(["MODEL.DEVICE", "cuda"])`,
        `parser.parse_args(["--opts", "MODEL.DEVICE", "cuda"])`, `["--device", "cuda:0"]` for a command)."""
        for key, value in zip(node.elts, node.elts[1:]):
            name = string_value(key)
            if name and names_setting(name, "device") and isinstance(value, ast.Constant):
                self._report(name, value)

    on_Tuple = on_List

    def on_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for name, position, default in parameter_defaults(node.args):
            region = self.walk.default_region(node, name, position, default)
            key = AMP_DEVICE_KEY if _reports_a_device(name, default) and only_amp_device(node, name, self.walk.names) else ""
            self.walk.within_default(node, region, partial(self._report, name, default, key=key))

    on_AsyncFunctionDef = on_Lambda = on_FunctionDef

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        """`parser.add_argument("--device", default="cuda")`: the user picks another on the command
        line; `getattr(args, "device", "cuda")`, `os.environ.get("DEVICE", "cuda")`,
        `config.get("device", "cuda")`: the fallback of a lookup, where the setting is absent."""
        looked_up = _fallback_lookup(call, callee, self.walk.names.binding("getattr") is None)
        if looked_up is not None:
            name, fallback = looked_up
            if names_setting(name, "device") or names_setting(name, "backend"):
                self.walk.within(FALLBACK_VALUE, partial(self._report, name, fallback))
        if isinstance(call.func, ast.Attribute) and call.func.attr in _OPTION_CALLS:
            names = cli_option_names(call)
            flags = [name for name in names if name.startswith("-")]  # `--device`, not a positional argument
            default = next((keyword.value for keyword in call.keywords if keyword.arg == "default"), None)
            if default is None:
                return
            if not flags:
                self._report(" ".join(names), default)
                return
            dest = _destination(call, names, flags)
            given = self._given_parser(call.func.value)
            default_of = partial(
                self._command_line_default,
                " ".join(names), default, max(flags, key=len), lambda reads: given or reads.reads_option(dest), dest,
            )
            if not given and self._handed_to_fallback(dest, attribute=True):
                self.walk.within(HANDED_TO_FALLBACK, default_of)
            else:
                default_of()

    def _given_parser(self, receiver: ast.expr) -> bool:
        """Whether `receiver.add_argument(...)` fills a parser the enclosing function was given
        (`def add_model_args(parser):`): its callers parse the options and read them."""
        if not (isinstance(receiver, ast.Name) and self.walk.functions):
            return False
        arguments = self.walk.functions[-1].args
        return any(arg.arg == receiver.id for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))

    def _report(self, name: str | None, value: ast.expr, option: str | None = None, key: str = "") -> None:
        if name and names_setting(name, "device"):
            self.walk.report_values(value, DEVICE_STRING, is_cuda_device_string, key=key, option=option)
        elif name and names_setting(name, "backend") and not names_setting(name, "nccl"):
            # `NCCL_BACKEND = "nccl"` names the backend's string, as an enum member does: it chooses nothing
            self.walk.report_values(value, BACKEND, is_nccl_string)
        else:
            self.walk.report_values(value, DEVICE_STRING, is_indexed_cuda_device_string)


def _reports_a_device(name: str, default: ast.expr) -> bool:
    """Whether `_report` may report `default` as the CUDA device of a device setting, the one report
    that takes a key (`is_cuda_device_string` of the default or a branch of it): most parameters'
    defaults are not, and `only_amp_device`'s walk of the function is left out for them."""
    nodes = (default,) if isinstance(default, ast.Constant) else subtree(default)
    return names_setting(name, "device") and any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and may_spell_cuda_device(node.value)
        for node in nodes
    )


class SettingReads:
    """The names and attributes a module reads outside comparisons, and whether it hands an options
    namespace on whole (`vars(args)`): what may take a command-line default to a device. Also the
    names and attributes it sets to another device where CUDA is missing."""

    def __init__(self, module: ast.Module | None, names: ImportTable) -> None:
        compared: set[int] = set()
        self._names: set[str] = set()
        self._attributes: set[str] = set()
        self._replaced: set[str] = set()
        self._whole = False
        for node in subtree(module) if module is not None else ():
            if isinstance(node, ast.If) and Probe.CUDA in probes_in(node.test, names):
                self._replaced.update(_set_to_another_device(node))
            if isinstance(node, ast.Compare):
                for operand in (node.left, *node.comparators):
                    items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                    compared.update(id(item) for item in items)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in compared:
                self._names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and id(node) not in compared:
                self._attributes.add(node.attr)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
                if node.func.id == "vars":
                    self._whole = True
                elif node.func.id == "getattr" and len(node.args) > 1:
                    self._attributes.add(string_value(node.args[1]) or "")

    def reads_name(self, name: str) -> bool:
        """`model.to(device)`: a module-level setting read by its name."""
        return name in self._names

    def replaced_without_cuda(self, dest: str) -> bool:
        """`elif not torch.cuda.is_available(): args.device = "cpu"`: the option's value replaced
        by another device in a branch of a test of CUDA's availability."""
        return dest in self._replaced

    def reads_option(self, dest: str) -> bool:
        """`model.to(args.device)`, `getattr(args, "device")`, a click command's parameter `device`,
        or the whole namespace handed on (`Runner(**vars(args))`)."""
        return self._whole or dest in self._attributes or dest in self._names


def _set_to_another_device(statement: ast.If) -> set[str]:
    """The names and attributes a branch of `statement` sets to a device string that is not CUDA's
    (`args.device = "cpu"`, `device = "mps"`)."""
    found: set[str] = set()
    for part in (*statement.body, *statement.orelse):
        if not isinstance(part, ast.Assign):
            continue
        value = string_value(part.value)
        if value is None or may_spell_cuda_device(value) or not value:
            continue
        for target in part.targets:
            if isinstance(target, ast.Attribute):
                found.add(target.attr)
            elif isinstance(target, ast.Name):
                found.add(target.id)
    return found


def _destination(call: ast.Call, names: list[str], flags: list[str]) -> str:
    """Where a parser puts an option's value: `dest=`, a click parameter's own name (`"device"`
    beside `"--device"`), else the first long flag's name (`--dist-backend` → `dist_backend`),
    else the first short one's."""
    for keyword in call.keywords:
        if keyword.arg == "dest":
            return string_value(keyword.value) or ""
    plain = [name for name in names if not name.startswith("-")]
    if plain:
        return plain[0]
    long = [flag for flag in flags if flag.startswith("--")]
    return (long or flags)[0].lstrip("-").replace("-", "_")


def _fallback_lookup(call: ast.Call, callee: str | None, builtin_getattr: bool) -> tuple[str, ast.expr] | None:
    """(the setting's name, the fallback) of `getattr(obj, "name", fallback)`, `x.get("name",
    fallback)` (a dict, `os.environ`) or `os.getenv("NAME", fallback)`; None for any other call."""
    args = call.args
    if isinstance(call.func, ast.Name) and call.func.id == "getattr" and builtin_getattr and len(args) == 3:
        name, fallback = args[1], args[2]
    elif (callee == "os.getenv" or (isinstance(call.func, ast.Attribute) and call.func.attr == "get")) and len(args) == 2:
        name, fallback = args
    else:
        return None
    text = string_value(name)
    return (text, fallback) if text else None


CONCERN = NamedSettings
