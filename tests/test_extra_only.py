"""Modules that need a package only an optional extra installs (`extra_only.py`, `declared.py`)."""

from __future__ import annotations

from cudaudit.filekinds import FileKind
from cudaudit.model import Severity
from cudaudit.rules.dependencies.declared import declared_dependencies
from cudaudit.rules.python.extra_only import extra_only_modules, readme_extras, top_level_imports
from support import analyze

PYPROJECT = """
[project]
name = "trainkit"
dependencies = ["torch", "numpy"]

[project.optional-dependencies]
bigstack = ["big-stack-core>=1.0", "shard-bridge"]

[project.scripts]
trainkit = "trainkit.cli:main"
"""
SHARDED = "import torch\nfrom big_stack.core import parallel\n\ndef setup():\n    return torch.cuda.current_device()\n"
HELPERS = "import torch\nfrom .sharded import setup\n\ndef start():\n    return torch.zeros(2, device='cuda')\n"
CLI = "import sys\n\ndef main():\n    if sys.argv[1] == 'big':\n        from trainkit.bigstack.sharded import setup\n        setup()\n"


def project(**extra: str) -> dict[str, str]:
    return {
        "pyproject.toml": PYPROJECT,
        "trainkit/__init__.py": "",
        "trainkit/cli.py": CLI,
        "trainkit/core.py": "import torch\n\ndef step(x):\n    return x * 2\n",
        "trainkit/bigstack/__init__.py": "",
        "trainkit/bigstack/sharded.py": SHARDED,
        "trainkit/bigstack/helpers.py": HELPERS,
        **extra,
    }


def needing(files: dict[str, str]) -> dict[str, str]:
    declared = {
        path: declared_dependencies(path, text, kind)
        for path, text in files.items()
        for kind in (FileKind.PYPROJECT, FileKind.SETUP, FileKind.REQUIREMENTS)
        if path.endswith({FileKind.PYPROJECT: "pyproject.toml", FileKind.SETUP: "setup.py", FileKind.REQUIREMENTS: ".txt"}[kind])
    }
    python = [path for path in files if path.endswith(".py") and not path.endswith("setup.py")]
    found = extra_only_modules(python, declared, lambda path: top_level_imports(files[path].encode()))
    return {path: evidence.text for path, evidence in found.items()}


def test_a_module_importing_an_extra_only_stack_and_its_importers_need_the_extra():
    assert needing(project()) == {
        "trainkit/bigstack/sharded.py": "import big_stack.core: only the `bigstack` extra installs it",
        "trainkit/bigstack/helpers.py": "import big_stack.core: only the `bigstack` extra installs it",
    }


def test_an_import_line_of_a_string_is_no_import():
    example = '"""Run on the big stack:\n\nfrom big_stack.core import parallel\n"""\nimport torch\n'
    files = project(**{"trainkit/bigstack/sharded.py": example + SHARDED.replace("from big_stack.core import parallel\n", "")})
    assert needing(files) == {}


def test_a_stack_the_base_install_also_declares_is_no_extra():
    files = project(**{"pyproject.toml": PYPROJECT.replace('"numpy"]', '"numpy", "big-stack-core"]')})
    assert needing(files) == {}


def test_an_indented_import_of_the_stack_needs_nothing_at_import_time():
    files = project(**{"trainkit/bigstack/sharded.py": SHARDED.replace("from big_stack", "try:\n    from big_stack").replace(
        "parallel\n", "parallel\nexcept ImportError:\n    parallel = None\n")})
    assert needing(files) == {}


def test_an_extra_a_console_script_or_the_package_needs_at_import_time_is_the_main_stack():
    assert needing(project(**{"trainkit/cli.py": "from trainkit.bigstack.helpers import start\n" + CLI})) == {}
    assert needing(project(**{"trainkit/__init__.py": "from .bigstack import sharded\n"})) == {}


def test_a_requirements_file_a_setup_script_assigns_to_an_extra_is_that_extra():
    setup = (
        "from setuptools import setup\n\nif __name__ == '__main__':\n    extra_requires = {}\n"
        "    extra_requires['bigstack'], _ = parse_requirements('requirements/bigstack.txt')\n"
        "    setup(name='trainkit', install_requires=['torch'], extras_require=extra_requires,\n"
        "          entry_points={'console_scripts': ['trainkit=trainkit.cli:main']})\n"
    )
    files = project(**{"setup.py": setup, "requirements/bigstack.txt": "big-stack-core>=1.0\n", "requirements.txt": "torch\n"})
    del files["pyproject.toml"]
    assert set(needing(files)) == {"trainkit/bigstack/sharded.py", "trainkit/bigstack/helpers.py"}
    files["requirements/extra.txt"] = "big-stack-core\n"  # named by no extra: the base install
    assert needing(files) == {}


def test_the_extra_only_module_is_another_path_and_the_core_keeps_its_error():
    files = project()
    code = files.pop("trainkit/bigstack/sharded.py")
    found = {f.span.line: f.severity for f in analyze(code, path="trainkit/bigstack/sharded.py", files=files)}
    assert found == {5: Severity.WARNING}
    files = project(**{"trainkit/core.py": "import torch\n\ndef step(x):\n    return x.to(torch.cuda.current_device())\n"})
    code = files.pop("trainkit/core.py")
    found = {f.span.line: f.severity for f in analyze(code, path="trainkit/core.py", files=files)}
    assert found == {4: Severity.ERROR}


def test_a_developers_extra_says_nothing_and_the_test_suite_neither_needs_nor_reaches():
    files = project(**{"pyproject.toml": PYPROJECT.replace('"shard-bridge"]', '"shard-bridge", "pytest"]')})
    assert needing(files) == {}
    files = project(**{"tests/test_sharded.py": "from trainkit.bigstack.sharded import setup\n"})
    assert set(needing(files)) == {"trainkit/bigstack/sharded.py", "trainkit/bigstack/helpers.py"}


def test_a_module_the_normal_path_runs_makes_its_extra_the_normal_install():
    declared = {"pyproject.toml": declared_dependencies("pyproject.toml", PYPROJECT, FileKind.PYPROJECT)}
    files = project()
    python = [path for path in files if path.endswith(".py")]
    found = extra_only_modules(python, declared, lambda path: top_level_imports(files[path].encode()), {"trainkit/bigstack/helpers.py"})
    assert found == {}


def test_an_extra_the_readme_installs_is_the_normal_install():
    assert readme_extras('Install it:\n\n    pip install "trainkit[bigstack, viz]"\n\nSee [the docs](docs/x.md).\n') == {"bigstack", "viz"}
    assert readme_extras("Read [the guide](docs/guide.md) first.\n") == frozenset()
    files = project(**{"README.md": "pip install -e '.[bigstack]'\n"})
    code = files.pop("trainkit/bigstack/sharded.py")
    found = {f.span.line: f.severity for f in analyze(code, path="trainkit/bigstack/sharded.py", files=files)}
    assert found == {5: Severity.ERROR}
    files = project(**{"README.md": "pip install trainkit\n", "docs/big.md": "pip install 'trainkit[bigstack]'\n"})
    code = files.pop("trainkit/bigstack/sharded.py")
    found = {f.span.line: f.severity for f in analyze(code, path="trainkit/bigstack/sharded.py", files=files)}
    assert found == {5: Severity.WARNING}


def test_a_standalone_example_script_that_needs_the_extra_keeps_its_severity():
    example = "import torch\nfrom trainkit.bigstack.helpers import start\n\nmodel = torch.nn.Linear(2, 2).to('cuda')\nstart()\n"
    files = project(**{"examples/big-run.v2.py": example})
    assert set(needing(files)) == {"trainkit/bigstack/sharded.py", "trainkit/bigstack/helpers.py"}
    code = files.pop("examples/big-run.v2.py")
    found = {f.span.line: f.severity for f in analyze(code, path="examples/big-run.v2.py", files=files)}
    assert found == {4: Severity.ERROR}
    files = project(**{"examples/big_run.py": example, "examples/launch.py": "import big_run\n"})
    assert "examples/big_run.py" in needing(files)  # a module another script imports is no script of its own
