"""Clustering records into persons, within and across agencies, without chaining.

Plain connected components over links above a threshold merge different people through chains
of weak links (A~B, B~C, yet A and C are plainly different). Instead, links are taken in
descending score order and two clusters merge only when the *average* Dice over every pair of
their records reaches the threshold (average linkage), and, when the merge would put two
records of the same agency into one person, only when each such same-agency pair is itself at
least ``same_agency_threshold`` -- an agency rarely registers a person twice, so the claim needs
stronger evidence than a cross-agency match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blindlink.types import CandidatePairs


@dataclass(frozen=True)
class ClusteringRule:
    """When two clusters of records are the same person."""

    threshold: float
    same_agency_threshold: float


#: Scores of every (left, right) pair of records, shape ``(len(left), len(right))``: how a
#: scoring other than density-adjusted Dice (``linkage.fields``) tells the solver what a pair
#: scores, so that merges are judged by the same scores as the links.
BlockScorer = Callable[[Sequence[int], Sequence[int]], npt.NDArray[np.float64]]


def _score_block(
    filters: npt.NDArray[np.uint8],
    popcounts: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.float64],
    left: list[int],
    right: list[int],
) -> npt.NDArray[np.float64]:
    inter = np.bitwise_count(filters[left][:, None, :] & filters[right][None, :, :]).sum(
        axis=2, dtype=np.int64
    )
    total = popcounts[left][:, None] + popcounts[right][None, :]
    dice = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)
    return dice + (offsets[left][:, None] + offsets[right][None, :]) / 2


def cluster_records(
    pairs: CandidatePairs,
    filters: npt.NDArray[np.uint8],
    agency_of: npt.NDArray[np.int64],
    rule: ClusteringRule,
    offsets: npt.NDArray[np.float64] | None = None,
    scorer: BlockScorer | None = None,
) -> npt.NDArray[np.int64]:
    """A cluster label per record (labels are 0..k-1 in order of first appearance).

    The score of a pair is its Dice coefficient plus the mean of the two records' ``offsets``
    (zero by default; see ``linkage.scoring``), or what ``scorer`` says when one is given (then
    ``offsets`` are not used). ``pairs`` must hold every pair scoring at least
    ``rule.threshold``, with exactly those scores, in any order (rows index ``filters``);
    ``agency_of[i]`` is the index of record i's agency.
    """
    n = filters.shape[0]
    popcounts = np.bitwise_count(filters).sum(axis=1, dtype=np.int64)
    offsets = np.zeros(n) if offsets is None else offsets
    owner = np.arange(n)
    members: dict[int, list[int]] = {}
    order = np.argsort(-pairs.scores, kind="stable")
    rows_a = pairs.rows_a[order].tolist()
    rows_b = pairs.rows_b[order].tolist()
    scores = pairs.scores[order].tolist()
    agencies = agency_of.tolist()
    for u, v, score in zip(rows_a, rows_b, scores, strict=True):
        cu = int(owner[u])
        cv = int(owner[v])
        if cu == cv:
            continue
        left = members.get(cu, [cu])
        right = members.get(cv, [cv])
        if len(left) == 1 and len(right) == 1:  # the link itself is the only cross pair
            needed = rule.same_agency_threshold if agencies[u] == agencies[v] else rule.threshold
            if score < needed:
                continue
        elif not _may_merge(left, right, filters, popcounts, offsets, agency_of, rule, scorer):
            continue
        if len(left) < len(right):
            cu, cv, left, right = cv, cu, right, left
        merged = left + right
        owner[right] = cu
        members[cu] = merged
        members.pop(cv, None)
    return dense_labels(owner)


def dense_labels(groups: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Relabel arbitrary group ids as 0..k-1 in order of each group's first record."""
    n = groups.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, labels = np.unique(groups, return_inverse=True)
    first_seen = np.full(int(labels.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first_seen, labels, np.arange(n))
    relabel = np.argsort(np.argsort(first_seen, kind="stable"), kind="stable")
    return relabel[labels].astype(np.int64)


def _may_merge(
    left: list[int],
    right: list[int],
    filters: npt.NDArray[np.uint8],
    popcounts: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.float64],
    agency_of: npt.NDArray[np.int64],
    rule: ClusteringRule,
    scorer: BlockScorer | None = None,
) -> bool:
    scores = (
        _score_block(filters, popcounts, offsets, left, right)
        if scorer is None
        else scorer(left, right)
    )
    if scores.mean() < rule.threshold:
        return False
    same_agency = agency_of[left][:, None] == agency_of[right][None, :]
    return bool(np.all(scores[same_agency] >= rule.same_agency_threshold))
