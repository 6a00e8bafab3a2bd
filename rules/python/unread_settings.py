"""Module-level settings of a distributed backend that no code of the project reads: data, not a launch.

A configuration module keeps its settings as top-level names that a configuration loader turns into
keys: `dist_params = dict(backend="nccl")` is the key an MMCV 1.x project's own training script hands
to its launch (`init_dist(args.launcher, **cfg.dist_params)`). A project whose code no longer reads
the key (its runner reads another one, `env_cfg`, set beside it) keeps the line as data that nothing
hands to a process group, and an inherited base configuration or a copied third-party one keeps it
the same way: it breaks no target.

`backend_settings` reads one module from its bytes: the names its top-level lines bind to a dict
(`dict(...)`, `{...}`) whose text spells the NCCL backend. `unread_settings` then keeps a name where
no Python module or notebook of the scan spells it as a word other than a top-level binding of the
name (another configuration setting it, `dist_params = dict(backend="gloo")`): any other mention
(`cfg.dist_params`, `opt["dist_params"]`, `"dist_params" in cfg`, a comment) reads it, and a misreading
keeps the verdict. The keys a library reads itself from the configuration it is given, which the
project's code never spells (MMEngine's `Runner.from_cfg` reads `env_cfg`), are the catalog's
`[[configuration_reader]]` tables: such a name is read wherever the library is given the
configuration, by one of the table's `builders` (`Runner.from_cfg(cfg)`). A configuration module the
project names only where none is called is loaded for inference alone (a detector's configuration that
a demo hands `init_detector`, listed in a table of models): `unbuilt_configurations` keeps its
library-read names where every Python module or notebook naming its file calls no builder, every
documented command naming it runs a Python script of the project that calls none, and every
configuration inheriting it (`_base_ = ["runtime.py"]`) is itself so named; a command running
anything else (a shell script, a module), or a file named nowhere, keeps the verdict. The index keeps the names only in a
scan that sees the whole project; `unread_statements` finds those bindings in the parsed module, whose
sites the analysis then quiets on every target.

The YAML twin: a configuration file's top-level key named for a device and set to CUDA (`device:
"cuda"`) is the device of every run only where a program reads it. A project that loads its YAML
files itself (`config = yaml.safe_load(open(path))`) and reads each loaded mapping only by keys it
spells (`config["model_params"]`, `config.get("log_dir")`, `cfg.epochs` of an attribute view), each
script choosing its own device, keeps the key as data. `device_keys` reads one YAML file from its
bytes; `unread_keys` keeps a key where every YAML load of the project's code is bound to a name whose
uses all spell their keys, and no code quotes the key (`config["device"]`, `"device" in cfg`) or
reads it as an attribute of a loaded name (`cfg.device`). A mapping handed on whole (`Model(**config)`,
`build(config)`, `self.cfg = config`, `config.items()`), a load bound to no function's name (a
module's top-level name, which others import; a helper's `return yaml.safe_load(f)`), and a reader of
configuration files the project does not spell (Hydra, `cfg.merge_from_file(path)`) may read any key:
the file's verdict stays. The project index keeps the keys only in a scan that sees the whole project;
the YAML file's analysis then quiets them.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.catalog import WORD_BYTES, word_automaton
from cudaudit.rules.python.kept_off import LOADS_YAML
from cudaudit.rules.python.project_calls import closing
from cudaudit.rules.python.read_once import read_or_empty

_SETTING = re.compile(rb"^([A-Za-z_]\w*)[ \t]*=[ \t]*(?:dict[ \t]*\(|\{)", re.M)
"""A top-level line that binds a name to a dict, up to the bracket that opens it."""
_BACKEND = re.compile(rb"""['"]nccl['"]""", re.I)
_BINDING_AFTER = re.compile(rb"[ \t]*(?::[^=\n]*)?=(?!=)")
"""What follows a name a top-level line binds (`dist_params = `, `dist_params: dict = `)."""


def backend_settings(data: bytes) -> tuple[str, ...]:
    """The names top-level lines of module `data` bind to a dict whose text spells the NCCL backend,
    and, as `NAME.KEY`, the key of such a dict whose own dict holds the backend a level down or more
    (`VOCODER = {"upsample": [5, 4], "dist_config": {"dist_backend": "nccl"}}`: `VOCODER.dist_config`)."""
    if b"nccl" not in data and b"NCCL" not in data:
        return ()
    found = set()
    for setting in _SETTING.finditer(data):
        end = closing(data, setting.end() - 1, len(data))
        backend = _BACKEND.search(data, setting.end(), end) if end is not None else None
        if backend is not None:
            name = setting.group(1).decode("ascii")
            found.add(name)
            key = _holding_key(data, setting.end(), backend.start())
            if key is not None:
                found.add(f"{name}.{key}")
    return tuple(sorted(found))


_DICT_KEY = re.compile(rb"""(?<![\w'"])['"]?(?<!\w)([A-Za-z_]\w*)['"]?[ \t]*[:=][ \t]*(?:dict[ \t]*\(|\{)""")
"""A key of a dict display or a keyword of `dict(...)` whose value is a dict: `"dist_config": {`, `dist_cfg=dict(`."""


def _holding_key(data: bytes, start: int, backend: int) -> str | None:
    """The key, after `start`, of the innermost dict that holds the backend spelled at `backend`."""
    for nested in reversed(list(_DICT_KEY.finditer(data, start, backend))):
        end = closing(data, nested.end() - 1, len(data))
        if end is not None and end > backend:
            return nested.group(1).decode("ascii")
    return None


def library_read(tables: Iterable[Mapping[str, object]]) -> frozenset[str]:
    """The keys of the catalog's `[[configuration_reader]]` tables: read by a library, not by the project."""
    return frozenset(str(table["key"]) for table in tables if "key" in table)


def library_builders(tables: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    """The calls of the catalog's `[[configuration_reader]]` tables that give a library a configuration."""
    found: set[str] = set()
    for table in tables:
        builders = table.get("builders", ())
        if isinstance(builders, (list, tuple)):
            found.update(str(builder) for builder in builders)
    return tuple(sorted(found))


def unbuilt_configurations(
    candidates: Mapping[str, tuple[str, ...]],
    code: Mapping[str, Callable[[], bytes]],
    runs: Iterable[tuple[str, str, tuple[str, ...]]],
    builders: tuple[str, ...],
) -> dict[str, tuple[str, ...]]:
    """Module -> its names of `candidates` (module -> library-read names it binds) where no route gives
    the library its configuration (see the module docstring): `code` are the project's Python modules
    and notebooks (display path -> bytes), `runs` (the folder it runs in, the script as written, the
    arguments) its documented commands, `builders` the calls that give the library a configuration.
    A configuration that inherits one (`_base_ = ["runtime.py"]`) takes it along its own routes, read
    the same way, up to `_INHERITANCE_DEPTH` removes; one further off is taken as given."""
    if not builders:
        return {}
    files = {posixpath.basename(path): path for path in candidates}
    needles = tuple(builder.encode() for builder in builders)
    runs = list(runs)
    named: set[str] = set()
    built: set[str] = set()
    standing = {name: {name} for name in files}
    """File name -> the candidates whose routes are its own: itself, or those it inherits."""
    paths = dict(files)
    for _ in range(_INHERITANCE_DEPTH):
        words = word_automaton(sorted(name.encode() for name in standing))
        if words is None:
            break
        inheriting: dict[str, set[str]] = {}
        for path, source in code.items():
            data = read_or_empty(source)
            for index, start, _ in words.matches(data):
                name = words.words[index].decode()
                if paths[name] == path or not (start == 0 or data[start - 1 : start] in _PATH_BEFORE):
                    continue
                if any(needle in data for needle in needles):
                    built |= standing[name]
                elif b"_base_" in data:  # a configuration inheriting it: its routes are the candidate's
                    inheriting.setdefault(posixpath.basename(path), set()).update(standing[name])
                    paths.setdefault(posixpath.basename(path), path)
                else:
                    named |= standing[name]
        for folder, script, arguments in runs:
            for name in {posixpath.basename(argument) for argument in arguments} & standing.keys():
                ran = _script(folder, script, code)
                gives = ran is None or any(builder.encode() in read_or_empty(code[ran]) for builder in builders)
                (built if gives else named).update(standing[name])
        standing = {name: kept for name, stood in inheriting.items() if (kept := stood - built)}
    built |= {candidate for stood in standing.values() for candidate in stood}  # inherited further off: not followed
    return {files[name]: candidates[files[name]] for name in sorted(named - built)}


_INHERITANCE_DEPTH = 3
"""How many removes of inheritance `unbuilt_configurations` follows (a runtime, a dataset's base, a model)."""


def _script(folder: str, script: str, code: Mapping[str, Callable[[], bytes]]) -> str | None:
    """The display path of the Python module of `code` a command runs (`script` as written in
    `folder`), from that folder, else from the project's root (a guide's commands are most often
    written from there); None where it runs no Python file of the project, or one of several such."""
    if not script.endswith(".py"):
        return None
    for path in (posixpath.join(folder, script), script):
        written = posixpath.normpath(path)
        found = [display for display in code if display == written or display.endswith("/" + written)]
        if found:
            return found[0] if len(found) == 1 else None
    return None


_PATH_BEFORE = frozenset((b"/", b"'", b'"', b" ", b"\t", b"\n", b"="))
"""What stands before a file's name where it is named as a file (`'configs/det.py'`, `demo/det.py`)."""


def unread_settings(
    candidates: Mapping[str, tuple[str, ...]], code: Mapping[str, Callable[[], bytes]], read_by_libraries: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """Module -> the names of `candidates` (module -> `backend_settings`) that no module or notebook
    of `code` (display path -> bytes) reads (see the module docstring), less `read_by_libraries`."""
    names = {
        name for found in candidates.values() for name in found if name.partition(".")[0] not in read_by_libraries
    }
    keys = {name.rpartition(".")[2] for name in names}
    nested = {name.rpartition(".")[2] for name in names if "." in name}
    words = word_automaton(sorted(key.encode() for key in keys))
    if words is None:
        return {}
    read: set[str] = set()
    for _, source in code.items():
        data = read_or_empty(source)
        for index, start, end in words.matches(data):
            key = words.words[index].decode("ascii")
            if key in read or (start and data[start - 1] in WORD_BYTES) or (end < len(data) and data[end] in WORD_BYTES):
                continue
            bound = (start == 0 or data[start - 1] == 0x0A) and _BINDING_AFTER.match(data, end)
            if not (bound or (key in nested and _KEY_GIVEN.match(data, end))):
                read.add(key)
        if read >= keys:
            return {}
    found = {
        path: tuple(name for name in found if name in names and name.rpartition(".")[2] not in read)
        for path, found in candidates.items()
    }
    return {path: kept for path, kept in found.items() if kept}


_KEY_GIVEN = re.compile(rb"""['"]?[ \t]*(?::|=(?!=))""")
"""What follows a nested key where a dict is given it (`"dist_config": {`, `dist_config=dict(`), not read."""


def unread_statements(tree: ast.Module, names: frozenset[str]) -> frozenset[int]:
    """The ids of the top-level statements of `tree` that bind one of `names` (the project index's
    `unread_settings` for the module), and of every node of the value of a nested `NAME.KEY` of them."""
    if not names:
        return frozenset()
    found: set[int] = set()
    for statement in tree.body:
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            continue
        for target in _targets(statement):
            if not isinstance(target, ast.Name):
                continue
            if target.id in names:
                found.add(id(statement))
            keys = {name.partition(".")[2] for name in names if name.partition(".")[0] == target.id and "." in name}
            if keys and statement.value is not None:
                found.update(id(node) for value in _key_values(statement.value, keys) for node in ast.walk(value))
    return frozenset(found)


def _key_values(value: ast.expr, keys: set[str]) -> list[ast.expr]:
    """The values under `keys` anywhere in `value`: a dict display's (`"dist_config": {...}`) or a
    `dict(...)` call's keyword (`dist_config=dict(...)`)."""
    found: list[ast.expr] = []
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            found.extend(
                item for key, item in zip(node.keys, node.values)
                if isinstance(key, ast.Constant) and key.value in keys
            )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            found.extend(keyword.value for keyword in node.keywords if keyword.arg in keys)
    return found


def _targets(statement: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return statement.targets if isinstance(statement, ast.Assign) else [statement.target]


_DEVICE_KEY = re.compile(rb"""^([A-Za-z_][\w.-]*)[ \t]*:[ \t]*(['"]?)cuda(?::[0-9]+)?\2[ \t]*(?:#[^\n]*)?\r?$""", re.M)
"""A top-level YAML key (at its line's start) whose plain value is a CUDA device (`device: "cuda:0"`)."""
_NOT_A_WORD = re.compile(rb"[^a-z0-9]+")
_OPAQUE_READERS = re.compile(rb"hydra|merge_from_file|from_?file|from_yaml")
"""What reads configuration files for the project where its code spells no key: Hydra's decorated
entry points, yacs' `cfg.merge_from_file(path)`, `Config.fromfile(path)`, `Model.from_yaml(path)`."""
_LOAD_BOUND = re.compile(rb"([ \t]*)([A-Za-z_]\w*)[ \t]*=[ \t]*(?:[A-Za-z_][\w.]*\([ \t]*)*\Z")
"""What stands before a load on its line where its mapping is bound to a name (`config = `, `cfg =
EasyDict(`): the indentation and the name."""
_SUBSCRIPTED = re.compile(rb"\)*[ \t]*\[")
"""What follows a load whose mapping is not kept whole (`yaml.safe_load(f)["model"]`): a part of it."""
_KEYED = re.compile(rb"""(?:\[|\.(?:get|pop|setdefault)\()[ \t]*['"]""")
"""A use of a loaded mapping that spells its key (`config["model"]`, `config.get("log_dir"`)."""
_ATTRIBUTE = re.compile(rb"\.([A-Za-z_]\w*)")
_WHOLE = frozenset({b"items", b"keys", b"values", b"copy", b"get", b"pop", b"setdefault", b"__dict__", b"__iter__"})
"""Attributes of a loaded mapping that hand on its keys, or read one the code does not spell."""
_HARMLESS_BEFORE = re.compile(
    rb"(?:(?:yaml\.(?:safe_)?dump|json\.dumps?|print|pprint|(?:logger|logging)\.\w+)\([ \t]*"
    rb"|\b(?:if|elif|while|not|del|global|nonlocal|assert)[ \t]+)\Z"
)
"""What stands before a loaded mapping's name where it is written out or tested, not read for a key."""
_HARMLESS_AFTER = re.compile(rb"[ \t]*(?:=(?!=)|is\b)")
"""What follows a name that is bound (`config = `), a keyword's name, or a test (`config is None`)."""
_LOOKBACK = 80


def device_keys(data: bytes) -> tuple[str, ...]:
    """The top-level keys of YAML file `data` named for a device (`device`, `train_device`) whose value
    is a CUDA device (`device: cuda`, `device: "cuda:0"`)."""
    if b"cuda" not in data:
        return ()
    keys = {match.group(1) for match in _DEVICE_KEY.finditer(data)}
    return tuple(sorted(key.decode("ascii") for key in keys if b"device" in _NOT_A_WORD.split(key.lower())))


def unread_keys(
    candidates: Mapping[str, tuple[str, ...]], code: Mapping[str, Callable[[], bytes]], read_by_libraries: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """YAML file -> the keys of `candidates` (file -> `device_keys`) that no module or notebook of
    `code` (display path -> bytes) reads (see the module docstring), less `read_by_libraries`."""
    names = {name for found in candidates.values() for name in found} - read_by_libraries
    words = word_automaton(sorted(name.encode() for name in names))
    if words is None:
        return {}
    read: set[str] = set()
    loaded = False
    for path, source in code.items():
        data = _code_of(path, read_or_empty(source))
        if _OPAQUE_READERS.search(data):
            return {}
        for index, start, end in words.matches(data):
            quote = data[start - 1 : start]
            if quote in (b"'", b'"') and data[end : end + 1] == quote:
                read.add(words.words[index].decode("ascii"))  # `config["device"]`, `"device" in cfg`
        for load in LOADS_YAML.finditer(data):
            uses = _loaded_uses(data, load.start(), load.end() - 1, path.endswith(".py"))
            if uses is None:
                return {}  # the mapping is handed on whole, or kept where other code reads it
            loaded = True
            read.update(name for name in (use.decode("ascii") for use in uses) if name in names)
        if read >= names:
            return {}
    if not loaded:
        return {}  # the project loads no YAML itself: another program reads its files
    found = {path: tuple(name for name in keys if name in names - read) for path, keys in candidates.items()}
    return {path: kept for path, kept in found.items() if kept}


def _code_of(path: str, data: bytes) -> bytes:
    """A module's bytes, or a notebook's code cells joined (its JSON quotes every line, its prose
    cells are no code)."""
    if not path.endswith(".ipynb"):
        return data
    try:
        cells = json.loads(data).get("cells", [])
        sources = (cell.get("source", "") for cell in cells if cell.get("cell_type") == "code")
        return "\n".join("".join(source) if isinstance(source, list) else str(source) for source in sources).encode()
    except (ValueError, AttributeError, TypeError):
        return b""  # not a notebook's JSON: it runs nothing


def _loaded_uses(data: bytes, start: int, opened: int, module: bool) -> set[bytes] | None:
    """The attributes read of the name the YAML load at `start` (its parenthesis at `opened`) is
    bound to (`{b"epochs"}` for `cfg.epochs`; none where its uses only spell keys), or None where a
    use may read any key: the name is handed on, or the load is bound to no name of a function (in a
    module, `module`, a top-level name is for other modules to import). A loader's own definition
    (`def load_yaml(path):`) and a load subscripted at once (`yaml.safe_load(f)["model"]`) keep no
    mapping whole: no uses."""
    before = data[data.rfind(b"\n", 0, start) + 1 : start]
    if before.lstrip().startswith((b"def ", b"async def ")):
        return set()
    end = closing(data, opened, len(data))
    if end is not None and _SUBSCRIPTED.match(data, end + 1):
        return set()
    bound = _LOAD_BOUND.match(before)
    if bound is None or (module and not bound.group(1)):
        return None
    name = bound.group(2)
    attributes: set[bytes] = set()
    at = data.find(name)
    while at >= 0:
        after = at + len(name)
        if not (data[at - 1 : at] in (b".", *_WORD_BYTE_STRINGS) or data[after : after + 1] in _WORD_BYTE_STRINGS):
            use = _use(data, at, after)
            if use is None:
                return None
            attributes.update(use)
        at = data.find(name, after)
    return attributes


_WORD_BYTE_STRINGS = frozenset(bytes((byte,)) for byte in WORD_BYTES)


def _use(data: bytes, at: int, after: int) -> set[bytes] | None:
    """What the use of a loaded mapping's name at `at` reads: nothing (a key it spells, a binding, a
    test, a dump, a comment's or a string's word), an attribute (`cfg.epochs`), or None: anything."""
    prefix = data[data.rfind(b"\n", 0, at) + 1 : at]
    if (
        b"#" in prefix or prefix.count(b'"') % 2 or prefix.count(b"'") % 2
        or _KEYED.match(data, after) or _HARMLESS_AFTER.match(data, after)
        or _HARMLESS_BEFORE.search(data, max(0, at - _LOOKBACK), at) or _in_header(data, at)
    ):
        return set()
    attribute = _ATTRIBUTE.match(data, after)
    if attribute is not None and attribute.group(1) not in _WHOLE:
        return {attribute.group(1)}
    return None


def _in_header(data: bytes, at: int) -> bool:
    """Whether `at` lies among the parameters of a `def` (`def train(config):`): a name of its own."""
    start = data.rfind(b"def ", 0, at)
    opened = data.find(b"(", start, at) if start >= 0 else -1
    end = closing(data, opened, len(data)) if opened >= 0 else None
    return end is not None and end > at
