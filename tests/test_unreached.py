"""Package modules nothing in the project reaches are another path (`unreached.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.facts import Evidence
from cudaudit.model import Severity
from cudaudit.rules.python.unreached import runs_nowhere, unreached_modules
from support import analyze

QUANT = "import torch\n\ndef scale(x):\n    return x.to('cuda')\n"


def unreached(files: dict[str, str]) -> dict[str, str]:
    python = {path: partial(str.encode, text) for path, text in files.items() if path.endswith(".py")}
    others = {path: partial(str.encode, text) for path, text in files.items() if not path.endswith(".py")}
    return {path: evidence.text for path, evidence in unreached_modules(python, python, others).items()}


def test_a_subpackage_only_its_tests_import_is_unreached_and_what_its_init_imports_too():
    files = {
        "kit/__init__.py": "",
        "kit/train.py": "from kit.layers import block\n",
        "kit/layers.py": "import torch\n",
        "kit/quant/__init__.py": "from .linear import scale\n",
        "kit/quant/linear.py": QUANT,
        "run.py": "from kit.train import block\n",
        "tests/test_quant.py": "from kit.quant import scale\n",
    }
    found = unreached(files)
    assert set(found) == {"kit/quant/__init__.py", "kit/quant/linear.py"}
    assert found["kit/quant/linear.py"].startswith("only the test suite imports")


def test_what_a_script_a_package_top_level_or_a_main_module_imports_is_reached():
    files = {
        "kit/__init__.py": "from .api import build\n",
        "kit/api.py": "def build():\n    from kit import ops\n",
        "kit/ops.py": QUANT,
        "kit/cli.py": "from kit.tools import run\n\nif __name__ == '__main__':\n    run()\n",
        "kit/tools.py": QUANT,
        "kit/convert.py": "from kit.legacy import scale\n\nscale(1)\n",  # runs at its top level: a script
        "kit/legacy.py": QUANT,
        "examples/helpers/__init__.py": "",
        "examples/helpers/loss.py": QUANT,
        "examples/__init__.py": "",
        "examples/train.py": "from helpers.loss import scale\n\nif __name__ == '__main__':\n    scale(1)\n",
        "kit/vendored.py": QUANT,
    }
    assert set(unreached(files)) == {"kit/vendored.py"}


def test_a_name_in_any_file_outside_tests_and_tool_settings_reaches_a_module():
    base = {
        "kit/__init__.py": "", "kit/core.py": "", "run.py": "from kit import core\n",
        "kit/layers/__init__.py": "", "kit/layers/fused.py": QUANT,
    }
    assert set(unreached(base)) == {"kit/layers/__init__.py", "kit/layers/fused.py"}
    for other in (
        {"README.md": "Run `python -m kit.layers.fused`.\n"},
        {"configs/model.yaml": "module: layers.fused\n"},  # a package-relative name a loader imports
        {"pyproject.toml": '[project.scripts]\nfuse = "kit.layers.fused:main"\n'},
        {"kit/loader.py": "import importlib\n\nimportlib.import_module('kit.layers.fused')\n"},
        {"kit/__init__.py": "from . import layers\n", "kit/layers/__init__.py": "_import_structure = {'fused': ['scale']}\n"},
        {"kit/layers/__init__.py": "import importlib\n\ndef load(name):\n    return importlib.import_module('.' + name, __name__)\n"},
        {"kit/layers/table.py": "MODELS = {'fast': f'{ROOT}.fused.Fused'}\n", "kit/core.py": "from kit.layers import table\n"},
        {"kit/core.py": "import importlib\n\ndef load(name):\n    return importlib.import_module(f'kit.layers.{name}')\n"},
        {"kit/layers/README.md": "Swap in `fused.py` for the slow path.\n"},  # its folder's document
    ):
        assert "kit/layers/fused.py" not in unreached({**base, **other}), other
    for other in (
        {"pyproject.toml": '[tool.ruff]\nexclude = ["kit/layers/fused.py"]\n'},
        {"tests/test_fused.py": "import importlib\n\nimportlib.import_module('kit.layers.fused')\n"},
        {"docs/notes.md": "See other.kit.layers.fused and fused.\n"},
        {"docs/guide.md": "Swap in `fused.py` for the slow path.\n"},  # a file name, in a document elsewhere
    ):
        assert "kit/layers/fused.py" in unreached({**base, **other}), other


def test_an_extension_build_in_setup_py_names_no_python_module_of_its_folder():
    base = {
        "kit/__init__.py": "", "kit/core.py": "", "run.py": "from kit import core\n",
        "kit/layers/__init__.py": "", "kit/layers/fused.py": QUANT,
    }
    setup = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n\n"
        "def make_ext(name, module, sources):\n"
        "    return CUDAExtension(name=f'{{module}}.{{name}}', sources=sources)\n\n"
        "setup(ext_modules=[\n"
        "    make_ext(name='fused_ext', module='layers.fused', sources=['src/fused.cu']),\n"
        "    CUDAExtension('kit.layers.fused', ['kit/layers/fused/fused.cu']),\n"
        "]{})\n"
    )
    assert "kit/layers/fused.py" in unreached({**base, "setup.py": setup.format("")})
    listed = setup.format(", py_modules=['kit.layers.fused']")  # a module the install lists is named
    assert "kit/layers/fused.py" not in unreached({**base, "setup.py": listed})


def test_a_package_none_of_whose_modules_is_reached_shows_no_route_and_is_left_alone():
    library = {"kit/__init__.py": "", "kit/ops.py": QUANT, "kit/api.py": "from kit.ops import scale\n"}
    assert unreached(library) == {}  # its users import `kit.api` from outside the tree
    assert set(unreached({**library, "demo.py": "from kit.api import scale\n", "kit/old.py": QUANT})) == {"kit/old.py"}


def test_a_scan_caps_an_unreached_modules_errors_at_warnings():
    files = {
        "README.md": "Kit: `python train.py`.\n",
        "kit/__init__.py": "",
        "train.py": "import kit.core\n",
        "kit/core.py": "",
        "tests/test_quant.py": "from kit.quant import scale\n\n\ndef test_scale():\n    assert scale(1)\n",
    }
    found = {(f.span.line, f.severity) for f in analyze(QUANT, path="kit/quant.py", files=files)}
    assert found == {(4, Severity.WARNING)}
    imported = {**files, "train.py": "from kit.quant import scale\n\nprint(scale(batch))\n"}
    assert {(f.span.line, f.severity) for f in analyze(QUANT, path="kit/quant.py", files=imported)} == {(4, Severity.ERROR)}


def test_display_paths_from_the_root_of_the_file_system_are_read_alike():
    files = {
        "/srv/app/kit/__init__.py": "", "/srv/app/kit/core.py": "", "/srv/app/run.py": "from kit import core\n",
        "/srv/app/kit/old.py": QUANT, "/srv/app/kit/new.py": QUANT, "/srv/app/kit/README.md": "Use `new.py`.\n",
    }
    assert set(unreached(files)) == {"/srv/app/kit/old.py"}


def test_a_commented_out_import_reaches_nothing_and_a_comment_that_says_more_is_kept():
    files = {
        "kit/__init__.py": "", "kit/model.py": "",
        "kit/attention_patch.py": QUANT,
        "kit/train.py": "# Patch before importing the model.\n# from kit.attention_patch import apply\n\n"
                        "from kit.model import build\n\nif __name__ == '__main__':\n    build()\n",
    }
    assert set(unreached(files)) == {"kit/attention_patch.py"}
    live = files["kit/train.py"].replace("# from kit.attention_patch", "from kit.attention_patch")
    assert unreached({**files, "kit/train.py": live}) == {}
    told = files["kit/train.py"] + "# Run `python -m kit.attention_patch` to apply it by hand.\n"
    assert unreached({**files, "kit/train.py": told}) == {}
    shown = {**files, "notes.sh": "# from kit.attention_patch import apply\n"}  # a shell comment is not Python's
    assert unreached(shown) == {}


def test_in_an_application_a_package_nothing_imports_or_names_is_unreached_whatever_runs_inside_it():
    files = {
        "app.py": "# see https://example.org/tree/main/seg/ops/fused.py\nfrom annotators.depth import estimate\n",
        "annotators/depth/__init__.py": "def estimate(x):\n    return x\n",
        "annotators/seg/__init__.py": "from .ops import fused\n",
        "annotators/seg/ops/__init__.py": "import importlib\n",
        "annotators/seg/ops/fused.py": QUANT,
        "annotators/seg/registry.py": "from .ops import fused\n\nfor name in ('a', 'b'):\n    print(name)\n",
        "annotators/seg/env.py": "from .ops import fused\n\nif __name__ == '__main__':\n    fused.scale(1)\n",
    }
    python = {path: partial(str.encode, text) for path, text in files.items()}
    found = unreached_modules(python, python, {}, application=True)
    assert {path for path in found if path.startswith("annotators/seg/")} == {path for path in files if path.startswith("annotators/seg/")}
    assert set(runs_nowhere(found)) == set(found)  # a copy no route imports: notes
    assert "`annotators/seg/`" in runs_nowhere(found)["annotators/seg/ops/fused.py"]
    assert unreached_modules(python, python, {}) == {}  # a library's package: its users import it
    by_hand = {"annotators/seg/registry.py", "annotators/seg/env.py"}  # named by nothing, imported by nothing
    for entry in (
        "from annotators.depth import estimate\nimport sys\nsys.path.append('annotators')\nimport seg\n",
        "from annotators.depth import estimate\nimport importlib\nseg = importlib.import_module('annotators.seg')\n",
    ):
        entries = {**python, "app.py": partial(str.encode, entry)}
        assert set(found := unreached_modules(entries, entries, {}, application=True)) == by_hand
        assert runs_nowhere(found) == {}  # modules of a package the app uses: a user may import them by hand
    readme = {"README.md": partial(str.encode, "```python\nfrom annotators.seg import fused\n```\n")}
    assert set(found := unreached_modules(python, python, readme, application=True)) == by_hand
    assert runs_nowhere(found) == {}


def test_in_an_application_a_package_s_own_tests_and_unnamed_scripts_run_only_where_it_does():
    files = {
        "app.py": "from annotators.depth import estimate\n",
        "annotators/depth/__init__.py": "def estimate(x):\n    return x\n",
        "annotators/seg/__init__.py": "",
        "annotators/seg/ops.py": QUANT,
        "annotators/seg/engine/__init__.py": "",
        "annotators/seg/engine/test.py": "from annotators.seg.ops import scale\n",  # the copy's own test helper
        "annotators/seg/env.py": "from annotators.seg.ops import scale\n\nif __name__ == '__main__':\n    scale(1)\n",
    }
    python = {path: partial(str.encode, text) for path, text in files.items()}
    aside = {"annotators/seg/env.py": Evidence("annotators/seg/env.py", 0, "nothing names this script")}
    found = unreached_modules(python, python, {}, aside, application=True)
    assert "annotators/seg/ops.py" in runs_nowhere(found)
    tested = {**python, "tests/test_ops.py": partial(str.encode, "from annotators.seg.ops import scale\n")}
    found = unreached_modules(tested, tested, {}, aside, application=True)
    assert "annotators/seg/ops.py" in found and "annotators/seg/ops.py" not in runs_nowhere(found)  # the project's suite
