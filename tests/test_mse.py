"""Multiple systems estimation against the published analyses in ../shared/mse-reference.

Every number in that README is reproduced to 0.1 %. Numbers published as whole persons are
also accepted within one person, because the papers round (or truncate) to whole persons.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from blindlink.errors import InputError
from blindlink.stats.aggregates import linkage_statistics
from blindlink.stats.mse import (
    CaptureHistories,
    check_existence,
    estimate,
    fit_model,
    from_stats,
    read_capture_csv,
)
from blindlink.stats.mse import _hierarchical_models as hierarchical_models

REF = Path(__file__).resolve().parents[2] / "shared" / "mse-reference"  # ../shared from the repo
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="published MSE data not available")


def close(ours: float, published: float, *, whole: bool = False) -> bool:
    """Within 0.1 %; for numbers published in whole persons, also within one person."""
    tol = 0.001 * abs(published)
    if whole:
        tol = max(tol, 1.0)
    return abs(ours - published) <= tol


def load(name: str) -> CaptureHistories:
    return read_capture_csv(REF / name)


# --- published results -----------------------------------------------------------------------


@needs_ref
def test_uk_main_effects() -> None:
    r = estimate(load("UKdat.csv"), "main-effects")
    assert close(r.estimate, 12_214.0)
    assert r.ci95_profile is not None
    assert close(r.ci95_profile[0], 10_983.9)
    assert close(r.ci95_profile[1], 13_648.2)
    assert r.interactions == []
    assert r.mle_exists and r.identifiable


@needs_ref
def test_uk_six_lists_stepwise_aic() -> None:
    r = estimate(load("UKdat.csv"), "stepwise-aic")
    assert r.interactions == [
        ("PF", "NCA"),
        ("LA", "NG"),
        ("NG", "GP"),
        ("LA", "PF"),
        ("PF", "GP"),
        ("GO", "GP"),
        ("NG", "GO"),
    ]
    assert close(r.estimate, 11_418.0)
    assert r.ci95_profile is not None
    assert close(r.ci95_profile[0], 9_982.3)
    assert close(r.ci95_profile[1], 13_181.7)
    assert r.ci95 == r.ci95_profile


@needs_ref
@pytest.mark.parametrize(
    ("name", "point", "low", "high"),
    [
        ("UKdat_5.csv", 11_313.0, 9_889.2, 13_063.1),
        ("UKdat_4.csv", 11_015.2, 9_587.7, 12_771.9),
    ],
)
def test_uk_fewer_lists_stepwise_aic(name: str, point: float, low: float, high: float) -> None:
    r = estimate(load(name), "stepwise-aic")
    assert close(r.estimate, point)
    assert r.ci95_profile is not None
    assert close(r.ci95_profile[0], low)
    assert close(r.ci95_profile[1], high)


@needs_ref
def test_uk_five_lists_best_bic() -> None:
    r = estimate(load("UKdat_5.csv"), "bic", profile=False)
    assert close(r.estimate, 22_991, whole=True)
    assert all(len(t) == 2 for t in r.interactions)


@needs_ref
def test_new_orleans_stepwise_pvalue() -> None:
    r = estimate(load("NewOrl.csv"), "stepwise-pvalue", profile=False)
    assert r.interactions == [("D", "E")]
    assert close(r.estimate, 1_184, whole=True)


@needs_ref
def test_new_orleans_main_effects_wald() -> None:
    r = estimate(load("NewOrl.csv"), "main-effects", profile=False)
    assert close(r.estimate, 997, whole=True)
    # Published [644, 1,618]; ours is [644.9, 1,617.5]: the lower end is 0.14 % away, i.e.
    # the paper truncated 644.9 to whole persons (rounding would give 645).
    assert close(r.ci95_wald[0], 644, whole=True)
    assert math.floor(r.ci95_wald[0]) == 644
    assert close(r.ci95_wald[1], 1_618, whole=True)
    assert r.ci95_profile is None


@needs_ref
def test_new_orleans_five_lists_stepwise_pvalue() -> None:
    r = estimate(load("NewOrl_5.csv"), "stepwise-pvalue", profile=False)
    assert r.interactions == []
    assert close(r.estimate, 1_034, whole=True)


@needs_ref
def test_western_stepwise_pvalue() -> None:
    r = estimate(load("Western.csv"), "stepwise-pvalue", profile=False)
    assert r.interactions == [("A", "E")]
    assert close(r.estimate, 2_483, whole=True)


@needs_ref
def test_korea_best_bic() -> None:
    r = estimate(load("Korea.csv"), "bic", profile=False)
    assert close(r.estimate, 157, whole=True)


@needs_ref
def test_kosovo_best_bic_up_to_three_lists() -> None:
    r = estimate(load("Kosovo.csv"), "bic", max_order=3, profile=False)
    assert close(r.estimate, 10_357, whole=True)
    assert close(r.estimate, 10_356, whole=True)  # Ball et al. (2002)
    assert ("EXH", "ABA", "OSCE") in r.interactions


# --- existence, identifiability, non-overlapping lists ----------------------------------------


@needs_ref
def test_artificial_3_existence_and_identifiability() -> None:
    h = load("Artificial_3.csv")  # lists A, B, C; only A and B overlap
    all_pairs = [(0, 1), (0, 2), (1, 2)]
    # all two-list terms: A:C and B:C are -inf, and what is left has 5 parameters on 4 cells
    assert not fit_model(h, all_pairs).identifiable
    # A:B alone: the MLE does not exist (the LP optimum is 0)
    assert not check_existence(h, [(0, 1)])
    # A:C and B:C: both -inf, dropped with their cells; the rest is fine
    assert check_existence(h, [(0, 2), (1, 2)])
    assert fit_model(h, [(0, 2), (1, 2)]).identifiable
    assert check_existence(h)

    r = estimate(h, interactions=[("A", "B")], profile=False)
    assert not r.mle_exists
    assert any("does not exist" in w for w in r.warnings)


@needs_ref
def test_artificial_3_non_overlapping_pairs_dropped_but_counted() -> None:
    h = load("Artificial_3.csv")
    main = fit_model(h)
    fit = fit_model(h, [(0, 2), (1, 2)])
    assert fit.dropped == ((0, 2), (1, 2))
    assert len(fit.cells) == 7 - 3  # AC, BC and ABC are structural zeros now
    assert fit.n_params == main.n_params + 2  # the -inf parameters still count
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * fit.n_params)
    assert fit.bic == pytest.approx(-2 * fit.loglik + fit.n_params * math.log(96))
    r = estimate(h, interactions=[("A", "C"), ("B", "C")])
    assert r.dropped_interactions == [("A", "C"), ("B", "C")]
    assert r.mle_exists


@needs_ref
def test_stepwise_pvalue_skips_terms_whose_mle_would_not_exist() -> None:
    # On Artificial_3 the A:B overlap (6) is far above what independence predicts, but adding
    # A:B makes the MLE not exist, so the stepwise p-value method must not add it.
    r = estimate(load("Artificial_3.csv"), "stepwise-pvalue", profile=False)
    assert ("A", "B") not in r.interactions
    assert r.mle_exists


def test_zero_cells_are_data() -> None:
    # Two lists, 10 + 10 + 5: the Lincoln-Petersen estimate is 15 * 15 / 5 = 45.
    h = CaptureHistories(("A", "B"), {0b01: 10, 0b10: 10, 0b11: 5})
    assert estimate(h, profile=False).estimate == pytest.approx(45.0)
    # Three lists with unlisted histories: all 7 cells are in the fit, zeros included.
    h3 = CaptureHistories(("A", "B", "C"), {0b001: 20, 0b010: 15, 0b100: 10, 0b011: 3, 0b111: 1})
    fit = fit_model(h3)
    assert len(fit.cells) == 7
    assert sorted(h3.counts) == list(range(1, 8))
    assert float(fit.y.sum()) == 49
    assert float(fit.fitted.sum()) == pytest.approx(49)  # Poisson MLE with intercept


def test_wald_interval_is_lognormal() -> None:
    h = CaptureHistories(("A", "B", "C"), {1: 30, 2: 25, 4: 20, 3: 6, 5: 5, 6: 4, 7: 1})
    r = estimate(h, profile=True)
    fit = fit_model(h)
    b0, se = float(fit.coef[0]), fit.se_intercept
    assert r.ci95_wald[0] == pytest.approx(r.observed + math.exp(b0 - 1.959964 * se))
    assert r.ci95_wald[1] == pytest.approx(r.observed + math.exp(b0 + 1.959964 * se))
    assert r.unobserved == pytest.approx(math.exp(b0))
    assert r.ci95_profile is not None and r.estimate_profile is not None
    assert r.ci95_profile[0] < r.estimate_profile < r.ci95_profile[1]
    assert r.estimate_profile < r.estimate  # the multinomial maximum sits a little lower


def test_uninformative_lists_are_left_out() -> None:
    # C holds nobody; the answer equals the two-list one, with a warning.
    h = CaptureHistories(("A", "B", "C"), {0b001: 10, 0b010: 10, 0b011: 5})
    r = estimate(h, profile=False)
    assert r.lists == ("A", "B")
    assert r.estimate == pytest.approx(45.0)
    assert any("C" in w for w in r.warnings)
    with pytest.raises(InputError):
        estimate(CaptureHistories(("A", "B"), {0b01: 3}))


def test_unknown_method_and_names() -> None:
    h = CaptureHistories(("A", "B"), {1: 10, 2: 10, 3: 5})
    with pytest.raises(ValueError, match="unknown method"):
        estimate(h, "magic")
    with pytest.raises(ValueError, match="unknown list"):
        estimate(h, interactions=[("A", "Z")])


def test_hierarchical_model_enumeration() -> None:
    assert len(hierarchical_models(3, 2)) == 8
    assert len(hierarchical_models(5, 2)) == 1024
    four = hierarchical_models(4, 3)
    assert len(four) == 113  # hierarchical models on 4 lists, main effects in, no 4-way term
    for model in four:
        for term in model:
            if len(term) == 3:
                assert all(tuple(x for x in term if x != drop) in model for drop in term), model


@needs_ref
def test_result_to_dict_is_json() -> None:
    r = estimate(load("UKdat_4.csv"), "stepwise-aic")
    d = json.loads(json.dumps(r.to_dict()))
    for key in ("estimate", "ci95", "observed", "method", "interactions"):
        assert key in d
    assert d["method"] == "stepwise-aic"
    assert d["observed"] == 2_428
    assert len(d["ci95"]) == 2 and d["ci95"][0] < d["estimate"] < d["ci95"][1]
    assert d["interactions"] == ["LA:NG", "LA:PFNCA", "NG:GO"]


# --- reading capture histories ---------------------------------------------------------------


@needs_ref
def test_read_reference_csv() -> None:
    h = load("UKdat.csv")
    assert h.lists == ("LA", "NG", "PF", "GO", "GP", "NCA")
    assert h.observed == 2_744
    assert len(h.counts) == 63
    assert h.counts[0b000001] == 54  # LA only
    assert h.counts[0b101000] == 6  # GO (bit 3) and NCA (bit 5)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "histories.csv"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("A,B,n\n1,0,3\n", "no 'count' column"),
        ("count\n3\n", "no list columns"),
        ("A,B,count\n1,2,3\n", "line 2, column 2 (B): list membership must be 0 or 1"),
        ("A,B,count\n1,0,3\n0,1,4\n1,0,5\n", "line 4: the same capture history as line 2"),
        ("A,B,count\n0,0,3\n", "line 2: a history on no list"),
        ("A,B,count\n1,0,x\n", "line 2, column 3 (count): not a whole number"),
        ("A,B,count\n1,0,-1\n", "negative"),
        ("A,B,count\n1,0\n", "line 2: 2 fields, expected 3"),
        ("A,B,count\n", "no capture histories"),
        ("", "empty file"),
        ("A,A,count\n1,0,1\n", "duplicate list names"),
        ("count,A,B\n1,1,0\n", "'count' must be the last column"),
        (",".join(f"L{i}" for i in range(13)) + ",count\n" + "1," * 13 + "1\n", "at most 12"),
    ],
)
def test_read_capture_csv_errors(tmp_path: Path, text: str, fragment: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_capture_csv(p)
    assert fragment in str(err.value)
    assert str(p) in str(err.value)


def test_read_capture_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_capture_csv(tmp_path / "nope.csv")


def test_read_capture_csv_zero_rows_and_blank_lines(tmp_path: Path) -> None:
    h = read_capture_csv(write(tmp_path, "A,B,count\n1,0,3\n\n0,1,0\n1,1,2\n"))
    assert h.counts == {1: 3, 2: 0, 3: 2}
    assert h.observed == 5


# --- stats.json -------------------------------------------------------------------------------


def test_from_stats_matches_linkage_statistics() -> None:
    # persons: 0 at A and B; 1 at B; 2 at C; 3 at A and C; 4 at A, B and C
    agency_of = np.array([0, 1, 1, 2, 0, 2, 0, 1, 2])
    labels = np.array([0, 0, 1, 2, 3, 3, 4, 4, 4])
    stats_json = json.loads(json.dumps(linkage_statistics(("A", "B", "C"), agency_of, labels)))
    h = from_stats(stats_json)
    assert h.lists == ("A", "B", "C")
    assert h.counts == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1, 6: 0, 7: 1}


@needs_ref
def test_from_stats_round_trip_reproduces_csv_estimate() -> None:
    h = load("UKdat_4.csv")
    stats_json = {
        "records": {"per_agency": {name: 0 for name in h.lists}},
        "persons_by_agency_combination": [
            {"agencies": [h.lists[i] for i in range(h.k) if mask >> i & 1], "persons": c}
            for mask, c in sorted(h.counts.items())
            if c
        ],
    }
    r = estimate(from_stats(stats_json), "stepwise-aic", profile=False)
    assert close(r.estimate, 11_015.2)


@pytest.mark.parametrize(
    ("stats_json", "fragment"),
    [
        ({}, "records.per_agency"),
        ({"records": {"per_agency": {}}, "persons_by_agency_combination": []}, "no agencies"),
        (
            {
                "records": {"per_agency": {"A": 1}},
                "persons_by_agency_combination": [{"agencies": ["Z"], "persons": 1}],
            },
            "not in records.per_agency",
        ),
        (
            {
                "records": {"per_agency": {"A": 1}},
                "persons_by_agency_combination": [{"agencies": ["A"], "persons": -2}],
            },
            "whole number",
        ),
        (
            {
                "records": {"per_agency": {"A": 1, "B": 1}},
                "persons_by_agency_combination": [
                    {"agencies": ["A"], "persons": 1},
                    {"agencies": ["A"], "persons": 2},
                ],
            },
            "repeats",
        ),
    ],
)
def test_from_stats_errors(stats_json: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        from_stats(stats_json)


@needs_ref
def test_bic_passes_over_models_whose_mle_does_not_exist() -> None:
    h = load("Artificial_3.csv")
    # A:B alone has the lowest BIC only because its fit runs off to infinity
    loose = estimate(h, "bic", bic_require_existence=False, profile=False)
    assert loose.interactions == [("A", "B")] and not loose.mle_exists
    r = estimate(h, "bic", profile=False)
    assert r.interactions == [] and r.mle_exists
    assert any("does not exist: A:B" in w for w in r.warnings)
