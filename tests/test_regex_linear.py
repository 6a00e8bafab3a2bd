"""Every regular expression in cudaudit runs in linear time on long adversarial lines.

Python's `re` backtracks: `\\s+#` searched in a line of 50,000 blanks tries every blank as a
start and scans the rest from each, 1.25 billion steps. Each module-level pattern is run here on
long repetitions of the characters it names, blanks and brackets, the way it is used (`finditer`
unless it is only ever matched at one position). The sweep runs in a child process under a time
limit, so a pattern that went polynomial fails the test rather than hanging the suite.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cudaudit.rules.catalog import load_catalog

LENGTH = 30_000
"""Long enough that a quadratic pattern takes seconds, short enough that a linear one takes a
millisecond or two."""
SLOW_SECONDS = 0.5
"""Per run: hundreds of times what a linear pattern needs, even on a loaded machine."""
SWEEP_CPU_SECONDS = 600
"""The sweep's processor time limit: the paired sweep needs about 70 s, so only a pattern that runs away
reaches it (the child is then killed, and the test fails on its exit status)."""
SWEEP_TIMEOUT_SECONDS = 3600
"""A guard against a hang only: on a loaded machine the wall clock says nothing about the patterns."""
PACKAGES = {"auditor": "cudaudit", "rules": "cudaudit.rules", "fixers": "cudaudit.fixers", "resolvers": "cudaudit.resolvers"}
INLINE_FUNCTIONS = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "findall": 2, "finditer": 2, "split": 3, "sub": 4, "subn": 4}
"""The `re` functions that take a pattern first, and the position of their `flags` argument."""
ANCHORED_METHODS = frozenset({"match", "fullmatch"})
"""A pattern that the source only ever calls these on is tried at one position per call: one
attempt, linear in the text. Which patterns those are is read from the source, not listed."""
ONLY_ON_VALID_JSON = {
    # Run over the text of an exec-form instruction only after json.loads accepted it, where every
    # string is closed; the unclosed strings that would make it rescan cannot occur.
    "cudaudit.rules.containers.dockerfile._JSON_STRING",
}
SPECIALS = " \t\n\r\\\"'#[](){}-=.,:;/$a0_x*<>|`"
PAIRED_WITH = " \\["
"""Each character is also repeated after one of these (`\\"`, `[Z`, ` #`): escapes, openings, blanks."""
PREFIXES = ("", "[")


def _source_root() -> Path:
    return Path(__file__).resolve().parent.parent


def patterns() -> dict[str, re.Pattern]:
    """Every regular expression of cudaudit: compiled patterns held by a module (directly or in a
    dict), literal patterns given to `re` functions inside functions, and the catalog's trigger
    patterns (data, compiled at load time)."""
    root = _source_root()
    found: dict[str, re.Pattern] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(root / folder).with_suffix("").parts if p != "__init__"]
            if parts[-1:] == ["__main__"]:
                continue
            module = importlib.import_module(".".join([package, *parts]))
            for name, value in vars(module).items():
                values = value.items() if isinstance(value, dict) else [("", value)]
                for key, item in values:
                    if isinstance(item, re.Pattern):
                        found[f"{module.__name__}.{name}" + (f"[{key}]" if key else "")] = item
            held = {(item.pattern, item.flags) for item in found.values()}
            found.update(
                (name, item) for name, item in _inline(path, module.__name__).items() if (item.pattern, item.flags) not in held
            )
    for rule in load_catalog().rules.values():
        if rule.trigger_pattern:
            found[f"catalog.{rule.id}.trigger_pattern"] = re.compile(rule.trigger_pattern.encode())
    return found


def _inline(path: Path, module: str) -> dict[str, re.Pattern]:
    """Literal patterns in calls like `re.split(r"\\s*,\\s*", text)` (flags, if any, evaluated)."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in INLINE_FUNCTIONS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, (str, bytes))
        ):
            continue
        flags = next((k.value for k in node.keywords if k.arg == "flags"), None)
        if flags is None and len(node.args) > INLINE_FUNCTIONS[node.func.attr]:
            flags = node.args[INLINE_FUNCTIONS[node.func.attr]]
        value = eval(compile(ast.Expression(flags), str(path), "eval"), {"re": re}) if flags is not None else 0
        found[f"{module}:{node.lineno}:{node.func.attr}"] = re.compile(node.args[0].value, value)
    return found


def anchored(names: set[str]) -> set[str]:
    """The patterns (by qualified name) that every use calls `.match`/`.fullmatch` on. Uses are read
    from the defining module; a pattern named in any other module, kept in a dict, or used any
    other way (searched, split, passed on) is swept whole."""
    root = _source_root()
    sources = {
        ".".join([package, *[p for p in path.relative_to(root / folder).with_suffix("").parts if p != "__init__"]]): (
            path.read_text(encoding="utf-8")
        )
        for folder, package in PACKAGES.items()
        for path in (root / folder).rglob("*.py")
    }
    # The names each module writes outside attribute access, read once: `(?<![\w.])name\b` per module.
    words = {module: set(re.findall(r"(?<![\w.])(\w+)", text)) for module, text in sources.items()}
    result = set()
    for name in names:
        if ":" in name:
            if name.rsplit(":", 1)[1] in ANCHORED_METHODS:
                result.add(name)
            continue
        if name.startswith("catalog."):
            continue
        module, short = name.rsplit(".", 1)
        if "[" in short or any(short in names_in for other, names_in in words.items() if other != module):
            continue
        uses = re.findall(rf"(?<![\w.]){re.escape(short)}\b(\.\w+\()?(?!\s*(?::[^=]*)?=[^=])", sources[module])
        if uses and all(use[1:-1] in ANCHORED_METHODS for use in uses):
            result.add(name)
    return result


def adversarial_inputs(pattern: re.Pattern, paired: bool = True) -> list[str]:
    """Long repetitions of one or two characters the pattern names, or of blanks and brackets;
    without `paired`, of one character only, unprefixed (an eighth of the runs)."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
    chars = sorted({c for c in source if c.isprintable()} | set(SPECIALS))
    if not paired:
        return [char * LENGTH for char in chars]
    units = chars + [first + c for first in PAIRED_WITH for c in chars]
    return [prefix + unit * (LENGTH // len(unit)) for unit in units for prefix in PREFIXES]


def sweep(paired: bool = True) -> list[tuple[float, str, str]]:
    """(seconds, pattern, input) of every run over SLOW_SECONDS."""
    slow = []
    found = patterns()
    one_position = anchored(set(found))
    for name, pattern in sorted(found.items()):
        if name in ONLY_ON_VALID_JSON:
            continue
        for text in adversarial_inputs(pattern, paired):
            subject = text.encode("utf-8", "surrogateescape") if isinstance(pattern.pattern, bytes) else text
            # Processor time, and the better of two runs: a busy machine stalls the wall clock and
            # can stall one run, but a polynomial pattern is slow every time.
            took = min(_run_seconds(pattern, subject, name in one_position) for _ in range(2))
            if took > SLOW_SECONDS:
                slow.append((round(took, 2), name, text[:12]))
                break
    return slow


def _run_seconds(pattern: re.Pattern, subject: str | bytes, anchored_use: bool) -> float:
    """Processor seconds of one use of `pattern` on `subject`, the way the source uses it."""
    started = time.process_time()
    if anchored_use:
        pattern.match(subject)
    else:
        for _ in pattern.finditer(subject):
            pass
    return time.process_time() - started


@pytest.mark.parametrize(
    "inputs",
    [
        # The fast run: runs of each single character, which most backtracking needs (`\\s+#` on blanks).
        "single",
        # Every pair and prefix too: about 70 CPU-seconds, so in the full run only.
        pytest.param("paired", marks=pytest.mark.slow),
    ],
)
def test_every_pattern_is_linear_on_long_adversarial_lines(inputs):
    done = subprocess.run(
        [sys.executable, __file__, inputs], capture_output=True, text=True, timeout=SWEEP_TIMEOUT_SECONDS, check=False
    )
    assert done.returncode == 0, done.stderr or f"the sweep ended with {done.returncode}: past {SWEEP_CPU_SECONDS} CPU-seconds?"
    assert json.loads(done.stdout) == []


def test_the_sweep_sees_every_module_and_catches_a_quadratic_pattern():
    found = patterns()
    assert len(found) > 120 and set(found) >= ONLY_ON_VALID_JSON
    assert any(name.endswith(":split") for name in found) and any(name.startswith("catalog.") for name in found)
    one_position = anchored(set(found))
    assert "cudaudit.resolvers.requirements._NAME" in one_position
    assert "cudaudit.resolvers.requirements._COMMENT" not in one_position
    blanks = " " * 10_000
    quadratic = _run_seconds(re.compile(r"\s+#"), blanks, anchored_use=False)
    linear = min(_run_seconds(re.compile(r"(?<!\s)\s+#"), blanks, anchored_use=False) for _ in range(3))
    assert quadratic > 100 * linear  # the least disturbed linear run


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CPU, (SWEEP_CPU_SECONDS, SWEEP_CPU_SECONDS))
    sys.stdout.write(json.dumps(sweep(paired=sys.argv[1:] != ["single"])))
