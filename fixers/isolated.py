"""Run one step in a forked child, so that a native crash costs one file, not the whole run.

libcst parses with native code, which overflows its stack on input CPython's own parser takes
in its stride (a 60 KB `a and b and ...` chain): the process dies with SIGSEGV and no Python
handler can catch it. The import rewrite runs in a child process instead: a crash, or a step
that runs too long, is reported for that file and the run goes on. `os.fork` is used directly
(not `multiprocessing`), because the fixer may itself be a worker of a process pool, whose
processes may not start others. Where fork does not exist the step runs in this process.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import TypeVar

Value = TypeVar("Value")

STEP_TIMEOUT_SECONDS = 120


class IsolatedFailure(Exception):
    """The step crashed, timed out or raised in the child; the message says which."""


def call_isolated(function: Callable[..., Value], *args: object, timeout: float = STEP_TIMEOUT_SECONDS) -> Value:
    """`function(*args)`, computed in a forked child and sent back pickled."""
    if not hasattr(os, "fork"):
        return function(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running the parent's cleanup
        os.close(read_end)
        try:
            try:
                reply = pickle.dumps(("value", function(*args)))
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as text
                reply = pickle.dumps(("raised", f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(reply)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        data = _read_all(read_end, time.monotonic() + timeout)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise IsolatedFailure(f"did not finish within {timeout:g} s") from None
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise IsolatedFailure(f"crashed with {signal.Signals(os.WTERMSIG(status)).name}")
    if not data:
        raise IsolatedFailure("ended without an answer")
    kind, payload = pickle.loads(data)
    if kind == "raised":
        raise IsolatedFailure(payload)
    return payload


def _read_all(fd: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
