"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning, built with sarif-om.

GitHub's rules shape this: the first sentence of a result's message is the alert title;
locations are repository-relative under `%SRCROOT%`; `primaryLocationLineHash` keeps an
alert alive when lines move; at most 25,000 results a run, 20 tags a rule and 10 MB
gzipped, beyond which results are dropped (least severe first) with a warning.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import sarif_om as om
from jschema_to_python.to_json import to_json

from cudaudit import PROJECT_URL, RULES_URL, __version__
from cudaudit.fingerprints import fingerprints
from cudaudit.model import Finding, Omitted, ScanResult, Severity
from cudaudit.printable import uri_path
from cudaudit.reporters.json_report import json_safe
from cudaudit.ruledocs import rule_anchor, rule_markdown
from cudaudit.rules.catalog import Catalog, Rule
from cudaudit.safe_git import GitUnavailable, run_git

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_TAGS = 20
MAX_GZIPPED_BYTES = 10 * 1024 * 1024
MAX_DESCRIPTION = 1024
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def render_sarif(
    result: ScanResult,
    catalog: Catalog,
    targets: tuple[str, ...],
    category: str,
    warn: Callable[[str], None],
) -> str:
    root = source_root()
    findings = _within_limit(result.findings, warn)
    while True:
        text = _render(findings, result.omitted, catalog, targets, category, root, result.buffers)
        if len(gzip.compress(text.encode())) <= MAX_GZIPPED_BYTES or not findings:
            return text
        kept = len(findings) * 9 // 10
        warn(f"SARIF over GitHub's 10 MB gzipped limit: keeping the {kept} most severe of {len(findings)} results")
        findings = findings[:kept]


def source_root() -> Path:
    """The repository's top folder (the base of every URI), or the current folder outside git."""
    try:
        top = run_git(["rev-parse", "--show-toplevel"], Path.cwd())
    except GitUnavailable:
        return Path.cwd()
    folder = os.fsdecode(top.stdout.strip())
    return Path(folder) if top.returncode == 0 and folder else Path.cwd()


def _within_limit(findings: list[Finding], warn: Callable[[str], None]) -> list[Finding]:
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.sort_key))
    if len(ordered) > MAX_RESULTS:
        warn(f"{len(ordered)} results exceed GitHub's {MAX_RESULTS} per run: keeping the most severe")
    return ordered[:MAX_RESULTS]


def _render(
    findings: list[Finding],
    omitted: list[Omitted],
    catalog: Catalog,
    targets: tuple[str, ...],
    category: str,
    root: Path,
    buffers: Mapping[str, bytes],
) -> str:
    used = sorted({f.rule for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    hashes = fingerprints(findings, buffers)
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="cudaudit",
                version=__version__,
                semantic_version=__version__,
                information_uri=PROJECT_URL,
                rules=[_descriptor(catalog.rules[rule_id], targets) for rule_id in used],
            )
        ),
        automation_details=om.RunAutomationDetails(id=f"{category}/"),
        column_kind="unicodeCodePoints",
        original_uri_base_ids={"%SRCROOT%": om.ArtifactLocation(uri=root.absolute().as_uri() + "/")},
        results=[_result(f, index[f.rule], hashes[id(f)], root) for f in findings],
        invocations=[_invocation(omitted, root)],
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA, runs=[run])
    return json.dumps(json_safe(json.loads(to_json(log))), indent=2, ensure_ascii=False) + "\n"


def _invocation(omitted: list[Omitted], root: Path) -> om.Invocation:
    """The run itself; files whose findings past the per-file limit were counted, not listed, as notes."""
    notes = [
        om.Notification(
            level="note",
            message=om.Message(text=o.notice),
            locations=[
                om.Location(
                    physical_location=om.PhysicalLocation(
                        artifact_location=om.ArtifactLocation(uri=_relative_uri(o.path, root), uri_base_id="%SRCROOT%")
                    )
                )
            ],
        )
        for o in omitted
    ]
    return om.Invocation(execution_successful=True, tool_execution_notifications=notes or None)


def _descriptor(rule: Rule, targets: tuple[str, ...]) -> om.ReportingDescriptor:
    facts = {name: fact for name, fact in rule.targets.items() if name in targets}
    affected = [name for name, fact in facts.items() if fact.status.value != "works"]
    level = max((fact.severity for fact in facts.values()), key=lambda s: s.rank, default=rule.severity)
    tags = ["portability", "cuda", *(f"target:{name}" for name in affected)][:MAX_TAGS]
    return om.ReportingDescriptor(
        id=rule.id,
        name=_pascal(rule.name),
        short_description=om.MultiformatMessageString(text=rule.summary),
        full_description=om.MultiformatMessageString(text=_clip(" ".join(rule.why.split()), MAX_DESCRIPTION)),
        help=om.MultiformatMessageString(text=" ".join(rule.why.split()), markdown=rule_markdown(rule, heading="##")),
        help_uri=f"{RULES_URL}#{rule_anchor(rule)}",
        default_configuration=om.ReportingConfiguration(level=_LEVELS[level]),
        properties={"tags": tags, "precision": "high"},  # PropertyBag models only tags
    )


def _region(finding: Finding) -> om.Region:
    """The region GitHub shows. A notebook finding points at the line of the `.ipynb` file that holds
    its source line (GitHub renders notebooks from that JSON, whose columns are not the cell's); the
    message names the cell and the line within it."""
    if finding.cell is not None:
        return om.Region(start_line=finding.cell.file_line)
    span = finding.region
    return om.Region(start_line=span.line, start_column=span.column, end_line=span.end_line, end_column=span.end_column)


def _cell_note(finding: Finding) -> str:
    return f" (cell {finding.cell.index}, line {finding.span.line})" if finding.cell is not None else ""


def _result(finding: Finding, rule_index: int, fingerprint: str, root: Path) -> om.Result:
    location = om.ArtifactLocation(uri=_relative_uri(finding.path, root), uri_base_id="%SRCROOT%")
    region = _region(finding)
    verdicts = " ".join(
        f"{name}: {fact.status.value}" + (f" ({fact.replacement})" if fact.replacement and fact.status.value != "works" else "") + "."
        for name, fact in finding.targets.items()
    )
    result = om.Result(
        rule_id=finding.rule,
        rule_index=rule_index,
        level=_LEVELS[finding.severity],
        message=om.Message(text=f"{finding.message.rstrip('.')}{_cell_note(finding)}. {verdicts}".strip()),
        locations=[om.Location(physical_location=om.PhysicalLocation(artifact_location=location, region=region))],
        partial_fingerprints={"primaryLocationLineHash": fingerprint},
    )
    if finding.option is not None:  # the command-line option whose default the site is: setting it avoids the site
        result.properties = {"option": finding.option}
    if finding.fix is not None and finding.cell is None:  # a cell's edits lie inside a JSON string: `cudaudit fix` applies them
        result.fixes = [
            om.Fix(
                description=om.Message(text=f"{finding.fix.description} ({finding.fix.safety.value})"),
                artifact_changes=[
                    om.ArtifactChange(
                        artifact_location=location,
                        replacements=[
                            om.Replacement(
                                deleted_region=om.Region(
                                    start_line=e.span.line,
                                    start_column=e.span.column,
                                    end_line=e.span.end_line,
                                    end_column=e.span.end_column,
                                ),
                                inserted_content=om.ArtifactContent(text=e.replacement),
                            )
                            for e in finding.fix.edits
                        ],
                    )
                ],
            )
        ]
    return result


def _relative_uri(path: str, root: Path) -> str:
    """A URI reference for `path`: relative to `root` when under it, percent-encoded either way."""
    absolute = (Path.cwd() / path).resolve()
    try:
        return uri_path(absolute.relative_to(root.resolve()).as_posix())
    except ValueError:
        return absolute.as_uri()


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
