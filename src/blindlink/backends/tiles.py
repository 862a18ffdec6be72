"""The candidate search split into tiles: JSON specs, one pure function, one reduction.

Why tiles: the exact self-join compares every pair of records, ``n (n - 1) / 2`` of them,
which is the one part of a linkage whose cost grows with the square of the caseload. Cut the
records into consecutive blocks of ``tile_rows``; the pairs of records fall into the tiles
``(block i, block j)`` with ``i <= j``, each pair into exactly one tile (a diagonal tile is
the self-join of one block, an off-diagonal tile the cross join of two). So

* a tile is described completely by a small JSON document (:class:`TileSpec`: its index, two
  row ranges and the Dice threshold), which any executor can ship anywhere;
* one pure function (:func:`compute_tile`) turns a spec and the filters into that tile's
  candidate pairs, with rows numbered in the whole input;
* the reduction (:func:`reduce_tiles`) first checks that every planned tile came back exactly
  once, then concatenates the tiles in spec order and sorts the pairs by ``(row_a, row_b)``.

Because the Dice kernel is exact (it returns every pair at or above the threshold, scores
computed by one formula from the intersection and the two popcounts), the reduced pairs are
the same arrays, bit for bit, as one untiled ``candidate_pairs(filters, None, threshold)``
call, whatever the tile size and whichever executor ran the tiles, in whatever order. That is
what lets the local and the Dask backend write byte-identical results. Tile size only decides
speed and memory (see :func:`choose_tile_rows`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.errors import BackendError
from blindlink.types import CandidatePairs

#: Version of the tile spec document; a worker refuses a spec of another version.
SPEC_VERSION = 1
#: What a spec asks for: every pair of the tile with Dice >= threshold.
OPERATION = "dice-pairs"
#: Bytes of working memory per record on one side of a tile, beyond the filter itself: the
#: kernel keeps a popcount-sorted copy and a transposed tile copy of each side's filters
#: (2 x the filter bytes, counted apart), popcounts, sort orders and per-checkpoint remainder
#: popcounts (about 10 int64 values).
SIDE_OVERHEAD_BYTES = 80
#: Bytes held per candidate pair found in a tile at the peak: the kernel's int32 triplets in
#: buffers that grow by doubling (up to 2 x 12), the sorted int64 rows and intersections (24),
#: float64 scores (8) and the offset copies returned (24).
BYTES_PER_PAIR = 80
#: Lower bound on the share of pairs assumed to pass, so that a sample that saw none (random
#: filters, a high threshold) does not size tiles as if no tile could ever return anything.
MIN_PAIR_RATE = 1e-5
#: Random pairs sampled to estimate the share of pairs that pass the threshold.
SAMPLE_PAIRS = 20_000
#: Fewest rows a tile side is cut to: below this, per-tile overhead (scheduling, sorting and
#: transposing a side) outweighs the comparisons.
MIN_TILE_ROWS = 2_048


@dataclass(frozen=True)
class TileSpec:
    """One tile of a search: rows ``rows[0]:rows[1]`` of one side against ``cols[0]:cols[1]``
    of the other, at ``threshold``, keeping each row's ``k`` best partners when ``k`` is set.

    ``self_join``: both sides are the same filters. Without ``k`` a self-join is cut into the
    tiles on and above the diagonal: either the two ranges are equal (each unordered pair of
    the block once) or ``rows`` ends at or before ``cols`` starts. With ``k`` every record
    ranks all others, so every pair of blocks is a tile and a diagonal tile leaves out each
    record's pairing with itself. ``index`` is the tile's position in its plan.
    """

    index: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    threshold: float
    k: int | None = None
    self_join: bool = True

    @property
    def diagonal(self) -> bool:
        return self.self_join and self.rows == self.cols

    @property
    def comparisons(self) -> int:
        """Pairs of records the tile covers: its share of the comparison space."""
        n = self.rows[1] - self.rows[0]
        if self.diagonal:
            return n * (n - 1) // (2 if self.k is None else 1)
        return n * (self.cols[1] - self.cols[0])

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON-serialisable document: what is shipped to a worker."""
        return {
            "version": SPEC_VERSION,
            "operation": OPERATION,
            "index": self.index,
            "rows": list(self.rows),
            "cols": list(self.cols),
            "threshold": self.threshold,
            "k": self.k,
            "self_join": self.self_join,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TileSpec:
        """Read a spec written by :meth:`to_json`; refuses other versions and operations."""
        if document.get("version") != SPEC_VERSION or document.get("operation") != OPERATION:
            raise BackendError(
                f"tile spec version {document.get('version')!r} operation "
                f"{document.get('operation')!r} is not one this blindlink computes "
                f"(version {SPEC_VERSION}, {OPERATION}); run the same blindlink everywhere"
            )
        r0, r1 = (int(v) for v in document["rows"])
        c0, c1 = (int(v) for v in document["cols"])
        k = document.get("k")
        spec = cls(
            int(document["index"]),
            (r0, r1),
            (c0, c1),
            float(document["threshold"]),
            None if k is None else int(k),
            bool(document["self_join"]),
        )
        upper = spec.diagonal or r1 <= c0 or not spec.self_join or spec.k is not None
        if not (0 <= r0 <= r1 and 0 <= c0 <= c1 and upper):
            raise BackendError(f"tile {spec.index}: row ranges {r0}:{r1} and {c0}:{c1} overlap")
        return spec


@dataclass(frozen=True)
class TileResult:
    """One tile's candidate pairs, rows numbered in the whole input, and what it cost.

    Without ``k`` the pairs are final (a self-join's as ``row_a < row_b``). With ``k`` they
    are each row's best partners *within the tile*, ``row_a`` the ranking record: a superset
    of its share of the global top ``k``, which the reduction picks. ``seconds`` is the wall
    time of the kernel call; it is reported, never used in the result.
    """

    index: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    pairs: CandidatePairs
    seconds: float
    #: CPU seconds of the process during the tile: the tile's own where it ran alone in its
    #: process (a Dask worker of one thread, the local backend one tile at a time), a steadier
    #: measure than wall time on a shared machine.
    cpu_seconds: float = 0.0
    #: Where it ran (a Dask worker's address; empty when run in this process).
    worker: str = ""


#: Computes one tile from its JSON spec and the whole filter arrays of both sides (``None``
#: for the second side of a self-join): a function of those alone, so that it can be retried
#: or run anywhere with the same result.
TileFunction = Callable[
    [Mapping[str, Any], npt.NDArray[np.uint8], "npt.NDArray[np.uint8] | None"], TileResult
]


def compute_tile(
    document: Mapping[str, Any],
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None = None,
) -> TileResult:
    """The pairs of the tile described by ``document`` (see :class:`TileResult`).

    Pure: the result depends on the spec and the filters only. Rows are shifted from the
    tile's blocks to the whole input, so results of different tiles can be concatenated.
    """
    from blindlink.kernels.dice import candidate_pairs  # numba: loaded where tiles run

    spec = TileSpec.from_json(document)
    other = filters_a if spec.self_join else filters_b
    if other is None:
        raise BackendError(f"tile {spec.index} compares two sets but was given one")
    if spec.rows[1] > filters_a.shape[0] or spec.cols[1] > other.shape[0]:
        raise BackendError(
            f"tile {spec.index} reaches past the end of the filters it was given: "
            "spec and filters are from different inputs"
        )
    started, cpu_started = time.perf_counter(), time.process_time()
    left = filters_a[spec.rows[0] : spec.rows[1]]
    right = other[spec.cols[0] : spec.cols[1]]
    if spec.diagonal and spec.k is None:
        scores, rows_a, rows_b = candidate_pairs(left, None, spec.threshold)
    elif spec.diagonal and spec.k is not None:
        # Rank within the block with the record itself among the partners, one more of them
        # kept, and the self-pair dropped: its k best other partners are still all there.
        scores, rows_a, rows_b = candidate_pairs(left, right, spec.threshold, k=spec.k + 1)
        other_row = rows_a != rows_b
        scores, rows_a, rows_b = scores[other_row], rows_a[other_row], rows_b[other_row]
    else:
        scores, rows_a, rows_b = candidate_pairs(left, right, spec.threshold, k=spec.k)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    pairs = CandidatePairs(scores, rows_a + spec.rows[0], rows_b + spec.cols[0])
    return TileResult(spec.index, spec.rows, spec.cols, pairs, seconds, cpu_seconds)


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def plan_tiles(
    n_a: int,
    threshold: float,
    tile_rows: int,
    *,
    n_b: int | None = None,
    k: int | None = None,
) -> tuple[TileSpec, ...]:
    """Tiles covering the search of ``n_a`` records against themselves (``n_b=None``) or
    against ``n_b`` others, each pair of records in exactly one tile.

    Blocks of ``tile_rows`` consecutive rows; tiles in row-major order of their blocks (the
    order of the reduction). A self-join without ``k`` takes the blocks ``(i, j)`` with
    ``i <= j`` only.
    """
    if tile_rows < 1:
        raise ValueError("tile_rows must be at least 1")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    self_join = n_b is None
    left = _blocks(n_a, tile_rows)
    right = left if n_b is None else _blocks(n_b, tile_rows)
    specs: list[TileSpec] = []
    for i, rows in enumerate(left):
        for cols in right[i:] if self_join and k is None else right:
            specs.append(TileSpec(len(specs), rows, cols, float(threshold), k, self_join))
    return tuple(specs)


def _comparison_space(n_a: int, n_b: int | None, k: int | None) -> int:
    if n_b is not None:
        return n_a * n_b
    return n_a * (n_a - 1) // (2 if k is None else 1)


def _best_per_row(pairs: CandidatePairs, k: int) -> CandidatePairs:
    """Each ``row_a``'s ``k`` best partners: higher score first, then the lower ``row_b``
    (the kernel's rule); in row order."""
    order = np.lexsort((pairs.rows_b, -pairs.scores, pairs.rows_a))
    rows_a = pairs.rows_a[order]
    starts = np.flatnonzero(np.r_[True, rows_a[1:] != rows_a[:-1]])
    rank = np.arange(rows_a.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, rows_a.shape[0]]))
    keep = order[rank < k]
    return CandidatePairs(pairs.scores[keep], pairs.rows_a[keep], pairs.rows_b[keep])


def reduce_tiles(
    specs: Sequence[TileSpec],
    results: Sequence[TileResult],
    n_a: int,
    *,
    n_b: int | None = None,
) -> CandidatePairs:
    """Every tile's pairs as one result, sorted by ``(row_a, row_b)``: what the untiled
    ``candidate_pairs`` call returns for the same search.

    Refuses to reduce anything less than the whole plan: a missing, repeated, foreign or
    misplaced tile raises :class:`BackendError`, so a partial result can never reach the
    clustering as if it were complete. With ``k`` each row's best partners are picked from
    all its tiles; a self-join then lists a pair when either record picked the other.
    """
    by_index: dict[int, TileResult] = {}
    for result in results:
        if result.index in by_index:
            raise BackendError(f"tile {result.index} came back twice; the run is not trusted")
        by_index[result.index] = result
    missing = [spec.index for spec in specs if spec.index not in by_index]
    if missing:
        raise BackendError(
            f"{len(missing)} of {len(specs)} tiles did not come back (first: tile {missing[0]}); "
            "no partial result is used"
        )
    if len(by_index) != len(specs):
        raise BackendError(f"{len(by_index) - len(specs)} results belong to no planned tile")
    k = specs[0].k if specs else None
    covered = 0
    for spec in specs:
        result = by_index[spec.index]
        if (result.rows, result.cols) != (spec.rows, spec.cols):
            raise BackendError(f"tile {spec.index} came back for other rows than it was given")
        covered += spec.comparisons
    expected = _comparison_space(n_a, n_b, k)
    if covered != expected:
        raise BackendError(
            f"the tiles cover {covered:,} pairs of {expected:,}; the plan does not match the input"
        )
    ordered = [by_index[spec.index].pairs for spec in specs]
    if not ordered:
        return CandidatePairs(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    pairs = CandidatePairs(
        np.concatenate([p.scores for p in ordered]),
        np.concatenate([p.rows_a for p in ordered]).astype(np.int64, copy=False),
        np.concatenate([p.rows_b for p in ordered]).astype(np.int64, copy=False),
    )
    if k is not None:
        pairs = _best_per_row(pairs, k)
        if n_b is None:  # a pair picked by either record, once, as (smaller, larger)
            pairs = CandidatePairs(
                pairs.scores,
                np.minimum(pairs.rows_a, pairs.rows_b),
                np.maximum(pairs.rows_a, pairs.rows_b),
            )
    if len(ordered) == 1 and k is None:
        return pairs  # one tile is the untiled search: already in order
    # (row_a, row_b) identifies a pair, so this order is canonical: it does not depend on
    # which tile found a pair or in what order tiles finished (n * m < 2**63 up to ~3e9).
    key = pairs.rows_a * max(n_b if n_b is not None else n_a, 1) + pairs.rows_b
    order = np.argsort(key, kind="stable")
    if k is not None and n_b is None:
        key = key[order]
        first = np.r_[True, key[1:] != key[:-1]]
        order = order[first]
    return CandidatePairs(pairs.scores[order], pairs.rows_a[order], pairs.rows_b[order])


def pair_rate(
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threshold: float,
    *,
    samples: int = SAMPLE_PAIRS,
    seed: int = 0,
) -> float:
    """Estimated share of record pairs with Dice >= ``threshold`` (from seeded random pairs).

    Only sizes tiles; never changes a result. At least ``MIN_PAIR_RATE``.
    """
    other = filters_a if filters_b is None else filters_b
    if filters_a.shape[0] < 1 or other.shape[0] < 1:
        return MIN_PAIR_RATE
    rng = np.random.default_rng(seed)
    left = filters_a[rng.integers(0, filters_a.shape[0], size=samples)]
    right = other[rng.integers(0, other.shape[0], size=samples)]
    total = np.bitwise_count(left).sum(axis=1) + np.bitwise_count(right).sum(axis=1)
    inter = np.bitwise_count(left & right).sum(axis=1)
    dice = 2.0 * inter / np.maximum(total, 1)
    return max(MIN_PAIR_RATE, float(np.mean(dice >= threshold)))


def tile_memory(tile_rows: int, filter_bytes: int, rate: float) -> int:
    """Working memory of the largest (off-diagonal) tile of ``tile_rows`` a side, in bytes."""
    side = tile_rows * (3 * filter_bytes + SIDE_OVERHEAD_BYTES)
    return int(2 * side + tile_rows * tile_rows * rate * BYTES_PER_PAIR)


def choose_tile_rows(
    n_records: int,
    filter_bytes: int,
    *,
    memory_bytes: int | None,
    rate: float,
    min_tiles: int = 1,
) -> int:
    """Rows per tile side: the largest that keeps a tile within ``memory_bytes``, and small
    enough that there are at least ``min_tiles`` tiles (so that every worker thread gets
    work, with some left over for load balance), but not below ``MIN_TILE_ROWS``.

    ``memory_bytes=None`` means no memory bound (the whole input as one tile, when
    ``min_tiles`` allows).
    """
    rows = max(n_records, 1)
    if memory_bytes is not None:
        # Solve 2 s (3 B + o) + s^2 r P = M for s.
        a = rate * BYTES_PER_PAIR
        b = 2 * (3 * filter_bytes + SIDE_OVERHEAD_BYTES)
        rows = min(rows, int((-b + math.sqrt(b * b + 4 * a * memory_bytes)) / (2 * a)))
    if min_tiles > 1:
        # b blocks make b (b + 1) / 2 tiles.
        blocks = math.ceil((math.sqrt(8 * min_tiles + 1) - 1) / 2)
        rows = min(rows, math.ceil(max(n_records, 1) / blocks))
    return max(rows, min(MIN_TILE_ROWS, max(n_records, 1)))
