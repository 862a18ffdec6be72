"""Candidate links with density-adjusted scores, found in one pass or in two bounded passes.

Both searches return the same thing: every pair whose raw Dice reaches ``raw_floor`` *and*
whose adjusted score (``linkage.scoring``) reaches ``keep_from``, with the per-record offsets
that produced the adjusted scores. They differ in how much memory they need on the way:

* ``one_pass`` asks the kernel for every pair at ``raw_floor`` (0.55 by default), derives the
  densities from them and drops what scores too low. Fast, but that intermediate set grows
  with n²: 22.5M pairs (1.8 GiB at peak) at 163,000 generated records, an estimated 3.6·10⁹
  (86 GB) at 2,000,000.
* ``two_pass`` first asks for each record's best partners only (what the densities are
  made of: ``k`` plus one per agency; at most n·(k + agencies) pairs), then, knowing every
  record's offset, asks for the pairs that can still reach ``keep_from`` after adjustment.
  Records are grouped by offset so that each pair of groups is searched at the highest raw
  threshold its members allow; crowded records (negative offsets) need a higher raw Dice,
  which is where the look-alike pairs are. At 163,000 records that output is ~1-4M pairs
  instead of 22.5M.

The answers are identical, pair for pair and bit for bit (tests assert it), so the choice is
only about memory and time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from blindlink.kernels.dice import candidate_pairs
from blindlink.kernels.dice_reference import PairArrays
from blindlink.linkage.scoring import (
    DensityAdjustment,
    ScoredLinks,
    adjusted_scores,
    record_offsets,
)
from blindlink.types import CandidatePairs

#: A pair search with ``kernels.dice.candidate_pairs``'s signature and results: the kernel
#: itself, or the same search run tile by tile on a backend (``backends.TiledSearch``).
PairSearch = Callable[..., PairArrays]

#: Records are split into this many groups of similar offset for the second pass.
OFFSET_GROUPS = 4
#: Margin below a group pair's raw threshold, so float rounding never loses a pair at the edge
#: (the exact filter on adjusted scores follows).
_ROUNDING_MARGIN = 1e-9


def _keep(pairs: CandidatePairs, mask: npt.NDArray[np.bool_]) -> CandidatePairs:
    return CandidatePairs(pairs.scores[mask], pairs.rows_a[mask], pairs.rows_b[mask])


def select_scored(
    raw: CandidatePairs, offsets: npt.NDArray[np.float64], raw_floor: float, keep_from: float
) -> ScoredLinks:
    """The pairs at or above both floors, with adjusted scores, sorted by (row_a, row_b)."""
    raw = _keep(raw, raw.scores >= raw_floor)
    adjusted = adjusted_scores(raw, offsets)
    kept = adjusted >= keep_from
    return ScoredLinks(CandidatePairs(adjusted[kept], raw.rows_a[kept], raw.rows_b[kept]), offsets)


def one_pass(
    filters: npt.NDArray[np.uint8],
    raw_floor: float,
    keep_from: float,
    adjustment: DensityAdjustment,
    *,
    search: PairSearch = candidate_pairs,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> ScoredLinks:
    """All pairs at ``min(raw_floor, adjustment.floor)`` at once, then densities and the cut.

    ``agency_of``: each record's agency index, for the densities (``linkage.scoring``)."""
    search_floor = min(raw_floor, adjustment.floor)
    raw = CandidatePairs(*search(filters, None, search_floor))
    offsets = record_offsets(raw, filters.shape[0], adjustment, agency_of)
    return select_scored(raw, offsets, raw_floor, keep_from)


def _offset_groups(offsets: npt.NDArray[np.float64], groups: int) -> list[npt.NDArray[np.int64]]:
    """Record indices split into up to ``groups`` groups of rising offset (each sorted)."""
    order = np.argsort(offsets, kind="stable")
    return [np.sort(part) for part in np.array_split(order, groups) if part.size]


def _group_pairs(
    filters: npt.NDArray[np.uint8],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64] | None,
    threshold: float,
    search: PairSearch = candidate_pairs,
) -> CandidatePairs:
    """Pairs within ``left`` (``right`` None) or between ``left`` and ``right``, in global rows
    with ``row_a < row_b``."""
    if right is None:
        scores, a, b = search(filters[left], None, threshold)
        return CandidatePairs(scores, left[a], left[b])
    scores, a, b = search(filters[left], filters[right], threshold)
    rows_a, rows_b = left[a], right[b]
    return CandidatePairs(scores, np.minimum(rows_a, rows_b), np.maximum(rows_a, rows_b))


def two_pass(
    filters: npt.NDArray[np.uint8],
    raw_floor: float,
    keep_from: float,
    adjustment: DensityAdjustment,
    *,
    groups: int = OFFSET_GROUPS,
    search: PairSearch = candidate_pairs,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> ScoredLinks:
    """Best partners first (densities: ``k``, plus one per agency that the density leaves
    out), then only pairs that can reach ``keep_from``."""
    n = filters.shape[0]
    n_agencies = int(agency_of.max()) + 1 if agency_of is not None and agency_of.size else 1
    wanted = adjustment.partners_needed(n_agencies)
    best = CandidatePairs(*search(filters, None, adjustment.floor, k=wanted))
    offsets = record_offsets(best, n, adjustment, agency_of)
    del best
    parts = _offset_groups(offsets, groups)
    highest = [float(offsets[part].max()) for part in parts]
    found: list[CandidatePairs] = []
    for i, left in enumerate(parts):
        for j in range(i, len(parts)):
            # A pair's adjusted score is raw + (offset_a + offset_b) / 2, at most raw plus the
            # mean of the two groups' highest offsets.
            bound = keep_from - (highest[i] + highest[j]) / 2 - _ROUNDING_MARGIN
            threshold = float(np.clip(max(raw_floor, bound), 0.0, 1.0))
            pairs = _group_pairs(filters, left, None if i == j else parts[j], threshold, search)
            scored = select_scored(pairs, offsets, raw_floor, keep_from).pairs
            found.append(scored)
    rows_a = np.concatenate([p.rows_a for p in found])
    rows_b = np.concatenate([p.rows_b for p in found])
    scores = np.concatenate([p.scores for p in found])
    order = np.lexsort((rows_b, rows_a))
    return ScoredLinks(CandidatePairs(scores[order], rows_a[order], rows_b[order]), offsets)
