from __future__ import annotations

import numpy as np

from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.cluster import ClusteringRule, cluster_records
from blindlink.types import CandidatePairs


def bits(*ones: range) -> np.ndarray:
    row = np.zeros(64, dtype=bool)
    for r in ones:
        row[r] = True
    return row


def run(rows: list[np.ndarray], agencies: list[int], threshold: float, same: float) -> list[int]:
    filters = np.packbits(np.vstack(rows), axis=1)
    pairs = CandidatePairs(*candidate_pairs(filters, None, threshold))
    labels = cluster_records(
        pairs, filters, np.array(agencies, dtype=np.int64), ClusteringRule(threshold, same)
    )
    return labels.tolist()


def test_chain_of_weak_links_does_not_merge_different_people() -> None:
    # A~B and B~C pass 0.75, A and C share nothing beyond B's overlap.
    a = bits(range(0, 20))
    b = bits(range(5, 25))
    c = bits(range(10, 30))
    labels = run([a, b, c], [0, 1, 2], threshold=0.74, same=0.74)
    assert labels[0] != labels[2]
    assert len(set(labels)) == 2


def test_connected_components_would_chain_here() -> None:
    a, b, c = bits(range(0, 20)), bits(range(5, 25)), bits(range(10, 30))
    filters = np.packbits(np.vstack([a, b, c]), axis=1)
    scores, ra, rb = candidate_pairs(filters, None, 0.74)
    assert {(0, 1), (1, 2)} <= set(zip(ra.tolist(), rb.tolist(), strict=True))


def test_same_person_in_three_agencies_is_one_cluster() -> None:
    a = bits(range(0, 30))
    b = bits(range(1, 31))
    c = bits(range(0, 29))
    labels = run([a, b, c, bits(range(40, 60))], [0, 1, 2, 0], threshold=0.8, same=0.8)
    assert labels == [0, 0, 0, 1]


def test_same_agency_pair_needs_the_stricter_threshold() -> None:
    a1 = bits(range(0, 30))
    a2 = bits(range(3, 33))  # dice(a1, a2) = 0.9
    b = bits(range(1, 32))
    lenient = run([a1, a2, b], [0, 0, 1], threshold=0.8, same=0.85)
    strict = run([a1, a2, b], [0, 0, 1], threshold=0.8, same=0.95)
    assert lenient == [0, 0, 0]
    assert strict[0] != strict[1]
    assert len(set(strict)) == 2


def test_labels_are_dense_and_in_order_of_first_record() -> None:
    labels = run(
        [bits(range(40, 60)), bits(range(0, 20)), bits(range(40, 60))], [0, 0, 1], 0.9, 0.9
    )
    assert labels == [0, 1, 0]


def test_no_records() -> None:
    empty = np.zeros((0, 8), dtype=np.uint8)
    pairs = CandidatePairs(np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    labels = cluster_records(pairs, empty, np.zeros(0, np.int64), ClusteringRule(0.8, 0.8))
    assert labels.shape == (0,)
