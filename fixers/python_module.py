"""Module-level needs of Python fixes, met once per file (formatting kept).

After the site edits, a module may need `import torch` and one `DEVICE_TYPE` value, and may
no longer use what it imported from `torch.cuda.amp`. Adding and removing imports the way a
person would is libcst's job (`AddImportsVisitor`, `RemoveImportsVisitor` check real usage
and keep every comment and blank line), but its codemods walk the whole module with scope
analysis: seconds for a large file. So `ast` first tells which files need them at all (most
already `import torch`, and most rewrites leave the old import in use), and `DEVICE_TYPE` is
written as text after the module's `import torch` block, where libcst's insertion put it.
libcst runs in a child process (`isolated.py`): its native parser can crash on input `ast` takes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.version import Version

from cudaudit.fixers.isolated import IsolatedFailure, call_isolated
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
_OURS = frozenset({_PORTABLE_DEFINITION, *(definition for _, definition in _DEFINITIONS)})


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
    tree = ast.parse(code)
    add_torch = bool({"import torch", DEVICE_TYPE} & requires) and _torch_import_end(tree) is None
    unused = [name for name in unused_imports if _imported_but_unused(tree, name)]
    if add_torch or unused:
        try:
            code = call_isolated(_update_imports, code, add_torch, unused)
        except IsolatedFailure as exc:
            raise ModuleNeedsError(f"libcst could not rewrite this module's imports ({exc}); left unchanged") from None
        tree = ast.parse(code)
    if DEVICE_TYPE in requires:
        existing = _definition(tree, code, DEVICE_TYPE)
        if existing is None:
            code = _insert_after_torch_import(code, tree, device_type_definition(torch_version))
        elif existing not in _OURS:
            raise ModuleNeedsError(f"the module already defines {DEVICE_TYPE} its own way ({existing}); left unchanged")
    return code


def _update_imports(code: str, add_torch: bool, unused: list[str]) -> str:
    """libcst's import codemods: `import torch` placed among the imports, unused imports dropped."""
    import libcst as cst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    module = cst.parse_module(code)
    context = CodemodContext()
    if add_torch:
        AddImportsVisitor.add_needed_import(context, "torch")
        module = AddImportsVisitor(context).transform_module(module)
    if unused:
        for qualified in unused:
            module_name, _, name = qualified.rpartition(".")
            RemoveImportsVisitor.remove_unused_import(context, module_name, name)
        module = RemoveImportsVisitor(context).transform_module(module)
    return module.code


def _imported_but_unused(tree: ast.Module, qualified: str) -> bool:
    """Whether `from module import name` is in the module while the name it binds is read nowhere.

    Only then can libcst's RemoveImportsVisitor have something to remove; a name still read
    (the usual case: one rewrite among several uses) keeps its import either way."""
    module_name, _, name = qualified.rpartition(".")
    bound = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == module_name
        for alias in node.names
        if alias.name == name
    }
    if not bound:
        return False
    return not any(isinstance(node, ast.Name) and node.id in bound for node in ast.walk(tree))


def _definition(tree: ast.Module, code: str, name: str) -> str | None:
    """The module-level statement that assigns `name`, as code, or None."""
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in statement.targets
        ):
            return (ast.get_source_segment(code, statement) or "").strip()
    return None


@dataclass
class _Line:
    """Module-level statements that share physical lines (`import a; import b` is one)."""

    end: int
    statements: list[ast.stmt] = field(default_factory=list)

    @property
    def imports_only(self) -> bool:
        return all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in self.statements)

    @property
    def imports_torch(self) -> bool:
        return any(
            isinstance(s, ast.Import) and any(a.name == "torch" and a.asname is None for a in s.names)
            for s in self.statements
        )


def _lines(tree: ast.Module) -> list[_Line]:
    lines: list[_Line] = []
    for statement in tree.body:
        start = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        if lines and start <= lines[-1].end:
            lines[-1].statements.append(statement)
        else:
            lines.append(_Line(statement.lineno))
            lines[-1].statements.append(statement)
        lines[-1].end = max(lines[-1].end, statement.end_lineno or statement.lineno)
    return lines


def _torch_import_end(tree: ast.Module) -> int | None:
    """The last line of the import block that holds the module's `import torch`, or None."""
    lines = _lines(tree)
    first = next((i for i, line in enumerate(lines) if line.imports_torch), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(lines) and lines[last + 1].imports_only:
        last += 1
    return lines[last].end


def _insert_after_torch_import(code: str, tree: ast.Module, definition: str) -> str:
    """Put the definition after the block of imports that has `import torch`, so code below can use it."""
    end = _torch_import_end(tree)
    if end is None:
        raise ModuleNeedsError(f"no module-level `import torch` to define {DEVICE_TYPE} after; left unchanged")
    lines = code.split("\n")
    before, after = "\n".join(lines[:end]), "\n".join(lines[end:])
    return f"{before}\n\n{_COMMENT}\n{definition}\n{after}" if after else f"{before}\n\n{_COMMENT}\n{definition}\n"
