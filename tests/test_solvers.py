"""Interface conformance: every solver runs through the same cases."""

from __future__ import annotations

import numpy as np
import pytest

from blindlink.errors import InputError
from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.cluster import ClusteringRule
from blindlink.linkage.solvers import SOLVERS, LinkageProblem, solver_named
from blindlink.types import CandidatePairs

ALL = sorted(SOLVERS)
ONE_TO_ONE = ["greedy", "optimal"]


def bits(*ones: range) -> np.ndarray:
    row = np.zeros(128, dtype=bool)
    for r in ones:
        row[r] = True
    return row


def problem(rows: list[np.ndarray], agencies: list[int], threshold: float = 0.8) -> LinkageProblem:
    filters = np.packbits(np.vstack(rows), axis=1) if rows else np.zeros((0, 16), np.uint8)
    pairs = CandidatePairs(*candidate_pairs(filters, None, threshold))
    return LinkageProblem(
        filters=filters,
        agency_of=np.array(agencies, dtype=np.int64),
        pairs=pairs,
        offsets=np.zeros(len(rows)),
        rule=ClusteringRule(threshold, threshold + 0.05),
    )


@pytest.mark.parametrize("name", ALL)
def test_obvious_matches_across_two_agencies(name: str) -> None:
    rows = [bits(range(0, 30)), bits(range(40, 70)), bits(range(1, 31)), bits(range(41, 71))]
    labels = solver_named(name).solve(problem(rows, [0, 0, 1, 1]))
    assert labels.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("name", ALL)
def test_labels_are_dense_one_per_record_and_deterministic(name: str) -> None:
    rng = np.random.default_rng(5)
    base = rng.random((20, 128)) < 0.25
    noisy = base ^ (rng.random((20, 128)) < 0.03)
    case = problem(list(base) + list(noisy), [0] * 20 + [1] * 20)
    labels = solver_named(name).solve(case)
    assert labels.shape == (40,)
    assert set(labels.tolist()) == set(range(labels.max() + 1))
    first = [int(np.flatnonzero(labels == k)[0]) for k in range(labels.max() + 1)]
    assert first == sorted(first), "labels number persons in order of their first record"
    assert np.array_equal(labels, solver_named(name).solve(case))
    assert (labels[:20] == labels[20:]).mean() > 0.9


@pytest.mark.parametrize("name", ALL)
def test_nothing_to_link(name: str) -> None:
    rows = [bits(range(0, 30)), bits(range(50, 80))]
    assert solver_named(name).solve(problem(rows, [0, 1])).tolist() == [0, 1]


@pytest.mark.parametrize("name", ALL)
def test_no_cluster_holds_an_unlinked_chain(name: str) -> None:
    a, b, c = bits(range(0, 40)), bits(range(6, 46)), bits(range(12, 52))
    labels = solver_named(name).solve(problem([a, b, c], [0, 1, 0], threshold=0.84))
    assert labels[0] != labels[2]


@pytest.mark.parametrize("name", ONE_TO_ONE)
def test_one_to_one_takes_at_most_one_partner(name: str) -> None:
    a1 = bits(range(0, 40))
    b1, b2 = bits(range(1, 41)), bits(range(2, 42))
    labels = solver_named(name).solve(problem([a1, b1, b2], [0, 1, 1]))
    assert labels[0] == labels[1] != labels[2]


def test_optimal_beats_greedy_on_total_score() -> None:
    # a1-b1 is the single best link, but taking it leaves a2 and b2 unmatched;
    # the optimal assignment pairs a1-b2 and a2-b1 for a larger total.
    a1, a2 = bits(range(0, 40)), bits(range(8, 48))
    b1, b2 = bits(range(2, 42)), bits(range(0, 36), range(60, 64))
    case = problem([a1, a2, b1, b2], [0, 0, 1, 1], threshold=0.85)
    greedy = solver_named("greedy").solve(case)
    optimal = solver_named("optimal").solve(case)
    assert greedy[0] == greedy[2] and greedy[1] != greedy[3]
    assert optimal[0] == optimal[3] and optimal[1] == optimal[2]


@pytest.mark.parametrize("name", ONE_TO_ONE)
def test_one_to_one_needs_two_agencies(name: str) -> None:
    rows = [bits(range(0, 30)), bits(range(1, 31)), bits(range(2, 32))]
    with pytest.raises(InputError, match="exactly two agencies"):
        solver_named(name).solve(problem(rows, [0, 1, 2]))


def test_multiparty_finds_within_agency_duplicates_and_three_agencies() -> None:
    rows = [bits(range(0, 40)), bits(range(0, 39)), bits(range(1, 40)), bits(range(2, 41))]
    labels = solver_named("multiparty").solve(problem(rows, [0, 0, 1, 2]))
    assert labels.tolist() == [0, 0, 0, 0]


def test_unknown_solver() -> None:
    with pytest.raises(InputError, match="unknown solver"):
        solver_named("magic")
