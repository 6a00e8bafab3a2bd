"""Worker processes kept for both passes of a scan (`parallel.KeptWorkers`): each item goes back to
the worker that took it before, a worker that ends loses only its chunk, one job runs in process."""

from __future__ import annotations

import os
from contextlib import nullcontext

from cudaudit.parallel import KeptWorkers

_TAKEN: set[int] = set()
"""What this process took in an earlier pass (each worker has its own copy)."""


def _take(chunk: list[int]) -> list[tuple[int, int, bool]]:
    """(item, process, whether this process took the item before)."""
    found = [(item, os.getpid(), item in _TAKEN) for item in chunk]
    _TAKEN.update(chunk)
    return found


def _ends_on_seven(chunk: list[int]) -> list[tuple[int, int, bool]]:
    if 7 in chunk:
        os._exit(1)  # as a worker the system kills for its memory
    return _take(chunk)


def _lost(chunk: list[int], why: str) -> list[tuple[int, int, bool]]:
    return [(item, -1, False) for item in chunk]


def _same(item: int) -> int:
    return item


def test_an_item_goes_back_to_the_worker_that_took_it_before():
    items = list(range(20))  # a chunk for each worker: both take theirs at once
    with KeptWorkers(2, nullcontext) as workers:
        first = {item: process for item, process, _ in workers.map(_take, items, 10, 20, _same, _lost)}
        second = list(workers.map(_take, items[::-1], 10, 20, _same, _lost))
    assert len(set(first.values())) == 2 and os.getpid() not in first.values()
    assert sorted(item for item, _, _ in second) == items
    assert all(taken and process == first[item] for item, process, taken in second)


def test_a_worker_that_ends_loses_only_its_chunk_and_another_takes_its_place():
    items = list(range(40))
    with KeptWorkers(2, nullcontext) as workers:
        first = sorted(workers.map(_ends_on_seven, items, 5, 10, _same, _lost))
        second = sorted(workers.map(_take, items, 5, 10, _same, _lost))
    assert [item for item, process, _ in first if process == -1] == [5, 6, 7, 8, 9]
    assert [item for item, _, _ in first] == items
    assert all(process > 0 for _, process, _ in second)


def test_one_job_or_a_few_items_run_in_this_process():
    with KeptWorkers(1, nullcontext) as workers:
        assert {process for _, process, _ in workers.map(_take, list(range(40)), 5, 10, _same, _lost)} == {os.getpid()}
    with KeptWorkers(2, nullcontext) as workers:
        assert {process for _, process, _ in workers.map(_take, list(range(8)), 5, 10, _same, _lost)} == {os.getpid()}
