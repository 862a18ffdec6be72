"""Tests of the synthetic data generator: determinism, formats, and that it is *hard*."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from blindlink.encoding.normalise import parse_partial_date
from blindlink.synth import (
    CASE_ATTRIBUTE_COLUMNS,
    TRUTH_COLUMNS,
    CorruptionRates,
    SyntheticData,
    agency_names,
    generate,
    write_dataset,
)
from blindlink.types import STANDARD_COLUMNS

#: What the generator's agencies write for an unknown value (see _EXPORT_STYLES).
UNKNOWN_TEXTS = {"", "UNKNOWN", "N/A", "-", "Unknown", "n/a"}
NAT_RE = re.compile(r"^([A-Z]{3})?$")

SCRIPT_RANGES = {
    "Arabic": (0x0600, 0x06FF),
    "Cyrillic": (0x0400, 0x04FF),
    "Ethiopic": (0x1200, 0x137F),
    "Thai": (0x0E00, 0x0E7F),
    "CJK": (0x4E00, 0x9FFF),
    "Devanagari": (0x0900, 0x097F),
}


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return generate(n_persons=3000, n_agencies=4, seed=11)


@pytest.fixture(scope="module")
def default_data() -> SyntheticData:
    return generate()


def _records(d: SyntheticData) -> list[tuple[str, dict[str, str]]]:
    return [(agency, r) for agency, rows in d.agencies.items() for r in rows]


def _shared_fraction(d: SyntheticData, person_ids: list[str]) -> float:
    def key(pid: str) -> tuple[str, str]:
        p = d.persons[pid]
        return p["given_name"].casefold(), p["family_name"].casefold()

    counts = Counter(key(pid) for pid in person_ids)
    return sum(1 for pid in person_ids if counts[key(pid)] > 1) / len(person_ids)


def test_deterministic_for_a_seed() -> None:
    a = generate(400, seed=5)
    b = generate(400, seed=5)
    assert a.agencies == b.agencies
    assert a.truth == b.truth
    assert a.corruptions == b.corruptions
    assert a.persons == b.persons


def test_different_seeds_differ() -> None:
    a = generate(400, seed=5)
    b = generate(400, seed=6)
    assert a.agencies != b.agencies


def test_default_size_is_realistic(default_data: SyntheticData) -> None:
    assert list(default_data.agencies) == agency_names(4)
    total = sum(len(rows) for rows in default_data.agencies.values())
    assert 1000 <= total <= 2000
    assert default_data.n_persons == 1000


def test_columns_and_formats(data: SyntheticData) -> None:
    for _, r in _records(data):
        assert tuple(r) == (*STANDARD_COLUMNS, *CASE_ATTRIBUTE_COLUMNS)
        assert all(isinstance(v, str) for v in r.values())
        dob = r["date_of_birth"]
        if dob not in UNKNOWN_TEXTS:
            parsed = parse_partial_date(dob)
            assert parsed is not None, dob
            year, month, day = parsed
            if day is not None:
                dt.date(year, month or 0, day)  # a real calendar date
        assert r["sex"] in {"F", "M"} | UNKNOWN_TEXTS
        assert r["nationality"] in UNKNOWN_TEXTS or NAT_RE.match(r["nationality"])
        assert r["record_id"]
        assert {r["given_name"].strip(), r["family_name"].strip()} - UNKNOWN_TEXTS


def test_record_ids_unique_within_agency(data: SyntheticData) -> None:
    for rows in data.agencies.values():
        ids = [r["record_id"] for r in rows]
        assert len(ids) == len(set(ids))


def test_agencies_use_different_id_formats(data: SyntheticData) -> None:
    shapes = {re.sub(r"\d", "9", rows[0]["record_id"]) for rows in data.agencies.values()}
    assert len(shapes) == len(data.agencies)


def test_truth_covers_every_record(data: SyntheticData) -> None:
    keys = {(agency, r["record_id"]) for agency, r in _records(data)}
    assert keys == set(data.truth) == set(data.corruptions)
    assert set(data.truth.values()) <= set(data.persons)
    assert len(data.persons) == data.n_persons


def test_hidden_population_exists(data: SyntheticData) -> None:
    captured = set(data.truth.values())
    assert data.n_persons > len(captured)
    assert len(captured) > data.n_persons * 0.4


def test_within_agency_duplicates_exist(data: SyntheticData) -> None:
    dup_agencies = 0
    for agency, rows in data.agencies.items():
        counts = Counter(data.truth[(agency, r["record_id"])] for r in rows)
        if any(c > 1 for c in counts.values()):
            dup_agencies += 1
    assert dup_agencies >= 3


def test_cross_agency_overlaps_exist(data: SyntheticData) -> None:
    seen_by: dict[str, set[str]] = {}
    for (agency, _), pid in data.truth.items():
        seen_by.setdefault(pid, set()).add(agency)
    n_multi = sum(1 for agencies in seen_by.values() if len(agencies) >= 2)
    assert n_multi > 0.2 * len(seen_by)
    assert any(len(agencies) == len(data.agencies) for agencies in seen_by.values())


def test_several_scripts_appear(data: SyntheticData) -> None:
    chars = "".join(r["given_name"] + r["family_name"] for _, r in _records(data))
    codepoints = {ord(c) for c in chars}
    for script, (lo, hi) in SCRIPT_RANGES.items():
        assert any(lo <= c <= hi for c in codepoints), script
    # Latin with diacritics too (Vietnamese, Romanian, Polish, Spanish...).
    assert any(c in chars for c in "ễăđĐłșțñ")


def test_variant_romanisations_appear(data: SyntheticData) -> None:
    given = Counter(r["given_name"].strip().casefold() for _, r in _records(data))
    mohammed = {"mohammed", "muhammad", "mohamed", "mohamad"}
    assert len(mohammed & set(given)) >= 2
    differs = 0
    flagged = 0
    for (agency, rid), kinds in data.corruptions.items():
        if kinds != ("romanisation_variant",):
            continue
        flagged += 1
        record = next(r for r in data.agencies[agency] if r["record_id"] == rid)
        person = data.persons[data.truth[(agency, rid)]]
        got = (record["given_name"], record["family_name"])
        if got != (person["given_name"], person["family_name"]):
            differs += 1
    assert flagged > 20
    assert differs == flagged


def test_corruption_labels_match_values(data: SyntheticData) -> None:
    by_key = {(agency, r["record_id"]): r for agency, r in _records(data)}
    kinds_seen: Counter[str] = Counter()
    for key, kinds in data.corruptions.items():
        r = by_key[key]
        person = data.persons[data.truth[key]]
        kinds_seen.update(kinds)
        dob = parse_partial_date(r["date_of_birth"])
        if "dob_missing" in kinds:
            assert r["date_of_birth"] in UNKNOWN_TEXTS
        if "dob_year_only" in kinds:
            assert dob is not None and dob[1:] == (None, None)
        if "dob_year_month" in kinds:
            assert dob is not None and dob[1] is not None and dob[2] is None
        dob_kinds = {k for k in kinds if k.startswith("dob_")}
        if not dob_kinds:
            assert dob == parse_partial_date(person["date_of_birth"])
        if "sex_missing" in kinds:
            assert r["sex"] in UNKNOWN_TEXTS
        elif "sex_wrong" not in kinds:
            assert r["sex"] == person["sex"]
        if "nationality_missing" in kinds:
            assert r["nationality"] in UNKNOWN_TEXTS
        elif "nationality_other" in kinds:
            assert r["nationality"] not in UNKNOWN_TEXTS | {person["nationality"]}
        else:
            assert r["nationality"] == person["nationality"]
        if "family_missing" in kinds or "name_in_one_field" in kinds:
            assert r["family_name"] in UNKNOWN_TEXTS
        if not kinds:
            assert r["given_name"] == person["given_name"]
            assert r["family_name"] == person["family_name"]
    expected = {
        "native_script",
        "romanisation_variant",
        "typo_substitute",
        "typo_delete",
        "typo_insert",
        "typo_transpose",
        "diacritics_dropped",
        "names_swapped",
        "name_part_dropped",
        "name_part_added",
        "nickname",
        "case_variation",
        "whitespace",
        "dob_missing",
        "dob_year_only",
        "dob_year_month",
        "dob_day_month_swapped",
        "dob_off_by_year",
        "dob_jan_first",
        "dob_wrong",
        "sex_missing",
        "nationality_missing",
        "nationality_other",
    }
    assert expected <= set(kinds_seen)


def test_multi_part_names(data: SyntheticData) -> None:
    by_origin: dict[str, list[dict[str, str]]] = {}
    for p in data.persons.values():
        by_origin.setdefault(p["origin"], []).append(p)
    latin = by_origin["latin_american"]
    assert sum(" " in p["family_name"] for p in latin) > 0.6 * len(latin)  # two surnames
    vietnamese = by_origin["vietnamese"]
    assert sum(" " in p["given_name"] for p in vietnamese) > 0.6 * len(vietnamese)
    russian_women = [p for p in by_origin["russian"] if p["sex"] == "F"]
    assert not any(p["family_name"].endswith(("ov", "ev", "in")) for p in russian_women)
    assert any(p["family_name"].endswith(("ova", "eva", "ina")) for p in russian_women)


def test_full_name_sharing_grows_with_population() -> None:
    small = generate(1000, seed=2)
    large = generate(30_000, seed=2)
    small_share = _shared_fraction(small, sorted(set(small.truth.values())))
    large_share = _shared_fraction(large, sorted(set(large.truth.values())))
    assert 0.0 < small_share < 0.08
    assert large_share > 0.15
    assert large.n_persons > len(set(large.truth.values()))


def test_no_corruption_gives_canonical_records() -> None:
    d = generate(500, seed=3, rates=CorruptionRates.none())
    pids = [d.truth[(agency, r["record_id"])] for agency, r in _records(d)]
    for agency, r in _records(d):
        person = d.persons[d.truth[(agency, r["record_id"])]]
        assert d.corruptions[(agency, r["record_id"])] == ()
        assert (r["given_name"], r["family_name"]) == (person["given_name"], person["family_name"])
        assert parse_partial_date(r["date_of_birth"]) == parse_partial_date(person["date_of_birth"])
    for agency in d.agencies:
        agency_pids = [d.truth[(agency, r["record_id"])] for r in d.agencies[agency]]
        assert len(agency_pids) == len(set(agency_pids))
    assert pids


def test_more_corruption_means_fewer_clean_records() -> None:
    mild = generate(800, seed=4, rates=CorruptionRates().scaled(0.5))
    harsh = generate(800, seed=4, rates=CorruptionRates().scaled(2.0))

    def clean(d: SyntheticData) -> float:
        return sum(1 for k in d.corruptions.values() if not k) / len(d.corruptions)

    assert clean(mild) > clean(harsh)


def test_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="typo"):
        CorruptionRates(typo=1.5)
    with pytest.raises(ValueError):
        generate(0)
    with pytest.raises(ValueError):
        generate(10, n_agencies=0)


def test_many_agencies_get_unique_names() -> None:
    names = agency_names(40)
    assert len(set(names)) == 40
    d = generate(300, n_agencies=20, seed=1)
    assert len(d.agencies) == 20
    assert sum(len(rows) for rows in d.agencies.values()) > 0


def test_write_dataset_round_trip(tmp_path: Path) -> None:
    d = generate(300, n_agencies=3, seed=9)
    paths = write_dataset(d, tmp_path)
    assert set(paths) == {*d.agencies, "truth"}
    for agency, rows in d.agencies.items():
        assert paths[agency] == tmp_path / f"{agency}.csv"
        with paths[agency].open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = (*STANDARD_COLUMNS, *CASE_ATTRIBUTE_COLUMNS)
            assert tuple(next(reader)) == header
            assert [dict(zip(header, row, strict=True)) for row in reader] == rows
    with paths["truth"].open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == TRUTH_COLUMNS
        truth_rows = list(reader)
    assert len(truth_rows) == len(d.truth)
    for row in truth_rows:
        key = (row["agency"], row["record_id"])
        assert d.truth[key] == row["person_id"]
        assert tuple(filter(None, row["corruptions"].split(";"))) == d.corruptions[key]
    assert not list(tmp_path.glob(".*.tmp"))


def test_case_attribute_columns_vary_and_sometimes_disagree(data: SyntheticData) -> None:
    from blindlink.encoding.attributes import AttributeCoder
    from blindlink.schema import default_schema

    optional = [a for a in default_schema().aggregate_attributes if a.optional]
    coder = AttributeCoder(optional, on=dt.date(2024, 1, 1))
    values: dict[str, dict[str, set[int]]] = {a.name: {} for a in optional}
    for _, r in _records(data):
        codes = coder.codes({c: [r[c]] for c in CASE_ATTRIBUTE_COLUMNS}, 1)[0]
        for attribute, code in zip(optional, codes.tolist(), strict=True):
            if code:  # every spelling the generator writes is one the built-in schema reads
                values[attribute.name].setdefault(data.truth[(_, r["record_id"])], set()).add(code)
        for column in CASE_ATTRIBUTE_COLUMNS:
            if r[column] not in UNKNOWN_TEXTS:
                assert codes[CASE_ATTRIBUTE_COLUMNS.index(column)], (column, r[column])
    for name, per_person in values.items():
        distinct = {code for codes in per_person.values() for code in codes}
        assert len(distinct) >= 5, name  # realistic variation
        disagreeing = sum(len(codes) > 1 for codes in per_person.values())
        assert 0 < disagreeing < 0.5 * len(per_person), name  # occasional disagreement
    clean = generate(300, seed=3, rates=CorruptionRates.none())
    for agency, r in _records(clean):
        person = clean.persons[clean.truth[(agency, r["record_id"])]]
        assert r["exploitation_type"] in _spellings(person["exploitation_type"])
        assert r["country_of_exploitation"] == person["country_of_exploitation"]


def _spellings(code: str) -> set[str]:
    from blindlink.synth.generator import _EXPLOITATION_SPELLINGS

    return set(_EXPLOITATION_SPELLINGS[code])
