from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.kernels.dice import candidate_pairs
from blindlink.kernels.greedy import greedy_match
from blindlink.kernels.greedy_reference import greedy_match_reference


def straightforward_greedy(
    scores: list[float], rows_a: list[int], rows_b: list[int], same_set: bool
) -> list[tuple[int, int]]:
    """The textbook algorithm, written independently of both implementations."""
    edges = list(zip(scores, rows_a, rows_b, strict=True))
    used_a: set[int] = set()
    used_b: set[int] = set()
    result = []
    while edges:
        best = max(edges, key=lambda e: (e[0], -e[1], -e[2]))
        edges.remove(best)
        _, a, b = best
        side_b = used_a if same_set else used_b  # one record numbering: one "used" set
        if a in used_a or b in side_b or (same_set and a == b):
            continue
        used_a.add(a)
        side_b.add(b)
        result.append((a, b))
    return result


candidates = st.integers(0, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([0.5, 0.6, 0.75, 0.8, 1.0]), min_size=n, max_size=n),
        st.lists(st.integers(0, 8), min_size=n, max_size=n),
        st.lists(st.integers(0, 8), min_size=n, max_size=n),
    )
)


@settings(max_examples=100, deadline=None)
@given(edges=candidates, same_set=st.booleans())
def test_greedy_agrees_with_reference_and_textbook(
    edges: tuple[list[float], list[int], list[int]], same_set: bool
) -> None:
    scores, rows_a, rows_b = (np.asarray(x) for x in edges)
    fast = greedy_match(scores.astype(np.float64), rows_a, rows_b, same_set=same_set)
    slow = greedy_match_reference(
        scores.astype(np.float64),
        rows_a.astype(np.int64),
        rows_b.astype(np.int64),
        same_set=same_set,
    )
    for x, y in zip(fast, slow, strict=True):
        assert x.dtype == y.dtype == np.int64
        assert np.array_equal(x, y)
    # Sorted by (row_a, row_b), as candidate_pairs returns them: the stable-sort path.
    by_rows = np.lexsort((rows_b, rows_a))
    presorted = greedy_match(
        scores[by_rows].astype(np.float64), rows_a[by_rows], rows_b[by_rows], same_set=same_set
    )
    for x, y in zip(presorted, slow, strict=True):
        assert np.array_equal(x, y)
    textbook = straightforward_greedy(*edges, same_set=same_set)
    assert list(zip(fast[0].tolist(), fast[1].tolist(), strict=True)) == textbook


def test_greedy_on_candidate_pairs_is_one_to_one() -> None:
    rng = np.random.default_rng(5)
    a = np.packbits(rng.random((300, 512)) < 0.25, axis=1)
    b = a[rng.permutation(300)]
    b[:, :2] ^= 1
    matched_a, matched_b = greedy_match(*candidate_pairs(a, b, 0.8))
    assert np.unique(matched_a).size == matched_a.size == 300
    assert np.unique(matched_b).size == 300


def test_greedy_known_answer_and_bad_input() -> None:
    scores = np.array([0.9, 0.9, 0.95, 0.7])
    rows_a = np.array([1, 0, 1, 0])
    rows_b = np.array([0, 0, 1, 1])
    a, b = greedy_match(scores, rows_a, rows_b)
    assert (a.tolist(), b.tolist()) == ([1, 0], [1, 0])
    empty = greedy_match(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert empty[0].size == empty[1].size == 0
    with pytest.raises(ValueError):
        greedy_match(scores, rows_a[:2], rows_b)
    with pytest.raises(ValueError):
        greedy_match(scores, -rows_a, rows_b)
