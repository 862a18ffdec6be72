"""The bounded two-pass candidate search gives exactly what the one-pass search gives."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from blindlink.linkage.candidates import one_pass, two_pass
from blindlink.linkage.scoring import DensityAdjustment, ScoredLinks


def crowded_filters(seed: int, families: int = 60, size: int = 12) -> npt.NDArray[np.uint8]:
    """Families of filters around shared cores: look-alikes at Dice ~0.5-0.95, of varied
    crowding (family sizes differ), plus unrelated filters that only meet the crowd by chance."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(families):
        core = rng.random(1024) < 0.25
        for _ in range(int(rng.integers(1, size))):
            noise = rng.random(1024) < rng.uniform(0.02, 0.2)
            extra = rng.random(1024) < 0.08
            rows.append((core & ~noise) | extra)
    rows.extend(rng.random(1024) < 0.25 for _ in range(families))
    bits = np.array(rows)[rng.permutation(len(rows))]
    return np.packbits(bits, axis=1)


def assert_same(left: ScoredLinks, right: ScoredLinks) -> None:
    np.testing.assert_array_equal(left.offsets, right.offsets)
    np.testing.assert_array_equal(left.pairs.rows_a, right.pairs.rows_a)
    np.testing.assert_array_equal(left.pairs.rows_b, right.pairs.rows_b)
    np.testing.assert_array_equal(left.pairs.scores, right.pairs.scores)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keep_from", [0.5, 0.6, 0.66, 0.8])
def test_two_pass_equals_one_pass(seed: int, keep_from: float) -> None:
    filters = crowded_filters(seed)
    # four agencies: the densities leave each record's best partner per agency out, so the
    # first pass must ask for k + 4 best partners
    agency_of = np.random.default_rng(seed).integers(0, 4, filters.shape[0])
    adjustment = DensityAdjustment()
    raw_floor = adjustment.candidate_floor(0.64)
    expected = one_pass(filters, raw_floor, keep_from, adjustment, agency_of=agency_of)
    assert len(expected.pairs) > 5  # the case is not vacuous
    assert expected.offsets.min() < 0 < expected.offsets.max()  # crowded and sparse records
    for groups in (1, 3, 4, 7):
        assert_same(
            two_pass(filters, raw_floor, keep_from, adjustment, groups=groups, agency_of=agency_of),
            expected,
        )


@pytest.mark.parametrize("skip", [True, False])
def test_two_pass_equals_one_pass_without_agencies(skip: bool) -> None:
    filters = crowded_filters(6)
    adjustment = DensityAdjustment(skip_best_per_agency=skip)
    raw_floor = adjustment.candidate_floor(0.64)
    expected = one_pass(filters, raw_floor, 0.6, adjustment)
    assert len(expected.pairs) > 5
    assert_same(two_pass(filters, raw_floor, 0.6, adjustment, groups=3), expected)


def test_pairs_meet_both_floors() -> None:
    filters = crowded_filters(4)
    adjustment = DensityAdjustment()
    scored = two_pass(filters, 0.55, 0.62, adjustment)
    assert np.all(scored.pairs.scores >= 0.62)
    assert np.all(scored.pairs.rows_a < scored.pairs.rows_b)
    raw = (
        scored.pairs.scores
        - (scored.offsets[scored.pairs.rows_a] + scored.offsets[scored.pairs.rows_b]) / 2
    )
    assert np.all(raw >= 0.55 - 1e-12)


def test_lower_raw_floor_than_density_floor() -> None:
    """A low threshold needs raw pairs below the density floor; both searches find them."""
    filters = crowded_filters(5)
    adjustment = DensityAdjustment()
    raw_floor = adjustment.candidate_floor(0.5)
    assert raw_floor < adjustment.floor
    assert_same(
        two_pass(filters, raw_floor, 0.5, adjustment),
        one_pass(filters, raw_floor, 0.5, adjustment),
    )
