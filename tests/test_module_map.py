"""The names the scan's own Python modules are imported by (`firstparty.ModuleMap`), from paths alone."""

from __future__ import annotations

from cudaudit.firstparty import ModuleMap

PATHS = [
    "proj/core/__init__.py",
    "proj/core/utils.py",
    "pkg/__init__.py",
    "pkg/vendor/tools/seg/__init__.py",
    "pkg/vendor/tools/seg/utils.py",
    "train.py",
]


def test_a_package_below_namespace_folders_is_imported_by_the_names_they_give_it():
    modules = ModuleMap(PATHS)
    assert modules.name("proj/core/utils.py") == "core.utils"
    assert modules.outer_names("proj/core/utils.py") == ["proj.core.utils"]
    assert modules.resolve("train.py", 0, "proj.core.utils") == {"proj/core/__init__.py", "proj/core/utils.py"}
    assert modules.resolve("train.py", 0, "proj.core", ("utils",)) == {"proj/core/__init__.py", "proj/core/utils.py"}


def test_no_name_starts_at_a_folder_inside_a_package():
    """`tools.seg` would need `pkg/vendor/` itself on the path: a vendored copy's own absolute
    imports (`from tools.seg import utils`) do not reach it from the project."""
    modules = ModuleMap(PATHS)
    assert modules.outer_names("pkg/vendor/tools/seg/utils.py") == ["pkg.vendor.tools.seg.utils"]
    assert modules.resolve("train.py", 0, "tools.seg.utils") == set()
    assert "pkg/vendor/tools/seg/utils.py" in modules.resolve("train.py", 0, "pkg.vendor.tools.seg.utils")


def test_a_module_outside_any_package_has_no_outer_names():
    assert ModuleMap(PATHS).outer_names("train.py") == []
