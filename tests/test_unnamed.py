"""Monkey patches in a package that nothing in the project imports or names (`unnamed.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.rules.python.unnamed import unnamed_modules

PATCH = "import app.model as model\n\ndef replace_attention():\n    model.attend = None\n"


def unnamed(files: dict[str, str], tests: dict[str, str] | None = None, candidates: tuple[str, ...] = ("app/flash_patch.py",)) -> set[str]:
    def readers(texts: dict[str, str]) -> dict:
        return {path: partial(str.encode, text) for path, text in texts.items()}

    return set(unnamed_modules(candidates, readers(files), readers(tests or {})))


def test_a_patch_no_other_file_names_is_unnamed_and_a_module_that_patches_nothing_is_left_alone():
    files = {"app/__init__.py": "", "app/flash_patch.py": PATCH, "app/train.py": "from app.model import attend\n"}
    assert unnamed(files) == {"app/flash_patch.py"}
    api = "import torch\n\ndef attend(q):\n    return q.to('cuda')\n"  # API for users, not a patch
    assert unnamed({**files, "app/flash_patch.py": api}) == set()


def test_a_name_in_an_import_a_string_or_a_script_is_a_use():
    base = {"app/__init__.py": "", "app/flash_patch.py": PATCH}
    assert unnamed({**base, "app/train.py": "from app.flash_patch import replace_attention\n"}) == set()
    assert unnamed({**base, "app/registry.py": 'PATCHES = ["app.flash_patch"]\n'}) == set()
    assert unnamed({**base, "run.sh": "python -c 'import app.flash_patch'\n"}) == set()
    # a longer word that holds the name is no use of it
    assert unnamed({**base, "app/train.py": "from app.old_flash_patch_v1 import x\n"}) == {"app/flash_patch.py"}


def test_the_tests_name_a_module_only_by_importing_it():
    files = {"app/__init__.py": "", "app/flash_patch.py": PATCH}
    assert unnamed(files, {"tests/test_patch.py": "from app.flash_patch import replace_attention\n"}) == set()
    assert unnamed(files, {"tests/test_cli.py": 'ARGS = "--imports app.flash_patch"\n'}) == {"app/flash_patch.py"}


def test_a_script_and_a_package_that_imports_by_built_names_are_left_alone():
    script = PATCH + "\nreplace_attention()\n"
    assert unnamed({"app/__init__.py": "", "app/flash_patch.py": script}) == set()
    guarded = PATCH + "\nif __name__ == '__main__' and torch.cuda.is_available():\n    replace_attention()\n"
    assert unnamed({"app/__init__.py": "", "app/flash_patch.py": guarded}) == set()
    plugins = "import importlib, os\n\nfor name in os.listdir(os.path.dirname(__file__)):\n    importlib.import_module(name)\n"
    assert unnamed({"app/__init__.py": plugins, "app/flash_patch.py": PATCH}) == set()


def test_a_commented_out_import_of_a_python_module_is_no_use():
    base = {"app/__init__.py": "", "app/flash_patch.py": PATCH}
    turned_off = "# from app.flash_patch import replace_attention\n#import app.flash_patch\nimport app.model\n"
    assert unnamed({**base, "app/train.py": turned_off}) == {"app/flash_patch.py"}
    assert unnamed({**base, "app/train.py": turned_off.replace("#import", "import")}) == set()
    assert unnamed({**base, "app/train.py": "# apply flash_patch before training\n"}) == set()  # a comment that says more
