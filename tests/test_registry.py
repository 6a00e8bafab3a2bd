"""The registry: every catalog string names code that exists, and that code is what reports it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import shutil
import sys
from importlib import resources
from pathlib import Path

import pytest

from cudaudit.ruledocs import rule_anchor
from cudaudit.rules.catalog import CatalogError, load_catalog, read_catalog
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.walker import Concern, PythonWalker
from cudaudit.rules.registry import (
    DETECTORS,
    FIX_BUILDERS,
    fix_builder,
    made_for_one_target,
    python_concern_modules,
    source_file,
)
from support import REPO, analyze, example_path

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


@pytest.mark.parametrize("kind", FIX_BUILDERS)
def test_every_fix_kind_resolves_to_its_builder_function(kind):
    assert callable(fix_builder(kind))


def test_every_fix_kind_is_used_by_some_rule_or_entry():
    entries = [CATALOG.lookup(detector, key) for detector in DETECTORS for key in CATALOG.keys(detector)]
    used = {entry.fix.kind for entry in entries if entry and entry.fix}
    assert used == set(FIX_BUILDERS)


@pytest.mark.parametrize("module", [*REGISTERED_MODULES, *(b.partition(":")[0] for b in FIX_BUILDERS.values())])
def test_every_registered_module_has_its_file_in_the_repository(module):
    assert (REPO / source_file(module)).is_file(), source_file(module)


@pytest.mark.parametrize("rule", WALKED_RULES, ids=lambda r: f"{r.id}-{r.detector}")
def test_the_concerns_registered_for_a_detector_alone_find_its_flagged_examples(rule):
    """The registry is right: the modules it names for a rule's detector report the rule by themselves."""
    concerns = [
        importlib.import_module(module).CONCERN
        for module in DETECTORS[rule.detector]
        if module in python_concern_modules()
    ]
    for example in rule.flagged:
        if example.path and not example.path.endswith(".py"):
            continue  # a notebook's example is JSON, whose cells reach the walker through the notebook reader
        if example.files:
            continue  # given the other files of its project: what they tell the walk comes through the project index
        tree = ast.parse(example.code)
        walker = PythonWalker(ImportTable(tree), CATALOG, concerns=concerns)
        walker.visit(tree)
        assert any(hit.entry.rule.id == rule.id for hit in walker.hits), example.code


@pytest.mark.parametrize("rule", CATALOG.rules.values(), ids=lambda r: f"{r.id}-{r.detector}")
def test_the_modules_named_for_every_rule_run_when_its_flagged_example_is_found(rule):
    """The reference's "where it lives" is true of every rule: the detector modules the registry
    names for it (which docs/rules.md links) run while its first flagged example is analysed."""
    example = rule.flagged[0]
    ran: set[str] = set()

    def calls(frame, event, _arg):
        if event == "call":
            ran.add(frame.f_globals.get("__name__", ""))

    sys.setprofile(calls)
    try:
        found = analyze(example.code, path=example.path or example_path(rule), files=example.files)
    finally:
        sys.setprofile(None)
    assert rule.id in {finding.rule for finding in found}
    assert ran & set(DETECTORS[rule.detector]), f"none of {DETECTORS[rule.detector]} ran"


def test_every_rule_has_its_page_and_its_links_in_the_reference():
    reference = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in CATALOG.rules.values():
        page = reference.split(f"\n### {rule.id} {rule.name}\n", 1)[1].split("\n### ", 1)[0]
        assert f"(#{rule_anchor(rule)})" in reference, rule.id
        lives = page.split("**Where it lives:**", 1)[1]
        assert f"rules/data/{rule.defined_in}" in lives and f"-k {rule.id}" in lives, rule.id
        assert all(source_file(module) in lives for module in DETECTORS[rule.detector]), rule.id
        if rule.fix is not None:
            assert source_file(FIX_BUILDERS[rule.fix.kind]) in lives, rule.id


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


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unknown_fix_kind_is_a_load_error_that_names_the_rule(tmp_path):
    folder = _catalog_copy(tmp_path)
    _edit(folder, "torch.toml", 'fix = { kind = "to-device"', 'fix = { kind = "to_device"')
    with pytest.raises(CatalogError, match=r"torch\.toml: rule CDA\d+: fix: unknown kind 'to_device'.*registry"):
        read_catalog(folder)


def test_a_fix_kind_of_another_file_kind_is_a_load_error(tmp_path):
    assert made_for_one_target("image") and not made_for_one_target("to-device")
    folder = _catalog_copy(tmp_path)
    _edit(folder, "torch.toml", 'fix = { kind = "to-device"', 'fix = { kind = "image"')
    with pytest.raises(CatalogError, match="fix: kind 'image' does not rewrite python files"):
        read_catalog(folder)


def test_an_unknown_detector_is_a_load_error_that_names_the_rule(tmp_path):
    folder = _catalog_copy(tmp_path)
    _edit(folder, "torch.toml", 'detector = "method"', 'detector = "methods"')
    with pytest.raises(CatalogError, match=r"torch\.toml: rule CDA\d+: unknown detector 'methods'.*registry"):
        read_catalog(folder)


def test_every_file_the_rule_reference_links_to_exists():
    reference = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(\.\./([^)#]+)\)", reference)
    assert len(links) > len(CATALOG.rules)
    assert [link for link in links if not (REPO / link).is_file()] == []
