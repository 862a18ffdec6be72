"""Per-record mean of the k best partner scores, from a list of scored pairs.

The numba kernel keeps, for every record, its k best scores so far in a small sorted row and
streams over the pairs once (O(pairs x k) at worst, usually one comparison per pair); the numpy
twin sorts all pairs by record and score. Both return identical results.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(nogil=True, cache=True)
def _best_scores(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    best: npt.NDArray[np.float64],
) -> None:
    k = best.shape[1]
    for p in range(scores.shape[0]):
        score = scores[p]
        for row in (rows_a[p], rows_b[p]):
            if score <= best[row, k - 1]:
                continue
            slot = k - 1
            while slot > 0 and best[row, slot - 1] < score:
                best[row, slot] = best[row, slot - 1]
                slot -= 1
            best[row, slot] = score


def top_k_mean(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    n_records: int,
    k: int,
    fill: float,
) -> npt.NDArray[np.float64]:
    """Mean of each record's ``k`` best scores over the pairs it is in; missing ones are ``fill``.

    Scores at or below ``fill`` never displace the padding, so they count as ``fill`` too.
    """
    best = np.full((n_records, k), fill, dtype=np.float64)
    _best_scores(rows_a, rows_b, scores, best)
    means: npt.NDArray[np.float64] = best.sum(axis=1) / k
    return means


def top_k_mean_reference(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    n_records: int,
    k: int,
    fill: float,
) -> npt.NDArray[np.float64]:
    """Readable twin of ``top_k_mean``: sort every record's scores and average the top k."""
    best = np.full((n_records, k), fill, dtype=np.float64)
    rows = np.concatenate([rows_a, rows_b])
    both = np.maximum(np.concatenate([scores, scores]), fill)
    order = np.lexsort((-both, rows))
    rows, both = rows[order], both[order]
    rank = np.arange(rows.shape[0]) - np.searchsorted(rows, rows)
    top = rank < k
    best[rows[top], rank[top]] = both[top]
    means: npt.NDArray[np.float64] = best.sum(axis=1) / k
    return means
