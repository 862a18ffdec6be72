from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from blindlink.kernels.dice import SERIAL_PAIRS, candidate_pairs, need_table
from blindlink.kernels.dice_reference import (
    PairArrays,
    candidate_pairs_reference,
    dice_scores,
)

# Byte values that make ties, empty filters and exact-threshold scores common.
STRUCTURED_BYTES = st.sampled_from([0, 0, 1, 3, 7, 15, 128, 255])


def filter_sets(
    max_rows: int = 30, max_width: int = 20
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Two filter sets of one width; rows often repeat so that ties and equal scores occur."""

    def sets(width: int, structured: bool) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
        elements = STRUCTURED_BYTES if structured else st.integers(0, 255)
        one = arrays(
            np.uint8, st.tuples(st.integers(0, max_rows), st.just(width)), elements=elements
        )
        return st.tuples(one, one)

    return st.tuples(st.integers(0, max_width), st.booleans()).flatmap(lambda p: sets(*p))


def thresholds() -> st.SearchStrategy[float]:
    """Special values, scores a pair can have exactly (and their float neighbours), any float."""
    exact = st.tuples(st.integers(0, 40), st.integers(1, 80)).map(
        lambda p: min(1.0, 2.0 * p[0] / p[1])
    )
    return st.one_of(
        st.sampled_from([0.0, 1.0, 0.5, 0.7, 0.8, 0.9, 2 / 3, 0.1 + 0.2, 0.95]),
        exact,
        exact.map(lambda t: float(np.nextafter(t, 0.0))),
        exact.map(lambda t: min(1.0, float(np.nextafter(t, 2.0)))),
        st.floats(0.0, 1.0),
    )


def assert_same(fast: PairArrays, slow: PairArrays) -> None:
    for x, y in zip(fast, slow, strict=True):
        assert x.dtype == y.dtype
        assert np.array_equal(x, y)


@settings(max_examples=80, deadline=None)
@given(
    sets=filter_sets(),
    threshold=thresholds(),
    k=st.one_of(st.none(), st.integers(1, 4)),
)
def test_kernel_agrees_exactly_with_reference(
    sets: tuple[np.ndarray, np.ndarray], threshold: float, k: int | None
) -> None:
    a, b = sets
    for other in (b, None):
        assert_same(
            candidate_pairs(a, other, threshold, k=k),
            candidate_pairs_reference(a, other, threshold, k=k),
        )


@settings(max_examples=15, deadline=None)
@given(
    sets=filter_sets(max_rows=70, max_width=72),
    threshold=thresholds(),
    k=st.one_of(st.none(), st.integers(1, 3)),
)
def test_wide_filters_take_the_early_exit_paths_and_still_agree(
    sets: tuple[np.ndarray, np.ndarray], threshold: float, k: int | None
) -> None:
    a, b = sets
    for other in (b, None):
        assert_same(
            candidate_pairs(a, other, threshold, k=k),
            candidate_pairs_reference(a, other, threshold, k=k),
        )


def clk_like(rows: int, seed: int, width_bits: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Filters 15-30% full, with a quarter of the second set noisy copies of the first."""
    rng = np.random.default_rng(seed)
    a = rng.random((rows, width_bits)) < rng.uniform(0.15, 0.3, (rows, 1))
    b = rng.random((rows, width_bits)) < rng.uniform(0.15, 0.3, (rows, 1))
    copies = rng.choice(rows, rows // 4, replace=False)
    b[copies] = a[copies] ^ (
        rng.random((copies.size, width_bits)) < rng.uniform(0, 0.1, (copies.size, 1))
    )
    return np.packbits(a, axis=1), np.packbits(b, axis=1)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_many_chunks_and_threads_agree_with_reference(threshold: float) -> None:
    a, b = clk_like(1100, seed=int(threshold * 10))
    assert a.shape[0] * b.shape[0] >= SERIAL_PAIRS  # several workers run
    for k in (None, 2):
        assert_same(
            candidate_pairs(a, b, threshold, k=k), candidate_pairs_reference(a, b, threshold, k=k)
        )
    assert_same(candidate_pairs(a, None, threshold), candidate_pairs_reference(a, None, threshold))


def test_output_larger_than_the_buffers_is_collected_in_rounds() -> None:
    a, b = clk_like(700, seed=3, width_bits=256)
    fast = candidate_pairs(a, b, 0.0)
    assert fast[0].shape[0] == 700 * 700
    assert_same(fast, candidate_pairs_reference(a, b, 0.0))
    assert_same(
        candidate_pairs(a, None, 0.2, k=300), candidate_pairs_reference(a, None, 0.2, k=300)
    )


def test_empty_filters_score_zero_and_pass_only_threshold_zero() -> None:
    a = np.zeros((3, 5), np.uint8)
    b = np.array([[0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], np.uint8)
    scores, rows_a, rows_b = candidate_pairs(a, b, 0.0)
    assert scores.tolist() == [0.0] * 6
    assert list(zip(rows_a.tolist(), rows_b.tolist(), strict=True)) == [
        (i, j) for i in range(3) for j in range(2)
    ]
    assert candidate_pairs(a, b, 1e-300)[0].size == 0
    assert candidate_pairs(a, None, 0.0)[1].tolist() == [0, 0, 1]


def test_empty_inputs() -> None:
    none = np.zeros((0, 128), np.uint8)
    some = np.ones((4, 128), np.uint8)
    for a, b in ((none, some), (some, none), (none, none), (none, None)):
        scores, rows_a, rows_b = candidate_pairs(a, b, 0.5, k=2)
        assert scores.dtype == np.float64 and rows_a.dtype == rows_b.dtype == np.int64
        assert scores.size == rows_a.size == rows_b.size == 0


def test_similar_filters_are_found_and_self_join_lists_each_pair_once() -> None:
    rng = np.random.default_rng(1)
    base = rng.random((30, 512)) < 0.2
    noisy = base.copy()
    noisy[:, :8] ^= True  # a few bits differ
    filters = np.packbits(np.vstack([base, noisy]), axis=1)
    scores, rows_a, rows_b = candidate_pairs(filters, None, 0.9)
    pairs = set(zip(rows_a.tolist(), rows_b.tolist(), strict=True))
    assert {(i, i + 30) for i in range(30)} <= pairs
    assert np.all(rows_a < rows_b)
    assert np.all(scores >= 0.9)


def test_known_answer() -> None:
    a = np.array([[0b11110000], [0b00000000]], dtype=np.uint8)
    b = np.array([[0b11000000], [0b00001111]], dtype=np.uint8)
    scores, rows_a, rows_b = candidate_pairs(a, b, 0.5)
    assert scores.tolist() == [2 * 2 / 6]
    assert rows_a.tolist() == [0]
    assert rows_b.tolist() == [0]


def test_top_k_keeps_best_scores_and_breaks_ties_by_lower_row_b() -> None:
    a = np.array([[0b11110000]], dtype=np.uint8)
    b = np.array([[0b11100000], [0b11110000], [0b01110000], [0b11000000]], dtype=np.uint8)
    scores, rows_a, rows_b = candidate_pairs(a, b, 0.5, k=2)
    assert rows_b.tolist() == [0, 1]  # 1.0 (row 1), then 6/7 for rows 0 and 2: row 0 wins
    assert scores.tolist() == [6 / 7, 1.0]


def test_top_k_in_a_self_join_is_the_union_of_each_records_choices() -> None:
    # 0 and 1 are each other's best; 2's best is 1, so (1, 2) is listed although 1 chose 0.
    filters = np.array([[0b11111111], [0b11111110], [0b11111100]], dtype=np.uint8)
    _, rows_a, rows_b = candidate_pairs(filters, None, 0.1, k=1)
    assert list(zip(rows_a.tolist(), rows_b.tolist(), strict=True)) == [(0, 1), (1, 2)]


def test_need_table_is_the_reference_formula() -> None:
    for threshold in (0.0, 0.3, 0.7, 0.8, 2 / 3, 1.0, float(np.nextafter(0.8, 1.0))):
        need = need_table(threshold, 300)
        for total in range(301):
            inter = np.arange(total + 1)
            passing = dice_scores(inter, np.full(total + 1, total)) >= threshold
            expected = int(inter[passing][0]) if passing.any() else total + 1
            assert need[total] == expected


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.uint8), 0.5)
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), None, 1.5)
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), None, float("nan"))
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), None, 0.5, k=0)
    with pytest.raises(TypeError):
        candidate_pairs(np.zeros((2, 3), np.uint8), None, 0.5, k=True)
