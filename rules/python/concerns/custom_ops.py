"""`device-string` key `kernel`: a custom operator whose only kernel is registered for CUDA.

`torch.library.custom_op("ns::op", mutates_args=(), device_types="cuda")` gives the operator one
kernel, for CUDA tensors (HIP tensors are CUDA's on ROCm builds); called with CPU tensors it raises
`NotImplementedError`. Without `device_types` the function is the kernel of every device, and
`op.register_kernel("cuda")` on such an operator only adds a faster path: not lock-in.

`torch.library.impl("ns::op", "cuda")`, `torch.library.register_kernel("ns::op", "cuda")` and a
`Library`'s `lib.impl("op", fn, "CUDA")` register a kernel for an operator defined elsewhere
(`lib.define(...)`): lock-in only where the module registers nothing that serves CPU tensors for the
same operator (`"CPU"`, `"CompositeExplicitAutograd"`, `"CompositeImplicitAutograd"`, a default
kernel), and only for the project's own namespace: a kernel for an operator of PyTorch's (`aten::`)
replaces one that CPU tensors never reach.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import CUSTOM_OP_DECORATORS
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DEVICE_STRING = "device-string"
KERNEL_KEY = "kernel"
REGISTRATIONS = frozenset({"torch.library.impl", "torch.library.register_kernel"})
LIBRARY = "torch.library.Library"
_CPU_SERVING = frozenset(
    {"cpu", "compositeexplicitautograd", "compositeimplicitautograd", "default", "math", "compositeimplicitautogradnestedtensor"}
)
"""Dispatch keys (and device types) whose kernel CPU tensors reach, lower-cased."""


class CustomOperators(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._tree: ast.Module | None = None
        self._served: frozenset[str] | None = None
        """The operators the module gives a kernel that CPU tensors reach, by name (`op`, `ns::op`)."""

    def on_Module(self, node: ast.Module) -> None:
        self._tree = node

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A kernel registered only for CUDA names it in a string."""
        return survey.has_string(lambda value: value.lower() == "cuda")

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if self.walk.in_comparison:
            return
        if callee in CUSTOM_OP_DECORATORS:
            for keyword in call.keywords:
                if keyword.arg == "device_types" and _only_cuda(keyword.value):
                    self.walk.report(DEVICE_STRING, KERNEL_KEY, keyword.value)
            return
        registration = self._registration(call, callee)
        if registration is None:
            return
        operator, types = registration
        if _only_cuda(types) and not operator.startswith("aten::") and operator.rpartition("::")[2] not in self._cpu_served():
            self.walk.report(DEVICE_STRING, KERNEL_KEY, types)

    def _registration(self, call: ast.Call, callee: str | None) -> tuple[str, ast.expr] | None:
        """The operator a kernel registration names and the device types (or dispatch key) it registers for."""
        return _registration(call, callee, self.walk.names)

    def _cpu_served(self) -> frozenset[str]:
        if self._served is None:
            served: set[str] = set()
            for node in subtree(self._tree) if self._tree is not None else ():
                if isinstance(node, ast.Call):
                    callee = self.walk.names.resolve(node.func)
                    found = _registration(node, callee, self.walk.names)
                    if found is not None and _serves_cpu(found[1]):
                        served.add(found[0].rpartition("::")[2])
            self._served = frozenset(served)
        return self._served


def _registration(call: ast.Call, callee: str | None, names: ImportTable) -> tuple[str, ast.expr] | None:
    """`torch.library.impl("ns::op", "cuda")`, `torch.library.impl(lib, "op", "CUDA")`,
    `torch.library.register_kernel("ns::op", "cuda")` and `lib.impl("op", fn, "CUDA")` on a
    `torch.library.Library`: (the operator's name, the types or key registered)."""
    args = call.args
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    if callee in REGISTRATIONS:
        if args and _string(args[0]) is not None:
            types = args[1] if len(args) > 1 else keywords.get("types", keywords.get("device_types"))
            return (_string(args[0]) or "", types) if types is not None else None
        if len(args) >= 3 and _string(args[1]) is not None:  # the older `impl(lib, "op", "CUDA")`
            return _string(args[1]) or "", args[2]
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "impl" and args and _string(args[0]) is not None:
        namespace = _library_namespace(func.value, names)
        key = args[2] if len(args) > 2 else keywords.get("dispatch_key")
        if namespace is None or key is None:
            return None
        return f"{namespace}::{_string(args[0])}", key
    return None


def _library_namespace(node: ast.expr, names: ImportTable) -> str | None:
    """The namespace of the `torch.library.Library` a module-level name holds (`_lib =
    torch.library.Library("ns", "DEF")`: `ns`)."""
    value = names.module_value(node.id) if isinstance(node, ast.Name) else None
    if isinstance(value, ast.Call) and names.resolve(value.func) == LIBRARY and value.args:
        return _string(value.args[0])
    return None


def _only_cuda(node: ast.expr | None) -> bool:
    """`"cuda"`, `"CUDA"`, `("cuda",)`: CUDA and nothing else."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return bool(node.elts) and all(_only_cuda(element) for element in node.elts)
    value = _string(node) if node is not None else None
    return value is not None and value.lower() == "cuda"


def _serves_cpu(node: ast.expr | None) -> bool:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return True  # `device_types=None`: the default kernel
    if isinstance(node, (ast.Tuple, ast.List)):
        return any(_serves_cpu(element) for element in node.elts)
    value = _string(node)
    return value is not None and value.lower() in _CPU_SERVING


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


CONCERN = CustomOperators
