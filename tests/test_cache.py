"""The cache of per-file results: a warm scan reports exactly what a cold one and `--no-cache` do.

Every scan here runs the real CLI against a cache folder of the test's own (`CUDAUDIT_CACHE_DIR`):
in this process, or in child processes where a process of its own is what is tested (the catalog
read back, two scans at once, `clean`, a configured folder); over the repository's fixtures and a
few small modules where worker processes must take part (`engine.PARALLEL_THRESHOLD`), over two of
the fixture projects elsewhere.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from cudaudit.engine import PARALLEL_THRESHOLD, RACY_NS
from cudaudit.model import Finding
from cudaudit.session import open_session, run_scan
from support import FIXTURES, write


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The fixtures and a few small modules: just more files than a scan takes in one process."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root / "a")
    for i in range(24):
        write(root / "b" / f"m{i}.py", f"import torch\nx{i} = torch.zeros({i}).cuda()\n")
    assert sum(1 for p in root.rglob("*") if p.is_file()) > PARALLEL_THRESHOLD
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Python, requirements, pyproject, conda and lock files and a workflow, scanned in one process."""
    root = tmp_path / "tree"
    for name in ("gpu-finetune", "cuda-scripts"):
        shutil.copytree(FIXTURES / name, root / name)
    return root


@pytest.fixture
def scan(cli, monkeypatch):
    """`cudaudit scan . -f json` through the real CLI in this process (its workers fork from it),
    with `cache` as the cache folder: a scan costs its analysis, not an interpreter's start."""

    def run(tree: Path, cache: Path, *options: str) -> dict:
        monkeypatch.setenv("CUDAUDIT_CACHE_DIR", str(cache))
        result = cli("scan", ".", "-f", "json", "--exit-zero", *options, cwd=tree)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def packs(cache: Path, namespace: str = "results") -> list[Path]:
    return sorted(p for p in (cache / "v2" / namespace).rglob("*") if p.is_file())


def entries(cache: Path) -> dict:
    """Every file's result, from the packs: display path -> (key, result)."""
    return {slot: entry for path in packs(cache) for slot, entry in pickle.loads(path.read_bytes()).items()}


def test_cold_warm_and_no_cache_scans_agree_whatever_the_workers(tree, tmp_path, scan):
    cache = tmp_path / "cache"
    cold = scan(tree, cache, "-j", "2")
    assert cold["findings"] and len(entries(cache)) > PARALLEL_THRESHOLD
    assert scan(tree, cache, "-j", "2") == cold
    assert scan(tree, cache, "-j", "1") == cold
    assert scan(tree, cache, "--no-cache", "-j", "1") == cold
    assert scan(tree, tmp_path / "other-cache", "-j", "1") == cold  # cold again, in one process


def test_a_warm_scan_reads_its_findings_from_the_cache(project, tmp_path, scan):
    """Proof that the warm scan used the entries: one forged in place shows in its report."""
    cache = tmp_path / "cache"
    cold = scan(project, cache)
    forged = 0
    [pack] = packs(cache)
    slots = pickle.loads(pack.read_bytes())
    for slot, (key, (findings, *rest)) in slots.items():
        if findings:
            findings[0] = Finding(**{**findings[0].__dict__, "message": "from the cache"})
            slots[slot] = (key, (findings, *rest))
            forged += 1
    pack.write_bytes(pickle.dumps(slots))
    warm = scan(project, cache, "--show-portable")  # every finding of an entry, portable ones too
    assert sum(f["message"] == "from the cache" for f in warm["findings"]) == forged > 0
    assert scan(project, cache, "--no-cache") == cold


def test_torn_and_foreign_packs_and_entries_are_misses_and_are_written_again(project, tmp_path, scan):
    cache = tmp_path / "cache"
    cold = scan(project, cache)
    written = [*packs(cache), *packs(cache, "readings"), *packs(cache, "index")]
    assert len(written) == 3
    for path, damaged in zip(written, (b"not a pickle", written[1].read_bytes()[:-9], written[2].read_bytes()[:-9])):
        path.write_bytes(damaged)
    assert scan(project, cache) == cold
    assert entries(cache) and all(pickle.loads(p.read_bytes()) for p in written)
    # An entry of another shape in a sound pack is a miss too.
    [pack] = packs(cache)
    slots = pickle.loads(pack.read_bytes())
    pack.write_bytes(pickle.dumps({slot: (key, ("not", "a report")) for slot, (key, _) in slots.items()}))
    assert scan(project, cache) == cold
    assert scan(project, cache) == cold


def test_an_entry_that_would_run_code_is_never_loaded(project, tmp_path, scan):
    cache = tmp_path / "cache"
    cold = scan(project, cache)
    marker = tmp_path / "ran"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    for path in [*packs(cache), *packs(cache, "readings"), *packs(cache, "index")]:
        path.write_bytes(payload)
    assert scan(project, cache) == cold
    assert not marker.exists()


def test_what_a_result_depends_on_besides_the_file_is_in_its_key(project, tmp_path, scan):
    cache = tmp_path / "cache"
    script = write(project / "tools" / "train.py", "import apex\nmodel = model.cuda()\n")
    first = scan(project, cache)
    assert {f["rule"] for f in first["findings"] if f["path"] == "tools/train.py"} == {"CDA208", "CDA102"}
    write(project / "tools" / "apex.py", "")  # now `import apex` is the project's own module
    beside = scan(project, cache)
    assert {f["rule"] for f in beside["findings"] if f["path"] == "tools/train.py"} == {"CDA102"}
    assert beside == scan(project, cache, "--no-cache")
    write(script, "import apex\nmodel = model.cuda()\ntorch.cuda.synchronize()\n")
    assert scan(project, cache) == scan(project, cache, "--no-cache")
    # What the project index says about a file is in its key: another workflow's CPU job answers CDA710.
    write(project / ".github" / "workflows" / "gpu.yml",
          "on: push\njobs:\n  test:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: nvidia-smi\n")
    assert "CDA710" in {f["rule"] for f in scan(project, cache)["findings"]}
    write(project / ".github" / "workflows" / "cpu.yml", "on: push\njobs:\n  cpu:\n    runs-on: ubuntu-latest\n"
          "    steps:\n      - run: pytest\n")
    answered = scan(project, cache)
    assert "CDA710" not in {f["rule"] for f in answered["findings"]}
    assert answered == scan(project, cache, "--no-cache")
    rocm_only = scan(project, cache, "-t", "rocm")
    assert rocm_only["summary"]["targets"] == ["rocm"] and rocm_only == scan(project, cache, "-t", "rocm", "--no-cache")
    selected = scan(project, cache, "--select", "CDA102")
    assert {f["rule"] for f in selected["findings"]} == {"CDA102"}


def test_a_warm_scan_of_an_unchanged_tree_builds_no_project_index(project, tmp_path, scan):
    """The index's answers are one entry keyed by every file it reads: a warm scan of an unchanged
    tree takes them from it, and needs neither the index nor its per-file readings (removed here);
    an edit to any file builds the index again, from its readings."""
    cache = tmp_path / "cache"
    cold = scan(project, cache)
    [readings] = packs(cache, "readings")
    readings.unlink()
    assert scan(project, cache) == cold
    assert not packs(cache, "readings")
    write(project / "gpu-finetune" / "requirements.txt", "cupy-cuda12x\n")
    edited = scan(project, cache)
    assert packs(cache, "readings") and edited != cold
    assert edited == scan(project, cache, "--no-cache")


def test_the_files_a_requirements_file_includes_are_read_again_on_every_scan(project, tmp_path, scan):
    """`base.txt` is no requirements file by its name, so no scan lists it, and the index's answers
    are not keyed by it: the texts it was made from are compared with the files on every use."""
    cache = tmp_path / "cache"
    write(project / "requirements.txt", "-r base.txt\n-r requirements-gpu.txt\n")
    write(project / "requirements-gpu.txt", "--extra-index-url https://download.pytorch.org/whl/cu124\n")
    base = write(project / "base.txt", "nvidia-nccl-cu12==2.20.5\n")
    first = scan(project, cache)
    assert "base.txt" in {f["path"] for f in first["findings"]}
    write(base, "numpy==1.26.4\n")
    edited = scan(project, cache)
    assert "base.txt" not in {f["path"] for f in edited["findings"]}
    assert edited == scan(project, cache, "--no-cache")


@pytest.mark.slow  # two CLI processes racing over a hundred files: end to end
def test_two_scans_at_once_share_the_cache(tree, tmp_path, scan):
    cache = tmp_path / "cache"
    expected = scan(tree, tmp_path / "reference")
    command = [sys.executable, "-m", "cudaudit", "scan", ".", "-f", "json", "--exit-zero", "-j", "1"]
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    running = [subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [json.loads(p.communicate()[0]) for p in running]
    assert outputs == [expected, expected]
    assert scan(tree, cache) == expected
    assert not [p for p in (cache / "v2").rglob("*.tmp")]


def test_clean_removes_what_cudaudit_wrote_and_no_cache_writes_nothing(project, tmp_path, scan):
    cache = tmp_path / "cache"
    scan(project, cache, "--no-cache")
    assert not cache.exists()
    scan(project, cache)
    (cache / "notes.txt").write_text("the user's own file\n")
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    cleaned = subprocess.run([sys.executable, "-m", "cudaudit", "clean"], cwd=project, env=env, capture_output=True,
                             text=True, check=True)
    assert "removed the cache" in cleaned.stderr
    assert sorted(p.name for p in cache.iterdir()) == ["notes.txt"]


def test_a_configured_cache_folder_stays_inside_the_project(project, tmp_path):
    write(project / "pyproject.toml", '[tool.cudaudit]\ncache-dir = "../elsewhere"\n')
    env = {key: value for key, value in os.environ.items() if key != "CUDAUDIT_CACHE_DIR"}
    refused = subprocess.run([sys.executable, "-m", "cudaudit", "scan", "."], cwd=project, env=env, capture_output=True,
                             text=True, check=False)
    assert refused.returncode == 2 and "leaves the project folder" in refused.stderr
    write(project / "pyproject.toml", '[tool.cudaudit]\ncache-dir = ".cudaudit_cache"\n')
    subprocess.run([sys.executable, "-m", "cudaudit", "scan", ".", "--exit-zero"], cwd=project, env=env,
                   capture_output=True, check=True)
    assert (project / ".cudaudit_cache" / "CACHEDIR.TAG").is_file()
    assert not (tmp_path / "elsewhere").exists()


def test_the_catalog_is_parsed_once_and_then_read_from_the_cache(tmp_path):
    """Proof that a run reads the parsed catalog back: a rule's message changed in the cache shows."""
    cache = tmp_path / "cache"
    write(tmp_path / "train.py", "model = model.cuda()\n")
    command = [sys.executable, "-m", "cudaudit", "scan", "train.py", "-f", "json", "--exit-zero"]
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
    [path] = (cache / "v2" / "catalog").iterdir()
    key, catalog = pickle.loads(path.read_bytes())
    for entry in catalog.entries():
        if entry.rule.id == "CDA102":
            object.__setattr__(entry, "message", "read from the cache")
    path.write_bytes(pickle.dumps((key, catalog)))
    write(tmp_path / "train.py", "model = model.cuda()  # changed: its result is not in the cache\n")
    report = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert [f["message"] for f in json.loads(report.stdout)["findings"]] == ["read from the cache"]
    fresh = subprocess.run([*command, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert [f["message"] for f in json.loads(fresh.stdout)["findings"]] != ["read from the cache"]


def test_a_torn_or_planted_catalog_entry_is_a_miss_and_is_written_again(tmp_path):
    """The parsed catalog is unpickled like the packs: what is not a catalog, or would run code, is
    parsed again; one made by another version of the code (another key) is replaced, not kept beside."""
    cache = tmp_path / "cache"
    write(tmp_path / "train.py", "model = model.cuda()\n")
    command = [sys.executable, "-m", "cudaudit", "scan", "train.py", "-f", "json", "--exit-zero"]
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    cold = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    [path] = (cache / "v2" / "catalog").iterdir()
    marker = tmp_path / "ran"
    key, catalog = pickle.loads(path.read_bytes())
    planted = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    for damaged in (path.read_bytes()[:-9], pickle.dumps((key, "not a catalog")), pickle.dumps(("another", catalog)), planted):
        path.write_bytes(damaged)
        assert subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout == cold
        assert pickle.loads(path.read_bytes())[0] == key and not marker.exists()
        assert list((cache / "v2" / "catalog").iterdir()) == [path]


def test_an_edited_file_replaces_its_entry_in_the_pack(project, tmp_path, scan):
    cache = tmp_path / "cache"
    first = scan(project, cache)
    before = entries(cache)
    assert len(before) == first["summary"]["files"]
    script = write(project / "tools" / "train.py", "import torch\nmodel = model.cuda()\n")
    scan(project, cache)
    write(script, "import torch\nmodel = model.cuda()\ntorch.cuda.synchronize()\n")
    edited = scan(project, cache)
    after = entries(cache)
    assert set(after) == {*before, "tools/train.py"}  # one slot per file, whatever its edits
    assert {slot: entry for slot, entry in after.items() if slot != "tools/train.py"} == before
    assert edited == scan(project, cache, "--no-cache")


def test_a_file_rewritten_with_its_size_and_modification_time_kept_is_read_again(project, tmp_path, scan):
    """A file's digest is taken from its status when that is unchanged since an earlier scan hashed
    it; the change time is in the status, and no program can set it back. A file changed within
    `RACY_NS` of the scan is hashed again every time: its status may not show the next change."""
    cache = tmp_path / "cache"
    settled = write(project / "tools" / "old.py", "import torch\nx = torch.zeros(1).cuda()\n")
    time.sleep(RACY_NS / 1e9 + 0.2)
    fresh = write(project / "tools" / "new.py", "import torch\ny = torch.zeros(2).cuda()\n")
    first = scan(project, cache)
    assert {f["rule"] for f in first["findings"] if f["path"] == "tools/old.py"} == {"CDA102"}
    [known] = packs(cache, "digests")
    recorded = set(pickle.loads(known.read_bytes()))
    assert str(settled) in recorded and str(fresh) not in recorded
    before = os.stat(settled)
    text = "import torch\nx = torch.zeros(1).cpu()\n"
    settled.write_text(text + " " * (before.st_size - len(text)))
    os.utime(settled, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (os.stat(settled).st_size, os.stat(settled).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    second = scan(project, cache)
    assert not [f for f in second["findings"] if f["path"] == "tools/old.py"]
    assert second == scan(project, cache, "--no-cache")


def test_a_deleted_file_leaves_the_packs_of_its_tree(project, tmp_path, scan):
    cache = tmp_path / "cache"
    gone = write(project / "tools" / "gone.py", "import torch\nx = torch.zeros(1).cuda()\n")
    time.sleep(RACY_NS / 1e9 + 0.2)  # old enough for its digest to be kept by its status
    scan(project, cache)
    [known] = packs(cache, "digests")
    assert "tools/gone.py" in entries(cache) and str(gone) in pickle.loads(known.read_bytes())
    gone.unlink()
    after = scan(project, cache)
    assert "tools/gone.py" not in entries(cache) and str(gone) not in pickle.loads(known.read_bytes())
    assert len(entries(cache)) == after["summary"]["files"]
    assert after == scan(project, cache, "--no-cache")


def test_the_torch_pin_is_kept_while_the_files_it_reads_keep_their_status(tmp_path, monkeypatch):
    """The pin read from the project's dependency files is kept with their statuses: a forged one
    shows while they are unchanged; an edited or an added requirements file is read again."""
    project, cache = tmp_path / "tree", tmp_path / "cache"
    requirements = write(project / "requirements.txt", "torch>=2.1\n")
    write(project / "train.py", "import torch\nx = torch.zeros(1).cuda()\n")
    time.sleep(RACY_NS / 1e9 + 0.2)  # old enough for its status to be kept
    monkeypatch.setenv("CUDAUDIT_CACHE_DIR", str(cache))
    monkeypatch.chdir(project)

    def pin() -> str | None:
        session = open_session([Path(".")], [], [], [], None, 1)
        return run_scan(session, Console(file=io.StringIO())).torch_version

    assert pin() == "2.1"
    [pack] = packs(cache, "pins")
    slots = pickle.loads(pack.read_bytes())
    pack.write_bytes(pickle.dumps({slot: (key, ("9.9",)) for slot, (key, _) in slots.items()}))
    assert pin() == "9.9"
    write(requirements, "torch>=2.4\n")
    assert pin() == "2.4"
    write(project / "requirements-dev.txt", "torch>=2.0\n")
    assert pin() == "2.0"


def test_a_scan_of_named_files_reads_no_definitions_for_the_callers_reading(tmp_path, cli, monkeypatch):
    """Whether other modules call a module's functions under a guard (`callers.py`) is asked only by a
    scan that sees the whole project: a scan of named files (pre-commit's staged files) reads none of
    the definitions it would follow, a scan of their folder does."""
    project = tmp_path / "project"
    write(project / "helpers.py", "import torch\n\n\ndef peak():\n    return torch.cuda.max_memory_allocated()\n")
    write(project / "train.py", "from helpers import peak\n\nprint(peak())\n")
    write(project / "README.md", "python train.py\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("CUDAUDIT_CACHE_DIR", str(cache))

    def read_definitions(*paths: str) -> set[str]:
        assert cli("scan", *paths, "-f", "json", "--exit-zero", cwd=project).exit_code == 0
        [readings] = packs(cache, "readings")
        return {slot for slot in pickle.loads(readings.read_bytes()) if slot.startswith("definitions\0")}

    assert read_definitions("helpers.py", "train.py") == set()
    assert read_definitions(".") == {"definitions\0helpers.py"}
