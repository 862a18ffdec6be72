"""Per-record mean of the k best partner scores, from a list of scored pairs.

The numba kernel keeps, for every record, its k best scores so far in a small sorted row and
streams over the pairs once (O(pairs x k) at worst, usually one comparison per pair); the numpy
twin sorts all pairs by record and score. Both return identical results.

``top_k_mean_skipping_best`` does the same after setting aside each record's single best
partner in every group (agency): the partners that may be the record's own match, where a
group holds each person at most once. Kernel (two streams over the pairs) and twin agree too.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(nogil=True, cache=True, inline="always")
def _offer(best: npt.NDArray[np.float64], row: int, score: float) -> None:
    """Insert ``score`` into ``row``'s descending top-k row if it beats the last entry."""
    k = best.shape[1]
    if score <= best[row, k - 1]:
        return
    slot = k - 1
    while slot > 0 and best[row, slot - 1] < score:
        best[row, slot] = best[row, slot - 1]
        slot -= 1
    best[row, slot] = score


@numba.njit(nogil=True, cache=True)
def _best_scores(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    best: npt.NDArray[np.float64],
) -> None:
    for p in range(scores.shape[0]):
        _offer(best, rows_a[p], scores[p])
        _offer(best, rows_b[p], scores[p])


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


@numba.njit(nogil=True, cache=True)
def _best_scores_skipping(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
    n_groups: int,
    best: npt.NDArray[np.float64],
) -> None:
    n = best.shape[0]
    top = np.full((n, n_groups), -np.inf)  # each record's best score in each group
    for p in range(scores.shape[0]):
        score = scores[p]
        for row, other in ((rows_a[p], rows_b[p]), (rows_b[p], rows_a[p])):
            group = groups[other]
            if score > top[row, group]:
                top[row, group] = score
    skipped = np.zeros((n, n_groups), dtype=np.bool_)
    for p in range(scores.shape[0]):
        score = scores[p]
        for row, other in ((rows_a[p], rows_b[p]), (rows_b[p], rows_a[p])):
            group = groups[other]
            if not skipped[row, group] and score == top[row, group]:
                skipped[row, group] = True  # set aside once; a tie enters the top k instead
                continue
            _offer(best, row, score)


def top_k_mean_skipping_best(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
    k: int,
    fill: float,
) -> npt.NDArray[np.float64]:
    """As ``top_k_mean`` over ``groups.shape[0]`` records, leaving out, for each record, its
    best-scoring partner in each group (``groups[i]`` in 0..g-1 is record i's group).

    Scores at or below ``fill`` count as ``fill``; which of two tied best partners is left out
    does not change the mean.
    """
    n = groups.shape[0]
    best = np.full((n, k), fill, dtype=np.float64)
    n_groups = int(groups.max()) + 1 if n else 0
    _best_scores_skipping(rows_a, rows_b, scores, groups.astype(np.int64), n_groups, best)
    means: npt.NDArray[np.float64] = best.sum(axis=1) / k
    return means


def top_k_mean_skipping_best_reference(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
    k: int,
    fill: float,
) -> npt.NDArray[np.float64]:
    """Readable twin of ``top_k_mean_skipping_best``: sort each record's partners by group and
    score, drop the first of every (record, group), and average the top k of the rest."""
    n = groups.shape[0]
    rows = np.concatenate([rows_a, rows_b])
    partner_group = groups[np.concatenate([rows_b, rows_a])]
    both = np.concatenate([scores, scores])
    order = np.lexsort((-both, partner_group, rows))
    rows, partner_group, both = rows[order], partner_group[order], both[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (partner_group[1:] != partner_group[:-1])
    rest_rows = rows[~first]
    rest = rest_rows.astype(np.int64), np.full(rest_rows.shape[0], n, np.int64)
    # the partner column points at a padding record n, so each pair counts for its row only
    return top_k_mean_reference(rest[0], rest[1], both[~first], n + 1, k, fill)[:n]


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
