"""What a compute backend is, and the one use the pipeline makes of it: the tiled search.

A backend only maps a pure function over JSON tile specs (``backends.tiles``) and hands back
the results; planning the tiles and reducing them happens here, on the caller's side, the
same way for every backend. So a backend cannot change an answer, only where and how fast
the tiles run -- which is why the local and the Dask backend write byte-identical results.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import numpy as np
import numpy.typing as npt

from blindlink.backends.tiles import (
    TileFunction,
    TileResult,
    TileSpec,
    choose_tile_rows,
    compute_tile,
    pair_rate,
    plan_tiles,
    reduce_tiles,
)
from blindlink.types import CandidatePairs

#: Tiles per parallel task slot when a backend runs tiles side by side: enough that a slow
#: tile (a crowded block) or a lost worker does not leave the others idle at the end.
TILES_PER_SLOT = 4


@dataclass(frozen=True)
class Capacity:
    """How many tiles a backend runs at once, and the memory each may use (``None``: no
    bound is set, so the whole input may be one tile)."""

    slots: int
    task_memory: int | None


@dataclass(frozen=True)
class TileCost:
    """What one tile cost: for benchmarks and capacity planning, never part of a result."""

    index: int
    rows: int
    cols: int
    comparisons: int
    pairs_found: int
    seconds: float
    worker: str
    #: Process CPU seconds during the tile (see ``TileResult.cpu_seconds``).
    cpu_seconds: float = 0.0

    @property
    def comparisons_per_second(self) -> float:
        return self.comparisons / self.seconds if self.seconds > 0 else float("inf")

    @property
    def comparisons_per_cpu_second(self) -> float:
        return self.comparisons / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")


class Backend(abc.ABC):
    """Runs tile functions somewhere: in this process (``local``) or on a cluster (``dask``).

    A backend is a context manager; leaving it releases whatever it started (threads, a
    local cluster, a connection). ``tile_rows`` fixes the tile size; otherwise it follows
    from :meth:`capacity` (memory per task and number of slots).
    """

    name: str = "backend"
    tile_rows: int | None = None

    def __init__(self) -> None:
        #: Per-tile costs of the last :func:`tiled_candidate_pairs` run on this backend.
        self.tile_costs: list[TileCost] = []

    @abc.abstractmethod
    def capacity(self, filter_array_bytes: int) -> Capacity:
        """Slots and per-task memory, given that the filter array is this large."""

    @abc.abstractmethod
    def map_tiles(
        self,
        function: TileFunction,
        specs: Sequence[TileSpec],
        filters_a: npt.NDArray[np.uint8],
        filters_b: npt.NDArray[np.uint8] | None,
    ) -> list[TileResult]:
        """``function(spec.to_json(), filters_a, filters_b)`` for every spec, in any order;
        every result or an exception, never some of them."""

    def close(self) -> None:  # noqa: B027 -- most backends hold nothing to release
        """Release what the backend started (nothing by default)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tile_rows_for(
    backend: Backend,
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threshold: float,
) -> int:
    """Rows per tile side for this backend and search (a fixed ``backend.tile_rows`` wins)."""
    n = max(int(filters_a.shape[0]), 0 if filters_b is None else int(filters_b.shape[0]))
    if backend.tile_rows is not None:
        return max(1, backend.tile_rows)
    array_bytes = int(filters_a.nbytes) + (0 if filters_b is None else int(filters_b.nbytes))
    capacity = backend.capacity(array_bytes)
    if capacity.task_memory is None and capacity.slots <= 1:
        return max(n, 1)  # one tile: the untiled search itself
    rate = pair_rate(filters_a, filters_b, threshold) if capacity.task_memory is not None else 0.0
    return choose_tile_rows(
        n,
        int(filters_a.shape[1]),
        memory_bytes=capacity.task_memory,
        rate=rate,
        min_tiles=TILES_PER_SLOT * capacity.slots if capacity.slots > 1 else 1,
    )


class TiledSearch:
    """``kernels.dice.candidate_pairs``, computed tile by tile on a backend.

    Same signature, same arrays (bit for bit) as the kernel for every kind of search it
    runs: a self-join or two sets, with or without ``k``. Pass it where a candidate search
    takes a pair-search function (``linkage.candidates``). ``function`` computes one tile
    (a test hook: a slowed-down or failing copy of :func:`~blindlink.backends.tiles.compute_tile`).
    After each call, ``backend.tile_costs`` holds what each tile cost.
    """

    def __init__(self, backend: Backend, *, function: TileFunction = compute_tile) -> None:
        self.backend = backend
        self.function = function

    def __call__(
        self,
        filters_a: npt.NDArray[np.uint8],
        filters_b: npt.NDArray[np.uint8] | None = None,
        threshold: float = 0.8,
        *,
        k: int | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        from blindlink.kernels.dice_reference import check_k

        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        k = check_k(k)
        other = filters_a if filters_b is None else filters_b
        if other.ndim != 2 or filters_a.ndim != 2 or other.shape[1] != filters_a.shape[1]:
            raise ValueError("both filter arrays must be 2-D with the same width")
        n_a = int(filters_a.shape[0])
        n_b = None if filters_b is None else int(filters_b.shape[0])
        if k is not None and k >= (n_a - 1 if n_b is None else n_b):
            k = None  # every row keeps all its partners anyway (the kernel's own rule)
        tile_rows = tile_rows_for(self.backend, filters_a, filters_b, threshold)
        specs = plan_tiles(n_a, threshold, tile_rows, n_b=n_b, k=k)
        results = (
            self.backend.map_tiles(self.function, specs, filters_a, filters_b) if specs else []
        )
        pairs = reduce_tiles(specs, results, n_a, n_b=n_b)
        self.backend.tile_costs = [
            TileCost(
                index=spec.index,
                rows=spec.rows[1] - spec.rows[0],
                cols=spec.cols[1] - spec.cols[0],
                comparisons=spec.comparisons,
                pairs_found=len(result.pairs),
                seconds=result.seconds,
                worker=result.worker,
                cpu_seconds=result.cpu_seconds,
            )
            for spec, result in zip(specs, sorted(results, key=lambda r: r.index), strict=True)
        ]
        return pairs.scores, pairs.rows_a, pairs.rows_b


def tiled_candidate_pairs(
    filters: npt.NDArray[np.uint8],
    threshold: float,
    backend: Backend,
    *,
    function: TileFunction = compute_tile,
) -> CandidatePairs:
    """Every pair of ``filters`` with Dice >= ``threshold``, computed tile by tile: the same
    arrays as ``candidate_pairs(filters, None, threshold)`` whatever the backend and tiles."""
    return CandidatePairs(*TiledSearch(backend, function=function)(filters, None, threshold))
