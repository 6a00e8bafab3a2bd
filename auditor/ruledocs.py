"""Rule documentation rendered from the catalog: `cudaudit rule ID` and docs/rules.md.

Both come from the same Markdown, so the reference can never drift from the rules.
"""

from __future__ import annotations

from cudaudit.model import TARGETS
from cudaudit.rules.catalog import Catalog, Rule

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
        parts += ["**Flagged:**", "", f"```{fence}", rule.flagged[0].code.strip(), "```", ""]
    if rule.clean:
        parts += ["**Not flagged:**", "", f"```{fence}", rule.clean[0].strip(), "```", ""]
    if rule.fix is not None:
        parts += [f"**Fix:** {rule.fix.safety.value} (`{_fix_command(rule)}`).", ""]
    for example in rule.fixed[:1]:
        after = f"# after --target {example.target}" if example.target else "# after"
        parts += [f"```{fence}", "# before", example.before.strip(), "", after, example.after.strip(), "```", ""]
    parts += [f"Suppress one line with `# cudaudit: ignore[{rule.id}]`.", ""]
    return "\n".join(parts)


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
        *(f"| [{r.id}](#{_anchor(r)}) | {r.name} | {_cell(r.summary)} |" for r in catalog.rules.values()),
        "",
    ]
    family = None
    for rule in catalog.rules.values():
        if rule.id[:4] != family:
            family = rule.id[:4]
            parts += [f"## {FAMILIES.get(family, family)}", ""]
        parts.append(rule_markdown(rule, heading="###"))
    return "\n".join(parts).rstrip() + "\n"


def _anchor(rule: Rule) -> str:
    return f"{rule.id}-{rule.name}".lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
