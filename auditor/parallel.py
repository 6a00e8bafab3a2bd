"""Work spread over worker processes: the scan's files, the fixer's files.

Workers are forked where the platform can, so what the parent has loaded (the parsed catalog,
libcst) is shared rather than loaded again per worker. Results come back as chunks finish;
callers sort them, so output never depends on scheduling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

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
    chunks = [list(items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
    done = 0
    if jobs <= 1 or len(items) < min_parallel or len(chunks) < 2:
        for chunk in chunks:
            yield from work(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, len(items))
        return
    import multiprocessing  # loaded only when a pool starts: a pre-commit run of a few files never needs it
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=context) as pool:
        futures = {pool.submit(work, chunk): len(chunk) for chunk in chunks}
        for future in as_completed(futures):
            yield from future.result()
            done += futures[future]
            if on_progress:
                on_progress(done, len(items))
