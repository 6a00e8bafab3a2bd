"""Whether a parameter's default runs on the normal path: what the module's own calls pass, and
the calls other modules make of its top-level functions and classes (`project_calls.py`).

`def train_one_epoch(model, loader, device=torch.device("cuda"))`, called in its module only as
`train_one_epoch(model, loader, device=device)`, runs on the caller's device: the default is taken
only by a caller that leaves the argument out. Where every caller is seen (the module's calls of
the function itself, and for a top-level function or class the calls of the modules that import it
and of the README's examples) and there is one, the default is never taken: a note. Where some may
be unseen (a public method, which other modules call through objects; a name another module hands
on; a function nothing calls), it is another path than the normal one, a warning at most. In an
application (a project that installs nothing, seen whole), a top-level function or class that its
module neither calls, hands on nor names in a string, that no other file spells (no import, no
configuration's `target: pkg.Encoder`, no `getattr(module, "Encoder")`, no subclass, no document:
`FileFacts.named_nowhere`) and that no decorator but a wrapping one may call, has no caller at all,
nor has one that the module calls only inside such definitions (a tokenizer only an encoder nothing
builds builds): its default is never taken, a note (`never_called`); in a library, outside callers
may take it, and so may the user who imports by hand a module off the normal path (`unreached.py`),
whose sites all stay warnings. A call
that leaves it out, a function handed on as a value in its module (`fire.Fire(main)`, a callback) or
decorated (`@app.command()`, whose framework fills parameters from their defaults; not a private
`@classmethod`, `_build_group`, which only its module's calls call) takes the default on the normal
path; a decorator that only wraps the function (`@torch.no_grad()`, `@functools.lru_cache()`:
`reach.only_wraps`) calls it only where it is called, with what its callers pass; one in a statement only another path runs (a library module's `if __name__ == "__main__":`
block, a definition the project uses only under a switch that is off) takes it on that path: a
warning at most. A registry's decorator (`@MODELS.register_module("vae")`) hands the function to the calls a
configuration makes, which this reading does not see: a public API's default, a warning, unless a
call seen leaves the parameter out.

A constructor is called through its class (`Runner(...)`) and, from the subclasses in the same
module, through `super().__init__(...)` (or `Runner.__init__(self, ...)`); a subclass without an
`__init__` of its own is built with its base's, so its calls and its being handed on count too.
Naming a class as a base (`class Fast(Runner):`) does not hand it on. A subclass whose `__init__`
forwards its own `**kwargs` to the base's (`super().__init__(*args, **kwargs)`) passes on what its
own constructions pass. A function or class no module calls keeps its default on another path.

A default the function reads only in comparisons chooses no device: `def load(path, device="cuda")`
whose body only tests `if device != "cuda": kwargs["device_map"] = {"": device}` (a read inside
that branch never sees the default) keeps the default as a sentinel, a note.

A public method's callers are other modules' objects (`self.prior_generator.grid_priors(sizes,
device=device)`), whose class the text does not say: the project index reads every call of the
method's name through an object (`project_calls.method_calls`). Where each gives the parameter a
value, whatever the receiver, the default is never taken in the project: a note; so too where nothing
calls the method at all, for a class with no base (a framework calls only the hooks of the classes
derived from its own: `forward`, `training_step`) and no decorator but a registry's. A mention that is no call keeps the warning.

A default nothing reads reaches no device: `def __init__(self, device="cuda")` whose body only
stores the parameter (`self.device = device`) in attributes the module never reads (no
`self.device`, `obj.device` or `getattr(obj, "device")` load anywhere in it), or never uses it at
all. Another module may still read the attribute; that is the one thing this leaves unseen.
Where the module reads the attribute only in methods it calls past a test that returns unless an
input holds a marker (`if "[" not in text: return audio`, then `self.align(audio)`: an input syntax
a user opts in to), the default is used only for such inputs: another path.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping

from cudaudit.rules.python.device_syntax import parameter_defaults
from cudaudit.rules.python.guards import is_none
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.project_calls import GIVEN_NONE, HANDED_ON, CallShape

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
METHOD_CALLS = "."
"""What the key of a method's calls in `ModuleCalls`' calls elsewhere starts with (`.grid_priors`):
`FileFacts.methods_called`, beside the top-level names' `FileFacts.called_elsewhere`."""
_SELF = frozenset({"self", "cls"})


class ModuleCalls:
    """The calls of one module by the name they call, and the names it hands on as values; with
    the calls other modules make of its top-level functions and classes (`project_calls.py`)."""

    def __init__(
        self,
        module: ast.Module,
        elsewhere: Mapping[str, tuple[CallShape, ...]] | None = None,
        aside: frozenset[int] = frozenset(),
        wraps: Callable[[ast.expr], bool] = lambda _: False,
    ) -> None:
        self._elsewhere = elsewhere or {}
        self._body = module.body
        self._top_of: dict[int, ast.stmt] | None = None
        """The top-level statement that holds each call, by the call's id: read when a default asks
        whether its function runs nowhere (`_runs_nowhere`)."""
        self._wraps = wraps
        """Whether a decorator only wraps the function (`@torch.no_grad()`, `@functools.lru_cache()`:
        `reach.only_wraps`): it still runs only where it is called, with what its callers pass."""
        self._top_level = {id(statement) for statement in module.body}
        self._aside = frozenset(
            id(node) for statement in module.body if id(statement) in aside for node in subtree(statement) if isinstance(node, ast.Call)
        )
        """The calls inside the top-level statements `aside` names, which only another path runs (a
        library's `__main__` block, a definition used only under a switch): a default they take is
        taken there, not on the normal path."""
        self._calls: dict[str, list[ast.Call]] = {}
        self._classes: dict[int, ast.ClassDef] = {}
        """Classes by the id of their `__init__`: `Runner(...)` calls `Runner.__init__`."""
        self._subclasses: dict[str, list[ast.ClassDef]] = {}
        """The module's classes by the name of each of their bases."""
        self._top_level_classes: set[str] = set()
        """Classes other modules can import: their calls there count (`elsewhere`)."""
        self._method_classes: dict[int, ast.ClassDef] = {}
        """The top-level classes by the id of each method defined in their bodies."""
        self._top_level_class_nodes: list[ast.ClassDef] = []
        """The module's top-level classes, in order."""
        callees: set[int] = set()
        bases: set[int] = set()
        bound: set[int] = set()
        """The arguments of `super(...)`: the class and instance it binds, no value handed on."""
        loaded: list[ast.Name | ast.Attribute] = []
        self._read_by_name: set[str] = set()
        """`getattr(obj, "device")`: attributes the module reads by their name."""
        self._strings: set[str] = set()
        """The module's strings: a class or function it names in one (`globals()["Runner"]`, a table
        of names) may be built by that name."""
        annotations: set[int] = set()
        """The names inside annotations (`-> Union[Pool, Other]`): a type named, not a class handed on."""
        for node in subtree(module):  # one walk: a module is read only when a default asks
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.AnnAssign, ast.arg)):
                annotation = node.returns if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else node.annotation
                if annotation is not None:
                    annotations.update(id(inner) for inner in subtree(annotation))
            if isinstance(node, ast.Call):
                name = _called_name(node.func)
                if name is not None:
                    self._calls.setdefault(name, []).append(node)
                    callees.add(id(node.func))
                if name in ("getattr", "hasattr") and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    self._read_by_name.add(str(node.args[1].value))
                if name == "super":  # `super(Camera, self).__init__()` names its class, handing it to no one
                    bound.update(id(argument) for argument in node.args)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self._strings.add(node.value)
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                loaded.append(node)
            elif isinstance(node, ast.ClassDef):
                for base in node.bases:
                    bases.add(id(base))
                    name = _called_name(base)
                    if name is not None:
                        self._subclasses.setdefault(name, []).append(node)
                init = _own_init(node)
                if init is not None:
                    self._classes[id(init)] = node
                if id(node) in self._top_level:
                    self._top_level_classes.add(node.name)
                    self._top_level_class_nodes.append(node)
                    self._method_classes.update(
                        (id(item), node) for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    )
        not_handed = callees | bases | bound | annotations
        handed = [node for node in loaded if id(node) not in not_handed]
        self._handed_on_by_name = {node.id for node in handed if isinstance(node, ast.Name)}
        """Names the module mentions without calling them: `pool.map(worker, ...)`, `callback=step`."""
        self._handed_on = self._handed_on_by_name | {node.attr for node in handed if isinstance(node, ast.Attribute)}
        """With the attributes it so mentions: `callback=self.step`, a method handed on."""
        self._attribute_loads = [node for node in loaded if isinstance(node, ast.Attribute)]
        self._read_attributes = {node.attr for node in self._attribute_loads} | self._read_by_name

    def default_unread(self, function: FunctionNode, parameter: str) -> bool:
        """Whether the body uses `parameter` only to store it in attributes of its first parameter
        (`self.device = device`) that nothing in the module reads, or not at all. In a method of a
        top-level class, `self.device` read in another class of the module (not one built on this
        class) reads that class's own attribute, and one read after the same method stores a new value
        there first (`self.device = x.device` at the top of `forward`) reads that value: neither reads
        the stored default."""
        stored = _stored_in(function, parameter)
        if stored is None or not stored & self._read_attributes:
            return stored is not None
        cls = self._classes.get(id(function)) or self._method_classes.get(id(function))
        if cls is None or stored & self._read_by_name:
            return False
        reads = {id(node): node for node in self._attribute_loads if node.attr in stored}
        found: set[int] = set()
        for other in self._top_level_class_nodes:
            ours = other is cls or cls.name in {_called_name(base) for base in other.bases}
            for method in other.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                owner = _receiver(method)
                for index, statement in enumerate(method.body):
                    for inner in subtree(statement):
                        node = reads.get(id(inner))
                        if node is None:
                            continue
                        found.add(id(node))
                        if _below(node, owner):
                            continue  # `self.proj.weight.device`: an attribute of what this object holds
                        if not _attribute_of(node, owner):
                            return False  # another object's attribute: it may be this class's
                        if ours and (method is function or not _stored_before(method.body[:index], node.attr, owner)):
                            return False  # the stored default, read after it is stored or in a method that keeps it
        return all(id_ in found for id_ in reads)  # a read outside the classes' methods counts

    def default_read_past_marker(self, function: FunctionNode, parameter: str) -> bool:
        """Whether the body only stores `parameter` in attributes of its first parameter, and the module
        reads them only in other methods of its class that it calls only past a test of an input's text
        that returns first (`if "[" not in text: return audio`, then `self.align(audio)`): the default is
        used only for inputs that opt in with that marker. A call of such a method from another module
        through an object is not seen."""
        cls = self._classes.get(id(function)) or self._method_classes.get(id(function))
        stored = _stored_in(function, parameter)
        if cls is None or not stored or stored & self._read_by_name:
            return False
        methods = [item for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
        owners = {id(node): method for method in methods for node in subtree(method)}
        readers = {owners.get(id(node)) for node in self._attribute_loads if node.attr in stored}
        return bool(readers) and all(
            reader is not None and reader is not function and self._called_past_marker(reader, owners) for reader in readers
        )

    def _called_past_marker(self, method: FunctionNode, owners: Mapping[int, FunctionNode]) -> bool:
        """Whether the module calls `method` (never hands it on), and each call is `self.name(...)` in
        another method of its class, in a statement after one that returns unless an input holds a
        marker (`_returns_without_marker`)."""
        calls = self._calls.get(method.name, [])
        if not calls or method.name in self._handed_on:
            return False
        for call in calls:
            caller = owners.get(id(call))
            if caller is None or caller is method:
                return False
            marked = False
            for statement in caller.body:
                if any(node is call for node in subtree(statement)):
                    break
                marked = marked or _returns_without_marker(statement)
            if not marked:
                return False
        return True

    @staticmethod
    def default_only_compared(function: FunctionNode, parameter: str, default: ast.expr) -> bool:
        """Whether the body reads `parameter` only as an operand of comparisons, or inside a branch
        that its comparison with the default's own value shuts the default out of (the body of
        `if device != "cuda":`, the `else` of `if device == "cuda":`)."""
        if not (isinstance(default, ast.Constant) and isinstance(default.value, str)):
            return False
        compared: set[int] = set()
        narrowed: set[int] = set()
        reads: list[ast.Name] = []
        for node in subtree(function):
            if isinstance(node, ast.Compare):
                for operand in (node.left, *node.comparators):
                    compared.add(id(operand))
            elif isinstance(node, ast.If):
                other = _other_value_branch(node, parameter, default.value)
                if other:
                    narrowed.update(id(inner) for statement in other for inner in subtree(statement))
            elif isinstance(node, ast.Name) and node.id == parameter and isinstance(node.ctx, ast.Load):
                reads.append(node)
        return bool(reads) and all(id(read) in compared or id(read) in narrowed for read in reads)

    def default_is_normal_path(self, function: FunctionNode, parameter: str, position: int | None) -> bool:
        """Whether a call of `function` may take the default of `parameter` (at `position` among
        the positional parameters, None for a keyword-only one) on the normal path. A function a
        registry builds by name (`@MODELS.register_module("vae")`) is called by configuration, which
        this module cannot see: only a call seen here or elsewhere that leaves the parameter out
        takes its default on the normal path."""
        if _called_from_anywhere(function, self._wraps) or self._is_handed_on(function):
            return True
        positional = [*function.args.posonlyargs, *function.args.args]
        method = bool(positional) and positional[0].arg in _SELF
        cls = self._classes.get(id(function))
        if cls is not None:
            return self._built_with_default(cls, parameter, position)
        # a None default (put in place in the body) is taken by a call that passes None too
        none = _defaults_to_none(function, parameter)
        if any(not _passes(call, parameter, position, method, none) for call in self._normal_calls(function.name)):
            return True
        return id(function) in self._top_level and self._taken_elsewhere(function.name, parameter, position, none)

    def default_taken_aside(self, function: FunctionNode, parameter: str, position: int | None) -> bool:
        """Whether a call that only another path runs (`aside`) leaves `parameter` out: where no call
        on the normal path does (`default_is_normal_path`), the default is taken on that other path."""
        positional = [*function.args.posonlyargs, *function.args.args]
        method = bool(positional) and positional[0].arg in _SELF
        cls = self._classes.get(id(function))
        name, after = (cls.name, None if position is None else position - 1) if cls is not None else (function.name, position)
        return any(
            id(call) in self._aside and not _passes(call, parameter, after, method and cls is None)
            for call in self._calls.get(name, ())
        )

    def _normal_calls(self, name: str) -> Iterator[ast.Call]:
        """The module's calls of `name` outside the statements only another path runs (`aside`)."""
        return (call for call in self._calls.get(name, ()) if id(call) not in self._aside)

    def default_always_given(self, function: FunctionNode) -> bool:
        """Whether the calls of `function` that decide its default are all seen, and there is one:
        then, where none leaves the parameter out (`default_is_normal_path`), every run gives it a
        value and the default is never taken. Seen are the module's calls and constructions, and,
        for a top-level function or class, the calls of the modules that import it and of the
        README's examples (`project_calls.py`). A registered function (called by configuration), a
        decorated or handed-on one, and a public method (which other modules call through objects
        this reading does not follow) may have callers unseen."""
        if self._decorated(function) or self._is_handed_on(function):
            return False
        cls = self._classes.get(id(function))
        if cls is not None:
            built = list(self._built_classes(cls))
            if any(HANDED_ON in self._elsewhere.get(each.name, ()) for each in built if each.name in self._top_level_classes):
                return False
            return any(
                self._direct_calls(each.name, None) or (each.name in self._top_level_classes and each.name in self._elsewhere)
                or any(_init_calls_of_base(subclass, each.name) for subclass in self._subclasses.get(each.name, ()))
                for each in built
            )
        positional = [*function.args.posonlyargs, *function.args.args]
        if positional and positional[0].arg in _SELF:
            return function.name.startswith("_") and self._direct_calls(function.name, positional[0].arg)
        elsewhere = self._elsewhere.get(function.name, ()) if id(function) in self._top_level else ()
        return HANDED_ON not in elsewhere and (self._direct_calls(function.name, None) or bool(elsewhere))

    def method_always_given(self, function: FunctionNode, parameter: str, position: int | None) -> bool:
        """Whether `function`, a public method of a top-level class, is called in the project only by
        calls through an object that give `parameter` a value (at `position` among the positional
        parameters, `self` first), or, for a class with no base, not called at all (see the module
        docstring): the calls of its name the project index read (`project_calls.method_calls`)."""
        cls = self._method_classes.get(id(function))
        shapes = self._elsewhere.get(METHOD_CALLS + function.name)
        if cls is None or shapes is None or self._decorated(function) or HANDED_ON in shapes:
            return False
        if not shapes:  # a registry's decorator builds the class by name; its methods are the project's to call
            return all(_registers(decorator) for decorator in cls.decorator_list) and not cls.keywords and all(
                isinstance(base, ast.Name) and base.id == "object" for base in cls.bases
            )
        after_self = None if position is None else position - 1
        return all(_shape_passes(shape, parameter, after_self) for shape in shapes)

    def never_called(self, function: FunctionNode, named_nowhere: frozenset[str]) -> bool:
        """Whether nothing calls `function`, a top-level function or the `__init__` of a top-level class
        of an application that no other file names (`named_nowhere`, `FileFacts.named_nowhere`), nor
        any decorator but one that only wraps it (`_runs_nowhere`). Its default runs nowhere (see the
        module docstring)."""
        cls = self._classes.get(id(function))
        return not self._decorated(function) and self._runs_nowhere(function if cls is None else cls, named_nowhere)

    def _runs_nowhere(
        self, owner: FunctionNode | ast.ClassDef, named_nowhere: frozenset[str], seen: frozenset[str] = frozenset()
    ) -> bool:
        """Whether nothing runs `owner`, a top-level function or class that no other file names: the
        module names it in no string, hands it on nowhere, derives no class from it, decorates it with
        nothing but a wrapper, and calls it only inside top-level definitions that run nowhere in turn
        (a tokenizer only an encoder nothing builds builds). A cycle of such calls keeps a verdict."""
        name = owner.name
        if id(owner) not in self._top_level or name not in named_nowhere or name in seen:
            return False
        if name in self._strings or name in self._handed_on_by_name or any(not self._wraps(d) for d in owner.decorator_list):
            return False
        if isinstance(owner, ast.ClassDef) and self._subclasses.get(name):
            return False
        if self._top_of is None:
            self._top_of = {id(node): statement for statement in self._body for node in subtree(statement) if isinstance(node, ast.Call)}
        containers = [self._top_of.get(id(call)) for call in self._calls.get(name, ())]
        return all(
            isinstance(container, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and self._runs_nowhere(container, named_nowhere, seen | {name})
            for container in containers
        )

    def _decorated(self, function: FunctionNode) -> bool:
        """Whether a decorator that does more than wrap `function` (`_wraps`) may call it, or hand it
        to callers unseen (a framework's `@app.command()`, a registry's, `@staticmethod` on a public
        name)."""
        return any(not self._wraps(decorator) or _binds(decorator) for decorator in function.decorator_list)

    def _is_handed_on(self, function: FunctionNode) -> bool:
        """Whether the module mentions `function` without calling it, so that its callers are unseen.
        A module-level function is mentioned by its name; only a method through an attribute
        (`self.step`): `args.measure`, an option's value, is no mention of a function `measure`."""
        if id(function) in self._top_level:
            return function.name in self._handed_on_by_name
        return function.name in self._handed_on

    def _direct_calls(self, name: str, owner: str | None) -> bool:
        """Whether the module calls `name` itself: `name(...)`, or with `owner` (a method's first
        parameter) `self.name(...)`; not `other.name(...)`, another object's function of that name,
        nor `super().name(...)`, the base's (whose callers may be a framework's)."""
        return any(
            isinstance(call.func, ast.Name) if owner is None
            else isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and call.func.value.id == owner
            for call in self._calls.get(name, ())
        )

    def _taken_elsewhere(self, name: str, parameter: str, position: int | None, none: bool = False) -> bool:
        """Whether a call of `name` in another module leaves `parameter` out, or with `none` (its default
        is None) passes None by name (a name handed on there has callers unseen: `default_always_given`)."""
        return any(
            shape != HANDED_ON and not _shape_passes(shape, parameter, position, none) for shape in self._elsewhere.get(name, ())
        )

    def _built_with_default(
        self, cls: ast.ClassDef, parameter: str, position: int | None, seen: frozenset[str] = frozenset()
    ) -> bool:
        """Whether some construction of `cls`, here or in another module, or of a subclass that
        inherits its `__init__`, or some subclass's call of it, leaves `parameter` out. A subclass
        that forwards its own `**kwargs` (`super().__init__(*args, **kwargs)`) passes on what its
        own constructions pass: they decide."""
        # `Runner(...)` and `super().__init__(...)` pass no `self`: their arguments start after it
        after_self = None if position is None else position - 1
        for built in self._built_classes(cls):
            if built.name in self._handed_on_by_name:  # a class is handed on by its name (`registry["x"] = Runner`)
                return True
            if any(not _passes(call, parameter, after_self, False) for call in self._normal_calls(built.name)):
                return True
            if built.name in self._top_level_classes and self._taken_elsewhere(built.name, parameter, after_self):
                return True
            for subclass in self._subclasses.get(built.name, ()):
                init = _own_init(subclass)
                for call, explicit_self in _init_calls_of_base(subclass, built.name):
                    if init is not None and _forwards(call, init, parameter):
                        if subclass.name not in seen and self._built_with_default(
                            subclass, parameter, None, seen | {cls.name}
                        ):
                            return True
                    elif not _passes(call, parameter, position if explicit_self else after_self, False):
                        return True
        return False

    def _built_classes(self, cls: ast.ClassDef, seen: frozenset[str] = frozenset()) -> Iterator[ast.ClassDef]:
        """`cls` and its subclasses in the module that have no `__init__` of their own, at any depth."""
        yield cls
        for subclass in self._subclasses.get(cls.name, ()):
            if _own_init(subclass) is None and subclass.name not in seen:
                yield from self._built_classes(subclass, seen | {cls.name})


_METHOD_KINDS = frozenset({"classmethod", "staticmethod"})
"""Decorators that only say how a method is bound, not who calls it."""


def _binds(decorator: ast.expr) -> bool:
    """`@staticmethod`, `@classmethod`: only how a method is bound, read by its own rules here."""
    return isinstance(decorator, ast.Name) and decorator.id in _METHOD_KINDS


def _called_from_anywhere(function: FunctionNode, wraps: Callable[[ast.expr], bool]) -> bool:
    """Whether callers this module cannot see may call `function` and take its defaults: a
    framework, through a decorator (`@app.command()`), or another module, through a public
    `@classmethod` (`Buffer.from_dataset(...)`). A private one (`_build_group`, PEP 8's "internal
    use" name) has only its module's calls, which `default_is_normal_path` reads. A registry's
    decorator (`_registers`) hands the function to the configuration's calls, which give what the
    configuration names: such a default is a public API's, taken only by a caller that leaves it out."""
    decorators = [
        decorator for decorator in function.decorator_list
        if not _registers(decorator) and (_binds(decorator) or not wraps(decorator))
    ]
    if not decorators:
        return False
    binding_only = all(isinstance(d, ast.Name) and d.id in _METHOD_KINDS for d in decorators)
    return not (binding_only and function.name.startswith("_"))


def _registers(decorator: ast.expr) -> bool:
    """`@MODELS.register_module("vae")`, `@register_model`: a decorator whose callable's name spells
    `register` records the function in a registry that builds it by name from a configuration
    (`registries.py` reads the same decorators for the entries a default name selects)."""
    callable_ = decorator.func if isinstance(decorator, ast.Call) else decorator
    return "register" in (_called_name(callable_) or "").lower()


def _forwards(call: ast.Call, init: FunctionNode, parameter: str) -> bool:
    """Whether a subclass's call of its base's `__init__` hands on its own `**kwargs` and does not
    name `parameter` itself: the subclass's callers give the parameter, or leave it out."""
    mapping = init.args.kwarg
    return mapping is not None and not any(keyword.arg == parameter for keyword in call.keywords) and any(
        keyword.arg is None and isinstance(keyword.value, ast.Name) and keyword.value.id == mapping.arg
        for keyword in call.keywords
    )


def _shape_passes(shape: CallShape, parameter: str, position: int | None, none: bool = False) -> bool:
    """Whether a call of that shape in another module gives `parameter` a value (as `_passes`)."""
    positional, keywords, starred = shape
    if parameter + GIVEN_NONE in keywords:
        return not none
    if parameter in keywords or "**" in keywords:
        return True
    return position is not None and (starred or positional > position)


def _own_init(cls: ast.ClassDef) -> FunctionNode | None:
    return next(
        (item for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__"),
        None,
    )


def _init_calls_of_base(subclass: ast.ClassDef, base: str) -> Iterator[tuple[ast.Call, bool]]:
    """The calls of the base's `__init__` in a subclass's body: `super().__init__(...)` and
    `super(Sub, self).__init__(...)`, and `Base.__init__(self, ...)`, which passes `self` itself."""
    for node in subtree(subclass):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
            yield node, False
        elif _called_name(owner) == base:
            yield node, True


def _other_value_branch(node: ast.If, parameter: str, value: str) -> list[ast.stmt]:
    """The branch of `node` taken only where `parameter` is not `value`: the body of `if device !=
    "cuda":`, the `else` of `if device == "cuda":`; [] for any other test."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return []
    operands = (test.left, test.comparators[0])
    named = any(isinstance(o, ast.Name) and o.id == parameter for o in operands)
    valued = any(isinstance(o, ast.Constant) and o.value == value for o in operands)
    if not (named and valued):
        return []
    if isinstance(test.ops[0], (ast.NotEq, ast.IsNot)):
        return node.body
    return node.orelse if isinstance(test.ops[0], (ast.Eq, ast.Is)) else []


def _receiver(function: FunctionNode) -> str | None:
    """The name of `function`'s first positional parameter (`self` of a method), None where it has none."""
    positional = [*function.args.posonlyargs, *function.args.args]
    return positional[0].arg if positional else None


def _below(node: ast.Attribute, owner: str | None) -> bool:
    """Whether `node` reads an attribute of an attribute of `owner` (`self.proj.weight.device`): of
    an object this one holds, not of this one."""
    inner = node.value
    if owner is None or not isinstance(inner, ast.Attribute):
        return False
    while isinstance(inner, (ast.Attribute, ast.Subscript)):
        inner = inner.value
    return isinstance(inner, ast.Name) and inner.id == owner


def _stored_before(statements: list[ast.stmt], attribute: str, owner: str | None) -> bool:
    """Whether one of `statements` (a method's, before the one that reads) stores a value in
    `owner.<attribute>` (`self.device = next(self.parameters()).device`)."""
    return any(
        isinstance(statement, ast.Assign)
        and any(isinstance(target, ast.Attribute) and target.attr == attribute and _attribute_of(target, owner)
                for target in statement.targets)
        for statement in statements
    )


def _stored_in(function: FunctionNode, parameter: str) -> set[str] | None:
    """The attributes of its first parameter that `function` stores `parameter` in (`self.device =
    device`), where the body uses the parameter for nothing else; None where it does."""
    owner = _receiver(function)
    stores: set[int] = set()
    attributes: set[str] = set()
    for node in subtree(function):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Name) or node.value.id != parameter:
            continue
        if not all(_attribute_of(target, owner) for target in node.targets):
            return None
        attributes.update(target.attr for target in node.targets if isinstance(target, ast.Attribute))
        stores.add(id(node.value))
    if any(
        isinstance(node, ast.Name) and node.id == parameter and isinstance(node.ctx, ast.Load) and id(node) not in stores
        for node in subtree(function)
    ):
        return None
    return attributes


def _returns_without_marker(statement: ast.stmt) -> bool:
    """`if "[" not in text: return audio`: a statement that returns unless an input's text holds a
    marker string, so that what follows it runs only for inputs written with that marker."""
    if not isinstance(statement, ast.If) or statement.orelse or not isinstance(statement.body[-1], ast.Return):
        return False
    test = statement.test
    return (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn)
        and isinstance(test.left, ast.Constant) and isinstance(test.left.value, str)
    )


def _attribute_of(target: ast.expr, owner: str | None) -> bool:
    """`self.device`, stored or read: an attribute of `owner`, the method's first parameter."""
    return (
        owner is not None
        and isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == owner
    )


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _passes(call: ast.Call, parameter: str, position: int | None, method: bool, none: bool = False) -> bool:
    """Whether `call` gives `parameter` a value: by name, by `**kwargs`, by position or `*args`;
    with `none` (the parameter's default is None), passing None by name is giving none."""
    if none and any(keyword.arg == parameter and is_none(keyword.value) for keyword in call.keywords):
        return False
    if any(keyword.arg in (parameter, None) for keyword in call.keywords):
        return True
    if position is None:
        return False
    if method and isinstance(call.func, ast.Attribute):
        position -= 1  # `self.step(...)` passes `self` itself
    return any(isinstance(arg, ast.Starred) for arg in call.args) or len(call.args) > position


def _defaults_to_none(function: FunctionNode, parameter: str) -> bool:
    """Whether `parameter`'s default in the header of `function` is None."""
    return any(name == parameter and is_none(default) for name, _, default in parameter_defaults(function.args))
