"""The registry: every catalog string names code that exists, and that code is what reports it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import shutil
from importlib import resources
from pathlib import Path

import pytest

from cudaudit.rules.catalog import CatalogError, load_catalog, read_catalog
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.walker import Concern, PythonWalker
from cudaudit.rules.registry import DETECTORS, python_concern_modules

CATALOG = load_catalog()
REGISTERED_MODULES = sorted({module for modules in DETECTORS.values() for module in modules})
WALKED_RULES = [
    rule
    for rule in CATALOG.rules.values()
    if rule.kind == "python" and set(DETECTORS[rule.detector]) & set(python_concern_modules())
]


@pytest.mark.parametrize("module", REGISTERED_MODULES)
def test_every_registered_module_exists(module):
    assert importlib.util.find_spec(module) is not None, f"{module} is registered but does not exist"


@pytest.mark.parametrize("module", python_concern_modules())
def test_every_python_concern_module_exports_its_concern(module):
    concern = importlib.import_module(module).CONCERN
    assert issubclass(concern, Concern)


def test_every_catalog_detector_is_registered_and_every_registered_one_is_used():
    used = {rule.detector for rule in CATALOG.rules.values()}
    assert used == set(DETECTORS), "a detector string with no rule should leave the registry"


@pytest.mark.parametrize("rule", WALKED_RULES, ids=lambda r: f"{r.id}-{r.detector}")
def test_the_concerns_registered_for_a_detector_alone_find_its_flagged_examples(rule):
    """The registry is right: the modules it names for a rule's detector report the rule by themselves."""
    concerns = [
        importlib.import_module(module).CONCERN
        for module in DETECTORS[rule.detector]
        if module in python_concern_modules()
    ]
    for example in rule.flagged:
        tree = ast.parse(example.code)
        walker = PythonWalker(ImportTable(tree), CATALOG, concerns=concerns)
        walker.visit(tree)
        assert any(hit.entry.rule.id == rule.id for hit in walker.hits), example.code


def test_a_concern_cannot_take_the_hooked_node_classes_directly():
    with pytest.raises(TypeError, match="use on_call or on_qualified_name"):

        class CallWatcher(Concern):
            def on_Call(self, node: ast.Call) -> None: ...


def _catalog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    with resources.as_file(resources.files("cudaudit.rules") / "data") as shipped:
        shutil.copytree(shipped, folder)
    return folder


def test_the_catalog_copy_loads_as_shipped(tmp_path):
    assert read_catalog(_catalog_copy(tmp_path)).rules.keys() == CATALOG.rules.keys()


def test_an_unknown_detector_is_a_load_error_that_names_the_rule(tmp_path):
    folder = _catalog_copy(tmp_path)
    torch = folder / "torch.toml"
    text = torch.read_text(encoding="utf-8")
    assert 'detector = "method"' in text
    torch.write_text(text.replace('detector = "method"', 'detector = "methods"', 1), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"torch\.toml: rule CDA\d+: unknown detector 'methods'.*registry"):
        read_catalog(folder)
