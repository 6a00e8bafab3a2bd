"""Whether installing the project compiles anything.

`pip install .` of a project whose build backend only copies Python files builds the same wheel
in any image: on a CUDA base it builds no CUDA extension, whatever `TORCH_CUDA_ARCH_LIST` says, so
the install line adds no lock-in to the image's base (`rules/containers/build_steps.py`). A project
compiles something where the scan holds C, C++, CUDA or CMake sources, or where its build
declarations name a compiler's route: an `Extension`/`ext_modules` of `setup.py`, a backend or
plugin that builds native code (scikit-build, meson-python, maturin, setuptools-rust, Cython,
pybind11, nanobind). A mention in a comment counts too: a misreading keeps the verdict; only a
`setup.py` whose every `setup()` call is given no extension (`ext_modules=[]`) compiles nothing
whatever its helpers say. Such a `setup.py` with no build command of its own also leaves C, C++ and
CUDA files elsewhere in the tree alone (setuptools compiles only what `setup()` is given).
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.python.nodes import is_setup_call

_EXTENSIONS = (b"Extension", b"ext_modules", b"ext-modules")
"""Words of setuptools' own route to native code: an `Extension` in `ext_modules`."""
_COMPILES = (
    *_EXTENSIONS, b"cmake", b"CMake", b"scikit_build", b"scikit-build",
    b"mesonpy", b"meson-python", b"maturin", b"setuptools_rust", b"setuptools-rust", b"Cython", b"cython",
    b"pybind11", b"nanobind",
)
"""Words of a `setup.py` or `pyproject.toml` that build native code, or may."""
_DECLARATIONS = frozenset({"setup.py", "pyproject.toml"})
_RUNS = (b"cmdclass", b"subprocess", b"os.system", b"spawn", b"Popen", b"check_call")
"""Words of a `setup.py` that runs a build command of its own, which may compile any file of the tree."""


def pure_python(declarations: Mapping[str, Callable[[], bytes]], native_sources: bool) -> Evidence | None:
    """Where the project shows that installing it compiles nothing (its top-most `pyproject.toml` or
    `setup.py`), or None: no such declaration, a declaration that names a compiler's route, or
    `native_sources` (the scan holds C, C++, CUDA or CMake files). `declarations` are the scan's
    `setup.py` and `pyproject.toml` files by display path; one that cannot be read counts as compiling."""
    found = sorted((path for path in declarations if posixpath.basename(path) in _DECLARATIONS), key=_depth)
    if not found:
        return None
    # Whether setuptools alone builds: asked only where C, C++, CUDA or CMake files may be compiled.
    plain = native_sources and any(posixpath.basename(path) == "setup.py" for path in found)
    for path in found:
        try:
            data = declarations[path]()
        except Exception:  # noqa: BLE001 - unread, it may build anything; its own analysis says why
            return None
        tree: ast.Module | None = None
        if any(word in data for word in _COMPILES):
            tree = _extensionless_setup(path, data)
            if tree is None:
                return None
        plain = plain and _plain_setuptools(path, data, tree)
    if native_sources and not plain:
        return None
    return Evidence(found[0], 1, "the project's install compiles no extension")


def _plain_setuptools(path: str, data: bytes, tree: ast.Module | None) -> bool:
    """A declaration through which setuptools builds only what `setup()` is given, so that C, C++ or CUDA
    files elsewhere in the tree (a deployment example, a benchmark) are not compiled by the install: a
    `setup.py` whose every `setup()` call gives no extension and that runs no command of its own (no
    class, no `cmdclass`, no subprocess), beside which every `pyproject.toml` keeps setuptools' own backend.
    A `pyproject.toml` alone does not say so: a sources folder may be what its backend builds. `tree`:
    the `setup.py`'s `_extensionless_setup`, where the caller has read it already (None: not yet)."""
    if posixpath.basename(path) == "pyproject.toml":
        return b"backend-path" not in data and (b"build-backend" not in data or b"setuptools.build_meta" in data)
    if any(word in data for word in _RUNS):
        return False
    tree = tree or _extensionless_setup(path, data)
    return tree is not None and not any(isinstance(node, ast.ClassDef) for node in ast.walk(tree))


def _extensionless_setup(path: str, data: bytes) -> ast.Module | None:
    """The tree of a `setup.py` whose only compiling words are setuptools' extension route, and whose every
    `setup()` call gives no extension (`ext_modules=[]`, or none at all): a leftover helper that builds a
    `CUDAExtension` nothing passes to `setup()` compiles nothing. None for any other file, and for a
    `setup.py` with a call given `**kwargs`, or `ext_modules` anything but an empty literal: it may build
    one. Read with `ast`, never run."""
    if posixpath.basename(path) != "setup.py" or any(word in data for word in _COMPILES if word not in _EXTENSIONS):
        return None
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    calls = setup_calls(tree)
    return tree if calls and all(_no_extension(call) for call in calls) else None


def setup_calls(tree: ast.AST) -> list[ast.Call]:
    """Every call of `setup` in `tree`, by its name or as an attribute (`setup(...)`, `setuptools.setup(...)`)."""
    return [node for node in ast.walk(tree) if is_setup_call(node)]


def _no_extension(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg is None:
            return False
        if keyword.arg == "ext_modules":
            value = keyword.value
            empty = isinstance(value, (ast.List, ast.Tuple)) and not value.elts
            if not (empty or (isinstance(value, ast.Constant) and value.value is None)):
                return False
    return True


def _depth(path: str) -> tuple[int, str]:
    return (path.count("/"), path)
