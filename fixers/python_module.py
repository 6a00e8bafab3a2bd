"""Module-level needs of Python fixes, met once per file (formatting kept).

After the site edits, a module may need `import torch` and one `DEVICE_TYPE` value, and may
no longer use what it imported from `torch.cuda.amp`. Adding and removing imports the way a
person would is libcst's job (`AddImportsVisitor`, `RemoveImportsVisitor` check real usage
and keep every comment and blank line), but its codemods walk the whole module with scope
analysis: seconds for a large file. So `ast` first tells which files need them at all (most
already `import torch`, and most rewrites leave the old import in use), and `DEVICE_TYPE` is
written as text after the module's imports (so no import follows code, which flake8 and ruff
report as E402), with the module's own name for torch (`th` after `import torch as th`).
libcst runs in a child process (`isolated.py`): its native parser can crash on input `ast` takes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from packaging.version import Version

from cudaudit.fixers.isolated import IsolatedFailure, call_isolated
from cudaudit.fixers.line_length import DEFAULT
from cudaudit.rules.python.rewrites import DEVICE_TYPE
from cudaudit.source import parse_python

_DEFINITIONS = ((Version("2.6"), ("torch.accelerator.current_accelerator().type", "torch.accelerator.is_available()")),)
"""The accelerator's device type and the probe that it is there, from the PyTorch that has them."""
_PORTABLE_DEFINITION = ('"cuda"', "torch.cuda.is_available()")
"""For PyTorch before 2.6 (or an unknown pin): CUDA and ROCm, else the CPU."""
_COMMENT = "# The accelerator this process runs on (cuda also on AMD ROCm), else cpu."


class ModuleNeedsError(ValueError):
    """The module cannot take what the fixes need; the message says why."""


def device_type_definition(torch_version: Version | None, torch: str = "torch", line_length: int = DEFAULT) -> str:
    """The `DEVICE_TYPE = ...` statement for the oldest PyTorch the project allows, written with
    the module's name for torch, and split as black splits it when longer than the project's lines."""
    accelerator, probe = next(
        (parts for since, parts in _DEFINITIONS if torch_version is not None and torch_version >= since),
        _PORTABLE_DEFINITION,
    )
    accelerator, probe = accelerator.replace("torch.", f"{torch}."), probe.replace("torch.", f"{torch}.")
    line = f'{DEVICE_TYPE} = {accelerator} if {probe} else "cpu"'
    if len(line) <= line_length:
        return line
    return f'{DEVICE_TYPE} = (\n    {accelerator}\n    if {probe}\n    else "cpu"\n)'


def meet_module_needs(
    code: str,
    requires: set[str],
    unused_imports: Iterable[str],
    torch_version: Version | None,
    line_length: int = DEFAULT,
) -> str:
    """Add `import torch` and `DEVICE_TYPE` where needed; drop imports the fixes made unused."""
    tree = parse_python(code)
    add_torch = bool({"import torch", DEVICE_TYPE} & requires) and _torch_name(tree) is None
    unused = [name for name in unused_imports if _imported_but_unused(tree, name)]
    if add_torch or unused:
        # Imported here, once: each forked child then starts with libcst loaded instead of
        # importing it again for every file (importing runs none of the parser that can crash).
        import libcst.codemod.visitors  # noqa: F401

        try:
            code = call_isolated(_update_imports, code, add_torch, unused)
        except IsolatedFailure as exc:
            raise ModuleNeedsError(f"libcst could not rewrite this module's imports ({exc}); left unchanged") from None
        tree = parse_python(code)
    if DEVICE_TYPE in requires:
        torch = _torch_name(tree) or "torch"
        existing = _definition(tree, code, DEVICE_TYPE)
        if existing is None:
            code = _insert_after_imports(code, tree, device_type_definition(torch_version, torch, line_length))
        elif not _is_ours(existing, torch):
            raise ModuleNeedsError(f"the module already defines {DEVICE_TYPE} its own way ({existing}); left unchanged")
    return code


def _is_ours(existing: str, torch: str) -> bool:
    """Whether a module-level `DEVICE_TYPE = ...` is one this fixer writes (in either layout)."""
    try:
        found = ast.dump(parse_python(existing))
    except SyntaxError:
        return False
    versions = (None, *(since for since, _ in _DEFINITIONS))
    return any(ast.dump(parse_python(device_type_definition(v, torch))) == found for v in versions)


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
            if module_name:
                RemoveImportsVisitor.remove_unused_import(context, module_name, name)
            else:
                RemoveImportsVisitor.remove_unused_import(context, name)
        module = RemoveImportsVisitor(context).transform_module(module)
    return module.code


def _imported_but_unused(tree: ast.Module, qualified: str) -> bool:
    """Whether `from module import name` (or, for a name without a dot, `import name`) is in the
    module while the name it binds is read nowhere.

    Only then can libcst's RemoveImportsVisitor have something to remove; a name still read
    (the usual case: one rewrite among several uses) keeps its import either way."""
    module_name, _, name = qualified.rpartition(".")
    bound = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == module_name and module_name
        )
        or (isinstance(node, ast.Import) and not module_name)
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


def _torch_name(tree: ast.Module) -> str | None:
    """The name a module-level `import torch` (or `import torch as th`) binds, or None."""
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name == "torch":
                    return alias.asname or "torch"
    return None


def _insert_after_imports(code: str, tree: ast.Module, definition: str) -> str:
    """Put the definition after the module's imports, so that no import follows it (E402), but
    before the first statement that uses it and after the `import torch` it needs."""
    if _torch_name(tree) is None:
        raise ModuleNeedsError(f"no module-level `import torch` to define {DEVICE_TYPE} after; left unchanged")
    end = 0
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _uses(statement, DEVICE_TYPE):
            break
        if _imports(statement):
            end = statement.end_lineno or statement.lineno
    lines = code.split("\n")
    before, after = "\n".join(lines[:end]), "\n".join(lines[end:])
    if after and after.strip() and not after.startswith("\n"):
        after = "\n" + after  # a blank line between the definition and the code after it
    return f"{before}\n\n{_COMMENT}\n{definition}\n{after}" if after else f"{before}\n\n{_COMMENT}\n{definition}\n"


def _imports(statement: ast.stmt) -> bool:
    """An import, or a module-level `try:`/`if` block that imports (`try: import apex`); not the
    `if __name__ == "__main__":` block, which runs last."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(statement, ast.If) and "__name__" in {n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name)}:
        return False
    if isinstance(statement, (ast.Try, ast.If)):
        return any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(statement))
    return False


def _uses(statement: ast.stmt, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(statement))
