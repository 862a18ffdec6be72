"""Per-segment Dice of listed record pairs, compiled with numba.

``segment_dice_reference.py`` defines the results (and why an empty side is NaN); this module
computes the same array, bit for bit. Field-aware scoring asks for a few hundred thousand pairs
at a time (the candidates, a random sample for the u-probabilities) and, while clustering, for
small blocks of pairs over and over, so the work per pair is what matters: one pass over the
segment's 64-bit words, counting both popcounts and the intersection as it goes, with no
temporary arrays. The popcount is the portable bit-twiddling one rather than the hardware
intrinsic of ``simd.py``: it needs no LLVM extension (so numba's on-disk cache of this module
can never hold a stale intrinsic), and at ~15 words per pair it is not the bottleneck.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.packing import as_words
from blindlink.kernels.segment_dice_reference import check_pairs, segment_masks

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@numba.njit(inline="always")
def _popcount(x: np.uint64) -> np.int64:
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return np.int64((x * _H01) >> np.uint64(56))


@numba.njit(nogil=True, cache=True)
def _segment_dice(
    packed: npt.NDArray[np.uint64],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    pointer: npt.NDArray[np.int64],
    words: npt.NDArray[np.int64],
    masks: npt.NDArray[np.uint64],
    out: npt.NDArray[np.float64],
) -> None:
    n_segments = pointer.shape[0] - 1
    for p in range(rows_a.shape[0]):
        a = packed[rows_a[p]]
        b = packed[rows_b[p]]
        for s in range(n_segments):
            inter = np.int64(0)
            pop_a = np.int64(0)
            pop_b = np.int64(0)
            for j in range(pointer[s], pointer[s + 1]):
                x = a[words[j]] & masks[j]
                y = b[words[j]] & masks[j]
                pop_a += _popcount(x)
                pop_b += _popcount(y)
                inter += _popcount(x & y)
            if pop_a > 0 and pop_b > 0:
                out[p, s] = 2.0 * inter / (pop_a + pop_b)
            else:
                out[p, s] = np.nan


def segment_dice(
    filters: npt.NDArray[np.uint8],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Dice of pair ``p`` within segment ``s`` at ``[p, s]``; NaN where either side is empty.

    ``bounds[s] = (start, stop)``: the bits of segment ``s``. Shape ``(len(rows_a), len(bounds))``.
    """
    rows_a = np.ascontiguousarray(rows_a, dtype=np.int64)
    rows_b = np.ascontiguousarray(rows_b, dtype=np.int64)
    check_pairs(filters, rows_a, rows_b)
    pointer, words, masks = segment_masks(filters.shape[1], bounds)
    out = np.empty((rows_a.shape[0], pointer.shape[0] - 1), dtype=np.float64)
    _segment_dice(as_words(filters), rows_a, rows_b, pointer, words, masks, out)
    return out
