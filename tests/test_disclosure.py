"""Disclosure control for public.json: primary and secondary suppression, the audit, DP noise."""

from __future__ import annotations

import importlib
import math
from itertools import combinations
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindlink.errors import InputError
from blindlink.stats import disclosure
from blindlink.stats.disclosure import (
    CountSystem,
    DisclosureSettings,
    PrivacyUnavailable,
    public_statistics,
    recoverable_cells,
    single_subtraction_recoverable,
    suppress,
)
from blindlink.stats.mse import from_stats

K = 10
#: Counts as small-cell tables have them: many zeros and small numbers, some large ones.
COUNTS = st.one_of(st.integers(0, 3), st.integers(0, 15), st.integers(10, 400))


def one_way(counts: list[int]) -> CountSystem:
    system = CountSystem()
    system.total_of([system.cell(n) for n in counts])
    return system


def two_way(grid: list[list[int]]) -> CountSystem:
    """Cells, row totals, column totals and the grand total, with every line between them."""
    system = CountSystem()
    cells = [[system.cell(n) for n in row] for row in grid]
    rows = [system.total_of(row) for row in cells]
    columns = [system.total_of([row[j] for row in cells]) for j in range(len(grid[0]))]
    total = system.total_of(rows)
    system.line(total, columns)
    return system


def capture(counts: list[int], agencies: int) -> CountSystem:
    """Capture histories with persons per agency and unique persons as margins."""
    combos = [c for size in range(1, agencies + 1) for c in combinations(range(agencies), size)]
    system = CountSystem()
    cells = [system.cell(n) for n in counts[: len(combos)]]
    for a in range(agencies):
        system.total_of([cell for combo, cell in zip(combos, cells, strict=True) if a in combo])
    system.total_of(cells)
    return system


def check_protected(system: CountSystem, suppressed: set[int]) -> None:
    values = system.values
    # every count below K is withheld
    assert {i for i, v in enumerate(values) if v < K} <= suppressed
    # no withheld count is the only unknown of a line: total minus the published rest
    for total, parts in system.lines:
        unknown = [c for c in (total, *parts) if c in suppressed]
        assert len(unknown) != 1, (total, parts, unknown)
        withheld_parts = [values[p] for p in parts if p in suppressed]
        if unknown and total not in suppressed:
            assert sum(withheld_parts) >= K  # the line does not pin small counts either
    # nor a linear combination of published counts (checked independently, by least squares)
    hidden = sorted(suppressed)
    rows = []
    for total, parts in system.lines:
        row = np.zeros(len(hidden))
        for p in parts:
            if p in suppressed:
                row[hidden.index(p)] += 1
        if total in suppressed:
            row[hidden.index(total)] -= 1
        rows.append(row)
    if rows and hidden:
        matrix = np.array(rows)
        for j in range(len(hidden)):
            unit = np.zeros(len(hidden))
            unit[j] = 1
            coef, *_ = np.linalg.lstsq(matrix.T, unit, rcond=None)
            assert np.linalg.norm(matrix.T @ coef - unit) > 1e-6, hidden[j]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(COUNTS, min_size=1, max_size=30))
def test_one_way_tables_are_protected(counts: list[int]) -> None:
    system = one_way(counts)
    check_protected(system, suppress(system, K))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 6).flatmap(
            lambda c: st.lists(st.lists(COUNTS, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_two_way_tables_are_protected(grid: list[list[int]]) -> None:
    system = two_way(grid)
    check_protected(system, suppress(system, K))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4), st.lists(COUNTS, min_size=15, max_size=15))
def test_capture_histories_with_agency_margins_are_protected(
    agencies: int, counts: list[int]
) -> None:
    system = capture(counts, agencies)
    check_protected(system, suppress(system, K))


def test_single_small_cell_gets_a_partner() -> None:
    system = one_way([3, 50, 40, 200])
    suppressed = suppress(system, K)
    assert suppressed == {0, 2}  # the small cell and the smallest other one; total published
    assert not single_subtraction_recoverable(system, suppressed)


def test_small_cells_adding_up_to_less_than_k_get_a_large_partner() -> None:
    system = one_way([0, 0, 1, 50, 40])
    suppressed = suppress(system, K)
    assert {0, 1, 2, 4} == suppressed  # 0 + 0 + 1 would pin all three: the 40 goes too


def test_audit_finds_what_lines_alone_miss() -> None:
    # 2 agencies: N = a + b + ab, P_a = a + ab, P_b = b + ab. Hiding a, b and ab (each line
    # has two unknowns) still gives ab = P_a + P_b - N.
    system = capture([30, 40, 5], 2)
    assert recoverable_cells(system, {0, 1, 2}) == {0, 1, 2}
    suppressed = suppress(system, K)
    check_protected(system, suppressed)


def test_settings_are_checked() -> None:
    with pytest.raises(InputError, match="min_cell"):
        DisclosureSettings(min_cell=0)
    with pytest.raises(InputError, match="epsilon"):
        DisclosureSettings(epsilon=0.0)
    with pytest.raises(InputError, match="delta"):
        DisclosureSettings(epsilon=1.0, delta=1.0)
    with pytest.raises(InputError, match="delta needs epsilon"):
        DisclosureSettings(delta=1e-6)


def raw_stats() -> dict[str, Any]:
    """A stats.json as a run writes it (three agencies, attributes)."""
    grid = {
        "F": {"0-17": 40, "18+": 300, "unknown": 3},
        "M": {"0-17": 2, "18+": 120, "unknown": 12},
        "conflicting": {"0-17": 0, "18+": 1, "unknown": 0},
        "unknown": {"0-17": 0, "18+": 4, "unknown": 8},
    }
    total = sum(sum(row.values()) for row in grid.values())  # 490
    combos = [
        (["A"], 150), (["B"], 120), (["C"], 90), (["A", "B"], 60), (["A", "C"], 4),
        (["B", "C"], 30), (["A", "B", "C"], 36),
    ]  # fmt: skip
    assert sum(n for _, n in combos) == total
    return {
        "format": "blindlink-stats",
        "version": 1,
        "records": {"total": 560, "per_agency": {"A": 260, "B": 250, "C": 160}},
        "unique_persons": total,
        "persons_per_agency": {"A": 250, "B": 246, "C": 160},
        "duplicates_within_agency": {"A": 10, "B": 4, "C": 0},
        "persons_registered_more_than_once": {"A": 9, "B": 4, "C": 0},
        "persons_by_agency_combination": [{"agencies": names, "persons": n} for names, n in combos],
        "attributes": {
            "rules": {"categorical": "..."},
            "tables": {
                "sex": {
                    "kind": "categorical",
                    "persons": {r: sum(row.values()) for r, row in grid.items()},
                    "persons_whose_records_disagree": 3,
                },
                "age_band": {
                    "kind": "age_band",
                    "persons": {c: sum(row[c] for row in grid.values()) for c in grid["F"]},
                    "persons_whose_records_disagree": 5,
                    "reference_dates": ["2024-01-01"],
                },
                "exploitation_type": {
                    "kind": "categorical",
                    "persons": {
                        "SEXUAL": 250,
                        "FORCED_LABOUR": 200,
                        "OTHER": 7,
                        "conflicting": 3,
                        "unknown": 30,
                    },  # fmt: skip
                    "persons_whose_records_disagree": 9,
                },
            },
            "cross_tabulations": {
                "sex_by_age_band": {"rows": "sex", "columns": "age_band", "persons": grid}
            },
        },
        "linkage": {"threshold": 0.64, "solver": "multiparty", "links": 99},
    }


def published_counts(document: Any) -> list[int]:
    """Every number of public.json that is a count (not a setting)."""
    found: list[int] = []

    def walk(node: Any, key: str = "") -> None:
        if key in ("disclosure_control", "linkage"):
            return
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, int) and not isinstance(node, bool) and key != "version":
            found.append(node)

    walk(document)
    return found


def test_public_statistics_withholds_small_cells_and_keeps_lines_open() -> None:
    public = public_statistics(raw_stats())
    assert public["format"] == "blindlink-public-stats"
    assert public["disclosure_control"]["min_cell"] == K
    assert public["disclosure_control"]["differential_privacy"] is None
    assert all(n >= K for n in published_counts(public))
    assert "records" not in public and "duplicates_within_agency" not in public
    assert public["unique_persons"] == 490
    combos = {
        tuple(row["agencies"]): row["persons"] for row in public["persons_by_agency_combination"]
    }
    assert combos[("A", "C")] is None and combos[("A",)] is not None
    assert public["persons_registered_more_than_once"] == {"A": None, "B": None, "C": None}
    crossed = public["attributes"]["cross_tabulations"]["sex_by_age_band"]
    sex = public["attributes"]["tables"]["sex"]
    age = public["attributes"]["tables"]["age_band"]
    assert age["reference_dates"] == ["2024-01-01"]
    # rows of the cross-tabulation add up to the sex table, columns to the age table
    for r, row in crossed["persons"].items():
        cells = [*row.values(), sex["persons"][r]]
        assert sum(v is None for v in cells) != 1, r
    for c in age["persons"]:
        cells = [*(row[c] for row in crossed["persons"].values()), age["persons"][c]]
        assert sum(v is None for v in cells) != 1, c
    exploitation = public["attributes"]["tables"]["exploitation_type"]["persons"]
    assert exploitation["OTHER"] is None and exploitation["conflicting"] is None
    assert sum(v is None for v in exploitation.values()) >= 2


def test_public_statistics_with_another_threshold() -> None:
    public = public_statistics(raw_stats(), DisclosureSettings(min_cell=3))
    assert public["persons_registered_more_than_once"] == {"A": 9, "B": 4, "C": None}
    assert all(n >= 3 for n in published_counts(public))


def test_public_json_is_not_stats_json() -> None:
    public = public_statistics(raw_stats())
    with pytest.raises(InputError, match="public.json"):
        public_statistics(public)
    with pytest.raises(InputError, match=r"estimate from the run's stats\.json"):
        from_stats(public)


def test_many_agencies_leave_out_capture_histories() -> None:
    stats = raw_stats()
    stats["records"]["per_agency"] = {f"a{i}": 1 for i in range(13)}
    public = public_statistics(stats)
    assert "persons_by_agency_combination" not in public
    assert public["omitted"]


def test_missing_opendp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_opendp(name: str, *args: Any) -> Any:
        if name.startswith("opendp"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(disclosure.importlib, "import_module", no_opendp)
    with pytest.raises(PrivacyUnavailable, match=r"blindlink\[dp\]"):
        public_statistics(raw_stats(), DisclosureSettings(epsilon=1.0))


# ------------------------------------------------------------------- DP through OpenDP


@pytest.fixture
def opendp() -> Any:
    return pytest.importorskip(
        "opendp.prelude", reason="opendp is not installed: pip install 'blindlink[dp]'"
    )


def test_laplace_noise_is_centred_with_the_certified_scale(opendp: Any) -> None:
    # OpenDP draws from the operating system's secure randomness: no seed, so check the
    # distribution with wide tolerances instead (4,000 draws of scale 2: mean sd ~0.04).
    counts = [100] * 4000
    noisy, info = disclosure.noisy_counts(counts, epsilon=0.5, delta=0.0, contributions=1)
    assert info["noise_scale"] == pytest.approx(2.0, rel=0.01)  # 1 / epsilon per unit change
    assert "Laplace" in info["mechanism"] and info["library"].startswith("opendp")
    errors = np.array(noisy) - 100
    assert abs(errors.mean()) < 0.3
    assert 2.0 < errors.std() < 3.6  # discrete Laplace of scale 2: sd ~ 2.8
    assert all(isinstance(v, int) for v in noisy)


def test_gaussian_noise_for_approximate_dp(opendp: Any) -> None:
    counts = [50] * 3000
    noisy, info = disclosure.noisy_counts(counts, epsilon=1.0, delta=1e-6, contributions=4)
    assert "Gaussian" in info["mechanism"]
    scale = info["noise_scale"]
    errors = np.array(noisy) - 50
    assert abs(errors.mean()) < 0.15 * scale
    assert 0.8 * scale < errors.std() < 1.2 * scale
    # more contributions per person need more noise for the same budget
    _, wider = disclosure.noisy_counts(counts[:10], epsilon=1.0, delta=1e-6, contributions=16)
    assert wider["noise_scale"] == pytest.approx(2 * scale, rel=0.05)


def test_dp_public_statistics_add_up_and_are_suppressed(opendp: Any) -> None:
    public = public_statistics(raw_stats(), DisclosureSettings(epsilon=1.0))
    privacy = public["disclosure_control"]["differential_privacy"]
    assert privacy["epsilon"] == 1.0 and privacy["delta"] == 0.0
    # capture 1 + sex by age 1 + exploitation 1 + one per agency "registered more than once"
    assert privacy["person_contributes_to_at_most"] == 6
    assert all(n >= K for n in published_counts(public))
    crossed = public["attributes"]["cross_tabulations"]["sex_by_age_band"]
    for r, row in crossed["persons"].items():
        if None not in row.values() and public["attributes"]["tables"]["sex"]["persons"][r]:
            assert sum(row.values()) == public["attributes"]["tables"]["sex"]["persons"][r]
    combos = [row["persons"] for row in public["persons_by_agency_combination"]]
    if None not in combos and public["unique_persons"] is not None:
        assert sum(combos) == public["unique_persons"]
    assert any("OpenDP" in rule for rule in public["disclosure_control"]["rules"])


def test_dp_noise_changes_counts_but_not_much(opendp: Any) -> None:
    raw = raw_stats()
    runs = [public_statistics(raw, DisclosureSettings(epsilon=2.0)) for _ in range(5)]
    values = [run["persons_per_agency"]["A"] for run in runs]
    assert all(v is None or math.isclose(v, 250, abs_tol=80) for v in values)
    assert len({run["unique_persons"] for run in runs}) > 1  # noise, not a fixed offset
