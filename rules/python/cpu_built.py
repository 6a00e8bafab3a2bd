"""Whether a value a function saves was built on the CPU, read from the function alone.

PyTorch makes a tensor on the CPU unless a device is named, and an operation puts its result
where its inputs are (https://docs.pytorch.org/docs/stable/tensor_attributes.html#torch-device). A
tensor a function builds from audio it loads, arrays and settings, through library functions and
tensor methods, and never moves, is on the CPU when it is saved: a preprocessing step's

    audio = torch.FloatTensor(wav).unsqueeze(0)
    spec = torch.squeeze(spectrogram(audio, hps.data.n_fft), 0)
    torch.save(spec, filename.replace(".wav", ".spec.pt"))

writes CPU storages on every machine (`checkpoint_writers.py` asks this for the payload of each
`torch.save`). A value is read as built on the CPU where it is:
- moved there (`checkpoint_sources.on_cpu`), a constant, or a display of such values;
- a setting: an attribute of a module-level object (`hps.data.hop_length`), or of `self` where every
  store of that attribute in the module is a constant or another attribute (`self.hop = hps.hop`);
- a name the function binds, each binding of which that may reach the read (before it, and not in
  the other arm of an `if` around it) is built on the CPU; a parameter the function uses as a string
  (`filename + ".soft.pt"`, `filename.replace(...)`): a path, never a tensor; a module's function,
  class or import;
- a call of a library function (`librosa.load`, `torch.squeeze`), of one of the module's functions,
  or a method of a value built on the CPU, given only such values and no device (`device=` other
  than `"cpu"`, `.to(...)`, `.cuda()`, anything of `torch.cuda`).
Anything else, a model's output (`self.encoder(x)`, `hmodel.encode(x)`: a method of a parameter or
of an attribute built by a call), a loop variable, a checkpoint loaded without `map_location`, is
not, and keeps the load of that file a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from cudaudit.rules.python.checkpoint_sources import on_cpu
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_MOVERS = frozenset({"to", "cuda", "to_device", "to_empty"})
"""Methods that put a value on a device chosen by their arguments; a module's `to` and `cuda` move it in place."""
_STRING_METHODS = frozenset({"replace", "endswith", "startswith", "rsplit", "strip", "rstrip", "lstrip", "lower", "upper", "encode", "format"})
"""Methods a `str` has and a tensor has not: a parameter they are called on is a string."""
_LEAVES = (ast.Constant, ast.JoinedStr)
_COMPOUND = (
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.IfExp, ast.Starred,
)
"""Expressions whose value is made of their parts: built on the CPU where each part is."""


class CpuBuilt:
    """The readings of one module that `built` needs, made once for all its saves."""

    def __init__(self, module: ast.Module, names: ImportTable) -> None:
        self._names = names
        self._settings = _settings(module)
        self._module_names = _module_level_names(module, names)

    def built(self, value: ast.expr, function: FunctionNode, at: ast.AST) -> bool:
        """Whether `value`, read in `function` at `at` (the statement or call that reads it), was built
        on the CPU (see the module docstring)."""
        return _Reading(self, function).built(value, at, 0)

    def held(self, value: ast.expr, function: FunctionNode, at: ast.AST) -> list[ast.expr]:
        """What `value` may hold where `function` reads it at `at`: for a name the function binds, the
        values of the bindings that may reach the read (none where one of them does not say), else
        `value` itself (`spec_path = filename.replace(".wav", ".spec.pt")`, then `torch.save(spec, spec_path)`)."""
        if not isinstance(value, ast.Name):
            return [value]
        reaching = _Reading(self, function).reaching(value.id, at)
        if not reaching:
            return [value]
        return [bound for _, bound in reaching if bound is not None] if all(b is not None for _, b in reaching) else []


class _Reading:
    """One function's reading: its parameters, the arms of its `if`s and the bindings of its names."""

    _DEPTH = 12
    """How many bindings deep a name is followed: a value built further away is not read."""

    def __init__(self, module: CpuBuilt, function: FunctionNode) -> None:
        self._module = module
        self._function = function
        arguments = function.args
        self._parameters = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
        self._arms: dict[int, tuple[tuple[int, str], ...]] = {}
        _record_arms(function.body, (), self._arms)
        self._bindings: dict[str, list[tuple[ast.stmt, ast.expr | None]]] = {}
        self._moved: set[str] = set()
        """Names the function calls a moving method on as a statement of its own (`model.to(device)`:
        a module moves in place; a tensor's `x.to(device)` is a new tensor, read where it is used)."""
        for node in own_nodes(function.body):
            if not isinstance(node, ast.stmt):
                continue
            for name, bound in _bindings(node):
                self._bindings.setdefault(name, []).append((node, bound))
            call = node.value if isinstance(node, ast.Expr) else None
            func = call.func if isinstance(call, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr in _MOVERS and isinstance(func.value, ast.Name):
                self._moved.add(func.value.id)

    def built(self, value: ast.expr, at: ast.AST, depth: int) -> bool:
        if depth > self._DEPTH:
            return False
        if on_cpu(value) or isinstance(value, _LEAVES):
            return True
        if isinstance(value, ast.Name):
            return self._name(value.id, at, depth)
        if isinstance(value, ast.Attribute):
            return self._attribute(value, at, depth)
        if isinstance(value, ast.Call):
            return self._call(value, at, depth)
        if isinstance(value, _COMPOUND):
            return all(self.built(part, at, depth) for part in _parts(value))
        return False

    def reaching(self, name: str, at: ast.AST) -> list[tuple[ast.stmt, ast.expr | None]]:
        """The function's bindings of `name` that may hold where `at` reads it."""
        return [(s, bound) for s, bound in self._bindings.get(name, ()) if self._may_reach(s, at)]

    def _name(self, name: str, at: ast.AST, depth: int) -> bool:
        if name in self._moved:
            return False  # `model.cuda()` moves a module in place, whatever the name was bound to
        reaching = self.reaching(name, at)
        if reaching:
            return all(bound is not None and self.built(bound, statement, depth + 1) for statement, bound in reaching)
        if name in self._parameters:
            return self._used_as_string(name)
        return self._module._module_names.get(name, True)

    def _attribute(self, value: ast.Attribute, at: ast.AST, depth: int) -> bool:
        root: ast.expr = value
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return False
        if root.id in ("self", "cls") and root is value.value:
            return self._module._settings.get(value.attr, False)
        if root.id in self._bindings or root.id in self._parameters:
            return self.built(value.value, at, depth)  # `audio.shape`, `x.T`: a part of a value read here
        return self._module._module_names.get(root.id, True)  # a setting of a module-level object, `hps.data.hop_length`, not a part of its model

    def _call(self, call: ast.Call, at: ast.AST, depth: int) -> bool:
        func = call.func
        resolved = self._module._names.resolve(func) or ""
        if resolved.startswith("torch.cuda") or resolved in ("torch.load", "torch.hub.load"):
            return False  # a CUDA call, or a file's tensors on the device they were saved from
        if any(k.arg == "device" and not (isinstance(k.value, ast.Constant) and k.value.value == "cpu") for k in call.keywords):
            return False
        arguments = [*call.args, *(k.value for k in call.keywords)]
        if not all(self.built(argument, at, depth) for argument in arguments):
            return False
        if isinstance(func, ast.Name):
            # a callable handed in, or a module-level model (`hmodel = Hubert().cuda()`), may run on the GPU
            return func.id not in self._bindings and func.id not in self._parameters and self._module._module_names.get(func.id, True)
        if not isinstance(func, ast.Attribute) or func.attr in _MOVERS:
            return False
        return self._module._names.is_module_chain(func.value) or self.built(func.value, at, depth)

    def _may_reach(self, binding: ast.stmt, at: ast.AST) -> bool:
        """Whether a binding may hold where `at` reads: before it, and not in the other arm of an `if`
        around `at` (`if exists: spec = load() else: spec = compute(); save(spec)`)."""
        if (binding.lineno, binding.col_offset) >= (getattr(at, "lineno", 0), getattr(at, "col_offset", 0)):
            return False
        arms = dict(self._arms.get(id(binding), ()))
        return all(arms.get(test, arm) == arm for test, arm in self._arms_of(at))

    def _arms_of(self, at: ast.AST) -> tuple[tuple[int, str], ...]:
        found = self._arms.get(id(at))
        if found is not None:
            return found
        line = getattr(at, "lineno", 0)
        statement = max(
            (s for s in own_nodes(self._function.body) if isinstance(s, ast.stmt) and s.lineno <= line <= (s.end_lineno or s.lineno)),
            key=lambda s: (s.lineno, -(s.end_lineno or s.lineno)),
            default=None,
        )
        return self._arms.get(id(statement), ()) if statement is not None else ()

    def _used_as_string(self, name: str) -> bool:
        """Whether the function calls a method only `str` has on the parameter, or adds a string to it."""
        for node in own_nodes(self._function.body):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _STRING_METHODS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
            ):
                return True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                sides = (node.left, node.right)
                if any(isinstance(s, ast.Name) and s.id == name for s in sides) and any(
                    isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides
                ):
                    return True
        return False


def _parts(value: ast.expr) -> Iterator[ast.expr]:
    for node in ast.iter_child_nodes(value):
        if isinstance(node, ast.expr):
            yield node


def _record_arms(body: list[ast.stmt], arms: tuple[tuple[int, str], ...], found: dict[int, tuple[tuple[int, str], ...]]) -> None:
    """Each statement of `body` and below, by id, with the `if` arms it stands in ((id of the `if`, "body" or "orelse"))."""
    for statement in body:
        found[id(statement)] = arms
        if isinstance(statement, ast.If):
            _record_arms(statement.body, (*arms, (id(statement), "body")), found)
            _record_arms(statement.orelse, (*arms, (id(statement), "orelse")), found)
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                _record_arms(getattr(statement, field, []), arms, found)
            for handler in getattr(statement, "handlers", []):
                _record_arms(handler.body, arms, found)


def _bindings(statement: ast.stmt) -> Iterator[tuple[str, ast.expr | None]]:
    """The names a statement binds, each with the value it binds (None where the statement does not
    say: a loop variable, an `except ... as`, a `with ... as`, an augmented assignment)."""
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        value = statement.value
        for target in targets:
            if isinstance(target, ast.Name):
                yield target.id, value
            elif isinstance(target, (ast.Tuple, ast.List)):
                paired = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
                for index, element in enumerate(target.elts):
                    for node in subtree(element):
                        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                            yield node.id, (value.elts[index] if paired and isinstance(value, (ast.Tuple, ast.List)) else value)
        return
    for node in subtree(statement) if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ():
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and _binds_directly(statement, node):
            yield node.id, None
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield statement.name, None


def _binds_directly(statement: ast.stmt, node: ast.Name) -> bool:
    """Whether the store is the statement's own (a loop target, `with ... as x`), not one of a statement below it."""
    heads = [getattr(statement, field, None) for field in ("target", "targets", "items", "name")]
    return any(head is not None and any(n is node for n in subtree_of(head)) for head in heads)


def subtree_of(head: object) -> Iterator[ast.AST]:
    for item in head if isinstance(head, list) else [head]:
        if isinstance(item, ast.AST):
            yield from subtree(item)


def _settings(module: ast.Module) -> dict[str, bool]:
    """Per attribute name the module stores, whether every store is a constant or an attribute read (a setting)."""
    found: dict[str, bool] = {}
    for node in subtree(module):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    setting = isinstance(node.value, (ast.Constant, ast.Attribute))
                    found[target.attr] = found.get(target.attr, True) and setting
        elif isinstance(node, (ast.AugAssign, ast.Delete)):
            for target in (node.targets if isinstance(node, ast.Delete) else [node.target]):
                if isinstance(target, ast.Attribute):
                    found[target.attr] = False
    return found


def _module_level_names(module: ast.Module, names: ImportTable) -> dict[str, bool]:
    """Per name the module's top level assigns, whether no value of it names a device or moves one:
    a setting (`sampling_rate = hps.data.sampling_rate`, `hps = get_hparams(path)`) is built on the
    CPU, a tensor moved at import (`WINDOW = torch.hann_window(400).cuda()`) is not."""
    found: dict[str, bool] = {}
    for statement in module.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name, bound in _bindings(statement):
            found[name] = found.get(name, True) and bound is not None and not _places(bound, names)
    return found


def _places(value: ast.expr, names: ImportTable) -> bool:
    """Whether a value names a device or moves a tensor anywhere in it (see `_Reading._call`)."""
    for node in subtree(value):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in _MOVERS:
                return True
            if any(keyword.arg == "device" for keyword in node.keywords):
                return True
        if isinstance(node, ast.Attribute) and (names.resolve(node) or "").startswith("torch.cuda"):
            return True
    return False
