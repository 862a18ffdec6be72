"""Dice-coefficient candidate search over packed filters, compiled with numba.

Rows of the first set are processed in blocks; within a block each row is a parallel task
(GIL released) that first counts its matches and then, once output offsets are known, writes
them, so the output is exact-sized and memory stays bounded by the block. A popcount bound
skips pairs that cannot reach the threshold before any AND is computed. The numpy twin in
``dice_reference.py`` defines the same results.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.dice_reference import PairArrays
from blindlink.kernels.packing import as_words, popcounts

#: Rows of the first set per block: bounds the per-block count and offset arrays.
BLOCK_ROWS = 8192
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(inline="always", nogil=True)
def _popcount64(x: np.uint64) -> np.uint64:
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@numba.njit(inline="always", nogil=True)
def _dice_if_passing(
    words_a: npt.NDArray[np.uint64],
    i: int,
    pop_i: int,
    words_b: npt.NDArray[np.uint64],
    j: int,
    pop_j: int,
    threshold: float,
) -> float:
    """Dice of rows i and j, or -1.0 when below the threshold (or provably so)."""
    total = pop_i + pop_j
    if total == 0:
        return 0.0 if threshold <= 0.0 else -1.0
    if 2.0 * min(pop_i, pop_j) / total < threshold:  # same rounding as the final test
        return -1.0
    inter = np.uint64(0)
    for w in range(words_a.shape[1]):
        inter += _popcount64(words_a[i, w] & words_b[j, w])
    dice = 2.0 * np.int64(inter) / total
    return dice if dice >= threshold else -1.0


@numba.njit(parallel=True, nogil=True, cache=True)
def _count_block(
    words_a: npt.NDArray[np.uint64],
    pop_a: npt.NDArray[np.int64],
    words_b: npt.NDArray[np.uint64],
    pop_b: npt.NDArray[np.int64],
    threshold: float,
    row_start: int,
    row_stop: int,
    self_join: bool,
    counts: npt.NDArray[np.int64],
) -> None:
    for r in numba.prange(row_stop - row_start):
        i = row_start + r
        first = i + 1 if self_join else 0
        found = 0
        for j in range(first, words_b.shape[0]):
            if _dice_if_passing(words_a, i, pop_a[i], words_b, j, pop_b[j], threshold) >= 0.0:
                found += 1
        counts[r] = found


@numba.njit(parallel=True, nogil=True, cache=True)
def _fill_block(
    words_a: npt.NDArray[np.uint64],
    pop_a: npt.NDArray[np.int64],
    words_b: npt.NDArray[np.uint64],
    pop_b: npt.NDArray[np.int64],
    threshold: float,
    row_start: int,
    row_stop: int,
    self_join: bool,
    offsets: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
) -> None:
    for r in numba.prange(row_stop - row_start):
        i = row_start + r
        first = i + 1 if self_join else 0
        k = offsets[r]
        for j in range(first, words_b.shape[0]):
            dice = _dice_if_passing(words_a, i, pop_a[i], words_b, j, pop_b[j], threshold)
            if dice >= 0.0:
                scores[k] = dice
                rows_a[k] = i
                rows_b[k] = j
                k += 1


def candidate_pairs(
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None = None,
    threshold: float = 0.8,
) -> PairArrays:
    """Every pair of filters with Dice coefficient >= ``threshold``.

    ``filters_a`` and ``filters_b`` are 2-D ``uint8`` arrays of packed filters (one row per
    record, equal widths; the bytes of anonlink CLKs). Returns ``(scores, rows_a, rows_b)``
    sorted by row_a then row_b. With ``filters_b=None`` the set is compared with itself and
    each unordered pair is returned once (``row_a < row_b``).
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    self_join = filters_b is None
    other = filters_a if filters_b is None else filters_b
    if other.ndim != 2 or filters_a.ndim != 2 or other.shape[1] != filters_a.shape[1]:
        raise ValueError("both filter arrays must be 2-D with the same width")
    words_a = as_words(filters_a)
    words_b = words_a if self_join else as_words(other)
    pop_a = popcounts(filters_a)
    pop_b = pop_a if self_join else popcounts(other)
    parts: list[PairArrays] = []
    for start in range(0, words_a.shape[0], BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, words_a.shape[0])
        counts = np.zeros(stop - start, dtype=np.int64)
        _count_block(words_a, pop_a, words_b, pop_b, threshold, start, stop, self_join, counts)
        offsets = np.zeros(stop - start, dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        total = int(counts.sum())
        scores = np.empty(total, dtype=np.float64)
        rows_a = np.empty(total, dtype=np.int64)
        rows_b = np.empty(total, dtype=np.int64)
        _fill_block(
            words_a, pop_a, words_b, pop_b, threshold, start, stop, self_join,
            offsets, scores, rows_a, rows_b,
        )  # fmt: skip
        parts.append((scores, rows_a, rows_b))
    if not parts:
        return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
