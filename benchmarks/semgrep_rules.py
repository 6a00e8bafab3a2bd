"""Write the semgrep rule set that asks what cudaudit's Python rules ask, for the speed comparison.

`python benchmarks/semgrep_rules.py` regenerates `benchmarks/semgrep-python-rules.yml` from the
catalog: one semgrep rule per cudaudit rule of kind `python`, with one pattern per catalog key
in the shape that cudaudit's detector recognises (a resolved dotted name, an import, a device
string in a device position, an environment variable read through `os`, a program run through
`subprocess`, an nvcc flag in a string). semgrep resolves import aliases as cudaudit's
`names.py` does, so `import torch as th; th.cuda.synchronize()` matches both.

What semgrep cannot express the same way is left out rather than approximated by a regular
expression over the whole file: the guard regions (`if torch.cuda.is_available():`), which
change a finding's severity, not whether it is found. The comparison is therefore of the
cost of finding the same sites; cudaudit does more per site on top of that.

`--check` exits 1 when the file on disk differs from what the catalog gives now.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from cudaudit.rules.builds import nvcc_flags
from cudaudit.rules.catalog import Catalog, load_catalog
from cudaudit.rules.python.concerns.commands import COMMAND_RUNNERS
from cudaudit.rules.python.concerns.distributed import DDP_CLASSES
from cudaudit.rules.python.concerns.environment import ENV_CALLS
from cudaudit.rules.python.device_syntax import BACKEND_KEYWORDS, BACKEND_POSITIONAL, DEVICE_KEYWORDS, DEVICE_POSITIONAL

RULES_FILE = Path(__file__).with_name("semgrep-python-rules.yml")
CUDA_STRING = '"=~/^cuda(:[0-9]+)?$/"'


def semgrep_rules(catalog: Catalog) -> dict:
    """The rule set, as the YAML document semgrep reads."""
    keys_by_rule: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for detector in sorted({rule.detector for rule in catalog.rules.values()} | {"torch-extension", "nvcc-flag"}):
        for key in sorted(catalog.keys(detector)):
            entry = catalog.lookup(detector, key)
            if entry is not None and (entry.rule.kind == "python" or "python" in entry.rule.also_kinds):
                keys_by_rule[entry.rule.id][detector].append(key)
    rules = []
    for rule_id in sorted(keys_by_rule):
        patterns = [p for detector, keys in sorted(keys_by_rule[rule_id].items()) for p in _patterns(detector, keys)]
        if patterns:
            rule = catalog.rules[rule_id]
            rules.append(
                {
                    "id": rule_id,
                    "languages": ["python"],
                    "severity": "WARNING",
                    "message": rule.summary,
                    "pattern-either": patterns,
                }
            )
    return {"rules": rules}


def _patterns(detector: str, keys: list[str]) -> list[dict]:
    builders = {
        "symbol": _symbol_patterns,
        "import": _import_patterns,
        "method": _method_patterns,
        "device-string": lambda _: _device_string_patterns(),
        "dist-backend": lambda _: _backend_patterns(),
        "ddp-device-ids": lambda _: _ddp_patterns(),
        "device-ordinal": lambda _: _ordinal_patterns(),
        "env-var": _env_patterns,
        "cli-tool": _cli_patterns,
        "torch-extension": _extension_patterns,
        "nvcc-flag": _nvcc_flag_patterns,
        "requirement": lambda _: _requirement_patterns(),
        "checkpoint-load": _checkpoint_patterns,
    }
    build = builders.get(detector)
    return build(keys) if build else []


def _symbol_patterns(keys: list[str]) -> list[dict]:
    """A dotted name; a key under a shorter key of the same rule is already matched by it."""
    names = sorted(key.removesuffix(".*") for key in keys)
    kept = [n for n in names if not any(n != m and n.startswith(m + ".") for m in names)]
    return [{"pattern": name} for name in dict.fromkeys(kept)]


def _import_patterns(keys: list[str]) -> list[dict]:
    patterns = []
    for key in keys:
        patterns += [{"pattern": f"import {key}"}, {"pattern": f"from {key} import $X"}]
        if "." in key:
            parent, _, leaf = key.rpartition(".")
            patterns.append({"pattern": f"from {parent} import {leaf}"})
    return patterns


def _method_patterns(keys: list[str]) -> list[dict]:
    return [{"pattern": f"$X.{key}" if key.endswith("()") else f"$X.{key}(...)"} for key in keys]


def _device_string_patterns() -> list[dict]:
    return [
        *({"pattern": f"$F(..., {keyword}={CUDA_STRING}, ...)"} for keyword in sorted(DEVICE_KEYWORDS)),
        {"pattern": f"$X.to({CUDA_STRING}, ...)"},
        *({"pattern": f"{name}({CUDA_STRING}, ...)"} for name in sorted(DEVICE_POSITIONAL)),
        {"pattern": f"$V = {CUDA_STRING}", "_name": "device"},
    ]


def _backend_patterns() -> list[dict]:
    return [
        *({"pattern": f'$F(..., {keyword}="=~/^nccl$/i", ...)'} for keyword in sorted(BACKEND_KEYWORDS)),
        *({"pattern": f'{name}("=~/^nccl$/i", ...)'} for name in sorted(BACKEND_POSITIONAL)),
        {"pattern": '$V = "=~/^nccl$/i"', "_name": "backend"},
    ]


def _ddp_patterns() -> list[dict]:
    return [
        {"pattern": f"{name}(..., {keyword}=$D, ...)"}
        for name in sorted(DDP_CLASSES)
        for keyword in ("device_ids", "output_device")
    ]


def _ordinal_patterns() -> list[dict]:
    return [
        {"pattern": "$X.to($N, ...)", "_ordinal": "N"},
        {"pattern": "$F(..., device=$N, ...)", "_ordinal": "N"},
        {"pattern": "torch.device($N, ...)", "_ordinal": "N"},
    ]


def _env_patterns(keys: list[str]) -> list[dict]:
    names = "|".join(re.escape(k) for k in keys)
    shapes = ["os.environ[$K]", "$K in os.environ", *(f"{call}($K, ...)" for call in sorted(ENV_CALLS))]
    return [{"pattern": shape, "_string": f"^[\"']({names})[\"']$"} for shape in shapes]


def _cli_patterns(keys: list[str]) -> list[dict]:
    tools = "|".join(re.escape(k) for k in keys)
    words = f"(^[\"']|[/ ])({tools})([ \"']|$)"
    shapes = [f"{runner}($CMD, ...)" for runner in sorted(COMMAND_RUNNERS)]
    shapes += [f"{runner}([$CMD, ...], ...)" for runner in sorted(COMMAND_RUNNERS)]
    return [{"pattern": shape, "_cmd": words} for shape in shapes]


def _requirement_patterns() -> list[dict]:
    """A program that stops without a CUDA device: an assert, or an `if not` that exits."""
    return [
        {"pattern": "assert torch.cuda.is_available(), ..."},
        {"pattern": "assert torch.cuda.is_available()"},
        {"pattern": "if not torch.cuda.is_available():\n    ...\n    sys.exit(...)"},
        {"pattern": "if not torch.cuda.is_available():\n    ...\n    raise $E"},
    ]


def _checkpoint_patterns(keys: list[str]) -> list[dict]:
    return [
        {"patterns": [{"pattern": f"{key}($F, ...)"}, {"pattern-not": f"{key}(..., map_location=$M, ...)"},
                      {"pattern-not": f"{key}(..., **$K)"}]}
        for key in keys
    ]


def _extension_patterns(keys: list[str]) -> list[dict]:
    return [{"pattern": f"torch.utils.cpp_extension.{key}(...)"} for key in keys]


def _nvcc_flag_patterns(keys: list[str]) -> list[dict]:
    """A string holding one of nvcc's flags as a word, with the expressions `nvcc_flags` uses."""
    shapes = {nvcc_flags.ARCH: nvcc_flags._ARCH.pattern, nvcc_flags.NVCC_ONLY: nvcc_flags._NVCC_ONLY.pattern}
    return [{"pattern": '"$S"', "_flag": f"(^|\\s)({shapes[key]})(\\s|$)"} for key in keys if key in shapes]


def _semgrep_form(pattern: dict) -> dict:
    """Turn the shorthand keys above into semgrep's `patterns` with a metavariable-regex."""
    if "pattern" not in pattern:
        return pattern
    base = {"pattern": pattern["pattern"]}
    for shorthand, metavariable, regex in (
        ("_name", "$V", lambda v: f"(?i)(^|_){v}($|_)"),
        ("_ordinal", "$N", lambda _: r"^([0-9]+|[\w.]*(rank|gpu)[\w.]*)$"),
        ("_string", "$K", lambda v: v),
        ("_cmd", "$CMD", lambda v: v),
        ("_flag", "$S", lambda v: v),
    ):
        if shorthand in pattern:
            return {
                "patterns": [
                    base,
                    {"metavariable-regex": {"metavariable": metavariable, "regex": regex(pattern[shorthand])}},
                ]
            }
    return base


def render(catalog: Catalog) -> str:
    document = semgrep_rules(catalog)
    for rule in document["rules"]:
        rule["pattern-either"] = [_semgrep_form(p) for p in rule["pattern-either"]]
    header = (
        "# Generated by benchmarks/semgrep_rules.py from cudaudit's catalog: the Python rules' keys as\n"
        "# semgrep patterns, for the speed comparison in benchmarks/scan_speed.py. Do not edit by hand.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, width=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file on disk is out of date")
    args = parser.parse_args()
    text = render(load_catalog())
    if args.check:
        current = RULES_FILE.read_text(encoding="utf-8") if RULES_FILE.exists() else ""
        if current != text:
            print(f"{RULES_FILE} is out of date: run python {Path(__file__).as_posix()}", file=sys.stderr)
            return 1
        return 0
    RULES_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {RULES_FILE} ({text.count('- id: ')} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
