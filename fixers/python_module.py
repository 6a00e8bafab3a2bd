"""Module-level needs of Python fixes, met once per file with libcst (formatting kept).

After the site edits, a module may need `import torch` and one `DEVICE_TYPE` value, and
may no longer use what it imported from `torch.cuda.amp`. libcst adds and removes imports
the way a person would (`AddImportsVisitor`, `RemoveImportsVisitor` check real usage) and
keeps every comment and blank line.
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node
from packaging.version import Version

from cudaudit.rules.python.rewrites import DEVICE_TYPE

_DEFINITIONS = (
    (
        Version("2.7"),
        f'{DEVICE_TYPE} = (torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")).type',
    ),
    (
        Version("2.6"),
        f'{DEVICE_TYPE} = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"',
    ),
)
_PORTABLE_DEFINITION = f'{DEVICE_TYPE} = "cuda" if torch.cuda.is_available() else "cpu"'
"""For PyTorch before 2.6 (or an unknown pin): CUDA and ROCm, else the CPU."""
_COMMENT = "# The accelerator this process runs on (cuda on NVIDIA and AMD ROCm), else cpu: chosen at run time."


class ModuleNeedsError(ValueError):
    """The module cannot take what the fixes need; the message says why."""


def device_type_definition(torch_version: Version | None) -> str:
    """The `DEVICE_TYPE = ...` line for the oldest PyTorch the project allows."""
    for since, definition in _DEFINITIONS:
        if torch_version is not None and torch_version >= since:
            return definition
    return _PORTABLE_DEFINITION


def meet_module_needs(
    code: str, requires: set[str], unused_imports: Iterable[str], torch_version: Version | None
) -> str:
    """Add `import torch` and `DEVICE_TYPE` where needed; drop imports the fixes made unused."""
    module = cst.parse_module(code)
    context = CodemodContext()
    if "import torch" in requires or DEVICE_TYPE in requires:
        AddImportsVisitor.add_needed_import(context, "torch")
    for qualified in unused_imports:
        module_name, _, name = qualified.rpartition(".")
        RemoveImportsVisitor.remove_unused_import(context, module_name, name)
    module = AddImportsVisitor(context).transform_module(module)
    module = RemoveImportsVisitor(context).transform_module(module)
    if DEVICE_TYPE in requires:
        existing = _definition(module, DEVICE_TYPE)
        if existing is None:
            module = _insert_after_torch_import(module, device_type_definition(torch_version))
        elif existing not in _OURS:
            raise ModuleNeedsError(f"the module already defines {DEVICE_TYPE} its own way ({existing}); left unchanged")
    return module.code


_OURS = frozenset({_PORTABLE_DEFINITION, *(definition for _, definition in _DEFINITIONS)})


def _definition(module: cst.Module, name: str) -> str | None:
    """The module-level statement that assigns `name`, as code, or None."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                ):
                    return module.code_for_node(small).strip()
    return None


def _insert_after_torch_import(module: cst.Module, definition: str) -> cst.Module:
    """Put the definition after the block of imports that has `import torch`, so code below can use it."""
    body = list(module.body)
    position = next((i + 1 for i, statement in enumerate(body) if _imports_torch(statement)), 0)
    while position < len(body) and _is_import(body[position]):
        position += 1
    line = cst.parse_statement(definition + "\n")
    line = line.with_changes(
        leading_lines=[cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(_COMMENT))]
    )
    body.insert(position, line)
    return module.with_changes(body=body)


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _imports_torch(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Import):
            for alias in small.names:
                if get_full_name_for_node(alias.name) == "torch" and alias.asname is None:
                    return True
    return False
