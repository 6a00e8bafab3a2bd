"""Lock a variant's requirements with pip-compile (pip-tools), against the indexes the variant names.

pip-tools is an optional dependency (`pip install 'cudaudit[lock]'`); it runs as a subprocess
(`python -m piptools compile`) so its resolver, cache and network settings are pip's own: the
PyTorch index the variant names must be reachable, or a mirror of it given to
`cudaudit resolve --pytorch-index`, and pip's configuration (`PIP_INDEX_URL`, `pip.conf`) applies.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LOCK_TIMEOUT_S = 900


class LockError(RuntimeError):
    """pip-compile is missing or could not lock; the message says why and what to do."""


@dataclass(frozen=True)
class Locked:
    source: Path
    lock: Path


def lock_path(variant: Path) -> Path:
    """Where the lock of a variant goes: `uv-rocm.in` → `uv-rocm.txt`, `requirements-rocm.txt` →
    `requirements-rocm.lock.txt`."""
    if variant.suffix == ".in":
        return variant.with_suffix(".txt")
    return variant.with_name(f"{variant.stem}.lock{variant.suffix or '.txt'}")


def lock(variant: Path) -> Locked:
    """Run pip-compile on the requirements file `variant`; the lock goes to `lock_path(variant)`."""
    if importlib.util.find_spec("piptools") is None:
        raise LockError("--lock needs pip-tools: pip install 'cudaudit[lock]' (or pip install pip-tools)")
    output = lock_path(variant)
    command = [
        sys.executable, "-m", "piptools", "compile", "--quiet", "--strip-extras",
        "--output-file", str(output), str(variant),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LOCK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise LockError(f"pip-compile did not finish locking {variant} within {LOCK_TIMEOUT_S} s") from None
    if done.returncode != 0:
        detail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        raise LockError(
            f"pip-compile could not lock {variant} (a real lock needs the indexes it names reachable, "
            f"PyTorch's included):\n{detail}"
        )
    return Locked(variant, output)
