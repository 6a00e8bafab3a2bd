"""Work spread over worker processes: the scan's files, the fixer's files.

Workers are forked where the platform can, so what the parent has loaded (the parsed catalog,
libcst) is shared rather than loaded again per worker. Results come back as chunks finish;
callers sort them, so output never depends on scheduling.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_in_chunks(
    work: Callable[[list[Item]], list[Result]],
    items: Sequence[Item],
    jobs: int,
    chunk_size: int,
    min_parallel: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> Iterator[Result]:
    """`work` over `items` in chunks of `chunk_size`; in `jobs` processes once there are `min_parallel` items.

    A small batch runs in this process: starting workers would cost more than it saves.
    `on_progress(done, total)` is called after each chunk."""
    if jobs <= 1 or len(items) < min_parallel or len(items) <= chunk_size:
        yield from _in_process(work, items, chunk_size, on_progress)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    chunks = [list(items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
    done = 0
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=_context()) as pool:
        futures = {pool.submit(work, chunk): len(chunk) for chunk in chunks}
        for future in as_completed(futures):
            yield from future.result()
            done += futures[future]
            if on_progress:
                on_progress(done, len(items))


def _in_process(
    work: Callable[[list[Item]], list[Result]],
    items: Sequence[Item],
    chunk_size: int,
    on_progress: Callable[[int, int], None] | None,
) -> Iterator[Result]:
    """`work` over `items` in chunks of `chunk_size` in this process, `on_progress` after each chunk."""
    for start in range(0, len(items), chunk_size):
        yield from work(list(items[start : start + chunk_size]))
        if on_progress:
            on_progress(min(start + chunk_size, len(items)), len(items))


def _context() -> Any:
    """The start method workers get: forked where the platform can, so they share what the parent has
    loaded. `multiprocessing` is loaded only when a worker starts: a pre-commit run of a few files never
    needs it."""
    import multiprocessing

    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)


Lost = Callable[[list[Item], str], list[Result]]
"""`lost(chunk, why)`: the results that stand for a chunk whose worker ended or failed before it answered."""


class KeptWorkers:
    """Worker processes kept for every pass of one scan, each of which keeps what it read.

    A scan passes over its files twice (the project index's readings of each file, then each file's
    analysis) and each pass parses the same modules. Workers that live through both passes keep the
    trees they parsed in the first (`source.keeping_trees`, entered once per worker: `within`), and
    `map` sends each item back to the worker that last took an item of the same `key`, so the
    analysis of a module takes the tree its worker parsed for the index. A worker that is idle takes
    its own items first, then items no worker holds, then items another worker holds (the last that
    one would have reached): no worker idles while another has work.

    Workers start on first need (a rescan answered from the cache starts none) and are forked where
    the platform can. A worker that ends before it answers (killed for its memory) loses only the
    chunk it held: `lost` stands in for that chunk's results, and a fresh worker takes its place."""

    def __init__(self, jobs: int, within: Callable[[], AbstractContextManager[object]]) -> None:
        self.jobs = jobs
        self._within = within
        self._workers: dict[int, tuple[Any, Any]] = {}
        """Worker number -> (process, the parent's end of its pipe)."""
        self._started = 0
        self._held: dict[object, int] = {}
        """An item's key -> the worker that took the last item of that key."""

    def __enter__(self) -> KeptWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        for number in list(self._workers):
            process, connection = self._workers.pop(number)
            with suppress(OSError):  # it has ended already
                connection.send(None)
            connection.close()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()

    def map(
        self,
        work: Callable[[list[Item]], list[Result]],
        items: Sequence[Item],
        chunk_size: int,
        min_parallel: int,
        key: Callable[[Item], object],
        lost: Lost[Item, Result],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[Result]:
        """`work` over `items` in chunks of `chunk_size`, results as chunks finish (callers sort
        them); in this process when there is one job, or when no worker has started and there are
        fewer than `min_parallel` items (starting workers would cost more than it saves)."""
        total, done = len(items), 0
        if self.jobs <= 1 or not items or (not self._workers and (total < min_parallel or total <= chunk_size)):
            yield from _in_process(work, items, chunk_size, on_progress)
            return
        own: dict[int, deque[Item]] = {}
        unheld: deque[Item] = deque()
        for item in items:
            holder = self._held.get(key(item))
            (own.setdefault(holder, deque()) if holder in self._workers else unheld).append(item)
        wanted = min(self.jobs, -(-total // chunk_size))
        while len(self._workers) < wanted:
            self._start()
        from multiprocessing.connection import wait

        busy: dict[Any, tuple[int, list[Item]]] = {}

        def give(number: int) -> None:
            chunk = _next_chunk(own, unheld, number, chunk_size)
            if chunk:
                connection = self._workers[number][1]
                with suppress(OSError):  # the worker has ended: `wait` reports its pipe, and the chunk is lost there
                    connection.send((work, chunk))
                busy[connection] = (number, chunk)

        for number in list(self._workers):
            give(number)
        while busy:
            ready: list[Any] = wait(list(busy))
            for connection in ready:
                number, chunk = busy.pop(connection)
                answered: bool
                value: Any
                try:
                    answered, value = connection.recv()
                except (EOFError, OSError):
                    answered, value = False, "its worker process ended (killed, perhaps for its memory)"
                    self._replace(number, own)
                if answered:
                    results = value
                    for item in chunk:
                        self._held[key(item)] = number
                else:
                    results = lost(chunk, value)
                yield from results
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
                for worker in list(self._workers):
                    if self._workers[worker][1] not in busy:
                        give(worker)

    def _start(self) -> int:
        context = _context()
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, self._within), daemon=True)
        process.start()
        theirs.close()
        number = self._started
        self._started += 1
        self._workers[number] = (process, ours)
        return number

    def _replace(self, number: int, own: dict[int, deque[Item]]) -> None:
        """Drop a worker that ended, and start another in its place; the items it held are no one's."""
        process, connection = self._workers.pop(number)
        connection.close()
        process.join()
        self._held = {k: holder for k, holder in self._held.items() if holder != number}
        replacement = self._start()
        own[replacement] = own.pop(number, deque())


def _next_chunk(own: dict[int, deque[Item]], unheld: deque[Item], number: int, size: int) -> list[Item]:
    """The next chunk for worker `number`: its own items first, then those no worker holds, then the
    last ones of the worker with the most left."""
    mine = own.get(number)
    if mine:
        return [mine.popleft() for _ in range(min(size, len(mine)))]
    if unheld:
        return [unheld.popleft() for _ in range(min(size, len(unheld)))]
    others = max(own.values(), key=len, default=None)
    if not others:
        return []
    return [others.pop() for _ in range(min(size, len(others)))][::-1]


def _serve(connection: Any, within: Callable[[], AbstractContextManager[object]]) -> None:
    """A worker's life: take (work, chunk), answer (True, results) or (False, why), until told to stop.
    It then ends at once, without freeing what it kept one object at a time (the system takes the
    memory back whole)."""
    with within():
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                message = None
            if message is None:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)
            work, chunk = message
            try:
                reply: tuple[bool, object] = (True, work(chunk))
                connection.send(reply)
            except Exception as exc:  # noqa: BLE001 - a failure of the work, or results that do not pickle
                connection.send((False, f"internal error ({type(exc).__name__}: {exc}); please report it"))
