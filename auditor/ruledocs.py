"""Rule documentation rendered from the catalog: `cudaudit rule ID` and docs/rules.md.

Both come from the same Markdown, so the reference can never drift from the rules. The
reference also says where each rule lives in this repository: its catalog file, the modules
the registry names for its detector and fix, and the tests that run it.
"""

from __future__ import annotations

from pathlib import PurePath

from cudaudit import RULES_URL
from cudaudit.filekinds import classify
from cudaudit.model import TARGETS
from cudaudit.rules.catalog import Catalog, Example, Rule
from cudaudit.rules.registry import DETECTORS, FIX_BUILDERS, source_file

_SOURCE_ROOT = "../"
"""Links from docs/rules.md to the repository's files."""

_FENCES = {
    "python": "python",
    "cuda": "cuda",
    "dockerfile": "dockerfile",
    "requirements": "text",
    "pyproject": "toml",
    "lockfile": "toml",
    "conda": "yaml",
    "compose": "yaml",
    "workflow": "yaml",
    "manifest": "yaml",
    "cmake": "cmake",
}

FAMILIES = {
    "CDA0": "cudaudit's own diagnostics",
    "CDA1": "PyTorch device API and device strings",
    "CDA2": "CUDA-only Python libraries and tools",
    "CDA3": "Triton and raw-kernel strings",
    "CDA4": "CUDA C++ sources and their build",
    "CDA5": "Containers and orchestration",
    "CDA6": "Dependencies and package indexes",
    "CDA7": "CI",
}


def rule_markdown(rule: Rule, heading: str = "#") -> str:
    """One rule's page: what it finds, why, per-target mapping with sources, examples."""
    parts = [
        f"{heading} {rule.id} {rule.name}",
        "",
        f"**What it finds:** {rule.summary}.",
        "",
        f"**Why:** {rule.why}",
        "",
    ]
    if rule.targets:
        parts += [
            "| target | status | what to do | source |",
            "|---|---|---|---|",
            *(
                f"| {name} | {fact.status.value} ({fact.severity.value}) | {_cell(fact.replacement) or '—'} | {_cell(fact.source)} |"
                for name, fact in rule.targets.items()
            ),
            "",
        ]
    fence = _FENCES.get(rule.kind, "python")
    if rule.flagged:
        parts += _example("**Flagged:**", rule.flagged[0], fence)
    if rule.clean:
        parts += _example("**Not flagged:**", rule.clean[0], fence)
    if rule.fix is not None:
        parts += [f"**Fix:** {rule.fix.safety.value} (`{_fix_command(rule)}`).", ""]
    for example in rule.fixed[:1]:
        after = f"# after --target {example.target}" if example.target else "# after"
        parts += [f"```{fence}", "# before", example.before.strip(), "", after, example.after.strip(), "```", ""]
    parts += [f"Suppress one line with `# cudaudit: ignore[{rule.id}]`.", ""]
    return "\n".join(parts)


def _example(label: str, example: Example, fence: str) -> list[str]:
    """An example's code, after the other files of its project that its verdict depends on."""
    parts = []
    for path, text in example.files.items():
        parts += [f"In `{path}`:", "", f"```{_fence(path)}", text.strip(), "```", ""]
    if example.path:
        label, fence = f"{label} (`{example.path}`)", _fence(example.path)
    return [*parts, label, "", f"```{fence}", example.code.strip(), "```", ""]


def _fence(path: str) -> str:
    kinds = classify(PurePath(path))
    return _FENCES.get(kinds[0].value, "text") if kinds else "text"


def _fix_command(rule: Rule) -> str:
    """How a user asks for the rule's fix: dependency and Dockerfile fixes need one target."""
    unsafe = " --unsafe-fixes" if rule.fix is not None and rule.fix.safety.value == "unsafe" else ""
    targets = sorted({example.target for example in rule.fixed if example.target}, key=TARGETS.index)
    target = f" --target {'|'.join(targets)}" if targets else ""
    return f"cudaudit fix{target}{unsafe}"


def reference_markdown(catalog: Catalog) -> str:
    """docs/rules.md: every rule, grouped by family, with an index."""
    parts = [
        "# Rule reference",
        "",
        "Generated from `rules/data/*.toml` by `cudaudit rules --format markdown`; do not edit by hand.",
        "Per-symbol facts (for example each `torch.cuda` function) refine these defaults; `cudaudit rule ID` shows a rule in the terminal.",
        "",
        "| id | name | summary |",
        "|---|---|---|",
        *(f"| [{r.id}](#{rule_anchor(r)}) | {r.name} | {_cell(r.summary)} |" for r in catalog.rules.values()),
        "",
    ]
    family = None
    for rule in catalog.rules.values():
        if rule.id[:4] != family:
            family = rule.id[:4]
            parts += [f"## {FAMILIES.get(family, family)}", ""]
        parts.append(rule_markdown(rule, heading="###"))
        parts += [where_it_lives(rule, catalog), ""]
    return "\n".join(parts).rstrip() + "\n"


def where_it_lives(rule: Rule, catalog: Catalog, root: str = _SOURCE_ROOT) -> str:
    """From a rule to its catalog tables, detector, fix builders and tests: one link each, to the
    repository's files through `root` (`../` from docs/rules.md, nothing from a checkout's top)."""
    entries = [entry for entry in catalog.entries() if entry.rule.id == rule.id]
    files = sorted({rule.defined_in} | {entry.defined_in for entry in entries if entry.defined_in})
    kinds = sorted({entry.fix.kind for entry in entries if entry.fix} | ({rule.fix.kind} if rule.fix else set()))

    def link(path: str) -> str:
        return f"[`{path}`]({root}{path})"

    parts = [
        "catalog: " + ", ".join(link(f"rules/data/{name}") for name in files),
        f"detector `{rule.detector}`: " + ", ".join(link(source_file(m)) for m in DETECTORS[rule.detector]),
        *(f"fix `{kind}`: `{_function(kind)}` in {link(source_file(FIX_BUILDERS[kind]))}" for kind in kinds),
        f"tests: `python -m pytest -k {rule.id}` ({', '.join(link(t) for t in _example_tests(rule))} run its examples)",
    ]
    return "\n".join(["**Where it lives:**", "", *(f"- {part}" for part in parts)])


def rule_page(rule: Rule, catalog: Catalog) -> str:
    """`cudaudit rule ID`: the rule's section of docs/rules.md, where it lives in a checkout, and
    the address of that section."""
    return (
        rule_markdown(rule)
        + "\n"
        + where_it_lives(rule, catalog, root="")
        + f"\n- reference: {RULES_URL}#{rule_anchor(rule)}\n"
    )


def _function(kind: str) -> str:
    return FIX_BUILDERS[kind].partition(":")[2]


def _example_tests(rule: Rule) -> list[str]:
    """The test modules whose parametrised runs (ids `CDA102-flagged-0`, `CDA102-fixed-0`) take the rule's examples."""
    tests = ["tests/test_rule_examples.py"]
    if rule.fixed:
        tests.append("tests/test_fix.py" if rule.kind == "python" else "tests/test_fix_infra_examples.py")
    return tests


def rule_anchor(rule: Rule) -> str:
    """The anchor GitHub gives the rule's heading in docs/rules.md (`## CDA101 torch-cuda-api`)."""
    return f"{rule.id}-{rule.name}".lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
