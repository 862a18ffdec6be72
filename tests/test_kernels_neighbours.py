from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.kernels.neighbours import (
    top_k_mean,
    top_k_mean_reference,
    top_k_mean_skipping_best,
    top_k_mean_skipping_best_reference,
)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    fill=st.sampled_from([0.0, 0.5]),
    data=st.data(),
)
def test_kernel_agrees_with_reference(n: int, k: int, fill: float, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, 40))
    rows_a = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int64)
    rows_b = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), np.int64)
    scores = np.array(
        data.draw(
            st.lists(st.sampled_from([0.3, 0.5, 0.6, 0.75, 0.9, 1.0]), min_size=m, max_size=m)
        ),
        np.float64,
    )
    fast = top_k_mean(rows_a, rows_b, scores, n, k, fill)
    slow = top_k_mean_reference(rows_a, rows_b, scores, n, k, fill)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_known_answer() -> None:
    rows_a = np.array([0, 0, 1], np.int64)
    rows_b = np.array([1, 2, 2], np.int64)
    scores = np.array([0.9, 0.7, 0.6])
    result = top_k_mean(rows_a, rows_b, scores, 4, 2, 0.5)
    np.testing.assert_allclose(result, [0.8, 0.75, 0.65, 0.5])


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 5),
    n_groups=st.integers(1, 3),
    fill=st.sampled_from([0.0, 0.5]),
    data=st.data(),
)
def test_skipping_kernel_agrees_with_reference(
    n: int, k: int, n_groups: int, fill: float, data: st.DataObject
) -> None:
    m = data.draw(st.integers(0, 40))
    ints = st.lists(st.integers(0, n - 1), min_size=m, max_size=m)
    rows_a = np.array(data.draw(ints), np.int64)
    rows_b = np.array(data.draw(ints), np.int64)
    groups = np.array(
        data.draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), np.int64
    )
    scores = np.array(
        data.draw(
            st.lists(st.sampled_from([0.3, 0.5, 0.6, 0.75, 0.9, 1.0]), min_size=m, max_size=m)
        ),
        np.float64,
    )
    fast = top_k_mean_skipping_best(rows_a, rows_b, scores, groups, k, fill)
    slow = top_k_mean_skipping_best_reference(rows_a, rows_b, scores, groups, k, fill)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_skipping_known_answer() -> None:
    # record 0's partners: 1 (group 1, 0.9), 2 (group 1, 0.7), 3 (group 0, 0.8); its best in
    # each group (0.9 and 0.8) is set aside, leaving 0.7 and the fill
    rows_a = np.array([0, 0, 0], np.int64)
    rows_b = np.array([1, 2, 3], np.int64)
    groups = np.array([0, 1, 1, 0], np.int64)
    scores = np.array([0.9, 0.7, 0.8])
    result = top_k_mean_skipping_best(rows_a, rows_b, scores, groups, 2, 0.5)
    np.testing.assert_allclose(result, [0.6, 0.5, 0.5, 0.5])
