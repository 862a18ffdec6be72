from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from blindlink.kernels.dice import candidate_pairs
from blindlink.kernels.dice_reference import candidate_pairs_reference


def filter_sets(max_rows: int = 40) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    return st.integers(1, 20).flatmap(
        lambda width: st.tuples(
            arrays(np.uint8, st.tuples(st.integers(0, max_rows), st.just(width))),
            arrays(np.uint8, st.tuples(st.integers(0, max_rows), st.just(width))),
        )
    )


@settings(max_examples=60, deadline=None)
@given(sets=filter_sets(), threshold=st.floats(0.0, 1.0))
def test_kernel_agrees_exactly_with_reference(
    sets: tuple[np.ndarray, np.ndarray], threshold: float
) -> None:
    a, b = sets
    for other in (b, None):
        fast = candidate_pairs(a, other, threshold)
        slow = candidate_pairs_reference(a, other, threshold)
        for x, y in zip(fast, slow, strict=True):
            assert np.array_equal(x, y)


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


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), np.zeros((2, 4), np.uint8), 0.5)
    with pytest.raises(ValueError):
        candidate_pairs(np.zeros((2, 3), np.uint8), None, 1.5)
