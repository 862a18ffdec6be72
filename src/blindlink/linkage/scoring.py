"""Density-adjusted scores: how similar two records are, relative to how crowded their
neighbourhoods are.

In a large caseload a common name (Mohammed Ali, born 1990) has many look-alikes, and a raw
Dice coefficient of 0.75 means little there, while for a rare name it is strong evidence. Each
record's *density* is the mean Dice of its ``k`` most similar other records; a pair's adjusted
score subtracts the mean density of its two records (cross-domain similarity local scaling,
known from nearest-neighbour retrieval as a cure for hubness). Adjusted scores are expressed in
Dice units around a ``reference`` density, so thresholds keep their usual magnitude.

By default a record's best partner in each agency is left out of its density: an agency holds
a person (nearly) once, so that partner may be the record's own match, and counting it marked
down exactly the records with most matches (a person known to all four agencies looked as
crowded as a common name). What is left measures the look-alikes only ("competitor density").
At ~150,000 generated records this raised pairwise F1 at the right person count by about
0.01, and it grows with the caseload as the crowd does, so one threshold serves ~3,000 to
~160,000 records (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blindlink.kernels.neighbours import top_k_mean, top_k_mean_skipping_best
from blindlink.types import CandidatePairs


def neighbourhood_density(
    pairs: CandidatePairs,
    n_records: int,
    *,
    k: int,
    floor: float,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float64]:
    """Mean Dice of each record's ``k`` best partners; partners below ``floor`` count as ``floor``.

    With ``agency_of`` (the agency index of each record), each record's best partner in every
    agency is left out first (see the module notes). ``pairs`` must hold every pair with Dice
    at least ``floor`` (each unordered pair once), or at least each record's ``k`` best
    partners plus one per agency.
    """
    if agency_of is not None:
        return top_k_mean_skipping_best(
            pairs.rows_a, pairs.rows_b, pairs.scores, agency_of, k, floor
        )
    return top_k_mean(pairs.rows_a, pairs.rows_b, pairs.scores, n_records, k, floor)


def density_offsets(density: npt.NDArray[np.float64], reference: float) -> npt.NDArray[np.float64]:
    """Per-record offsets: adjusted(x, y) = dice(x, y) + (offset[x] + offset[y]) / 2."""
    return reference - density


@dataclass(frozen=True)
class DensityAdjustment:
    """How raw Dice scores become density-adjusted link scores.

    ``weight`` scales the adjustment (0 keeps raw Dice, 1 is full local scaling); ``reference``
    is the density at which a record's scores are left unchanged; ``skip_best_per_agency``
    leaves each record's best partner in every agency out of its density (competitor density,
    module notes). Defaults chosen on the synthetic generator (seeds 1, 2, 5, 6 at ~3,000,
    ~30,000 and ~150,000 records) so that one threshold, 0.64, serves every caseload size
    (docs/quality.md): ``k`` 5-7 and ``weight`` 0.85-1.0 were best; a larger weight makes the
    right threshold fall with the caseload, a smaller one makes it rise.
    """

    k: int = 7
    floor: float = 0.55
    weight: float = 0.85
    reference: float = 0.61
    skip_best_per_agency: bool = True

    @property
    def max_offset(self) -> float:
        """The largest amount adjustment can add to a pair's Dice score."""
        return max(0.0, self.weight * (self.reference - self.floor))

    def candidate_floor(self, threshold: float) -> float:
        """Lowest Dice a pair may have and still reach ``threshold`` after adjustment."""
        return max(0.0, min(self.floor, threshold - self.max_offset))

    def partners_needed(self, n_agencies: int) -> int:
        """How many best partners per record the densities need (``k``, plus the best one in
        each agency that is left out)."""
        return self.k + (max(1, n_agencies) if self.skip_best_per_agency else 0)


@dataclass(frozen=True)
class ScoredLinks:
    """Candidate links with adjusted scores, and the per-record offsets that produced them."""

    pairs: CandidatePairs
    offsets: npt.NDArray[np.float64]


def record_offsets(
    dice_pairs: CandidatePairs,
    n_records: int,
    adjustment: DensityAdjustment,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float64]:
    """Each record's offset, from pairs that include every record's
    ``adjustment.partners_needed`` best partners at ``adjustment.floor`` (all pairs at the
    floor, or a top-k search; lower pairs are ignored).

    ``agency_of`` is each record's agency index; without it (and with
    ``adjustment.skip_best_per_agency``) all records count as one agency, so only each
    record's single best partner is left out.
    """
    dense = dice_pairs.scores >= adjustment.floor
    groups = None
    if adjustment.skip_best_per_agency:
        groups = np.zeros(n_records, np.int64) if agency_of is None else agency_of
    density = neighbourhood_density(
        CandidatePairs(
            dice_pairs.scores[dense], dice_pairs.rows_a[dense], dice_pairs.rows_b[dense]
        ),
        n_records,
        k=adjustment.k,
        floor=adjustment.floor,
        agency_of=groups,
    )
    offsets: npt.NDArray[np.float64] = adjustment.weight * density_offsets(
        density, adjustment.reference
    )
    return offsets


def adjusted_scores(
    dice_pairs: CandidatePairs, offsets: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Dice plus the mean offset of each pair's two records."""
    adjusted: npt.NDArray[np.float64] = (
        dice_pairs.scores + (offsets[dice_pairs.rows_a] + offsets[dice_pairs.rows_b]) / 2
    )
    return adjusted


def score_links(
    dice_pairs: CandidatePairs,
    n_records: int,
    adjustment: DensityAdjustment,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> ScoredLinks:
    """Adjust every candidate's Dice by its records' neighbourhood densities.

    ``dice_pairs`` must hold every pair with Dice at least ``adjustment.floor`` (it may hold
    more, below the floor, which are scored but do not count towards densities).
    """
    offsets = record_offsets(dice_pairs, n_records, adjustment, agency_of)
    adjusted = adjusted_scores(dice_pairs, offsets)
    return ScoredLinks(CandidatePairs(adjusted, dice_pairs.rows_a, dice_pairs.rows_b), offsets)
