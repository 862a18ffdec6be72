"""Packed filters as 64-bit words: the layout every Dice kernel works on."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def as_words(filters: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """View (or zero-pad and copy) packed ``uint8`` filters as rows of ``uint64`` words.

    Zero padding changes no popcount, so Dice scores are unaffected.
    """
    if filters.dtype != np.uint8 or filters.ndim != 2:
        raise ValueError("filters must be a 2-D uint8 array of packed filters")
    n, width = filters.shape
    padded_width = -(-width // 8) * 8
    if padded_width != width or not filters.flags.c_contiguous:
        padded = np.zeros((n, padded_width), dtype=np.uint8)
        padded[:, :width] = filters
        filters = padded
    return filters.view(np.uint64)


def popcounts(filters: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Number of set bits in each filter."""
    counts: npt.NDArray[np.int64] = np.bitwise_count(filters).sum(axis=1, dtype=np.int64)
    return counts
