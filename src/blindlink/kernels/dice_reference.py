"""Readable numpy twin of the Dice kernel: same signature, same results, no speed.

The fast kernel in ``dice.py`` is tested against this one for exact agreement, so this file is
the definition of what the kernel computes:

* the score of two filters is ``2.0 * |a & b| / (|a| + |b|)`` in float64, and two empty
  filters score 0.0;
* a pair is a candidate when its score is ``>= threshold``;
* with ``k``, each row of ``filters_a`` keeps only its ``k`` best candidates: higher score
  first, and among equal scores the lower ``row_b``;
* with ``filters_b=None`` the set is compared with itself, a record is never its own partner
  and each unordered pair is listed once, as ``row_a < row_b``. With ``k`` every record picks
  its ``k`` best partners among all the others and a pair is listed when either record picked
  the other (the union of the k-nearest-neighbour lists), so a record can appear in more than
  ``k`` pairs;
* the result is sorted by ``(row_a, row_b)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blindlink.kernels.packing import popcounts

PairArrays = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def dice_scores(
    inter: npt.NDArray[np.int64], total: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Dice scores from intersection sizes and popcount sums: the one formula every path uses."""
    with np.errstate(invalid="ignore", divide="ignore"):
        scores: npt.NDArray[np.float64] = np.where(
            total > 0, 2.0 * inter / np.maximum(total, 1), 0.0
        )
    return scores


def check_k(k: int | None) -> int | None:
    """Validate the ``k`` argument shared by the kernel and its twin."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError("k must be an int or None")
    if k < 1:
        raise ValueError("k must be at least 1")
    return int(k)


def candidate_pairs_reference(
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threshold: float,
    *,
    k: int | None = None,
) -> PairArrays:
    """Every pair with Dice ``2|a&b| / (|a|+|b|) >= threshold``, sorted by (row_a, row_b).

    See the module docstring for the exact rules (empty filters, self-join, ``k``).
    """
    k = check_k(k)
    self_join = filters_b is None
    other = filters_a if filters_b is None else filters_b
    pop_a = popcounts(filters_a)
    pop_b = popcounts(other)
    scores_out: list[npt.NDArray[np.float64]] = [np.zeros(0)]
    rows_a_out: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    rows_b_out: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    for i in range(filters_a.shape[0]):
        # Self-join without k only needs the partners after i; with k a record ranks all others.
        start = i + 1 if self_join and k is None else 0
        inter = np.bitwise_count(filters_a[i] & other[start:]).sum(axis=1, dtype=np.int64)
        dice = dice_scores(inter, pop_a[i] + pop_b[start:])
        partners = np.flatnonzero(dice >= threshold) + start
        if self_join:
            partners = partners[partners != i]
        if k is not None:
            # Best first: higher score, then lower row_b (lexsort's last key is the primary).
            partners = partners[np.lexsort((partners, -dice[partners - start]))[:k]]
        mine = np.full(partners.shape[0], i, dtype=np.int64)
        rows_a_out.append(np.minimum(mine, partners) if self_join else mine)
        rows_b_out.append(np.maximum(mine, partners) if self_join else partners.astype(np.int64))
        scores_out.append(dice[partners - start])
    scores = np.concatenate(scores_out)
    rows_a = np.concatenate(rows_a_out)
    rows_b = np.concatenate(rows_b_out)
    order = np.lexsort((rows_b, rows_a))
    scores, rows_a, rows_b = scores[order], rows_a[order], rows_b[order]
    # With k in a self-join both records of a pair may have picked each other: list it once.
    first = np.ones(rows_a.shape[0], dtype=bool)
    first[1:] = (rows_a[1:] != rows_a[:-1]) | (rows_b[1:] != rows_b[:-1])
    return scores[first], rows_a[first], rows_b[first]
