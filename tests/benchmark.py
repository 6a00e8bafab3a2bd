"""Measure scan speed on a real tree: `python tests/benchmark.py PATH [--jobs N] [--repeat K]`.

Prints files/s and lines/s for the whole pipeline (discovery, prefilter, parsing,
detection, sorting), the best of K runs; then the same for the tree's C/C++/CUDA sources
alone (prefilter, tree-sitter parse, references, hazards). A benchmark, not a test: timings
depend on the machine, so nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from cudaudit.discovery import Excludes, discover
from cudaudit.engine import scan
from cudaudit.filekinds import FileKind
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", "-r", type=int, default=5)
    args = parser.parse_args()

    catalog = load_catalog()
    rules = frozenset(catalog.rules)
    triggers = catalog.triggers("python")
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        candidates, _ = discover([args.path], Excludes.from_patterns(args.path.absolute(), []))
        result = scan(candidates, lambda _: rules, AnalysisSettings(), args.jobs)
        timings.append(time.perf_counter() - start)

    mentioning = sum(any(t in c.path.read_bytes() for t in triggers) for c in candidates)
    best = min(timings)
    print(f"tree:      {args.path}")
    print(f"files:     {result.files_scanned} ({mentioning} mention a trigger word, {mentioning / max(1, result.files_scanned):.0%})")
    print(f"lines:     {result.lines_scanned}")
    print(f"findings:  {len(result.findings)}   errors: {len(result.errors)}")
    print(f"jobs:      {args.jobs}   runs: {args.repeat}")
    print(f"time:      best {best:.3f} s, median {statistics.median(timings):.3f} s")
    print(f"speed:     {result.files_scanned / best:,.0f} files/s, {result.lines_scanned / best:,.0f} lines/s")

    sources = [c for c in candidates if FileKind.CUDA in c.kinds]
    if sources:
        cpp_timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            cpp = scan(sources, lambda _: rules, AnalysisSettings(), args.jobs)
            cpp_timings.append(time.perf_counter() - start)
        cpp_best = min(cpp_timings)
        print(f"C++:       {cpp.files_scanned} files, {cpp.lines_scanned} lines, {len(cpp.findings)} findings")
        print(f"C++ time:  best {cpp_best:.3f} s, median {statistics.median(cpp_timings):.3f} s")
        print(f"C++ speed: {cpp.lines_scanned / cpp_best:,.0f} lines/s")


if __name__ == "__main__":
    main()
