"""Readable numpy twin of the Dice kernel: same signature, same results, no speed.

The fast kernel in ``dice.py`` is tested against this one for exact agreement, so this file is
the definition of what the kernel computes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blindlink.kernels.packing import popcounts

PairArrays = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def candidate_pairs_reference(
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threshold: float,
) -> PairArrays:
    """Every pair with Dice ``2|a&b| / (|a|+|b|) >= threshold``, sorted by (row_a, row_b).

    Two empty filters score 0. With ``filters_b=None`` the set is compared with itself and
    each unordered pair appears once, with ``row_a < row_b``.
    """
    self_join = filters_b is None
    other = filters_a if filters_b is None else filters_b
    pop_a = popcounts(filters_a)
    pop_b = popcounts(other)
    scores_out: list[npt.NDArray[np.float64]] = []
    rows_a_out: list[npt.NDArray[np.int64]] = []
    rows_b_out: list[npt.NDArray[np.int64]] = []
    for i in range(filters_a.shape[0]):
        start = i + 1 if self_join else 0
        inter = np.bitwise_count(filters_a[i] & other[start:]).sum(axis=1, dtype=np.int64)
        total = pop_a[i] + pop_b[start:]
        with np.errstate(invalid="ignore", divide="ignore"):
            dice = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)
        hit = np.flatnonzero(dice >= threshold)
        scores_out.append(dice[hit])
        rows_a_out.append(np.full(hit.shape[0], i, dtype=np.int64))
        rows_b_out.append(hit.astype(np.int64) + start)
    if not scores_out:
        return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(scores_out), np.concatenate(rows_a_out), np.concatenate(rows_b_out)
