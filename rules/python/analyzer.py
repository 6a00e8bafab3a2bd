"""The Python analyzer: parse with `ast` (never import or run), walk with the registered concerns, build findings."""

from __future__ import annotations

import ast
import posixpath
from dataclasses import replace

from packaging.version import Version

from cudaudit.facts import NO_FACTS, Evidence, FileFacts, in_test_suite
from cudaudit.firstparty import is_first_party, is_sibling_module
from cudaudit.model import Finding, Severity, Status, option_setting
from cudaudit.rules.builds.extension_routes import route_findings
from cudaudit.rules.builds.unbuilt_extensions import fails_at_call, unbuilt_calls
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.python.capability_use import RocmCapabilities
from cudaudit.rules.python.cuda_in_python import cuda_in_python
from cudaudit.rules.python.defaults import METHOD_CALLS
from cudaudit.rules.python.device_data import handles_devices_as_data, is_device_data, record_values
from cudaudit.rules.python.fallback_callees import FallbackCalls
from cudaudit.rules.python.guards import FlagMeaning, Polarity, Probe
from cudaudit.rules.python.idle_imports import idle_bindings, idle_imports, readers, use_failing_modules
from cudaudit.rules.python.inference_only import backward_spans
from cudaudit.rules.python.library_dispatch import dispatched_methods
from cudaudit.rules.python.main_block import not_run_by_default
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import is_setup_call, subtree
from cudaudit.rules.python.package_probes import absent_packages
from cudaudit.rules.python.provider_strings import provider_bindings, provider_words
from cudaudit.rules.python.reach import Elsewhere, elsewhere_uses
from cudaudit.rules.python.regions import ALL_TARGETS
from cudaudit.rules.python.rewrites import FixContext, build_fix
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.unread_devices import unread_bindings
from cudaudit.rules.python.unread_settings import unread_statements
from cudaudit.rules.python.unused import never_called, uncalled_methods, user_methods
from cudaudit.rules.python.walker import Hit, PythonWalker, may_report
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, parse_python


def analyze_python(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one Python module; raises SyntaxError for code that does not parse."""
    tree = parse_python(text, filename=path)
    namespace = frozenset(facts.namespace_modules)
    module, package = facts.module or ("", False)
    names = ImportTable(
        tree, module, project_flags(facts), package, rocm_capabilities(catalog), dict(facts.skip_markers),
        frozenset(facts.left_out_marks), frozenset(facts.deselected_marks), frozenset(facts.settings_off),
        absent_packages(catalog), {name: frozenset(needed.split(",")) for name, needed in facts.package_flags},
        chosen_elsewhere=dict(facts.settings_chosen), documented_values=dict(facts.settings_documented),
        cpu_routes=facts.cpu_route_options,
        unimportable=frozenset(facts.unimportable),
        unrequested=frozenset(facts.unrequested), launched_by_default=frozenset(facts.launched_by_default),
        kept_on=frozenset(facts.kept_on), cpu_parameters=frozenset(facts.cpu_parameters),
        always_launched=facts.always_launched,
        launched_some=facts.launched_some, scheduler_launched=facts.scheduler_launched,
        module_loaders=dict(facts.module_loaders),
    )
    lines = SourceLines(text)
    version = Version(settings.torch_version) if settings.torch_version else None
    fixes = FixContext(
        lines, names, catalog.canonical, version, tree,
        lambda module: is_first_party(module, settings.first_party, namespace) or is_sibling_module(path, module),
    )
    # Most modules that pass the prefilter hold nothing any concern reports: their walk, the most
    # costly part of the analysis, would find no hit (`survey.py`).
    survey = Survey(tree, names, catalog)
    script = _runs_as_program(path, tree, facts)
    walked = _walked(tree, text, path, catalog, settings, facts, fixes, survey, script) if may_report(survey) else []
    extensions = route_findings(tree, path, facts.cuda_only_loads, lines, catalog, settings) + unbuilt_calls(
        tree, names, path, facts.unbuilt_extensions, lines, catalog, settings
    )
    from_builds = _quiet_unbuilt(cuda_in_python(tree, text, path, catalog, settings, fixes), tree, text, path, facts, script)
    found = walked + extensions + fails_at_call(from_builds, facts.unbuilt_called, catalog)
    if facts.never_trained:
        found = _quieted(found, backward_spans(tree))
    return _stopping_the_start(found, tree, facts.started is not None)


def _quieted(findings: list[Finding], spans: list[tuple[int, int]]) -> list[Finding]:
    """`findings`, those within `spans` (lines: the `backward` of an autograd `Function` in a project
    that only infers, `inference_only.py`) notes on every target: nothing runs them."""
    if not spans:
        return findings
    return [
        replace(finding, severity=Severity.NOTE, targets={
            target: replace(fact, severity=fact.severity.at_most(Severity.NOTE)) for target, fact in finding.targets.items()
        }) if any(first <= finding.span.line <= last for first, last in spans) else finding
        for finding in findings
    ]


def _stopping_the_start(findings: list[Finding], tree: ast.Module, started: bool) -> list[Finding]:
    """The findings that stop the project's start (`Finding.at_import`): in a module the start imports
    at module level (`FileFacts.started`), those at its module-level imports (where such an import
    fails, it stops this module's import and so the start; one inside a `try`, an `if` or a function
    runs only where its block does) and those its import runs (a build at import); in a module the start
    does not import so, none: a failed import there stops only the importers that take that path."""
    if not started:
        return [replace(finding, at_import=False) if finding.at_import else finding for finding in findings]
    lines = [
        (statement.lineno, statement.end_lineno or statement.lineno)
        for statement in tree.body if isinstance(statement, (ast.Import, ast.ImportFrom))
    ]
    return [
        replace(finding, at_import=True) if any(first <= finding.span.line <= last for first, last in lines) else finding
        for finding in findings
    ]


def _quiet_unbuilt(
    findings: list[Finding], tree: ast.Module, text: str, path: str, facts: FileFacts, script: bool
) -> list[Finding]:
    """The extension builds' findings (`cuda_in_python`: a JIT `load()` and its nvcc flags) inside a
    top-level function nothing names, notes on every target: the build never runs (`unused.py`, read as
    for the walk's hits; `script`: the module runs as a program, `_runs_as_program`)."""
    if not findings:
        return findings
    spans = {
        id(statement): (statement.lineno, statement.end_lineno or statement.lineno) for statement in tree.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    holding = {key for key, (first, last) in spans.items() for finding in findings if first <= finding.span.line <= last}
    if not holding:
        return findings
    dead = never_called(
        tree, text, holding, script, uses_elsewhere(facts), imported=_imported_names(facts),
        in_tests=in_test_suite(path, facts),
    )
    return _quieted(findings, [spans[key] for key in dead])


def _runs_as_program(path: str, tree: ast.Module, facts: FileFacts) -> bool:
    """Whether the module is a program nothing imports, whose functions run only where its own code
    calls them: a script by the project index's reading of its `__main__` block (`main_block.py`),
    or a `setup.py` without one whose top level calls `setup(...)`, the build script pip and `python
    setup.py` run (an `nvcc -V` probe that only the build's CUDA branch calls never runs in the ROCm
    build). A package's `setup.py` of helpers (`from pkg.eval.setup import build_model`) calls no `setup`."""
    if facts.main_block is not None:
        return facts.main_block[0] == "script"
    return posixpath.basename(path) == "setup.py" and any(
        is_setup_call(node)
        for statement in tree.body if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for node in subtree(statement)
    )


def _walked(
    tree: ast.Module, text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts, fixes: FixContext,
    survey: Survey, script: bool,
) -> list[Finding]:
    """The findings of the walk's hits, one per rule and span; `script`: the module runs as a program
    (`_runs_as_program`)."""
    elsewhere = uses_elsewhere(facts)
    walker = PythonWalker(
        fixes.names,
        catalog,
        fixes.is_first_party,
        in_tests=in_test_suite(path, facts),
        fixtures=dict(facts.conftest_fixtures),
        faking_fixtures=dict(facts.faking_fixtures),
        uncollected=facts.uncollected_without_cuda,
        never_collected=facts.never_collected,
        switched=frozenset(name for name, _ in facts.switched) | ({""} if facts.off_default_path else set()),
        never_on=frozenset(facts.never_on),
        held=frozenset(facts.held_defaults),
        held_nowhere=facts.held_nowhere,
        # a module off the normal path is run by a user who imports it by hand, who may call any of it
        named_nowhere=facts.named_nowhere if facts.off_default_path is None else frozenset(),
        called_elsewhere={**dict(facts.called_elsewhere), **{METHOD_CALLS + name: calls for name, calls in facts.methods_called}},
        not_run=_not_run(tree, text, facts.main_block, not facts.main_unrun),
        script=script,
        elsewhere=elsewhere,
        fallback_calls=FallbackCalls(tree, {name: frozenset(params) for name, params in facts.fallback_callees}),
        cpu_saved_files=frozenset(facts.cpu_saved_files),
        cpu_loads=frozenset(facts.cpu_loads),
        threshold_calls=dict(facts.threshold_calls),
        calls=survey.of(ast.Call),
    )
    walker.visit(tree)
    walker.hits = _quiet_unread(_quiet_unused(walker, tree, text, script, elsewhere, _imported_names(facts), facts.taken_names, facts.unselected), tree, facts)
    walker.hits = _quiet_providers(walker.hits, tree, text, catalog)
    lines = fixes.lines
    built: dict[int, Finding] = {}
    specific = {id(hit.node) for hit in walker.hits if hit.specific}
    as_data = handles_devices_as_data(tree, walker.names, walker.in_tests)
    records: frozenset[int] | None = None
    for hit in walker.hits:
        node = hit.node
        if id(node) in specific and not hit.specific:
            continue  # the called library's own facts about this value replace the generic ones
        span = lines.node_span(node)
        cap = hit.cap
        if walker.called.intersection(hit.entry.redundant_with):
            cap = Severity.NOTE  # `torch.manual_seed(s)` already seeded what this call seeds
        if as_data and is_device_data(hit):
            cap = Severity.NOTE  # a test that never imports PyTorch hands its code under test a string
        elif is_device_data(hit) and walker.in_tests:
            records = record_values(tree, walker.names) if records is None else records
            if id(node) in records:
                cap = Severity.NOTE  # a record a test that names no part of PyTorch writes out
        site = build_finding(
            hit.entry, path, span, lines.snippet(span), settings.targets, hit.quiet, cap, build_fix(hit, fixes)
        )
        built[id(hit)] = site if hit.option is None else avoided_by_option(site, hit.option)
    findings: dict[tuple[str, object], Finding] = {}
    told = _told_by_their_call(walker.hits, built)
    for hit in walker.hits:
        finding = built.get(id(hit))
        if finding is not None and id(hit) not in told:
            findings.setdefault((finding.rule, finding.span), finding)
    walker.release()
    return list(findings.values())


def avoided_by_option(finding: Finding, option: str) -> Finding:
    """A device default that the command-line option `option` sets: the message names the option,
    and each target it breaks is told the value that avoids it, then the default that would work
    without one."""
    targets = dict(finding.targets)
    for name, fact in finding.targets.items():
        setting = option_setting(option, name)
        if fact.status is not Status.WORKS and setting and fact.replacement:
            targets[name] = replace(fact, replacement=f"`{setting}` on the command line; as the default, {fact.replacement}")
    return replace(finding, message=f"{finding.message}, the default of `{option}`", targets=targets, option=option)


def _told_by_their_call(hits: list[Hit], built: dict[int, Finding]) -> set[int]:
    """The hits inside the arguments of a call that is reported itself, in the same rule family:
    `torch.cuda.max_memory_allocated(device="cuda:0")` is one site, and the query's finding (0 on CPU,
    whatever device it is asked about) says what it does there; the device it is handed is not a
    second finding. A call whose own finding is a note (it works everywhere) leaves its arguments
    their own findings."""
    families: dict[int, set[str]] = {}
    """Per node inside the arguments of a reported call, the rule families of the call's findings."""
    for hit in hits:
        finding = built.get(id(hit))
        call = hit.node if isinstance(hit.node, ast.Call) else hit.call
        if finding is None or call is None or finding.severity is Severity.NOTE:
            continue
        if hit.node is call or hit.node is call.func:
            for argument in (*call.args, *(keyword.value for keyword in call.keywords)):
                for inner in subtree(argument):
                    families.setdefault(id(inner), set()).add(finding.rule[:4])
    return {id(hit) for hit in hits if id(hit) in built and built[id(hit)].rule[:4] in families.get(id(hit.node), ())}


def _not_run(
    tree: ast.Module, text: str, main_block: tuple[str, Evidence | None, tuple[str, ...] | None] | None, run_by_name: bool
) -> frozenset[int]:
    """The top-level statements of a library that running the project does not run (`main_block.not_run_by_default`)."""
    if main_block is None or main_block[0] != "library":
        return frozenset()
    used = main_block[2]
    return not_run_by_default(tree, text, None if used is None else frozenset(used), run_by_name)


def _imported_names(facts: FileFacts) -> frozenset[str] | None:
    """For a module outside every package that other modules import by name (`from train import
    get_model`) or whole with only attribute reads (`train.get_model()`), the names they take; None for
    any other module (a package's, whose public functions are its API; one handed on whole, whose
    every name may be used)."""
    if facts.taken_names is not None:
        return frozenset(facts.taken_names)
    block = facts.main_block
    if not facts.loose_module or block is None or block[0] != "library" or block[2] is None:
        return None
    return frozenset(block[2])


def _quiet_unused(
    walker: PythonWalker, tree: ast.Module, text: str, script: bool, elsewhere: Elsewhere, imported: frozenset[str] | None,
    taken: tuple[str, ...] | None = None, unselected: tuple[str, ...] = (),
) -> list[Hit]:
    """The walk's hits, those in the body of a top-level function nothing names quiet on every
    target: it runs on none (`unused.py`); so are those in the methods of a registered class, or the
    body of a registered function, that no shipped configuration selects (`unselected`,
    `FileFacts.unselected`); so are those of a decorator that only wraps it
    (`@triton.jit`, whose hits the walk counts in the function's scope; not a custom operator's,
    called by the operator's name: `ModuleReach.calls_by_name_only`), and the top-level import of a
    library that fails only at its first call whose names only such functions read
    (`idle_imports.py`). Its parameter defaults,
    evaluated where it is defined, are left to the defaults' own reading. Read only for the
    functions that hold hits."""
    hits = walker.hits
    tops = {id(statement) for statement in tree.body if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))}
    methods = {
        id(method): id(statement) for statement in tree.body if isinstance(statement, ast.ClassDef)
        for method in statement.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    holding = {scope for hit in hits for scope in hit.scope if scope in tops}
    bindings = idle_bindings(tree, (hit.node for hit in hits if isinstance(hit.node, ast.stmt)), use_failing_modules(walker.catalog))
    read_by = readers(tree, frozenset().union(*bindings.values())) if bindings else {}
    holding |= {reader for found in read_by.values() for reader in found if reader in tops}
    holding |= {methods[hit.scope[0]] for hit in hits if hit.scope and hit.scope[0] in methods}
    reach = walker.reach
    by_name = reach.calls_by_name_only if reach is not None else (lambda decorator: False)
    dead = never_called(tree, text, holding, script, elsewhere, by_name, imported, walker.in_tests) if holding else frozenset()
    dead = dead | {id(statement) for statement in tree.body if getattr(statement, "name", None) in unselected}
    dead = dead | {method for method, owner in methods.items() if owner in dead}
    if taken is not None and any(hit.scope and hit.scope[0] in methods for hit in hits):
        dead |= uncalled_methods(  # `taken_names`: the methods another file spells
            tree, text, taken, user_methods(walker.catalog), dispatched_methods(walker.catalog)
        )
    idle = idle_imports(bindings, read_by, dead)
    if not dead and not idle:
        return hits
    return [
        replace(hit, quiet=hit.quiet | ALL_TARGETS) if dead.intersection(hit.scope) or id(hit.node) in idle else hit
        for hit in hits
    ]


def _quiet_unread(hits: list[Hit], tree: ast.Module, facts: FileFacts) -> list[Hit]:
    """The hits, those of a top-level binding of a CUDA device to a name nothing reads quiet on every
    target: no tensor is placed there (`unread_devices.py`); those of a top-level binding of a
    backend setting that no code of the project reads: no process group is given it (`unread_settings.py`);
    and those of a library's `__main__` block after its load of a configuration the project does not
    ship: they run on no target (`unshipped_configs.py`)."""
    hits = _quiet_unshipped(hits, facts.unshipped_load)
    unread = unread_bindings(tree, frozenset(facts.unread_devices)) | unread_statements(tree, frozenset(facts.unread_settings))
    if not unread:
        return hits
    return [
        replace(hit, quiet=hit.quiet | ALL_TARGETS)
        if (hit.statement is not None and id(hit.statement) in unread) or id(hit.node) in unread else hit
        for hit in hits
    ]


def _quiet_unshipped(hits: list[Hit], lines: tuple[int, int] | None) -> list[Hit]:
    """The hits, those on the lines after `lines`' first (a `__main__` block's load of a configuration
    the project does not ship) up to its second (the block's end) quiet on every target."""
    if lines is None:
        return hits
    after, last = lines
    return [
        replace(hit, quiet=hit.quiet | ALL_TARGETS) if after < getattr(hit.node, "lineno", 0) <= last else hit
        for hit in hits
    ]


def _quiet_providers(hits: list[Hit], tree: ast.Module, text: str, catalog: Catalog) -> list[Hit]:
    """The hits, those of a binding of a CUDA device string that only picks an ONNX Runtime execution
    provider quiet on every target: it places no tensor (`provider_strings.py`)."""
    if not any(hit.statement is not None and isinstance(hit.statement, ast.Assign) for hit in hits):
        return hits
    words = provider_words(table for _, tables in catalog.tables("provider_argument") for table in tables)
    lowered = text.lower()
    if not any(word in lowered for word in words):
        return hits  # no keyword can be named for a provider: the module's text never spells the word
    picking = provider_bindings(tree, words)
    if not picking:
        return hits
    return [
        replace(hit, quiet=hit.quiet | ALL_TARGETS) if hit.statement is not None and id(hit.statement) in picking else hit
        for hit in hits
    ]


def uses_elsewhere(facts: FileFacts) -> Elsewhere:
    """`FileFacts.used_elsewhere` as `reach.py` counts uses."""
    return elsewhere_uses(facts.used_elsewhere)


def rocm_capabilities(catalog: Catalog) -> RocmCapabilities | None:
    """What each GPU ROCm supports reports as its compute capability (the catalog's `[rocm_capabilities]`)."""
    return RocmCapabilities.from_tables(catalog.tables("rocm_capabilities"))


def project_flags(facts: FileFacts) -> dict[str, FlagMeaning]:
    """The project's device flags (`FileFacts.device_flags`) as `guards.flag_meaning` reads them."""
    return {
        name: tuple((Probe(probe), Polarity(side) if side else None) for probe, side in meaning)
        for name, meaning in facts.device_flags
    }
