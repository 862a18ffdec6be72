from __future__ import annotations

import numpy as np
import pytest

from blindlink.stats.aggregates import linkage_statistics
from blindlink.stats.quality import pairwise_quality


def test_linkage_statistics() -> None:
    # persons: 0 at A twice and B; 1 at B; 2 at C; 3 at A and C
    agency_of = np.array([0, 0, 1, 1, 2, 0, 2])
    labels = np.array([0, 0, 0, 1, 2, 3, 3])
    stats = linkage_statistics(("A", "B", "C"), agency_of, labels)
    assert stats["records"] == {"total": 7, "per_agency": {"A": 3, "B": 2, "C": 2}}
    assert stats["unique_persons"] == 4
    assert stats["persons_per_agency"] == {"A": 2, "B": 2, "C": 2}
    assert stats["duplicates_within_agency"] == {"A": 1, "B": 0, "C": 0}
    assert stats["persons_by_agency_combination"] == [
        {"agencies": ["B"], "persons": 1},
        {"agencies": ["C"], "persons": 1},
        {"agencies": ["A", "B"], "persons": 1},
        {"agencies": ["A", "C"], "persons": 1},
    ]


def test_pairwise_quality() -> None:
    q = pairwise_quality(["a", "a", "a", "b"], [1, 1, 2, 2])
    assert (q.true_positives, q.predicted_pairs, q.true_pairs) == (1, 3, 2)
    assert q.precision == pytest.approx(1 / 3)
    assert q.recall == pytest.approx(1 / 2)
    assert q.f1 == pytest.approx(2 * 1 / 5)


def test_pairwise_quality_perfect_and_empty() -> None:
    assert pairwise_quality([1, 1, 2], ["x", "x", "y"]).f1 == 1.0
    assert pairwise_quality([1, 2], ["x", "y"]).f1 == 1.0
    with pytest.raises(ValueError):
        pairwise_quality([1], [1, 2])
