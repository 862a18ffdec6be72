"""Linkage uncertainty in the estimate: re-clustering at nearby thresholds, the score
histogram, and the estimate per threshold (library and CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blindlink.errors import InputError
from blindlink.linkage.sensitivity import score_histogram, threshold_grid
from blindlink.pipeline.demo import DemoOutcome, run_demo
from blindlink.stats.sensitivity import envelope, threshold_sensitivity
from helpers import run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoOutcome:
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", n_persons=400, seed=7)


def test_threshold_grid_is_clipped_deduplicated_and_sorted() -> None:
    assert threshold_grid(0.64, 0.62) == (0.62, 0.64, 0.66, 0.68, 0.7)
    assert threshold_grid(0.7, 0.5) == (0.64, 0.66, 0.68, 0.7, 0.72, 0.74, 0.76)
    assert threshold_grid(0.97, 0.9) == (0.91, 0.93, 0.95, 0.97, 0.99)
    assert threshold_grid(0.6599, 0.62) == (0.62, 0.6399, 0.6599, 0.6799, 0.6999, 0.7199)


def test_score_histogram_counts_every_score_from_its_lower_end() -> None:
    scores = np.array([0.1, 0.6, 0.61, 0.99, 1.0, 1.04])
    histogram = score_histogram(scores, 0.6, 0.62, bins=4)
    assert histogram["counts"] == [2, 0, 0, 3]  # 1.04 counts in the last bin
    assert histogram["lower"] == 0.6 and histogram["upper"] == 1.0
    assert histogram["complete_from"] == 0.62


def test_link_stores_persons_and_histories_per_threshold(demo: DemoOutcome) -> None:
    stats = demo.result.statistics
    entries = stats["threshold_sensitivity"]
    thresholds = [e["threshold"] for e in entries]
    assert thresholds == sorted(thresholds) and len(thresholds) >= 4
    chosen = [e for e in entries if e["chosen"]]
    assert len(chosen) == 1 and chosen[0]["threshold"] == stats["linkage"]["threshold"]
    assert chosen[0]["unique_persons"] == stats["unique_persons"]
    assert chosen[0]["persons_by_agency_combination"] == stats["persons_by_agency_combination"]
    assert chosen[0]["links"] == stats["linkage"]["links"]
    # lowering the threshold merges: fewer persons at the lowest than at the highest threshold
    assert entries[0]["unique_persons"] < entries[-1]["unique_persons"]
    for entry in entries:
        total = sum(row["persons"] for row in entry["persons_by_agency_combination"])
        assert total == entry["unique_persons"]
    histogram = stats["linkage"]["score_histogram"]
    assert len(histogram["counts"]) == histogram["bins"] == 100
    assert histogram["lower"] <= histogram["complete_from"] <= min(thresholds) + 1e-9
    model = stats["linkage"]["score_model"]
    assert {"non_match_decay", "match_mean", "match_sd", "scores"} <= set(model)
    written = json.loads((demo.folder / "results" / "stats.json").read_text(encoding="utf-8"))
    assert written["threshold_sensitivity"] == entries


def test_estimate_at_each_threshold(demo: DemoOutcome) -> None:
    points = threshold_sensitivity(demo.result.statistics, "main-effects", profile=False)
    assert [p.threshold for p in points] == [
        e["threshold"] for e in demo.result.statistics["threshold_sensitivity"]
    ]
    chosen = [p for p in points if p.chosen]
    assert len(chosen) == 1 and chosen[0].observed == demo.result.statistics["unique_persons"]
    assert all(p.estimate is not None and p.estimate >= p.observed for p in points)
    low, high = envelope(points) or (0.0, 0.0)
    assert all(p.ci95 is not None and low <= p.ci95[0] and p.ci95[1] <= high for p in points)
    assert points[0].to_dict()["threshold"] == points[0].threshold


def test_older_stats_have_no_sensitivity_and_bad_entries_are_input_errors(
    demo: DemoOutcome,
) -> None:
    stats: dict[str, Any] = dict(demo.result.statistics)
    del stats["threshold_sensitivity"]
    assert threshold_sensitivity(stats) == []
    with pytest.raises(InputError, match=r"threshold_sensitivity\[0\]"):
        threshold_sensitivity({**stats, "threshold_sensitivity": [{"threshold": "x"}]})
    with pytest.raises(InputError, match="must be a list"):
        threshold_sensitivity({**stats, "threshold_sensitivity": {"a": 1}})


def test_one_agency_threshold_gives_an_entry_without_estimate(demo: DemoOutcome) -> None:
    stats = dict(demo.result.statistics)
    only = next(iter(stats["records"]["per_agency"]))
    stats["threshold_sensitivity"] = [
        {"threshold": 0.7, "persons_by_agency_combination": [{"agencies": [only], "persons": 9}]}
    ]
    (point,) = threshold_sensitivity(stats)
    assert point.estimate is None and point.note and point.observed == 9


def test_cli_estimate_reports_the_thresholds(
    demo: DemoOutcome, capsys: pytest.CaptureFixture[str]
) -> None:
    stats_path = str(demo.folder / "results" / "stats.json")
    code, out, _ = run_cli(["estimate", stats_path, "--method", "main-effects"], capsys)
    assert code == 0
    assert "(chosen)" in out and "across thresholds" in out
    code, out, _ = run_cli(["estimate", stats_path, "--method", "main-effects", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    points = data["threshold_sensitivity"]
    assert len(points) == len(demo.result.statistics["threshold_sensitivity"])
    assert {"threshold", "observed", "estimate", "ci95", "chosen"} <= set(points[0])
    chosen = next(p for p in points if p["chosen"])
    assert chosen["estimate"] == pytest.approx(data["estimate"])


def test_cli_estimate_of_a_capture_csv_has_no_thresholds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.csv"
    path.write_text("A,B,count\n1,0,30\n0,1,25\n1,1,10\n", encoding="utf-8")
    code, out, _ = run_cli(["estimate", str(path), "--json"], capsys)
    assert code == 0 and "threshold_sensitivity" not in json.loads(out)
