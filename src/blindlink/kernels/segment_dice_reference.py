"""Readable numpy twin of the per-segment Dice kernel: same signature, same results.

The fast kernel in ``segment_dice.py`` is tested against this one for exact agreement, so this
file defines what it computes. A filter is cut into segments, bits ``[start, stop)`` each (one
per key group of a field-level encoding); for every listed pair of records and every segment:

* the score is ``2.0 * |a & b| / (|a| + |b|)`` in float64, counted over the segment's bits;
* the score is NaN -- *missing* -- when either record has no bit set in the segment: a value
  that is missing from a record sets no bits (``protocols/encoding.md`` §1), and a comparison
  with a missing value is neither agreement nor disagreement.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blindlink.kernels.packing import as_words


def segment_masks(
    width_bytes: int, bounds: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """Each segment as the 64-bit words it touches and a mask of its bits in each of them.

    Returns ``(pointer, words, masks)`` in compressed form: segment ``s`` covers
    ``words[pointer[s]:pointer[s + 1]]`` with ``masks`` of the same slice. The masks are built
    by packing the segment's bits exactly as filters are packed (``np.packbits`` order, then
    the same ``uint64`` view as ``as_words``), so no bit-order arithmetic can go wrong.
    """
    padded_bytes = -(-width_bytes // 8) * 8
    pointer = [0]
    words: list[npt.NDArray[np.int64]] = []
    masks: list[npt.NDArray[np.uint64]] = []
    for start, stop in np.asarray(bounds, dtype=np.int64).reshape(-1, 2).tolist():
        if not 0 <= start <= stop <= width_bytes * 8:
            raise ValueError(f"segment [{start}, {stop}) lies outside {width_bytes * 8} bits")
        bits = np.zeros(padded_bytes * 8, dtype=np.bool_)
        bits[start:stop] = True
        mask = np.packbits(bits).view(np.uint64)
        used = np.flatnonzero(mask).astype(np.int64)
        words.append(used)
        masks.append(mask[used])
        pointer.append(pointer[-1] + used.shape[0])
    return (
        np.asarray(pointer, dtype=np.int64),
        np.concatenate(words) if words else np.zeros(0, dtype=np.int64),
        np.concatenate(masks) if masks else np.zeros(0, dtype=np.uint64),
    )


def check_pairs(
    filters: npt.NDArray[np.uint8], rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64]
) -> None:
    """The checks both twins make on their arguments (same errors from both)."""
    if filters.dtype != np.uint8 or filters.ndim != 2:
        raise ValueError("filters must be a 2-D uint8 array of packed filters")
    if rows_a.shape != rows_b.shape or rows_a.ndim != 1:
        raise ValueError("rows_a and rows_b must be 1-D arrays of one length")
    n = filters.shape[0]
    for rows in (rows_a, rows_b):
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= n):
            raise ValueError(f"a row index lies outside the {n} filters")


def segment_dice_reference(
    filters: npt.NDArray[np.uint8],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Dice of pair ``p`` within segment ``s`` at ``[p, s]``; NaN where either side is empty.

    ``bounds[s] = (start, stop)``: the bits of segment ``s``. Shape ``(len(rows_a), len(bounds))``.
    """
    rows_a = np.asarray(rows_a, dtype=np.int64)
    rows_b = np.asarray(rows_b, dtype=np.int64)
    check_pairs(filters, rows_a, rows_b)
    pointer, words, masks = segment_masks(filters.shape[1], bounds)
    packed = as_words(filters)
    out = np.empty((rows_a.shape[0], pointer.shape[0] - 1), dtype=np.float64)
    for s in range(pointer.shape[0] - 1):
        cols = words[pointer[s] : pointer[s + 1]]
        mask = masks[pointer[s] : pointer[s + 1]]
        a = packed[rows_a][:, cols] & mask
        b = packed[rows_b][:, cols] & mask
        inter = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
        pop_a = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
        pop_b = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
        present = (pop_a > 0) & (pop_b > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, s] = np.where(present, 2.0 * inter / (pop_a + pop_b), np.nan)
    return out
