"""Field-aware scoring: per-segment Dice combined by a Fellegi–Sunter model fitted without labels.

A record-level Dice coefficient lets a missing date of birth count against a match: the other
record's date bits stay in the denominator. With a field-level encoding (``field_bloom``) the
coordinator knows which bits belong to which key group (``schema.layout``) and can compare
records segment by segment instead, then weigh the segments' evidence the way Fellegi and
Sunter (1969) did:

1. **Comparison levels.** Each segment's Dice becomes a level (``LEVEL_EDGES``: at least
   0.95, 0.9, ..., 0.6, or less). A segment empty in either record is *missing*: it contributes
   nothing, neither agreement nor disagreement.
2. **m- and u-probabilities** (how often matches / non-matches reach each level) and the
   prior by EM over the candidate pairs (record-level Dice at least a low floor), starting
   from the record-level score mixture's confident matches.
3. **Match weight** ``log2(λ / (1 − λ)) + Σ log2(m / u)`` over the non-missing segments; the
   link score is its probability ``1 / (1 + 2^−weight)``.

Where u comes from is the crux. Splink's estimator -- u from record pairs drawn at random,
held fixed, with the prior ``λ`` taken over *all* pairs (every non-candidate a known
non-match, which keeps EM from calling everything a match) -- is here as ``u=estimate_u(...)``,
but on the generator it fits badly: among the candidates there are many different persons with
look-alike names of one nationality (common names), which random pairs almost never are, so
EM explains them as matches, learns that matches often disagree on the date of birth, and
links them (pairwise F1 0.80 against 0.93 for record-level scoring, docs/quality.md). Fitting
u on the candidates as well (``u=None``, the default) models the non-matches that are
actually there, and its ``λ`` is the share of matches among the candidates. That is the EM
that once collapsed to ``λ = 1``; the guards against it are the start from confident matches,
``λ`` bounded by ``MAX_MATCH_SHARE``, smoothing, an iteration limit, and ``DegenerateModel``
when a fit ends at the bound or with agreement counting no more than disagreement.

Fellegi–Sunter assumes the segments independent given match status; on real and generated
data they are not quite (nationality and names go together), which is why it does not beat
record-level Dice with the density adjustment on the generator (docs/quality.md). The
comparison vectors take few distinct values (levels ^ segments), so EM runs on the distinct
patterns with their counts, in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.kernels.segment_dice import segment_dice

#: Lower edges of a segment's Dice levels, best first: level 0 is ``>= 0.95``, level 1
#: ``>= 0.9``, and so on, the last level below 0.6. Chosen on the generator (seeds 3-4, 1,500
#: persons) over (0.95, 0.85, 0.7), (0.9, 0.8, 0.7, 0.6) and (0.95, 0.8, 0.6): links at
#: probability 0.5 had F1 0.874 and 0.893 against at most 0.862-0.876 for the others.
LEVEL_EDGES: tuple[float, ...] = (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6)
#: The level of a segment empty in either record.
MISSING = -1
#: Random record pairs drawn to estimate u-probabilities from random pairs.
U_SAMPLES = 1_000_000
#: Seed of that draw, fixed so that a linkage run is reproducible.
U_SEED = 0
#: A record-level match probability from which a candidate starts EM as a match.
CONFIDENT = 0.9
#: Pseudo-count added to every level when m- and u-probabilities are estimated, so that no
#: level has probability 0 (an infinite weight).
SMOOTHING = 0.5
#: With u fitted on the candidates, at most this share of them may be matches; a fit that
#: ends there has collapsed.
MAX_MATCH_SHARE = 0.5
#: EM stops after this many iterations, or when no parameter moves by more than ``TOLERANCE``.
MAX_ITERATIONS = 500
TOLERANCE = 1e-8


class DegenerateModel(ValueError):
    """EM ended in a model that collapsed or contradicts itself (agreement counting against a
    match); the run then scores whole records instead."""


def comparison_levels(
    dice: npt.NDArray[np.float64], edges: Sequence[float] = LEVEL_EDGES
) -> npt.NDArray[np.int8]:
    """Each segment Dice as its level (0 best), ``MISSING`` where it is NaN."""
    levels = np.full(dice.shape, len(edges), dtype=np.int8)
    for level in range(len(edges) - 1, -1, -1):
        levels[dice >= edges[level]] = level
    levels[np.isnan(dice)] = MISSING
    return levels


def _level_shares(
    levels: npt.NDArray[np.int8], weights: npt.NDArray[np.float64], n_levels: int
) -> npt.NDArray[np.float64]:
    """Per segment, the smoothed weighted share of each level among non-missing comparisons."""
    shares = np.empty((levels.shape[1], n_levels))
    for s in range(levels.shape[1]):
        present = levels[:, s] != MISSING
        counts = np.bincount(levels[present, s], weights=weights[present], minlength=n_levels)
        shares[s] = (counts + SMOOTHING) / (counts.sum() + SMOOTHING * n_levels)
    return shares


@dataclass(frozen=True)
class FieldModel:
    """A fitted Fellegi–Sunter model over the segments of a field-level filter.

    ``m[s, l]`` and ``u[s, l]``: probability that a matching / non-matching pair whose segment
    ``s`` is present in both records reaches level ``l``. ``prior``: probability that a pair
    is a match before its comparison is seen -- among all pairs when u came from random
    pairs, among the candidates when u was fitted on them (``u_source``).
    """

    names: tuple[str, ...]
    edges: tuple[float, ...]
    m: npt.NDArray[np.float64]
    u: npt.NDArray[np.float64]
    prior: float
    u_source: str
    iterations: int
    converged: bool

    @property
    def level_weights(self) -> npt.NDArray[np.float64]:
        """``log2(m / u)`` per segment and level: the evidence each comparison adds."""
        weights: npt.NDArray[np.float64] = np.log2(self.m / self.u)
        return weights

    def weights(self, levels: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
        """Match weight of each comparison vector (missing segments add nothing), prior included."""
        table = np.concatenate([self.level_weights, np.zeros((len(self.names), 1))], axis=1)
        # MISSING (-1) indexes the appended zero column
        per_segment = np.take_along_axis(table[None, :, :], levels[:, :, None].astype(np.int64),
                                         axis=2)[:, :, 0]  # fmt: skip
        total: npt.NDArray[np.float64] = per_segment.sum(axis=1) + np.log2(
            self.prior / (1.0 - self.prior)
        )
        return total

    def probability(self, levels: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
        """Posterior match probability of each comparison vector."""
        probability: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp2(-self.weights(levels)))
        return probability

    def summary(self) -> dict[str, Any]:
        """The model as plain numbers, for stats.json (no record-level information)."""
        return {
            "kind": "Fellegi-Sunter over field segments, fitted by EM",
            "u_from": self.u_source,
            "segments": list(self.names),
            "level_edges": list(self.edges),
            "m": [[round(float(v), 6) for v in row] for row in self.m],
            "u": [[round(float(v), 8) for v in row] for row in self.u],
            "weights": [[round(float(v), 3) for v in row] for row in self.level_weights],
            "prior": float(f"{self.prior:.6g}"),
            "em_iterations": self.iterations,
            "em_converged": self.converged,
        }


def estimate_u(
    filters: npt.NDArray[np.uint8],
    bounds: npt.NDArray[np.int64],
    *,
    edges: Sequence[float] = LEVEL_EDGES,
    samples: int = U_SAMPLES,
    seed: int = U_SEED,
) -> npt.NDArray[np.float64]:
    """u-probabilities from record pairs drawn at random (almost all different persons).

    With few records every pair is used instead of a sample.
    """
    n = filters.shape[0]
    if n * (n - 1) // 2 <= samples:
        a, b = np.triu_indices(n, k=1)
        a, b = a.astype(np.int64), b.astype(np.int64)
    else:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, n, size=samples, dtype=np.int64)
        b = rng.integers(0, n - 1, size=samples, dtype=np.int64)
        b = np.where(b >= a, b + 1, b)  # uniform over the other records
    levels = comparison_levels(segment_dice(filters, a, b, bounds), edges)
    return _level_shares(levels, np.ones(levels.shape[0]), len(edges) + 1)


def fit_field_model(
    levels: npt.NDArray[np.int8],
    initial: npt.NDArray[np.float64],
    *,
    u: npt.NDArray[np.float64] | None = None,
    all_pairs: int | None = None,
    names: Sequence[str] | None = None,
    edges: Sequence[float] = LEVEL_EDGES,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> FieldModel:
    """m-probabilities (and u, unless given) and the prior by EM over comparison vectors.

    ``levels``: one row per candidate pair; ``initial``: a starting match probability per
    candidate. With ``u`` given (``estimate_u``) it is held fixed and the prior is taken over
    ``all_pairs`` (the candidates were chosen from; every other pair a known non-match), its
    expected matches kept between 1 and the number of candidates. Without, u is fitted to the
    candidates too and the prior is their share of matches, at most ``MAX_MATCH_SHARE``.
    Raises ``DegenerateModel`` when the fit ends at that bound, or has the best level of some
    segment counting no more for a match than the worst.
    """
    n_segments = levels.shape[1]
    n_levels = len(edges) + 1
    names = tuple(names) if names is not None else tuple(f"segment {s}" for s in range(n_segments))
    if levels.shape[0] == 0:
        raise DegenerateModel("field model: no candidate pairs to fit it on")
    fixed_u = u is not None
    if fixed_u and all_pairs is None:
        raise ValueError("a fixed u needs all_pairs, the number of pairs the prior is over")
    patterns, inverse, counts = np.unique(levels, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    counts_f = counts.astype(np.float64)
    expected: npt.NDArray[np.float64] = np.bincount(
        inverse, weights=np.asarray(initial, dtype=np.float64), minlength=patterns.shape[0]
    ).astype(np.float64)
    total = float(levels.shape[0])
    scope = float(all_pairs) if fixed_u and all_pairs is not None else total
    lowest, highest = (1.0, total) if fixed_u else (1.0, MAX_MATCH_SHARE * total)

    def maximise(
        expected: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
        m = _level_shares(patterns, expected, n_levels)
        u_now = u if u is not None else _level_shares(patterns, counts_f - expected, n_levels)
        return m, u_now, float(np.clip(expected.sum(), lowest, highest)) / scope

    m, u_now, prior = maximise(expected)
    source = "random pairs" if fixed_u else "candidate pairs"
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        model = FieldModel(names, tuple(edges), m, u_now, prior, source, iteration, False)
        expected = counts_f * model.probability(patterns)
        new_m, new_u, new_prior = maximise(expected)
        moved = max(
            float(np.abs(new_m - m).max()),
            float(np.abs(new_u - u_now).max()),
            abs(new_prior - prior) / prior,
        )
        m, u_now, prior = new_m, new_u, new_prior
        if moved < tolerance:
            converged = True
            break
    model = FieldModel(names, tuple(edges), m, u_now, prior, source, iteration, converged)
    if prior * scope >= highest * (1 - 1e-9):
        raise DegenerateModel(
            f"field model: EM called {prior * scope:,.0f} of {total:,.0f} candidate pairs "
            "matches, the most it may (collapsed)"
        )
    weights = model.level_weights
    bad = [names[s] for s in range(n_segments) if weights[s, 0] <= weights[s, -1]]
    if bad:
        raise DegenerateModel(
            "field model: agreement counts no more for a match than disagreement in "
            f"segment(s) {', '.join(bad)}"
        )
    return model


@dataclass(frozen=True)
class FieldScorer:
    """Scores any record pairs with a fitted model: the links, and blocks while clustering."""

    filters: npt.NDArray[np.uint8]
    bounds: npt.NDArray[np.int64]
    model: FieldModel

    def levels(
        self, rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int8]:
        return comparison_levels(
            segment_dice(self.filters, rows_a, rows_b, self.bounds), self.model.edges
        )

    def scores(
        self, rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Match probability of each pair."""
        return self.model.probability(self.levels(rows_a, rows_b))

    def block(self, left: Sequence[int], right: Sequence[int]) -> npt.NDArray[np.float64]:
        """Scores of every (left, right) pair, shape ``(len(left), len(right))``: what the
        multiparty solver needs to judge a merge of two clusters."""
        a = np.repeat(np.asarray(left, dtype=np.int64), len(right))
        b = np.tile(np.asarray(right, dtype=np.int64), len(left))
        return self.scores(a, b).reshape(len(left), len(right))


def expected_f1_threshold(probabilities: npt.NDArray[np.float64]) -> float:
    """The probability threshold that maximises the expected F1 of accepting every link at or
    above it, taking the model's probabilities at their word (expected true links = their sum;
    expected matches = the sum over all candidates)."""
    if probabilities.shape[0] == 0:
        return 0.5
    ordered = np.sort(probabilities)[::-1]
    expected_true = np.cumsum(ordered)
    accepted = np.arange(1, ordered.shape[0] + 1)
    f1 = 2 * expected_true / (accepted + expected_true[-1])
    return float(ordered[int(np.argmax(f1))])
