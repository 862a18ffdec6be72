from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from blindlink.errors import SchemaError
from blindlink.schema import default_schema, load_schema, parse_schema

ROOT = Path(__file__).resolve().parents[1]


def test_default_schema_reads_the_standard_columns() -> None:
    schema = default_schema()
    assert schema.columns == (
        "record_id", "given_name", "family_name", "date_of_birth", "sex", "nationality",
    )  # fmt: skip
    assert schema.filter_bits == 1024
    assert len(schema.fingerprint) == 64


def test_fingerprint_changes_with_any_change() -> None:
    document = copy.deepcopy(default_schema().document)
    document["description"] = "changed"
    assert parse_schema(document).fingerprint != default_schema().fingerprint
    reordered = json.loads(json.dumps(default_schema().document, sort_keys=True))
    assert parse_schema(reordered).fingerprint == default_schema().fingerprint


def test_every_error_is_reported_with_its_location() -> None:
    document = copy.deepcopy(default_schema().document)
    del document["name"]
    document["encoding"]["filter_bits"] = 1001
    document["fields"][2]["features"][0]["hashes"] = 0
    with pytest.raises(SchemaError) as caught:
        parse_schema(document, source="s.json")
    message = str(caught.value)
    assert "$: 'name' is a required property" in message
    assert "$.encoding.filter_bits" in message
    assert "$.fields[2].features[0].hashes" in message


def test_meaning_errors() -> None:
    document = copy.deepcopy(default_schema().document)
    document["fields"][0]["features"][0]["kind"] = "year"
    document["fields"][1]["name"] = "given_name"
    with pytest.raises(SchemaError) as caught:
        parse_schema(document)
    assert "$.fields[0].features[0].kind: 'year' does not apply to a person_name field" in str(
        caught.value
    )
    assert "$.fields[1].name: field name 'given_name' is used twice" in str(caught.value)


def test_load_schema_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_schema(bad)
    with pytest.raises(SchemaError, match="cannot read schema"):
        load_schema(tmp_path / "missing.json")


def test_packaged_json_schema_is_the_protocol_one() -> None:
    packaged = ROOT / "src" / "blindlink" / "schema" / "linkage-schema.schema.json"
    assert packaged.read_bytes() == (ROOT / "protocols" / "linkage-schema.schema.json").read_bytes()


EXAMPLES = ROOT / "protocols" / "examples"


def test_example_schemas_are_valid() -> None:
    for name in ("extended-columns.json", "field-level-rbf.json"):
        schema = load_schema(EXAMPLES / name)
        assert schema.fingerprint != default_schema().fingerprint
    extended = load_schema(EXAMPLES / "extended-columns.json")
    assert extended.filter_bits == 1024 and extended.bloom_bits == 2048
    assert "document_number" in extended.columns
    rbf = load_schema(EXAMPLES / "field-level-rbf.json")
    assert rbf.filter_bits == 1024 and rbf.salt_column == "sex" and "sex" in rbf.columns


def test_invalid_meaning_example_reports_every_problem() -> None:
    with pytest.raises(SchemaError) as caught:
        load_schema(EXAMPLES / "invalid-meaning.json")
    message = str(caught.value)
    for location in (
        "$.fields[0].features[0].resolution: does not apply",
        "$.fields[0].features[1]: a phonetic feature needs an 'algorithm'",
        "$.fields[1].name: field name 'given_name' is used twice",
        "$.fields[1].features[0].kind: 'exact' does not apply to a date field",
        "$.fields[1].features[1].tolerance: a year tolerance is a whole number",
        "$.fields[2].features[0].tolerance: a numeric feature needs a tolerance",
        "$.fields[2].sample_bits: not used by a 'field_bloom' encoding",
        "$.encoding.salt.column",
        "$.encoding.hardening[0]: 'blip' needs 'epsilon'",
        "$.encoding.hardening[1].taps: does not apply to 'xor_folding'",
    ):
        assert location in message, location
