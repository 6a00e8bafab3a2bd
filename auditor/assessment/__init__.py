"""The `components` stage: from a scan's findings to the one-page answer per target.

    findings ─▶ components (grouping, per-target status, effort) ─▶ verdict per target ─▶ checklist

`assess` is the stage's entry; reporters (`cudaudit.reporters.report_*`) and the fleet merge only
read the `Assessment` it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cudaudit import __version__
from cudaudit.assessment.checklist import Scan, answer_all
from cudaudit.assessment.components import NO_DEPENDENCIES, Dependencies, group
from cudaudit.assessment.counterparts import Counterparts
from cudaudit.assessment.layout import project_root
from cudaudit.assessment.model import Assessment, Component, TargetVerdict
from cudaudit.assessment.verdicts import hardest, off_path, run_stops, verdict
from cudaudit.model import ScanResult
from cudaudit.rules.catalog import Catalog


def assess(
    result: ScanResult,
    targets: Sequence[str],
    catalog: Catalog,
    project: str = "",
    root: str | None = None,
    dependencies: Dependencies = NO_DEPENDENCIES,
    summary: dict | None = None,
    documented: frozenset[str] = frozenset(),
    reached: Mapping[str, frozenset[int]] | None = None,
    launched: Mapping[str, tuple[tuple[str, bool], ...]] | None = None,
    entries: frozenset[str] | None = None,
    shown: frozenset[str] = frozenset(),
    imported_by_runs: frozenset[str] | None = None,
) -> Assessment:
    """The assessment of one scanned project; `root` is its folder as the scan displays paths,
    `summary` the scan's counts as `cudaudit scan -f json` gives them (the JSON report repeats them),
    `documented` the root scripts the project's documents run (`documented_scripts.py`), `reached`
    the findings (positions) each one's run reaches (`entry_reach.py`), `launched` the documented
    scripts each one runs, each with whether it is a step of a pipeline (`documented_scripts.launched_scripts`), `entries` the documented
    uses: those scripts and the modules the documents run with `python -m` (`documented` where None),
    `shown` those of them that are usage examples (`documented_scripts.linked_scripts`), which stop only
    where the project's core code they run does; `imported_by_runs` the modules the documented runs
    import, where those runs are the project's whole use (a project of scripts), else None."""
    root = project_root(result.paths) if root is None else root
    counterparts = Counterparts.of(result.paths)
    run = (documented if entries is None else entries) | {script for runs in (launched or {}).values() for script, _ in runs}
    imported = frozenset(result.findings[index].path for indexes in (reached or {}).values() for index in indexes) - run
    components = group(result.findings, result.paths, targets, catalog, root, counterparts, dependencies, documented, imported)
    checklist = answer_all(Scan(result.findings, components, result.paths, counterparts, root, dependencies), targets)
    return Assessment(
        project=project or root or ".",
        targets={target: _verdict(result, components, target, catalog, documented if entries is None else entries,
                                  reached or {}, launched, shown, imported_by_runs) for target in targets},
        checklist=checklist,
        components=components,
        findings=[finding.to_json() for finding in result.findings],
        summary=summary or {},
        version=__version__,
    )


def _verdict(
    result: ScanResult, components: list[Component], target: str, catalog: Catalog, uses: frozenset[str],
    reached: Mapping[str, frozenset[int]], launched: Mapping[str, tuple[tuple[str, bool], ...]] | None, shown: frozenset[str],
    imported_by_runs: frozenset[str] | None,
) -> TargetVerdict:
    aside = off_path(components, result.findings, target, imported_by_runs)
    stops = run_stops(result.findings, reached, components, target, catalog, shown)
    return hardest(components, target, verdict(components, target, uses, stops, launched, aside), aside)
