from __future__ import annotations

import numpy as np
import pytest

from blindlink.linkage.probability import (
    automatic_threshold,
    expected_quality,
    fit_score_mixture,
)
from blindlink.linkage.scoring import DensityAdjustment, neighbourhood_density, score_links
from blindlink.types import CandidatePairs


def pairs(*triples: tuple[float, int, int]) -> CandidatePairs:
    scores, a, b = zip(*triples, strict=True) if triples else ((), (), ())
    return CandidatePairs(np.array(scores, float), np.array(a, np.int64), np.array(b, np.int64))


def test_density_is_mean_of_top_k_padded_with_floor() -> None:
    density = neighbourhood_density(pairs((0.9, 0, 1), (0.7, 0, 2), (0.6, 1, 2)), 4, k=2, floor=0.5)
    assert density.tolist() == pytest.approx([0.8, 0.75, 0.65, 0.5])


def test_crowded_records_are_marked_down_and_lonely_ones_up() -> None:
    # record 0 has many look-alikes (a common name); record 5's only partner is record 6
    crowd = [(0.75, 0, j) for j in range(1, 5)] + [(0.75, 5, 6)]
    adjustment = DensityAdjustment(
        k=4, floor=0.55, weight=1.0, reference=0.65, skip_best_per_agency=False
    )
    scored = score_links(pairs(*crowd), 7, adjustment)
    crowded_link = scored.pairs.scores[0]
    lonely_link = scored.pairs.scores[-1]
    assert crowded_link < 0.75 < lonely_link
    assert np.array_equal(scored.pairs.rows_a, np.array([0, 0, 0, 0, 5]))


def test_competitor_density_leaves_out_the_best_partner_in_each_agency() -> None:
    # record 0 (agency 0) has one strong partner in each of agencies 1, 2, 3 (its matches);
    # record 4 (agency 0) has four look-alikes in agency 1
    agency_of = np.array([0, 1, 2, 3, 0, 1, 1, 1, 1], np.int64)
    matches = [(0.9, 0, j) for j in (1, 2, 3)]
    crowd = [(0.8, 4, j) for j in (5, 6, 7, 8)]
    adjustment = DensityAdjustment(k=2, floor=0.55, weight=1.0, reference=0.65)
    scored = score_links(pairs(*matches, *crowd), 9, adjustment, agency_of)
    # record 0's density is the floor: its matches do not make it look crowded
    assert scored.offsets[0] == pytest.approx(0.1)
    # record 4 keeps three of its four look-alikes: marked down
    assert scored.offsets[4] == pytest.approx(0.65 - 0.8)
    assert scored.pairs.scores[0] > 0.9 and scored.pairs.scores[-1] < 0.8 + 0.1
    # without agencies every record is in one: only each record's single best is left out
    alone = score_links(pairs(*matches, *crowd), 9, adjustment)
    assert alone.offsets[0] == pytest.approx(0.65 - 0.9)


def test_zero_weight_keeps_dice() -> None:
    raw = pairs((0.9, 0, 1), (0.6, 1, 2))
    scored = score_links(raw, 3, DensityAdjustment(weight=0.0))
    assert np.array_equal(scored.pairs.scores, raw.scores)
    assert not scored.offsets.any()


def test_candidate_floor_covers_every_pair_that_can_reach_the_threshold() -> None:
    adjustment = DensityAdjustment(floor=0.55, weight=0.5, reference=0.65)
    assert adjustment.max_offset == pytest.approx(0.05)
    assert adjustment.candidate_floor(0.68) == pytest.approx(0.55)
    assert adjustment.candidate_floor(0.5) == pytest.approx(0.45)


def synthetic_scores(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    non = 0.6 + rng.exponential(1 / 25, 20000)
    non = non[non <= 1.0]
    match = np.clip(rng.normal(0.9, 0.04, 1500), 0.6, 1.0)
    scores = np.concatenate([non, match])
    truth = np.concatenate([np.zeros(non.shape[0], bool), np.ones(match.shape[0], bool)])
    return scores, truth


def test_mixture_recovers_a_planted_mixture() -> None:
    scores, truth = synthetic_scores(1)
    model = fit_score_mixture(scores)
    assert model is not None
    assert model.expected_matches == pytest.approx(truth.sum(), rel=0.1)
    assert model.match_mean == pytest.approx(0.9, abs=0.02)
    probability = model.probability(scores)
    assert probability[truth].mean() > 0.8 > 0.2 > probability[~truth].mean()
    assert np.all(np.diff(model.probability(np.linspace(0.75, 0.9, 16))) > 0)


def test_automatic_threshold_and_expected_quality() -> None:
    scores, truth = synthetic_scores(2)
    model = fit_score_mixture(scores)
    assert model is not None
    threshold = automatic_threshold(model, scores)
    accepted = scores >= threshold
    true_precision = truth[accepted].mean()
    true_recall = truth[accepted].sum() / truth.sum()
    assert 0.7 < threshold < 0.9
    precision, recall = expected_quality(model, scores[accepted])
    assert precision == pytest.approx(true_precision, abs=0.05)
    assert recall == pytest.approx(true_recall, abs=0.05)


def test_too_few_scores_give_no_model() -> None:
    assert fit_score_mixture(np.array([0.9, 0.95])) is None
    assert fit_score_mixture(np.full(100, 0.8)) is None
