"""Aggregate attributes: schema block, coarsening at the agency, the .blk attributes section,
one value per person at the coordinator, and public.json end to end."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import struct
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blindlink.encoding.attributes import AttributeCoder, age_in_years
from blindlink.errors import EncodedFileError, InputError, SchemaError
from blindlink.io.blk import FLAG_ATTRIBUTES, BlkWriter, read_blk, write_blk
from blindlink.pipeline.encode import encode, encode_file
from blindlink.schema import default_schema, parse_schema
from blindlink.stats.attributes import CONFLICTING, UNKNOWN, attribute_statistics
from blindlink.synth import CASE_ATTRIBUTE_COLUMNS, generate, write_dataset
from blindlink.types import STANDARD_COLUMNS, AttributeColumn, EncodedBatch, RecordAttributes
from helpers import run_cli

FINGERPRINT = "ab" * 32
KEY_CHECK = "cd" * 16
SECRET = b"k" * 32
ON = date(2024, 1, 1)


# ------------------------------------------------------------------------------ schema


def document() -> dict[str, Any]:
    return copy.deepcopy(default_schema().document)


def test_default_schema_marks_coarse_attributes() -> None:
    schema = default_schema()
    by_name = {a.name: a for a in schema.aggregate_attributes}
    assert list(by_name) == [
        "sex", "age_band", "nationality", "exploitation_type", "country_of_exploitation",
        "year_of_registration",
    ]  # fmt: skip
    assert by_name["age_band"].column == "date_of_birth"
    assert by_name["age_band"].categories == ("0-11", "12-17", "18-24", "25-34", "35-44", "45+")
    assert {a.name for a in schema.aggregate_attributes if a.optional} == {
        "exploitation_type", "country_of_exploitation", "year_of_registration",
    }  # fmt: skip
    # the required ones read columns the schema reads anyway: no new required column
    assert set(schema.attribute_columns) <= set(schema.columns)
    assert "UKR" in by_name["nationality"].categories and len(by_name["nationality"].values) > 200


def test_attribute_block_errors_are_collected_with_locations() -> None:
    doc = document()
    attributes = doc["aggregate_attributes"]
    attributes[0]["bands"] = [0, 18]  # not for a categorical
    del attributes[1]["bands"]  # an age band needs them
    attributes[2]["name"] = "sex"  # twice
    attributes[3]["codes"]["NOT_A_VALUE"] = ["X"]
    attributes[5]["last_year"] = attributes[5]["first_year"] - 1
    doc["aggregate_attributes"].append(
        {"name": "case", "column": "record_id", "kind": "year", "first_year": 2000,
         "last_year": 2001},
    )  # fmt: skip
    with pytest.raises(SchemaError) as caught:
        parse_schema(doc, source="s.json")
    message = str(caught.value)
    for expected in (
        "$.aggregate_attributes[0].bands: does not apply to a 'categorical' attribute",
        "$.aggregate_attributes[1]: a 'age_band' attribute needs 'bands'",
        "$.aggregate_attributes[2].name: attribute name 'sex' is used twice",
        "$.aggregate_attributes[3].codes.NOT_A_VALUE: is not one of the attribute's 'values'",
        "$.aggregate_attributes[5].last_year",
        "$.aggregate_attributes[6].column: the id column must not be sent",
    ):
        assert expected in message


def test_attribute_block_structure_errors() -> None:
    doc = document()
    doc["aggregate_attributes"][0]["kind"] = "free_text"  # free text could carry anything
    doc["aggregate_attributes"][2]["values"] = ["lower case"]
    doc["aggregate_attributes"][1]["bands"] = [5, 3]
    with pytest.raises(SchemaError) as caught:
        parse_schema(doc)
    message = str(caught.value)
    assert "$.aggregate_attributes[0].kind" in message
    assert "$.aggregate_attributes[2].values[0]" in message
    doc = document()
    doc["aggregate_attributes"][1]["bands"] = [5, 3]
    doc["aggregate_attributes"][1]["reference_date"] = "2023-02-30"
    with pytest.raises(SchemaError) as caught:
        parse_schema(doc)
    assert "bands: must start at 0 and rise strictly" in str(caught.value)
    assert "reference_date: not a calendar date" in str(caught.value)


def test_schema_without_attributes_is_still_valid() -> None:
    doc = document()
    del doc["aggregate_attributes"]
    schema = parse_schema(doc)
    assert schema.aggregate_attributes == ()
    assert schema.fingerprint != default_schema().fingerprint


# ------------------------------------------------------------------- coarsening at the agency


def coded(column: str, values: list[str], on: date = ON) -> list[str]:
    """What leaves the agency for ``values`` of a default-schema attribute."""
    attribute = next(a for a in default_schema().aggregate_attributes if a.column == column)
    coder = AttributeCoder([attribute], on=on)
    labels = (UNKNOWN, *coder.columns[0].values)
    return [labels[c] for c in coder.codes({column: values}, len(values))[:, 0].tolist()]


def test_categorical_values_are_mapped_and_closed() -> None:
    assert coded("sex", ["F", " female ", "Ж", "m", "U", "", "Fem"]) == [
        "F", "F", "F", "M", UNKNOWN, UNKNOWN, UNKNOWN,
    ]  # fmt: skip
    # anything not on the list -- a typo, a name typed in the wrong column -- is unknown
    assert coded("nationality", ["ukr", "XXX", "Smith", "XKX"]) == ["UKR", UNKNOWN, UNKNOWN, "XKX"]
    assert coded("exploitation_type", ["Sexual exploitation", "forced labor", "begging", "?"]) == [
        "SEXUAL", "FORCED_LABOUR", "FORCED_BEGGING", UNKNOWN,
    ]  # fmt: skip


def test_age_bands_from_dates_of_birth_never_the_date() -> None:
    values = ["2006-01-01", "2006-01-02", "15.06.1990", "2012", "2012-02", "1900-01-01", "2030",
              "1890-01-01", "not a date", ""]  # fmt: skip
    assert coded("date_of_birth", values) == [
        "18-24", "12-17", "25-34", "0-11", "0-11", UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN,
    ]  # fmt: skip
    assert age_in_years(2012, None, None, date(2024, 6, 30)) == 11  # a year counts from 1 July
    assert age_in_years(2012, None, None, date(2024, 7, 1)) == 12
    assert age_in_years(2012, 3, None, date(2024, 3, 14)) == 11  # a month from the 15th
    assert age_in_years(2012, 3, None, date(2024, 3, 15)) == 12


def test_years_of_registration() -> None:
    assert coded("registration_date", ["2021-03-04", "04.03.2019", "2021", "1980", ""]) == [
        "2021", "2019", "2021", UNKNOWN, UNKNOWN,
    ]  # fmt: skip


def test_reference_date_defaults_to_today_and_can_be_fixed() -> None:
    attribute = next(a for a in default_schema().aggregate_attributes if a.kind == "age_band")
    assert AttributeCoder([attribute]).columns[0].reference_date == date.today().isoformat()
    doc = document()
    doc["aggregate_attributes"][1]["reference_date"] = "2020-06-30"
    fixed = next(a for a in parse_schema(doc).aggregate_attributes if a.kind == "age_band")
    assert AttributeCoder([fixed], on=ON).columns[0].reference_date == "2020-06-30"


# ------------------------------------------------------------------------------ .blk


def columns() -> tuple[AttributeColumn, ...]:
    return (
        AttributeColumn("sex", "categorical", ("F", "M")),
        AttributeColumn("age_band", "age_band", ("0-17", "18+"), "2024-01-01"),
    )


def batch(attributes: RecordAttributes | None, n: int = 3) -> EncodedBatch:
    rng = np.random.default_rng(1)
    return EncodedBatch(
        agency="agency-a",
        schema_fingerprint=FINGERPRINT,
        key_check=KEY_CHECK,
        filter_bits=64,
        record_ids=tuple(f"r{i}" for i in range(n)),
        filters=rng.integers(0, 256, size=(n, 8), dtype=np.uint8),
        attributes=attributes,
    )


def test_blk_round_trip_with_attributes(tmp_path: Path) -> None:
    codes = np.array([[1, 2], [0, 1], [2, 0]], dtype=np.uint16)
    original = batch(RecordAttributes(columns(), codes))
    write_blk(tmp_path / "a.blk", original)
    raw = (tmp_path / "a.blk").read_bytes()
    _, version, flags, header_length = struct.unpack_from("<8sHHI", raw)
    assert (version, flags) == (1, FLAG_ATTRIBUTES)
    header = json.loads(raw[16 : 16 + header_length])
    assert header["attributes"] == [
        {"kind": "categorical", "name": "sex", "values": ["F", "M"]},
        {"kind": "age_band", "name": "age_band", "reference_date": "2024-01-01",
         "values": ["0-17", "18+"]},
    ]  # fmt: skip
    # the section: n x m little-endian uint16 codes, row by row, just before the trailer
    section = raw[-32 - 12 : -32]
    assert section == codes.astype("<u2").tobytes()
    assert raw[-32:] == hashlib.sha256(raw[:-32]).digest()
    back = read_blk(tmp_path / "a.blk")
    assert back.attributes is not None
    assert back.attributes.columns == columns()
    assert back.attributes.codes.dtype == np.uint16
    np.testing.assert_array_equal(back.attributes.codes, codes)
    assert "attributes" not in repr(back) and "RecordAttributes" not in repr(back)


def test_blk_without_attributes_is_unchanged(tmp_path: Path) -> None:
    write_blk(tmp_path / "a.blk", batch(None))
    raw = (tmp_path / "a.blk").read_bytes()
    assert struct.unpack_from("<8sHHI", raw)[2] == 0
    assert b"attributes" not in raw
    assert read_blk(tmp_path / "a.blk").attributes is None
    vector = Path(__file__).resolve().parents[1] / "protocols" / "test-vectors" / "blk-v1-small.blk"
    assert read_blk(vector).attributes is None  # files of earlier releases still read


def test_blk_writer_in_chunks_matches_write_blk(tmp_path: Path) -> None:
    codes = np.array([[1, 2], [0, 1], [2, 0], [1, 1]], dtype=np.uint16)
    whole = batch(RecordAttributes(columns(), codes), n=4)
    write_blk(tmp_path / "a.blk", whole)
    with BlkWriter(
        tmp_path / "b.blk", agency="agency-a", schema_fingerprint=FINGERPRINT,
        key_check=KEY_CHECK, filter_bits=64, attributes=columns(),
    ) as writer:  # fmt: skip
        writer.add(whole.record_ids[:3], whole.filters[:3], codes[:3])
        writer.add(whole.record_ids[3:], whole.filters[3:], codes[3:])
        written = writer.finish()
    assert written.attributes is not None
    np.testing.assert_array_equal(written.attributes.codes, codes)
    assert (tmp_path / "a.blk").read_bytes() == (tmp_path / "b.blk").read_bytes()


def test_blk_refuses_bad_attributes(tmp_path: Path) -> None:
    too_high = np.array([[3, 0], [0, 0], [0, 0]], dtype=np.uint16)
    with pytest.raises(InputError, match="'sex' has a code above its 2 values"):
        write_blk(tmp_path / "a.blk", batch(RecordAttributes(columns(), too_high)))
    with pytest.raises(InputError, match="shape"):
        write_blk(tmp_path / "a.blk", batch(RecordAttributes(columns(), too_high[:2])))
    with pytest.raises(InputError, match="uint16"):
        write_blk(tmp_path / "a.blk", batch(RecordAttributes(columns(), too_high.astype(np.int64))))
    bad = (AttributeColumn("Sex!", "categorical", ("F",)),)
    with pytest.raises(InputError, match="attribute column 1 has a name"):
        write_blk(tmp_path / "a.blk", batch(RecordAttributes(bad, np.zeros((3, 1), np.uint16))))
    assert not (tmp_path / "a.blk").exists()


def rewrite(path: Path, edit: Any) -> None:
    """Change the header of an encoded file and fix its checksum (a faulty writer)."""
    raw = path.read_bytes()
    length = struct.unpack_from("<I", raw, 12)[0]
    header = json.loads(raw[16 : 16 + length])
    flags = edit(header)
    new = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    prefix = raw[:8] + struct.pack("<HHI", 1, flags, len(new))
    body = prefix + new + raw[16 + length : -32]
    path.write_bytes(body + hashlib.sha256(body).digest())


def test_blk_reader_checks_the_attributes_section(tmp_path: Path) -> None:
    path = tmp_path / "a.blk"
    codes = np.array([[1, 2], [0, 1], [2, 0]], dtype=np.uint16)
    write_blk(path, batch(RecordAttributes(columns(), codes)))
    raw = path.read_bytes()
    flipped = bytearray(raw)
    flipped[-33] ^= 1  # a bit of the last code
    path.write_bytes(bytes(flipped))
    with pytest.raises(EncodedFileError, match="checksum does not match"):
        read_blk(path)
    path.write_bytes(raw[:-34] + raw[-32:])  # a code short
    with pytest.raises(EncodedFileError, match="truncated"):
        read_blk(path)

    def no_flag(header: dict[str, Any]) -> int:
        return 0

    path.write_bytes(raw)
    rewrite(path, no_flag)
    with pytest.raises(EncodedFileError, match="attributes flag is not set"):
        read_blk(path)

    def few_values(header: dict[str, Any]) -> int:
        header["attributes"][0]["values"] = ["F"]
        return FLAG_ATTRIBUTES

    path.write_bytes(raw)
    rewrite(path, few_values)
    with pytest.raises(EncodedFileError, match="attributes section: attribute 'sex' has a code"):
        read_blk(path)

    def repeated(header: dict[str, Any]) -> int:
        header["attributes"][1]["name"] = "sex"
        return FLAG_ATTRIBUTES

    path.write_bytes(raw)
    rewrite(path, repeated)
    with pytest.raises(EncodedFileError, match="repeats the name"):
        read_blk(path)


# ------------------------------------------------------------------- encoding pipeline


ROWS = [
    {"record_id": "1", "given_name": "Olena", "family_name": "Kovalenko",
     "date_of_birth": "2007-05-01", "sex": "Ж", "nationality": "UKR",
     "exploitation_type": "Sexual exploitation"},
    {"record_id": "2", "given_name": "Tesfaye", "family_name": "Mulugeta",
     "date_of_birth": "1990", "sex": "M", "nationality": "eth", "exploitation_type": ""},
]  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def labelled(b: EncodedBatch) -> list[dict[str, str]]:
    assert b.attributes is not None
    out = []
    for row in b.attributes.codes.tolist():
        out.append(
            {
                c.name: (c.values[code - 1] if code else UNKNOWN)
                for c, code in zip(b.attributes.columns, row, strict=True)
            }
        )
    return out


def test_encode_sends_present_optional_columns_only(tmp_path: Path) -> None:
    in_memory = encode(ROWS, secret=SECRET, agency="a", reference_date=ON)
    assert labelled(in_memory) == [
        {"sex": "F", "age_band": "12-17", "nationality": "UKR", "exploitation_type": "SEXUAL"},
        {"sex": "M", "age_band": "25-34", "nationality": "ETH", "exploitation_type": UNKNOWN},
    ]
    source = write_csv(tmp_path / "in.csv", ROWS)
    from_file = encode_file(source, tmp_path / "a.blk", secret=SECRET, agency="a",
                            reference_date=ON)  # fmt: skip
    assert labelled(from_file) == labelled(in_memory) == labelled(read_blk(tmp_path / "a.blk"))
    # without the optional column, the attribute is not sent at all
    standard = [{k: v for k, v in row.items() if k in STANDARD_COLUMNS} for row in ROWS]
    plain = encode(standard, secret=SECRET, agency="a", reference_date=ON)
    assert plain.attributes is not None
    assert plain.attributes.names == ("sex", "age_band", "nationality")
    # filters do not depend on the attributes
    np.testing.assert_array_equal(plain.filters, in_memory.filters)


def test_encode_file_with_workers_sends_the_same_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blindlink.pipeline import encode as encode_module

    monkeypatch.setattr(encode_module, "CHUNK_RECORDS", 150)
    monkeypatch.setattr(encode_module, "PARALLEL_CHUNK_LINES", 150)
    data = generate(400, n_agencies=1, seed=7)
    paths = write_dataset(data, tmp_path)
    agency = next(iter(data.agencies))
    one = encode_file(paths[agency], tmp_path / "one.blk", secret=SECRET, agency="a",
                      reference_date=ON, workers=1)  # fmt: skip
    encode_file(paths[agency], tmp_path / "two.blk", secret=SECRET, agency="a",
                reference_date=ON, workers=2)  # fmt: skip
    assert one.attributes is not None
    assert one.attributes.names == (
        "sex", "age_band", "nationality", "exploitation_type", "country_of_exploitation",
        "year_of_registration",
    )  # fmt: skip
    assert (tmp_path / "one.blk").read_bytes() == (tmp_path / "two.blk").read_bytes()
    memory = encode(paths[agency], secret=SECRET, agency="a", reference_date=ON)
    assert memory.attributes is not None
    np.testing.assert_array_equal(one.attributes.codes, memory.attributes.codes)
    known = (one.attributes.codes > 0).mean(axis=0)
    assert (known > 0.7).all()  # the generator's spellings are read, not lost as unknown


# ---------------------------------------------------------------- one value per person


def test_rules_when_records_disagree() -> None:
    cols = (
        AttributeColumn("sex", "categorical", ("F", "M")),
        AttributeColumn("age_band", "age_band", ("0-17", "18+"), "2024-01-01"),
        AttributeColumn("year_of_registration", "year", ("2020", "2021", "2022")),
    )
    a = RecordAttributes(
        cols,
        np.array(
            [
                [1, 2, 3],  # person 0 at agency a
                [2, 1, 2],  # person 0 again: F/M tie, bands tie, years 2022 / 2021
                [0, 0, 0],  # person 1: nothing known here
                [1, 2, 1],  # person 2
                [1, 2, 0],  # person 2 again: F twice
            ],
            dtype=np.uint16,
        ),
    )
    b = RecordAttributes(cols[:1], np.array([[2], [2]], dtype=np.uint16))  # no age, no year
    labels = np.array([0, 0, 1, 2, 2, 1, 2])
    stats = attribute_statistics([a, b], [5, 2], labels)["attributes"]
    tables = stats["tables"]
    # person 0: F vs M tie -> conflicting; person 1: M (only b knows); person 2: F, F, M -> F
    assert tables["sex"]["persons"] == {"F": 1, "M": 1, CONFLICTING: 1, UNKNOWN: 0}
    assert tables["sex"]["persons_whose_records_disagree"] == 2
    # person 0: 0-17 vs 18+ tie -> the younger band; person 2: 18+ twice
    assert tables["age_band"]["persons"] == {"0-17": 1, "18+": 1, UNKNOWN: 1}
    assert tables["age_band"]["reference_dates"] == ["2024-01-01"]
    # person 0: 2022 and 2021 -> earliest; person 2: 2020
    assert tables["year_of_registration"]["persons"] == {
        "2020": 1, "2021": 1, "2022": 0, UNKNOWN: 1,
    }  # fmt: skip
    crossed = stats["cross_tabulations"]["sex_by_age_band"]["persons"]
    assert crossed[CONFLICTING]["0-17"] == 1 and crossed["F"]["18+"] == 1
    assert crossed["M"][UNKNOWN] == 1
    assert set(stats["rules"]) == {"unknown", "categorical", "age_band", "year"}
    assert attribute_statistics([None, None], [5, 2], labels) == {}


def test_files_with_different_value_lists_count_together() -> None:
    first = RecordAttributes(
        (AttributeColumn("sex", "categorical", ("F", "M")),), np.array([[1]], np.uint16)
    )
    second = RecordAttributes(
        (AttributeColumn("sex", "categorical", ("M", "F", "X")),), np.array([[2], [3]], np.uint16)
    )
    tables = attribute_statistics([first, second], [1, 2], np.array([0, 0, 1]))["attributes"]
    assert tables["tables"]["sex"]["persons"] == {"F": 1, "M": 0, "X": 1, CONFLICTING: 0,
                                                  UNKNOWN: 0}  # fmt: skip


# --------------------------------------------------------------------------- end to end


def counts_in(node: Any, key: str = "") -> list[int]:
    if key in ("disclosure_control", "linkage", "version"):
        return []
    if isinstance(node, dict):
        return [n for k, v in node.items() for n in counts_in(v, k)]
    if isinstance(node, list):
        return [n for v in node for n in counts_in(v, key)]
    return [node] if isinstance(node, int) and not isinstance(node, bool) else []


def test_cli_encode_link_writes_public_json_without_small_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = generate(700, n_agencies=3, seed=4)
    paths = write_dataset(data, tmp_path)
    with paths[next(iter(data.agencies))].open(encoding="utf-8") as handle:
        assert next(csv.reader(handle))[-3:] == list(CASE_ATTRIBUTE_COLUMNS)
    assert run_cli(["keygen", "--out", str(tmp_path / "secret.key")], capsys)[0] == 0
    blks = []
    for agency in data.agencies:
        code, _, err = run_cli(
            ["encode", str(paths[agency]), "--secret-file", str(tmp_path / "secret.key"),
             "--agency", agency, "--out", str(tmp_path / f"{agency}.blk"),
             "--reference-date", "2024-01-01"],
            capsys,
        )  # fmt: skip
        assert code == 0, err
        blks.append(str(tmp_path / f"{agency}.blk"))
    out = tmp_path / "results"
    code, stdout, err = run_cli(
        ["link", *blks, "--out", str(out), "--seed", "1", "--min-cell", "12"], capsys
    )
    assert code == 0, err
    assert "public.json" in stdout
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    public = json.loads((out / "public.json").read_text(encoding="utf-8"))
    assert set(stats["attributes"]["tables"]) == {
        "sex", "age_band", "nationality", "exploitation_type", "country_of_exploitation",
        "year_of_registration",
    }  # fmt: skip
    assert stats["attributes"]["tables"]["age_band"]["reference_dates"] == ["2024-01-01"]
    # every person counted once in every attribute table
    for table in stats["attributes"]["tables"].values():
        assert sum(table["persons"].values()) == stats["unique_persons"]
    assert public["disclosure_control"]["min_cell"] == 12
    counts = counts_in(public)
    assert counts and min(counts) >= 12
    assert public["disclosure_control"]["counts_withheld"] > 0
    assert "records" not in public
    # no withheld count is the only unknown of a published line
    combos = public["persons_by_agency_combination"]
    line = [row["persons"] for row in combos] + [public["unique_persons"]]
    assert sum(v is None for v in line) != 1
    for agency in public["agencies"]:
        line = [row["persons"] for row in combos if agency in row["agencies"]]
        line.append(public["persons_per_agency"][agency])
        assert sum(v is None for v in line) != 1
    for name, table in public["attributes"]["tables"].items():
        line = [*table["persons"].values(), table["total"]]
        assert sum(v is None for v in line) != 1, name
    # MSE needs the exact counts: it refuses public.json and reads stats.json
    code, _, err = run_cli(["estimate", str(out / "public.json")], capsys)
    assert code != 0 and "stats.json" in err
