"""Run tiles in this process: one after another, or a few at a time on threads.

Threads rather than a process pool: the Dice kernel runs compiled code without the GIL and
already spreads one tile over all cores, so the default is one tile at a time (with the
input as a single tile, the untiled search itself). ``workers > 1`` runs that many tiles at
once, each on its share of the numba threads, which bounds memory per tile when
``memory_per_task`` is set and keeps every core busy at the end of a run. Processes would
only add copies of the filters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.backends.base import Backend, Capacity
from blindlink.backends.tiles import TileFunction, TileResult, TileSpec


def run_with_threads(
    function: TileFunction,
    document: Mapping[str, Any],
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threads: int | None,
) -> TileResult:
    """``function(document, filters_a, filters_b)``, the kernel on ``threads`` numba threads.

    ``numba.set_num_threads`` holds for the calling thread only, so tiles running side by
    side on different threads each get their own share.
    """
    if threads is None:
        return function(document, filters_a, filters_b)
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    try:
        return function(document, filters_a, filters_b)
    finally:
        numba.set_num_threads(before)


class LocalBackend(Backend):
    """Tiles in this process. The default backend of ``link``.

    ``workers``: tiles run at once (default 1). ``memory_per_task``: bytes a tile may use
    (default: no bound, so with one worker the input is one tile). ``tile_rows`` fixes the
    tile size instead.
    """

    name = "local"

    def __init__(
        self,
        *,
        workers: int = 1,
        memory_per_task: int | None = None,
        tile_rows: int | None = None,
    ) -> None:
        super().__init__()
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.memory_per_task = memory_per_task
        self.tile_rows = tile_rows

    def capacity(self, filter_array_bytes: int) -> Capacity:
        return Capacity(slots=self.workers, task_memory=self.memory_per_task)

    def map_tiles(
        self,
        function: TileFunction,
        specs: Sequence[TileSpec],
        filters_a: npt.NDArray[np.uint8],
        filters_b: npt.NDArray[np.uint8] | None,
    ) -> list[TileResult]:
        documents = [spec.to_json() for spec in specs]
        if self.workers == 1:
            return [function(document, filters_a, filters_b) for document in documents]
        import numba

        threads = max(1, numba.get_num_threads() // self.workers)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(
                pool.map(
                    lambda d: run_with_threads(function, d, filters_a, filters_b, threads),
                    documents,
                )
            )
