"""Blocking by bit-sampling LSH: what it returns is exact, it finds what the plan promises,
it is reproducible, and it stays bounded on degenerate input."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.blocking import (
    LshPlan,
    band_positions,
    lsh_candidate_pairs,
    lsh_search,
    plan_lsh,
)
from blindlink.types import CandidatePairs

WIDTH = 128  # bytes: the default 1024-bit filters
THRESHOLD = 0.7

Filters = npt.NDArray[np.uint8]


def random_filters(rng: np.random.Generator, n: int, density: float, width: int = WIDTH) -> Filters:
    return np.packbits(rng.random((n, width * 8)) < density, axis=1)


def planted_pairs(
    rng: np.random.Generator, n_pairs: int, dice: float, popcount: int = 256
) -> tuple[Filters, list[tuple[int, int]]]:
    """Pairs of filters with ``popcount`` bits each and Dice just at or above ``dice``:
    the partner moves ``floor(popcount * (1 - dice))`` of its base's bits elsewhere."""
    m = WIDTH * 8
    moved = int(np.floor(popcount * (1.0 - dice)))
    rows = []
    for _ in range(n_pairs):
        order = rng.permutation(m)
        base = np.zeros(m, dtype=bool)
        base[order[:popcount]] = True
        partner = base.copy()
        partner[order[:moved]] = False
        partner[order[popcount : popcount + moved]] = True
        rows += [base, partner]
    pairs = [(2 * k, 2 * k + 1) for k in range(n_pairs)]
    return np.packbits(np.array(rows), axis=1), pairs


def as_keys(pairs: CandidatePairs, n: int) -> npt.NDArray[np.int64]:
    keys: npt.NDArray[np.int64] = pairs.rows_a * n + pairs.rows_b
    return keys


def assert_exact_subset(filters: Filters, pairs: CandidatePairs, threshold: float) -> None:
    """Every pair found is in the exact result, with the same score, in its order."""
    scores, rows_a, rows_b = candidate_pairs(filters, None, threshold)
    n = filters.shape[0]
    exact = rows_a * n + rows_b
    found = as_keys(pairs, n)
    assert np.all(pairs.rows_a < pairs.rows_b)
    assert np.all(np.diff(found) > 0), "sorted by (row_a, row_b), no duplicates"
    at = np.searchsorted(exact, found)
    assert np.all(at < exact.shape[0])
    assert np.array_equal(exact[at], found)
    assert np.array_equal(scores[at], pairs.scores)  # bit for bit
    assert np.all(pairs.scores >= threshold)


@pytest.fixture(scope="module")
def mixed() -> tuple[Filters, list[tuple[int, int]], list[tuple[int, int]]]:
    """400 pairs at Dice just above 0.7, 100 at 0.8, and 1,600 unrelated records."""
    rng = np.random.default_rng(7)
    at_threshold, pairs_t = planted_pairs(rng, 400, THRESHOLD)
    above, pairs_a = planted_pairs(rng, 100, 0.8)
    background = random_filters(rng, 1600, density=0.26)
    filters = np.concatenate([at_threshold, above, background])
    offset = at_threshold.shape[0]
    return filters, pairs_t, [(a + offset, b + offset) for a, b in pairs_a]


def test_result_is_a_subset_of_the_exact_search_with_identical_scores(mixed: tuple) -> None:
    filters, _, _ = mixed
    pairs, report = lsh_search(filters, THRESHOLD, seed=3)
    assert_exact_subset(filters, pairs, THRESHOLD)
    assert report.pairs_found == len(pairs)
    assert report.buckets_skipped == 0
    assert report.dice_evaluations <= report.candidate_pairs


def test_recall_on_planted_near_duplicates_meets_the_target(mixed: tuple) -> None:
    filters, pairs_t, pairs_a = mixed
    plan = plan_lsh(filters, THRESHOLD, recall=0.99, seed=11)
    # the planted pairs agree on at least as many bits as the design pair
    assert plan.design_popcount >= 254
    assert plan.expected_recall >= 0.99
    pairs, _ = lsh_search(filters, THRESHOLD, plan=plan)
    found = set(zip(pairs.rows_a.tolist(), pairs.rows_b.tolist(), strict=True))
    # each planted pair is found with probability >= 0.99: 400 draws miss more than
    # 12 (3%) with probability < 1e-3
    assert sum(p in found for p in pairs_t) >= 388
    # at Dice 0.8 each is missed with probability < 1e-6
    assert all(p in found for p in pairs_a)


def test_same_seed_same_result_other_seed_other_bands(mixed: tuple) -> None:
    filters, _, _ = mixed
    first, report_1 = lsh_search(filters, THRESHOLD, seed=5)
    second, report_2 = lsh_search(filters, THRESHOLD, seed=5)
    assert report_1 == report_2
    assert np.array_equal(first.scores, second.scores)
    assert np.array_equal(first.rows_a, second.rows_a)
    assert np.array_equal(first.rows_b, second.rows_b)
    plan = report_1.plan
    assert np.array_equal(plan.positions(), plan_lsh(filters, THRESHOLD, seed=5).positions())
    other = band_positions(6, plan.bands, plan.bits_per_band, plan.filter_bits)
    assert not np.array_equal(plan.positions(), other)


def test_bands_of_a_smaller_plan_are_a_prefix_so_more_bands_find_more(mixed: tuple) -> None:
    filters, _, _ = mixed
    assert np.array_equal(band_positions(1, 5, 20, 1024), band_positions(1, 12, 20, 1024)[:5])
    few = lsh_candidate_pairs(filters, THRESHOLD, bands=10, bits_per_band=24, seed=1)
    many = lsh_candidate_pairs(filters, THRESHOLD, bands=40, bits_per_band=24, seed=1)
    n = filters.shape[0]
    assert np.isin(as_keys(few, n), as_keys(many, n)).all()
    assert len(many) > len(few)


def test_higher_recall_target_means_more_bands_never_fewer(mixed: tuple) -> None:
    filters, _, _ = mixed
    plans = [plan_lsh(filters, THRESHOLD, recall=r) for r in (0.5, 0.9, 0.99, 0.999, 0.9999)]
    assert len({p.bits_per_band for p in plans}) == 1, "r does not depend on the recall target"
    bands = [p.bands for p in plans]
    assert bands == sorted(bands) and bands[0] < bands[-1]
    for plan in plans:
        assert plan.expected_recall >= plan.target_recall
    # and a lower threshold (matches less alike) needs more bands at the same r
    r = plans[2].bits_per_band
    lower = plan_lsh(filters, 0.6, bits_per_band=r)
    assert lower.bands > plans[2].bands


def test_designing_for_fuller_filters_costs_bands(mixed: tuple) -> None:
    filters, _, _ = mixed
    median = plan_lsh(filters, THRESHOLD, bits_per_band=24)
    full = plan_lsh(filters, THRESHOLD, bits_per_band=24, popcount_quantile=0.9)
    assert full.design_popcount > median.design_popcount
    assert full.design_similarity < median.design_similarity
    assert full.bands > median.bands


def test_plan_maths_matches_the_documented_formulas(mixed: tuple) -> None:
    filters, _, _ = mixed
    plan = plan_lsh(filters, THRESHOLD)
    m, c, t, r = 1024, plan.design_popcount, THRESHOLD, plan.bits_per_band
    agree = m - 2 * c * (1 - t)
    assert plan.design_similarity == pytest.approx(agree / m)
    per_band = float(np.prod([(agree - k) / (m - k) for k in range(r)]))
    assert plan.bands == int(np.ceil(np.log(1 - 0.99) / np.log(1 - per_band)))
    assert plan.expected_recall == pytest.approx(1 - (1 - per_band) ** plan.bands)
    n = filters.shape[0]
    assert plan.expected_comparisons == pytest.approx(
        plan.bands * n * (n - 1) / 2 * plan.random_band_collision
    )
    assert 0.5 < plan.random_similarity < plan.design_similarity


def test_explicit_parameters(mixed: tuple) -> None:
    filters, _, _ = mixed
    both = plan_lsh(filters, THRESHOLD, bands=7, bits_per_band=30)
    assert (both.bands, both.bits_per_band) == (7, 30)
    assert both.expected_recall < 0.99  # reported, not enforced, when both are given
    only_r = plan_lsh(filters, THRESHOLD, bits_per_band=16)
    assert only_r.bits_per_band == 16 and only_r.expected_recall >= 0.99
    only_l = plan_lsh(filters, THRESHOLD, bands=100)
    assert only_l.bands == 100 and only_l.expected_recall >= 0.99
    too_far = plan_lsh(filters, THRESHOLD, bands=100, bits_per_band=only_l.bits_per_band + 1)
    assert too_far.expected_recall < 0.99  # so r was the largest that reaches the target
    with pytest.raises(ValueError, match="cannot reach"):
        plan_lsh(filters, THRESHOLD, recall=0.999999, bands=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0.0},
        {"threshold": 1.5},
        {"recall": 1.0},
        {"recall": 0.0},
        {"bits_per_band": 0},
        {"bits_per_band": 65},
        {"bands": 0},
        {"seed": -1},
        {"popcount_quantile": 1.5},
    ],
)
def test_invalid_arguments_are_refused(kwargs: dict[str, float]) -> None:
    filters = random_filters(np.random.default_rng(0), 10, 0.25)
    args: dict[str, float] = {"threshold": THRESHOLD, **kwargs}
    threshold = args.pop("threshold")
    with pytest.raises(ValueError):
        plan_lsh(filters, threshold, **args)  # type: ignore[arg-type]
    if "popcount_quantile" not in args:
        with pytest.raises(ValueError):
            lsh_candidate_pairs(filters, threshold, **args)  # type: ignore[arg-type]


def test_other_refusals() -> None:
    filters = random_filters(np.random.default_rng(0), 10, 0.25)
    with pytest.raises(ValueError, match="2-D uint8"):
        lsh_candidate_pairs(filters.astype(np.int64), THRESHOLD)  # type: ignore[arg-type]
    plan = plan_lsh(filters, THRESHOLD)
    with pytest.raises(ValueError, match="another threshold"):
        lsh_search(filters, 0.8, plan=plan)
    with pytest.raises(ValueError, match="max_bucket_size"):
        lsh_search(filters, THRESHOLD, max_bucket_size=1)
    with pytest.raises(ValueError, match="compare all pairs"):
        plan_lsh(random_filters(np.random.default_rng(0), 50, 0.7), 0.05, bits_per_band=64)


def test_all_identical_filters_give_every_pair_or_a_counted_skip() -> None:
    row = random_filters(np.random.default_rng(1), 1, 0.25)
    filters = np.repeat(row, 150, axis=0)  # 11,175 pairs in one bucket: overflows a chunk
    pairs, report = lsh_search(filters, THRESHOLD)
    assert len(pairs) == 150 * 149 // 2 and np.all(pairs.scores == 1.0)
    assert_exact_subset(filters, pairs, THRESHOLD)
    capped, report = lsh_search(filters, THRESHOLD, max_bucket_size=100)
    assert len(capped) == 0
    assert report.buckets_skipped == report.plan.bands
    assert report.pairs_skipped == report.plan.bands * 150 * 149 // 2
    assert report.largest_bucket == 150 and report.candidate_pairs == 0


def test_all_empty_filters_and_tiny_inputs() -> None:
    empty = np.zeros((40, WIDTH), dtype=np.uint8)
    pairs, report = lsh_search(empty, THRESHOLD)
    assert len(pairs) == 0 and report.empty_records == 40 and report.candidate_pairs == 0
    for n in (0, 1):
        filters = random_filters(np.random.default_rng(2), n, 0.25)
        pairs, report = lsh_search(filters, THRESHOLD)
        assert len(pairs) == 0 and report.pairs_found == 0
        assert pairs.rows_a.dtype == np.int64 and pairs.scores.dtype == np.float64


@pytest.mark.parametrize("bits_per_band", [20, 50, 60])  # value sort, argsort, lexsort paths
def test_exact_duplicates_are_found_whatever_the_band_width(bits_per_band: int) -> None:
    rng = np.random.default_rng(4)
    base = random_filters(rng, 30, 0.25)
    filters = np.concatenate([base, base, random_filters(rng, 60, 0.25)])
    filters = filters[rng.permutation(filters.shape[0])]
    pairs = lsh_candidate_pairs(filters, 0.95, bits_per_band=bits_per_band, bands=3)
    scores, rows_a, rows_b = candidate_pairs(filters, None, 0.95)
    assert len(scores) == 30
    assert np.array_equal(pairs.rows_a, rows_a) and np.array_equal(pairs.rows_b, rows_b)
    assert np.array_equal(pairs.scores, scores)


def test_plan_is_a_frozen_value() -> None:
    plan = plan_lsh(random_filters(np.random.default_rng(0), 30, 0.25), THRESHOLD)
    assert isinstance(plan, LshPlan)
    with pytest.raises(AttributeError):
        plan.bands = 3  # type: ignore[misc]
    assert plan.positions().shape == (plan.bands, plan.bits_per_band)


@st.composite
def filter_sets(draw: st.DrawFn) -> Filters:
    n = draw(st.integers(0, 40))
    width = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.floats(0.0, 1.0))
    rng = np.random.default_rng(seed)
    filters = random_filters(rng, n, density, width)
    if n > 2 and draw(st.booleans()):  # near-duplicates: flip a few bits of some rows
        flips = rng.random(filters.shape) < 0.02
        filters[n // 2 :] = filters[: n - n // 2] ^ np.packbits(flips, axis=1)[: n - n // 2]
    return filters


@settings(max_examples=60, deadline=None)
@given(
    filter_sets(),
    st.floats(0.05, 1.0),
    st.integers(1, 12),
    st.integers(1, 8),
    st.integers(0, 3),
)
def test_property_subset_of_exact_with_identical_scores(
    filters: Filters, threshold: float, bits_per_band: int, bands: int, seed: int
) -> None:
    bits_per_band = min(bits_per_band, filters.shape[1] * 8)
    pairs, report = lsh_search(
        filters, threshold, bits_per_band=bits_per_band, bands=bands, seed=seed
    )
    assert_exact_subset(filters, pairs, threshold)
    more = lsh_candidate_pairs(
        filters, threshold, bits_per_band=bits_per_band, bands=bands + 3, seed=seed
    )
    n = filters.shape[0]
    assert np.isin(as_keys(pairs, n), as_keys(more, n)).all()
    # one band of one bit: exactly the passing pairs that agree on that bit are found
    if bits_per_band == 1 and bands == 1:
        position = report.plan.positions()[0, 0]
        bit = (filters[:, position // 8] >> (7 - position % 8)) & 1
        _, rows_a, rows_b = candidate_pairs(filters, None, threshold)
        same = bit[rows_a] == bit[rows_b]
        assert np.array_equal(as_keys(pairs, n), (rows_a * n + rows_b)[same])


def test_an_infeasible_lsh_plan_is_a_readable_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from blindlink.errors import InputError
    from blindlink.linkage import blocking
    from blindlink.pipeline.encode import encode
    from blindlink.pipeline.link import link
    from blindlink.synth import generate

    data = generate(n_persons=200, seed=1)
    batches = [encode(rows, secret=b"s" * 32, agency=a) for a, rows in data.agencies.items()]
    monkeypatch.setattr(blocking, "MAX_BANDS", 1)
    with pytest.raises(InputError, match="LSH blocking cannot serve"):
        link(batches, blocking="lsh")
