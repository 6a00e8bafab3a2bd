"""Measure how fast cudaudit scans real trees, and how that compares with semgrep on the same files.

    python benchmarks/scan_speed.py TREE [TREE ...] [--semgrep PATH] [--repeat K] [--jobs N]

Several trees are scanned together, as one run. The trees stay outside this repository. Sections
(`--only` picks some):

- `analyzers`: in this process, one process, for each file kind: files, lines, how many pass
  the byte prefilter, seconds, files/s and lines/s; the best of K runs.
- `scan`: `cudaudit scan` as a user runs it (a fresh interpreter, every core by default): wall
  and CPU time, peak RSS of the largest process. Cold is a scan with an empty cache; warm is the
  same scan again with the cache the cold run left.
- `five`: the pre-commit case, `cudaudit scan` of five Python files of the tree that mention a
  trigger word, wall time including the interpreter's start: with their results in the cache
  (unchanged files), and edited (the parsed catalog cached, their results not).
- `scale`: cold scans of evenly spaced fractions of the files (`--fractions`, copied with their
  paths into a temporary folder), then of the whole tree with one worker and with `--jobs`, whose
  reports must be identical; the one-worker run's peak RSS is the memory a scan needs.
- `semgrep`: cold cudaudit scans and semgrep scans alternated, so both see the same machine
  load; semgrep runs `benchmarks/semgrep-python-rules.yml` (the catalog's Python keys as
  semgrep patterns) over the trees' folders, and the Python files it scanned are checked to be
  the ones cudaudit reads. The ratio is cudaudit's best wall time over semgrep's.
- `baseline` (with `--baseline`): another cudaudit, given as a command (an older checkout run as
  `python -m cudaudit` with its folder on `PYTHONPATH`), and this one, alternated round by round
  with one worker each, so that CPU time is the scan's own: this one without the cache, and cold
  (an empty cache, which it fills). The ratios are of the best CPU times.

Every timing is the best of `--repeat` runs: on a shared machine the best run is the one least
disturbed by other work. Commands run with bytecode caching on (`PYTHONDONTWRITEBYTECODE`
removed), as an installed cudaudit runs. A benchmark, not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cudaudit.analyzers import analyzer, supported
from cudaudit.cache import FORMAT
from cudaudit.discovery import Candidate, Excludes, discover
from cudaudit.engine import FileTask, analyze_bytes, display_path
from cudaudit.filekinds import FileKind
from cudaudit.rules.catalog import load_catalog
from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.settings import AnalysisSettings

SECTIONS = ("analyzers", "scan", "five", "scale", "semgrep", "baseline")
SEMGREP_RULES = Path(__file__).with_name("semgrep-python-rules.yml")
CACHE_ENV = "CUDAUDIT_CACHE_DIR"


@dataclass(frozen=True)
class Run:
    """One command, measured: wall seconds, CPU seconds (its own and its children's), peak RSS,
    and the machine's one-minute load average as it started (other work on a shared machine)."""

    wall: float
    cpu: float
    rss_mib: float
    returncode: int
    output: bytes
    load: float

    @property
    def noted_load(self) -> str:
        return f"load {self.load:4.2f}"


_LAUNCHER = """
import json, os, sys, time
out, command = sys.argv[1], sys.argv[2:]
actions = [
    (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
]
start = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""
"""Runs one command and reports its wall and CPU time and peak RSS. It is a small process of its own:
a child's peak RSS counts the memory of the process it was forked from, which here would be this
benchmark's (the whole tree, read)."""


def measure(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run `command` and measure it; rusage from `wait4` covers the worker processes it waits for."""
    env = {key: value for key, value in (env or os.environ).items() if key != "PYTHONDONTWRITEBYTECODE"}
    load = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile(prefix="cudaudit-bench-") as out:
        report = subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, out.name, *command],
            env=env, capture_output=True, text=True, check=True,
        )
        wall, cpu, rss_kib, returncode = json.loads(report.stdout)
        output = Path(out.name).read_bytes()
    return Run(wall, cpu, rss_kib / 1024, returncode, output, load)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def cudaudit_command() -> list[str]:
    """The console script a user runs (as pre-commit does), else `python -m cudaudit`."""
    script = Path(sys.executable).with_name("cudaudit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cudaudit"]


# -- the tree ---------------------------------------------------------------------------------


@dataclass
class KindStats:
    files: int = 0
    lines: int = 0
    passed: int = 0
    seconds: float = float("inf")


@dataclass
class Tree:
    paths: list[Path]
    candidates: list[Candidate]
    data: dict[Path, bytes] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return sum(_lines(d) for d in self.data.values())

    def python_files(self) -> list[Path]:
        return [c.path for c in self.candidates if FileKind.PYTHON in c.kinds]


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))


def load_tree(paths: list[Path]) -> Tree:
    candidates, _ = discover(paths, Excludes.from_patterns(Path.cwd(), []))
    tree = Tree(paths, candidates)
    for candidate in candidates:
        try:
            tree.data[candidate.path] = read_tree_file(candidate.path, candidate.root)
        except UnreadableFile:
            continue
    return tree


# -- sections ---------------------------------------------------------------------------------


def per_analyzer(tree: Tree, repeat: int) -> None:
    """Each kind's share of a scan: read once, then prefilter, decode, analyse, suppress per kind."""
    catalog = load_catalog()
    rules = frozenset(catalog.rules)
    kinds = sorted({k for c in tree.candidates for k in c.kinds if supported(k)})
    for kind in kinds:
        analyzer(kind)  # imports are start-up cost, measured by the `five` section
    settings = AnalysisSettings(roots=tuple(sorted({str(c.root) for c in tree.candidates})))
    stats = {kind: KindStats() for kind in kinds}
    cwd = Path.cwd()
    for round_ in range(repeat):
        spent = dict.fromkeys(kinds, 0.0)
        for candidate in tree.candidates:
            data = tree.data.get(candidate.path)
            if data is None:
                continue
            for kind in candidate.kinds:
                if not supported(kind):
                    continue
                task = FileTask(str(candidate.path), display_path(candidate.path, cwd), (kind,), rules, str(candidate.root))
                start = time.perf_counter()
                analyze_bytes(data, task, settings)
                spent[kind] += time.perf_counter() - start
                if round_ == 0:
                    stats[kind].files += 1
                    stats[kind].lines += _lines(data)
                    stats[kind].passed += catalog.may_match(kind.value, data)
        for kind in kinds:
            stats[kind].seconds = min(stats[kind].seconds, spent[kind])
    total = sum(s.seconds for s in stats.values())
    print(f"\n== per analyzer (one process, best of {repeat}; prefilter, decode, analyze, suppress; "
          f"load {os.getloadavg()[0]:.2f} after)")
    print(f"{'kind':<13}{'files':>7}{'passed':>8}{'lines':>10}{'seconds':>9}{'share':>7}{'files/s':>10}{'lines/s':>11}")
    for kind, s in sorted(stats.items(), key=lambda item: -item[1].seconds):
        rate = (s.files / s.seconds, s.lines / s.seconds) if s.seconds else (0.0, 0.0)
        share = s.seconds / total if total else 0.0
        print(f"{kind.value:<13}{s.files:>7}{s.passed:>8}{s.lines:>10}{s.seconds:>9.3f}{share:>7.0%}{rate[0]:>10,.0f}{rate[1]:>11,.0f}")
    print(f"{'all kinds':<13}{'':>25}{total:>9.3f}")


def scan_runs(tree: Tree, jobs: int, repeat: int) -> tuple[Run, Run | None]:
    """Cold (empty cache) and warm (the cache the cold run left) full scans, best of `repeat` each."""
    command = [*cudaudit_command(), "scan", *map(str, tree.paths), "-f", "json", "--exit-zero", "-j", str(jobs)]
    colds, warms = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="cudaudit-bench-cache-") as cache:
            env = {**os.environ, CACHE_ENV: cache}
            colds.append(measure(command, env))
            warms.append(measure(command, env))
    cold, warm = best(colds), best(warms)
    if warm.output != cold.output:
        print("!! warm scan output differs from the cold scan's")
    return cold, warm


def print_scan(tree: Tree, cold: Run, warm: Run | None) -> None:
    summary = json.loads(cold.output)["summary"]
    files, lines = summary["files"], summary["lines"]
    print(f"\n== cudaudit scan (a fresh process, as a user runs it): {files} files, {lines:,} lines, {summary['findings']} findings")
    print(f"cold   wall {cold.wall:7.3f} s  cpu {cold.cpu:7.3f} s  peak RSS {cold.rss_mib:6.0f} MiB  "
          f"{files / cold.wall:8,.0f} files/s {lines / cold.wall:10,.0f} lines/s  {cold.noted_load}")
    if warm is not None:
        print(f"warm   wall {warm.wall:7.3f} s  cpu {warm.cpu:7.3f} s  peak RSS {warm.rss_mib:6.0f} MiB  "
              f"{warm.wall / cold.wall:.1%} of cold  {warm.noted_load}")


def five_files(tree: Tree, repeat: int) -> None:
    """The pre-commit hook's case: five Python files that mention a trigger, spread over the tree."""
    triggers = load_catalog().triggers("python")
    mentioning = [p for p in tree.python_files() if any(t in tree.data.get(p, b"") for t in triggers)]
    if len(mentioning) < 5:
        print("\n== five files: the tree has fewer than five Python files that mention a trigger word")
        return
    step = len(mentioning) // 5
    chosen = [str(mentioning[i * step]) for i in range(5)]
    command = cudaudit_command()
    scan_five = [*command, "scan", *chosen, "--exit-zero"]
    reference = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cudaudit --version": [*command, "--version"],
        "scan, results cached": scan_five,
        "scan, files edited": scan_five,
    }
    runs: dict[str, list[Run]] = {name: [] for name in reference}
    with tempfile.TemporaryDirectory(prefix="cudaudit-bench-cache-") as cache:
        env = {**os.environ, CACHE_ENV: cache}
        measure(scan_five, env)  # the parsed catalog and these files' results, as after an earlier commit
        for _ in range(max(repeat, 5)):
            for name, cmd in reference.items():
                if name == "scan, files edited":  # the catalog cached, the files' results and index answers not
                    for folder in ("results", "readings", "digests", "index"):
                        shutil.rmtree(Path(cache, FORMAT, folder), ignore_errors=True)
                runs[name].append(measure(cmd, env))
    print(f"\n== five files, the pre-commit case (wall time, interpreter start included, best of {max(repeat, 5)})")
    for name in reference:
        run = best(runs[name])
        print(f"{name:<26}{run.wall:7.3f} s  cpu {run.cpu:6.3f} s  peak RSS {run.rss_mib:5.0f} MiB  {run.noted_load}")
    print("files: " + " ".join(os.path.relpath(p) for p in chosen))


def scale(tree: Tree, jobs: int, fractions: list[float]) -> None:
    """How the cold scan grows with the tree, what memory it needs, and that workers change nothing."""
    print("\n== scale (cold scans, no cache; peak RSS of the largest process)")
    print(f"{'files':>8}{'lines':>11}{'jobs':>6}{'wall s':>9}{'cpu s':>9}{'lines/s':>10}{'RSS MiB':>9}")
    files = [c.path for c in tree.candidates if c.path in tree.data]
    for fraction in fractions:
        step = max(1, round(1 / fraction)) if fraction < 1 else 1
        chosen = files[::step]
        with tempfile.TemporaryDirectory(prefix="cudaudit-bench-tree-") as folder:
            for path in chosen:
                given = next(p for p in tree.paths if path.is_relative_to(p.absolute()))
                copy = Path(folder) / given.name / path.relative_to(given.absolute())
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(tree.data[path])
            roots = [str(Path(folder) / p.name) for p in tree.paths]
            runs = [(j, _scan_once(roots, j)) for j in ((1, jobs) if fraction >= 1 else (jobs,))]
            for j, run in runs:
                lines = json.loads(run.output)["summary"]["lines"]
                print(f"{len(chosen):>8}{lines:>11,}{j:>6}{run.wall:>9.2f}{run.cpu:>9.2f}{lines / run.wall:>10,.0f}{run.rss_mib:>9.0f}  {run.noted_load}")
            if len(runs) == 2:
                same = runs[0][1].output == runs[1][1].output
                print(f"reports with 1 and {jobs} workers: {'identical' if same else 'DIFFERENT'}")


def _scan_once(paths: list[str], jobs: int) -> Run:
    command = [*cudaudit_command(), "scan", *paths, "-f", "json", "--exit-zero", "--no-cache", "-j", str(jobs)]
    return measure(command)


def against_semgrep(tree: Tree, semgrep: str, jobs: int, repeat: int) -> None:
    """cudaudit (cold) and semgrep alternated round by round; the ratio of the best wall times.

    semgrep is given the folders, as a user runs it, not each Python file: with one argument per
    file (1,112 on DeepSpeed) it took six to ten times as long for the same files and the same
    373 matches (209 s against 35 s of wall time, 130 s against 34 s of CPU, at a load of 4 to 5),
    a cost of how it was called, not of what it scans.
    `--no-git-ignore` and `--x-ignore-semgrepignore-files` make it read every Python file cudaudit
    reads (semgrep's default ignore list, used where a tree has no `.semgrepignore`, skips
    `tests/`); the files it reports as scanned are compared with cudaudit's Python files, and both
    counts are printed with its matches."""
    python_files = {str(p.absolute()) for p in tree.python_files()}
    ours = [*cudaudit_command(), "scan", *map(str, tree.paths), "-f", "json", "--exit-zero", "-j", str(jobs)]
    theirs = [semgrep, "scan", "--config", str(SEMGREP_RULES), "--metrics=off", "--disable-version-check",
              "--json", "-q", "-j", str(jobs), "--no-git-ignore", "--x-ignore-semgrepignore-files",
              *(str(p.absolute()) for p in tree.paths)]
    env = {**os.environ, "SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    cudaudit_runs, semgrep_runs = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="cudaudit-bench-cache-") as cache:
            cudaudit_runs.append(measure(ours, {**os.environ, CACHE_ENV: cache}))
        semgrep_runs.append(measure(theirs, env))
    mine, other = best(cudaudit_runs), best(semgrep_runs)
    report = json.loads(other.output) if other.returncode == 0 else {}
    scanned = set(report.get("paths", {}).get("scanned", []))
    matches = {(r["path"], r["start"]["line"], r["start"]["col"], r["check_id"]) for r in report.get("results", [])}
    matched_files = len({m[0] for m in matches})
    python_findings = sum(
        1 for f in json.loads(mine.output)["findings"] if f["path"].endswith(".py")
    )
    print(f"\n== against semgrep {_semgrep_version(semgrep)} (alternating, best of {repeat}, -j {jobs})")
    print(f"cudaudit, every kind, cold   wall {mine.wall:7.3f} s  cpu {mine.cpu:7.3f} s  peak RSS {mine.rss_mib:5.0f} MiB"
          f"  ({python_findings} findings in Python files)  {mine.noted_load}")
    outcome = f"{len(matches)} matches in {matched_files} files" if report else f"failed: exit {other.returncode}"
    print(f"semgrep, the folders         wall {other.wall:7.3f} s  cpu {other.cpu:7.3f} s  peak RSS {other.rss_mib:5.0f} MiB"
          f"  ({outcome})  {other.noted_load}")
    if report:
        same = "the same files" if scanned == python_files else (
            f"DIFFERENT: {len(scanned - python_files)} only semgrep's, {len(python_files - scanned)} only cudaudit's")
        print(f"files: semgrep scanned {len(scanned)} Python files, cudaudit reads {len(python_files)}: {same}")
    print(f"ratio (cudaudit / semgrep)   wall {mine.wall / other.wall:.2f}   cpu {mine.cpu / other.cpu:.2f}")


def against_baseline(tree: Tree, baseline: list[str], repeat: int) -> None:
    """Another cudaudit and this one, one worker each, alternated; the ratios of the best CPU times."""
    scan = ["scan", *map(str, tree.paths), "-f", "json", "--exit-zero", "-j", "1"]
    runs: dict[str, list[Run]] = {"baseline": [], "--no-cache": [], "cold": []}
    for _ in range(repeat):
        runs["baseline"].append(measure([*baseline, *scan]))
        runs["--no-cache"].append(measure([*cudaudit_command(), *scan, "--no-cache"]))
        with tempfile.TemporaryDirectory(prefix="cudaudit-bench-cache-") as cache:
            runs["cold"].append(measure([*cudaudit_command(), *scan], {**os.environ, CACHE_ENV: cache}))
    before = min(runs["baseline"], key=lambda r: r.cpu)
    print(f"\n== against the baseline `{' '.join(baseline)}` (one worker, alternated, best CPU of {repeat})")
    for name, measured in runs.items():
        run = min(measured, key=lambda r: r.cpu)
        lines = json.loads(run.output)["summary"]["lines"] if run.returncode == 0 else 0
        print(f"{name:<12} wall {run.wall:7.3f} s  cpu {run.cpu:7.3f} s  peak RSS {run.rss_mib:5.0f} MiB  "
              f"{lines:>9,} lines  cpu / baseline {run.cpu / before.cpu:5.2f}  {run.noted_load}")


def _semgrep_version(semgrep: str) -> str:
    """semgrep's version; without the switch below, `semgrep --version` asks the network for the latest
    release, and on a machine without one it waited about 97 s for the answer."""
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    return subprocess.run([semgrep, "--version"], capture_output=True, text=True, check=False, env=env).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", type=Path, nargs="+", help="folders to scan together")
    parser.add_argument("--semgrep", help="the semgrep executable (installed outside this project)")
    parser.add_argument("--baseline", help="for `baseline`: the command of another cudaudit, e.g. "
                        "'env PYTHONPATH=/elsewhere/old python -m cudaudit' (split as a shell would)")
    parser.add_argument("--repeat", "-r", type=int, default=3)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fractions", default="0.1,0.5,1", help="for `scale`: fractions of the files, comma-separated")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    tree = load_tree(args.trees)
    print(f"trees: {' '.join(map(str, args.trees))}")
    print(f"files: {len(tree.candidates)} that cudaudit reads, {tree.lines:,} lines; "
          f"{len(tree.python_files())} Python files; machine: {os.cpu_count()} cores, jobs {args.jobs}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    steps: list[tuple[str, Callable[[], None]]] = [
        ("analyzers", lambda: per_analyzer(tree, args.repeat)),
        ("scan", lambda: print_scan(tree, *scan_runs(tree, args.jobs, args.repeat))),
        ("five", lambda: five_files(tree, args.repeat)),
        ("scale", lambda: scale(tree, args.jobs, [float(f) for f in args.fractions.split(",")])),
    ]
    if args.semgrep:
        semgrep = shutil.which(args.semgrep) or args.semgrep
        steps.append(("semgrep", lambda: against_semgrep(tree, semgrep, args.jobs, args.repeat)))
    if args.baseline:
        steps.append(("baseline", lambda: against_baseline(tree, shlex.split(args.baseline), args.repeat)))
    for name, step in steps:
        if name in sections:
            step()
            sys.stdout.flush()


if __name__ == "__main__":
    main()
