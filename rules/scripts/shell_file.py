"""Shell scripts and Makefile recipes, read with the Dockerfile analyzer's shell reader.

A `.sh` script is one shell script; a Makefile's recipes (tab-indented lines under a target) are
shell scripts too. Everything else of a Makefile (targets, variable definitions, conditionals) is
blanked character by character before the recipes are read, so every position stays where it is
in the file and a finding lands on the word that causes it. What a command runs or installs is
`script_scan.py`'s answer, the same one a Dockerfile `RUN` gets.

A recipe under a target named for CUDA (`build.cuda:` beside `build.vulkan:`, `docker-gpu:`) is
the NVIDIA variant, which a person runs only on an NVIDIA machine: on the other targets its sites
are notes, as a file named for CUDA beside its counterpart is. So is the arm of a script's `case`
whose every pattern names a CUDA build (`cu121)`, `cu11*|cu12*)`, `cuda)`): packaging scripts pick
the toolkit per CUDA version there, and a ROCm or CPU build takes another arm. So is the branch of
an `if` whose condition asks whether CUDA is there (`if [ -d /usr/local/cuda ]; then`, `elif
command -v nvcc >/dev/null; then`): where it is not, the test is false and the branch is skipped.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding, Severity
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.containers.commands import probe
from cudaudit.rules.containers.script_scan import CLI_TOOL, ScriptScan, scan_script, toolkit_pattern
from cudaudit.rules.containers.shell import split_commands
from cudaudit.rules.dependencies.report import Placed
from cudaudit.settings import AnalysisSettings
from cudaudit.siblings import name_targets

_RECIPE_PREFIXES = "@-+"
"""Make's own recipe-line prefixes: silent, ignore errors, always run."""
_CASE_START = re.compile(r"^\s*case\s.*\sin\b")
_CASE_END = re.compile(r"^\s*esac\b")
_CASE_ARM = re.compile(r"^\s*(?:\(\s*)?(?P<patterns>[^()\s|]+(?:\s*\|\s*[^()\s|]+)*)\s*\)")
"""`cu121)`, `(cu118 | cu121)`: the patterns of one arm, at the start of its line."""
_ARM_END = re.compile(r";;&?|;&")
_QUOTES_AND_GLOBS = re.compile(r"[*?\"']|\[[^][]*\]")
"""Quotes and glob characters of a `case` pattern; a bracket class holds no bracket, so a run of `[` stays linear."""


def analyze_shell(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    scan = ScriptScan(path, catalog, settings, docker_aside=facts.docker_aside)
    scan_script(placed_lines(text), {}, scan)
    variant = cuda_case_lines(text) | cuda_probe_lines(text, catalog)
    return [_nvidia_variant(f) if f.span.line in variant else f for f in scan.results()]


def analyze_makefile(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    scan = ScriptScan(path, catalog, settings, docker_aside=facts.docker_aside)
    scan_script(placed_lines(recipes_only(text)), {}, scan)
    variant = cuda_recipe_lines(text)
    return [_nvidia_variant(f) if f.span.line in variant else f for f in scan.results()]


def cuda_recipe_lines(text: str) -> set[int]:
    """The line numbers of recipes under rules whose every target is named for CUDA (`build.cuda:`)."""
    lines: set[int] = set()
    in_cuda_rule = False
    continued = False
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("\t") or continued:
            if in_cuda_rule:
                lines.add(number)
        elif line.strip() and not line.startswith("#"):
            in_cuda_rule = _is_rule_line(line) and _named_for_cuda(line.split(":", 1)[0].split())
        continued = line.endswith("\\")
    return lines


def cuda_case_lines(text: str) -> set[int]:
    """The line numbers of `case` arms whose every pattern names a CUDA build, from the pattern to the `;;`."""
    lines: set[int] = set()
    depth = 0
    in_arm = in_cuda_arm = False
    for number, line in enumerate(text.split("\n"), start=1):
        if _CASE_START.match(line):
            depth += 1
            in_arm = in_cuda_arm = False
            continue
        if depth and _CASE_END.match(line):
            depth -= 1
            in_arm = in_cuda_arm = False
            continue
        arm = _CASE_ARM.match(line) if depth and not in_arm else None
        if arm is not None:
            in_arm = True
            in_cuda_arm = _patterns_name_cuda(arm.group("patterns").split("|"))
        if in_cuda_arm:
            lines.add(number)
        if in_arm and _ARM_END.search(line):
            in_arm = in_cuda_arm = False
    return lines


_IF = re.compile(r"^\s*(?P<keyword>if|elif)\s+(?P<condition>.*?)(?:;?\s*then\b.*)?$")
_ELSE = re.compile(r"^\s*else\b")
_FI = re.compile(r"(?:^|;)\s*fi\s*(?:#.*)?$")


def cuda_probe_lines(text: str, catalog: Catalog) -> set[int]:
    """The line numbers of `if`/`elif` branches taken only where CUDA is there: the condition, one
    line (a condition split over lines is not read), asks whether a toolkit path exists or a CUDA
    tool is installed, with `&&` and no `||`; from the condition to the `else`, `elif` or `fi`."""
    lines: set[int] = set()
    branches: list[bool] = []
    for number, line in enumerate(text.split("\n"), start=1):
        opened = _IF.match(line)
        if opened is not None:
            taken = _probes_cuda(opened.group("condition"), catalog)
            if opened.group("keyword") == "if":
                branches.append(taken)
            elif branches:
                branches[-1] = taken
        elif branches and _ELSE.match(line):
            branches[-1] = False
        if any(branches):
            lines.add(number)
        if branches and _FI.search(line):
            branches.pop()
    return lines


def _probes_cuda(condition: str, catalog: Catalog) -> bool:
    """`[ -d /usr/local/cuda ] && [ ! -e /usr/local/cuda/include/cuda ]`, `command -v nvidia-smi
    >/dev/null 2>&1`: a probe that names the toolkit's path or a CUDA tool, and nothing that
    could pass without it."""
    if "||" in condition:
        return False
    paths = toolkit_pattern(catalog)
    for words in split_commands(condition):
        if not probe(words):
            continue
        if any(catalog.lookup(CLI_TOOL, word.text) is not None for word in words[1:]):
            return True
        if paths is not None and any(paths.search(word.text) for word in words):
            return True
    return False


def _patterns_name_cuda(patterns: list[str]) -> bool:
    """`cu121`, `"cu12"*`, `cuda`: each pattern, its quotes and globs taken out, names CUDA (`cu*` is a CUDA tag).
    An option's arm (`--cuda-version=*)`) is not a build's: it parses what the user passed."""
    words = [_QUOTES_AND_GLOBS.sub("", pattern.strip()) for pattern in patterns]
    return all(word == "cu" or (not word.startswith("-") and name_targets(word) == {"cuda"}) for word in words)


def _named_for_cuda(targets: list[str]) -> bool:
    return bool(targets) and all(name_targets(target) == {"cuda"} for target in targets)


def _nvidia_variant(finding: Finding) -> Finding:
    """`finding` as a site of the NVIDIA variant: a note on every target but CUDA's own."""
    targets = {name: replace(fact, severity=Severity.NOTE) for name, fact in finding.targets.items()}
    severity = max((fact.severity for fact in targets.values()), key=lambda s: s.rank, default=Severity.NOTE)
    return replace(finding, targets=targets, severity=severity)


def placed_lines(text: str, first_line: int = 1) -> Placed:
    """`text` placed from line `first_line`, column 1, on as many lines as it has."""
    segments = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        segments.append((offset, first_line + number, 1))
        offset += len(line) + 1
    return Placed(text, tuple(segments))


def recipes_only(text: str) -> str:
    """The Makefile with every character outside a recipe (and make's `@`/`-`/`+` prefixes) turned into a space."""
    kept = []
    in_rule = False
    continued = False
    continued_recipe = False
    for line in text.split("\n"):
        recipe = line.startswith("\t") and (in_rule or continued_recipe) and not (continued and not continued_recipe)
        if recipe:
            body = line[1:]
            stripped = body.lstrip(" \t" + _RECIPE_PREFIXES) if not continued_recipe else body
            kept.append(" " * (len(line) - len(stripped)) + stripped)
        else:
            kept.append(" " * len(line))
            if not continued and line.strip() and not line.startswith("#"):
                in_rule = _is_rule_line(line)
        continued = line.endswith("\\")
        continued_recipe = recipe and continued
    return "\n".join(kept)


def _is_rule_line(line: str) -> bool:
    """`target: prerequisites` (not `VAR := value`, not a comment or a directive)."""
    if not line or line[0] in " \t#":
        return False
    head = line.split("#", 1)[0]
    colon = head.find(":")
    return colon >= 0 and head[colon : colon + 2] != ":=" and "=" not in head[:colon]
