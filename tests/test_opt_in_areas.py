"""Opt-in areas: experimental folders inside a package that the core never imports (`opt_in_areas.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.rules.python.opt_in_areas import area_folders, unreached_in_areas

NAMES = ("experiments", "experimental", "dev", "prototype")


def unreached(files: dict[str, str]) -> set[str]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    return set(unreached_in_areas(area_folders(sources, NAMES), sources))


def test_only_folders_inside_a_package_are_areas_and_only_the_outermost():
    paths = [
        "pkg/__init__.py",
        "pkg/experiments/__init__.py",
        "pkg/experiments/dev/tool.py",
        "experiments/run.py",  # a research repository's scripts, outside any package
        "tools/dev/check.py",  # `tools/` is no package
    ]
    assert area_folders(paths, NAMES) == ("pkg/experiments",)


def test_a_module_of_an_area_that_nothing_outside_imports_is_unreached():
    files = {
        "pkg/__init__.py": "",
        "pkg/train.py": "import importlib\n\ndef load(name):\n    return importlib.import_module(name)\n",
        "pkg/experimental/__init__.py": "",
        "pkg/experimental/graphs.py": "import torch\n",
        "pkg/experimental/helpers.py": "from .graphs import torch\n",
    }
    assert unreached(files) == {"pkg/experimental/__init__.py", "pkg/experimental/graphs.py", "pkg/experimental/helpers.py"}


def test_what_the_core_imports_and_what_that_imports_in_turn_stay_reached():
    files = {
        "pkg/__init__.py": "",
        "pkg/train.py": "from pkg.experimental.fast import step\n",
        "pkg/experimental/__init__.py": "",
        "pkg/experimental/fast.py": "from . import kernels\n\ndef step():\n    return kernels.run()\n",
        "pkg/experimental/kernels.py": "def run():\n    return 1\n",
        "pkg/experimental/other.py": "import torch\n",
    }
    assert unreached(files) == {"pkg/experimental/other.py"}


def test_importing_the_area_package_alone_reaches_only_what_its_init_imports():
    files = {
        "pkg/__init__.py": "",
        "pkg/config.py": "from pkg.experiments import KNOWN\n",
        "pkg/experiments/__init__.py": "KNOWN = ['graphs']\n",
        "pkg/experiments/graphs/__init__.py": "",
        "pkg/experiments/graphs/cudagraph.py": "import torch\n",
    }
    assert unreached(files) == {"pkg/experiments/graphs/__init__.py", "pkg/experiments/graphs/cudagraph.py"}


def test_imports_from_tests_and_from_other_areas_reach_nothing():
    files = {
        "pkg/__init__.py": "",
        "pkg/dev/__init__.py": "",
        "pkg/dev/workers.py": "import torch\n",
        "recipes/__init__.py": "",
        "recipes/dev/grpo.py": "from pkg.dev.workers import torch\n",
        "tests/test_workers.py": "from pkg.dev.workers import torch\n",
    }
    assert unreached(files) == {"pkg/dev/__init__.py", "pkg/dev/workers.py", "recipes/dev/grpo.py"}


def test_imports_from_the_developers_scripts_and_from_folders_named_alike_reach_nothing():
    files = {
        "pkg/__init__.py": "",
        "pkg/prototype/__init__.py": "",
        "pkg/prototype/fused.py": "import torch\n",
        "pkg/prototype/quant.py": "import torch\n",
        "benchmarks/bench_fused.py": "from pkg.prototype.fused import torch\n",
        "docs/examples/prototype/quant_demo.py": "from pkg.prototype.quant import torch\n",
    }
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    found = unreached_in_areas(area_folders(sources, NAMES), sources, frozenset({"benchmarks/bench_fused.py"}))
    assert set(found) == {"pkg/prototype/__init__.py", "pkg/prototype/fused.py", "pkg/prototype/quant.py"}
    assert "benchmarks/bench_fused.py" in found["pkg/prototype/fused.py"].text
    assert set(unreached_in_areas(area_folders(sources, NAMES), sources)) == {"pkg/prototype/quant.py"}


def test_an_example_in_a_folder_of_another_name_still_reaches_the_area():
    files = {
        "pkg/__init__.py": "",
        "pkg/prototype/__init__.py": "",
        "pkg/prototype/quant.py": "import torch\n",
        "docs/examples/inference/quant_demo.py": "from pkg.prototype.quant import torch\n",
    }
    assert unreached(files) == set()
