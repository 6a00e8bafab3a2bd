"""`requirement` keys: a program that stops unless PyTorch has a CUDA device.

`assert torch.cuda.is_available(), "needs a GPU"` and `if not torch.cuda.is_available():
sys.exit(...)` are requirements, not guards (`guards.is_requirement`): the rest of the program
is not skipped on a CPU, the whole of it is. The site is the assert, or the condition of the
`if`; the statement is what a fix removes once everything it protects runs elsewhere. So is an
arm of a chain that only stops, reached exactly where its CUDA tests fail (`guards.refusal`): `else:
raise ValueError("CUDA only")` after `if torch.cuda.device_count() >= 2: ... elif
torch.cuda.device_count() == 1: ...`, at the raise, or `if not torch.cuda.is_available(): raise ...`
with branches after it, at the test; a fix leaves those (the other arms stay). An arm before it that
itself only stops (`if not has_fused_attention(): raise ...`) is no route around it. Where such a
refusal sits in a method a library call reaches by its name (`library_dispatch.py`), the readings of
whether and under which switch the project calls it count that library call as its call.

A kernel's wrapper that asserts a tensor it is given is on a CUDA device (`assert x.is_cuda`, `assert
x.device.type == "cuda"`) before it launches a Triton kernel (`_kernel[grid](x, ...)`) stops
wherever it is called with a CPU tensor, which on a CPU is every call: the assert is that target's
finding, and what follows (the launch) runs only past it, with its own severity. Not in tests, whose asserts check
results; not for an attribute of `self`, which the object chose; not where nothing is launched
(the assert may guard a branch its callers chose for CUDA tensors alone).

A class whose constructor asserts that the device or tensor it is given is a CUDA one (`assert
device.type == "cuda", "CUDA only"`, a statement of `__init__` itself) cannot be built for any
other: the assert is the finding for the targets it stops (`cuda-object`), and the methods, which
run only on an object built past it, are judged as the rest of `__init__` is (`constructors.py`).

A task or actor that asks a scheduler for GPUs (`@ray.remote(num_gpus=1)`, `.options(num_gpus=1)`)
is one too: on a cluster without GPUs it is never scheduled. Its site is the request; the code it
runs keeps its own severity (`guards.gpu_request` keeps the decorator from reading as a guard).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.guards import (
    AVAILABILITY_PROBES,
    CUDA_DEVICE_STRING,
    elif_arms,
    gpu_request,
    is_requirement,
    refusal,
    stops_the_program,
)
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "requirement"
TENSOR = "cuda-tensor"
"""The key of an assert that a tensor the function is given is on a CUDA device."""
OBJECT = "cuda-object"
"""The key of a constructor's assert that the device it is given is CUDA."""


class Requirements(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._refused: set[int] = set()
        """The sites reported: `elif not torch.cuda.is_available(): raise` is met from its chain and again alone."""
        self._arms: set[int] = set()
        """The `elif` arms of the chains met."""

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """An assert, or an `if` that stops the program, testing an availability probe, `is_cuda` or a
        `"cuda"` device type; or GPUs asked of a scheduler."""
        tests = [node.test for node in survey.of(ast.Assert)]
        tests += [node.test for node in survey.of(ast.If) if stops_the_program(node.body) or stops_the_program(node.orelse)]
        return any(_may_test_cuda(test, survey) for test in tests) or any(
            gpu_request(call, survey.names) is not None for call in survey.of(ast.Call)
        )

    def on_Assert(self, node: ast.Assert) -> None:
        if is_requirement(node, self.walk.names):
            self.walk.report(DETECTOR, "cuda", node)
        elif not self.walk.in_tests and self.walk.functions:
            function = self.walk.functions[-1]
            if not _asserts_given_on_cuda(node.test, function):
                return
            if function.name == "__init__" and self.walk.in_class and node in function.body:
                self.walk.report(DETECTOR, OBJECT, node)
            elif _launches_a_kernel(function):
                self.walk.report(DETECTOR, TENSOR, node)

    def on_If(self, node: ast.If) -> None:
        site: ast.expr | ast.stmt | None = node.test if is_requirement(node, self.walk.names) else None
        if site is None and id(node) not in self._arms:  # an `elif` is read as part of its chain
            self._arms.update(id(arm) for arm in elif_arms(node))
            site = refusal(node, self.walk.names)
        if site is not None and id(site) not in self._refused:
            self._refused.add(id(site))
            self.walk.report(DETECTOR, "cuda", site)
        elif (
            not self.walk.in_tests
            and self.walk.functions
            and self.walk.functions[-1].name == "__init__"
            and self.walk.in_class
            and node in self.walk.functions[-1].body
            and not node.orelse
            and stops_the_program(node.body)
            and _asserts_given_on_cuda(_negated(node.test), self.walk.functions[-1])
        ):
            self.walk.report(DETECTOR, OBJECT, node.test)  # `if device.type != "cuda": raise ValueError(...)`

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if gpu_request(call, self.walk.names) is not None:
            self.walk.report(DETECTOR, "scheduler-gpu", call)


def _may_test_cuda(test: ast.expr, survey: Survey) -> bool:
    """Whether a condition holds what a requirement's test needs: an availability probe, `x.is_cuda`
    or a `"cuda"` device string."""
    if not AVAILABILITY_PROBES.isdisjoint(survey.qualified_names) and any(
        survey.names.resolve(node) in AVAILABILITY_PROBES for node in subtree(test) if isinstance(node, (ast.Name, ast.Attribute))
    ):
        return True
    return any(
        (isinstance(node, ast.Attribute) and node.attr == "is_cuda")
        or (isinstance(node, ast.Constant) and isinstance(node.value, str) and CUDA_DEVICE_STRING.fullmatch(node.value) is not None)
        for node in subtree(test)
    )


def _asserts_given_on_cuda(test: ast.expr, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`x.is_cuda`, `x.device.type == "cuda"` or `device.type == "cuda"` of a parameter `x` or `device`,
    alone or among conditions that must all hold."""
    if isinstance(test, ast.BoolOp):
        return isinstance(test.op, ast.And) and any(_asserts_given_on_cuda(v, function) for v in test.values)
    arguments = function.args
    given = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)} - {"self", "cls"}
    if isinstance(test, ast.Attribute) and test.attr == "is_cuda":
        return isinstance(test.value, ast.Name) and test.value.id in given
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    subject, value = test.left, test.comparators[0]
    if not (isinstance(value, ast.Constant) and value.value == "cuda" and isinstance(subject, ast.Attribute) and subject.attr == "type"):
        return False
    device = subject.value
    if isinstance(device, ast.Name):  # `device.type`: the device itself was given
        return device.id in given and "device" in device.id.lower()
    return (
        isinstance(device, ast.Attribute)
        and device.attr == "device"
        and isinstance(device.value, ast.Name)
        and device.value.id in given
    )


def _negated(test: ast.expr) -> ast.expr:
    """What must hold for a block that runs where `test` fails to be skipped: `x` for `not x`, `a == b`
    for `a != b`; else an expression nothing matches."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotEq):
        return ast.Compare(test.left, [ast.Eq()], test.comparators)
    return ast.Constant(None)


def _launches_a_kernel(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether `function` launches a kernel by a grid: a call of a subscript, `_kernel[grid](...)`."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript) for node in subtree(function))


CONCERN = Requirements
