"""Linkage quality against a known truth (synthetic data, benchmarks): pairwise precision,
recall and F1, the measures used throughout the record-linkage literature."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PairwiseQuality:
    """Counts of record pairs placed in one person, and the measures derived from them."""

    true_positives: int
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.predicted_pairs + self.true_pairs
        return 2 * self.true_positives / total if total else 1.0


def _pairs(counts: Counter[Hashable]) -> int:
    return sum(c * (c - 1) // 2 for c in counts.values())


def pairwise_quality(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> PairwiseQuality:
    """Compare two labellings of the same records (predicted person, true person per record)."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and true labels must cover the same records")
    return PairwiseQuality(
        true_positives=_pairs(Counter(zip(predicted, truth, strict=True))),
        predicted_pairs=_pairs(Counter(predicted)),
        true_pairs=_pairs(Counter(truth)),
    )
