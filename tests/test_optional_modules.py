"""Modules the project imports only inside a `try` that goes on without them (`optional_modules.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.filekinds import is_test_path
from cudaudit.rules.python.import_paths import import_names
from cudaudit.rules.python.optional_modules import optional_modules, tried_imports

BACKENDS = """\
from .plain import PlainStore

try:
    from .device_store import DeviceStore
except ImportError:
    DeviceStore = None
"""


def optional(files: dict[str, str], candidates: tuple[str, ...] = ("pkg/stores/device_store.py",)) -> dict[str, tuple[str, int]]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    tried = {path: found for path, read in sources.items() if not is_test_path(path) and (found := tried_imports(read()))}
    marked = optional_modules(candidates, sources, tried, lambda path: import_names(sources[path]()))
    return {path: (evidence.path, evidence.line) for path, evidence in marked.items()}


def test_a_backend_its_package_imports_only_under_a_fallback_is_optional():
    files = {
        "pkg/__init__.py": "",
        "pkg/stores/__init__.py": BACKENDS,
        "pkg/stores/plain.py": "class PlainStore:\n    pass\n",
        "pkg/stores/device_store.py": "import cupy\n",
        "pkg/train.py": "from pkg.stores import PlainStore\n",
        "tests/test_store.py": "from pkg.stores.device_store import DeviceStore\n",  # the test suite reaches nothing
    }
    assert optional(files) == {"pkg/stores/device_store.py": ("pkg/stores/__init__.py", 4)}


def test_an_import_in_a_function_under_such_a_try_counts_too():
    files = {
        "pkg/__init__.py": "",
        "pkg/stores/__init__.py": "",
        "pkg/stores/device_store.py": "import cupy\n",
        "pkg/pick.py": (
            "def store(name):\n"
            "    if name == 'device':\n"
            "        try:\n"
            "            from pkg.stores.device_store import DeviceStore\n"
            "        except (ImportError, ModuleNotFoundError):\n"
            "            return None\n"
            "        return DeviceStore()\n"
        ),
    }
    assert optional(files) == {"pkg/stores/device_store.py": ("pkg/pick.py", 4)}


def test_one_import_on_the_normal_path_keeps_the_module_needed():
    files = {
        "pkg/__init__.py": "",
        "pkg/stores/__init__.py": BACKENDS,
        "pkg/stores/plain.py": "",
        "pkg/stores/device_store.py": "import cupy\n",
        "pkg/train.py": "def run():\n    from pkg.stores.device_store import DeviceStore\n    return DeviceStore()\n",
    }
    assert optional(files) == {}


def test_a_handler_that_raises_or_exits_says_the_module_is_needed():
    for handler in ('    raise RuntimeError("install the GPU extra")\n', "    sys.exit(1)\n"):
        files = {
            "pkg/__init__.py": "",
            "pkg/stores/__init__.py": "import sys\n\ntry:\n    from .device_store import DeviceStore\nexcept ImportError:\n" + handler,
            "pkg/stores/device_store.py": "import cupy\n",
        }
        assert optional(files) == {}, handler


def test_a_handler_for_other_errors_is_no_fallback_for_an_import():
    files = {
        "pkg/__init__.py": "",
        "pkg/stores/__init__.py": "try:\n    from .device_store import DeviceStore\nexcept KeyError:\n    DeviceStore = None\n",
        "pkg/stores/device_store.py": "import cupy\n",
    }
    assert optional(files) == {}


def test_a_module_nothing_imports_and_a_package_are_left_alone():
    files = {
        "pkg/__init__.py": "try:\n    from . import stores\nexcept ImportError:\n    stores = None\n",
        "pkg/stores/__init__.py": "",
        "pkg/stores/device_store.py": "import cupy\n",
    }
    assert optional(files, ("pkg/stores/device_store.py", "pkg/stores/__init__.py")) == {}


def test_handlers_are_read_by_what_they_catch_and_how_they_end():
    def store_init(handlers: str) -> dict[str, str]:
        return {
            "pkg/__init__.py": "",
            "pkg/stores/__init__.py": "try:\n    from .device_store import DeviceStore\n" + handlers,
            "pkg/stores/device_store.py": "import cupy\n",
        }

    going_on = (
        "except (OSError, ImportError) as error:  # the backend is optional\n    DeviceStore = None\n",
        "except ImportError: DeviceStore = None\n",
        "except:\n    if VERBOSE:\n        raise\n    DeviceStore = None\n",
        "except ValueError:\n    raise\nexcept ModuleNotFoundError:\n    pass\nelse:\n    READY = True\n",
    )
    for handlers in going_on:
        assert optional(store_init(handlers)) == {"pkg/stores/device_store.py": ("pkg/stores/__init__.py", 2)}, handlers
    for handlers in ("except ImportError: raise\n", "except ImportError as error:\n    log(error)\n    exit(1)\n"):
        assert optional(store_init(handlers)) == {}, handlers


def test_an_import_in_a_handler_or_an_else_is_on_the_normal_path():
    files = {
        "pkg/__init__.py": "",
        "pkg/stores/__init__.py": (
            "try:\n    import fast_lib\nexcept ImportError:\n    from .device_store import DeviceStore\n"
            "try:\n    import other_lib\nexcept ImportError:\n    pass\nelse:\n    from .device_store import DeviceStore\n"
        ),
        "pkg/stores/device_store.py": "import cupy\n",
    }
    assert optional(files) == {}


def test_what_only_an_optional_packages_init_imports_is_optional_too():
    """`try: from .fast import FastModel` / `except Exception:` loads `fast/__init__.py`, which imports
    `fast/engine.py`: that module runs only where the package does. An import of the package, or of
    the module, anywhere else puts it back on the normal path; the package's own modules do not."""
    files = {
        "pkg/__init__.py": "",
        "pkg/model.py": "def load():\n    try:\n        from .fast import FastModel\n        return FastModel()\n    except Exception:\n        return None\n",
        "pkg/fast/__init__.py": "from .engine import FastModel\n",
        "pkg/fast/engine.py": "import transformer_engine\nfrom . import helpers\n",
        "pkg/fast/helpers.py": "from .engine import FastModel\n",
    }
    assert optional(files, ("pkg/fast/engine.py",)) == {"pkg/fast/engine.py": ("pkg/model.py", 3)}
    assert optional({**files, "pkg/serve.py": "from pkg.fast import FastModel\n"}, ("pkg/fast/engine.py",)) == {}
    assert optional({**files, "pkg/serve.py": "import pkg.fast.engine\n"}, ("pkg/fast/engine.py",)) == {}
    # behind `except ImportError:` alone, a package whose import cannot fail on an install is the normal path
    narrow = files["pkg/model.py"].replace("except Exception:", "except ImportError:")
    assert optional({**files, "pkg/model.py": narrow}, ("pkg/fast/engine.py",)) == {}
