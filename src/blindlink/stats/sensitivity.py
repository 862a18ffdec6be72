"""The population estimate across link thresholds: how much of its uncertainty is linkage.

A linkage run stores, in ``stats.json`` under ``threshold_sensitivity``, the persons and capture
histories found at a few thresholds around the chosen one (``linkage.sensitivity``). Repeating
the estimate at each shows what the interval of one estimate leaves out: a lower threshold
merges more records (fewer persons, more overlap, a lower estimate), a higher one splits more.
The spread of the point estimates across the grid is the linkage part; the interval at each
threshold is the sampling and model part. ``envelope`` joins the intervals: a plain summary of
both, not a calibrated interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blindlink.errors import InputError
from blindlink.stats.mse import estimate, from_stats

__all__ = ["ThresholdEstimate", "envelope", "threshold_sensitivity"]


@dataclass(frozen=True)
class ThresholdEstimate:
    """The estimate from the persons found at one link threshold.

    ``estimate`` and ``ci95`` are None when no model could be fitted there (``note`` says why).
    """

    threshold: float
    chosen: bool
    observed: int
    estimate: float | None
    ci95: tuple[float, float] | None
    method: str
    interactions: list[str] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; infinite bounds as None."""

        def num(v: float | None) -> float | None:
            return v if v is not None and math.isfinite(v) else None

        return {
            "threshold": self.threshold,
            "chosen": self.chosen,
            "observed": self.observed,
            "estimate": num(self.estimate),
            "ci95": None if self.ci95 is None else [num(self.ci95[0]), num(self.ci95[1])],
            "method": self.method,
            "interactions": list(self.interactions),
            "note": self.note,
        }


def _entries(stats_json: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = stats_json.get("threshold_sensitivity") if isinstance(stats_json, Mapping) else None
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InputError("stats: 'threshold_sensitivity' must be a list")
    for n, entry in enumerate(entries):
        threshold = entry.get("threshold") if isinstance(entry, Mapping) else None
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InputError(f"stats: threshold_sensitivity[{n}] needs a numeric 'threshold'")
        if "persons_by_agency_combination" not in entry:
            raise InputError(
                f"stats: threshold_sensitivity[{n}] needs 'persons_by_agency_combination'"
            )
    return entries


def threshold_sensitivity(
    stats_json: Mapping[str, Any], method: str = "stepwise-aic", *, profile: bool = True
) -> list[ThresholdEstimate]:
    """The estimate (same ``method``) at every threshold a run's ``stats.json`` holds.

    Empty when the run stored no sensitivity (older results). A threshold at which no model
    can be fitted (too few lists or overlaps) gets an entry without an estimate.
    """
    records = stats_json.get("records") if isinstance(stats_json, Mapping) else None
    chosen = None
    linkage = stats_json.get("linkage")
    if isinstance(linkage, Mapping) and isinstance(linkage.get("threshold"), int | float):
        chosen = round(float(linkage["threshold"]), 6)
    results: list[ThresholdEstimate] = []
    for entry in _entries(stats_json):
        threshold = float(entry["threshold"])
        histories = from_stats(
            {
                "records": records,
                "persons_by_agency_combination": entry["persons_by_agency_combination"],
            }
        )
        is_chosen = bool(entry.get("chosen", chosen is not None and round(threshold, 6) == chosen))
        try:
            result = estimate(histories, method, profile=profile)
        except InputError as exc:
            results.append(
                ThresholdEstimate(
                    threshold, is_chosen, histories.observed, None, None, method, note=str(exc)
                )
            )
            continue
        results.append(
            ThresholdEstimate(
                threshold=threshold,
                chosen=is_chosen,
                observed=result.observed,
                estimate=result.estimate,
                ci95=result.ci95,
                method=result.method,
                interactions=[":".join(t) for t in result.interactions],
            )
        )
    return results


def envelope(points: Sequence[ThresholdEstimate]) -> tuple[float, float] | None:
    """The lowest lower end and the highest upper end of the 95% intervals across thresholds."""
    intervals = [p.ci95 for p in points if p.ci95 is not None]
    if not intervals:
        return None
    return min(low for low, _ in intervals), max(high for _, high in intervals)
