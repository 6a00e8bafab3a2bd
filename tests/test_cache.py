"""The cache: where it lives, what `--no-cache` and `cudaudit clean` do, the parsed catalog.

Every run here is the real CLI in a subprocess with a cache folder of the test's own.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import FIXTURES, REPO, write


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root / "a")
    return root


def scan(tree: Path, cache: Path, *options: str) -> None:
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-m", "cudaudit", "scan", ".", "--exit-zero", *options], cwd=tree, env=env,
                   capture_output=True, check=True)


def test_clean_removes_what_cudaudit_wrote_and_no_cache_writes_nothing(tree, tmp_path):
    cache = tmp_path / "cache"
    scan(tree, cache, "--no-cache")
    assert not cache.exists()
    scan(tree, cache)
    (cache / "notes.txt").write_text("the user's own file\n")
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    cleaned = subprocess.run([sys.executable, "-m", "cudaudit", "clean"], cwd=tree, env=env, capture_output=True,
                             text=True, check=True)
    assert "removed the cache" in cleaned.stderr
    assert sorted(p.name for p in cache.iterdir()) == ["notes.txt"]


def test_a_configured_cache_folder_stays_inside_the_project(tree, tmp_path):
    write(tree / "pyproject.toml", '[tool.cudaudit]\ncache-dir = "../elsewhere"\n')
    env = {key: value for key, value in os.environ.items() if key != "CUDAUDIT_CACHE_DIR"}
    refused = subprocess.run([sys.executable, "-m", "cudaudit", "scan", "."], cwd=tree, env=env, capture_output=True,
                             text=True, check=False)
    assert refused.returncode == 2 and "leaves the project folder" in refused.stderr
    write(tree / "pyproject.toml", '[tool.cudaudit]\ncache-dir = ".cudaudit_cache"\n')
    subprocess.run([sys.executable, "-m", "cudaudit", "scan", ".", "--exit-zero"], cwd=tree, env=env,
                   capture_output=True, check=True)
    assert (tree / ".cudaudit_cache" / "CACHEDIR.TAG").is_file()
    assert not (tmp_path / "elsewhere").exists()


def test_the_catalog_is_parsed_once_and_then_read_from_the_cache(tmp_path):
    """Proof that a run reads the parsed catalog back: a rule's message changed in the cache shows."""
    cache = tmp_path / "cache"
    write(tmp_path / "train.py", "model = model.cuda()\n")
    command = [sys.executable, "-m", "cudaudit", "scan", "train.py", "-f", "json", "--exit-zero"]
    env = {**os.environ, "CUDAUDIT_CACHE_DIR": str(cache)}
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
    parsed = sorted((cache / "v1" / "toml").iterdir())
    assert len(parsed) == len(list((REPO / "rules" / "data").glob("*.toml")))
    for path in parsed:
        key, data = pickle.loads(path.read_bytes())
        for rule in data.get("rule", ()):
            if rule["id"] == "CDA102":
                rule["message"] = "read from the cache"
                path.write_bytes(pickle.dumps((key, data)))
    report = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert [f["message"] for f in json.loads(report.stdout)["findings"]] == ["read from the cache"]
    fresh = subprocess.run([*command, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert [f["message"] for f in json.loads(fresh.stdout)["findings"]] != ["read from the cache"]
