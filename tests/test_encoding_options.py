"""Schema options beyond the default: field types, missing values, hashing, salting, layouts."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from blindlink.encoding.encoder import Encoder, EncodeReport
from blindlink.encoding.hashing import TokenHasher
from blindlink.encoding.keyed_random import keyed_integers, keyed_permutation
from blindlink.errors import InputError, SchemaError
from blindlink.schema import LinkageSchema, default_schema, parse_schema

SECRET = b"0123456789abcdef0123456789abcdef"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    inter = int(np.bitwise_count(a & b).sum())
    total = int(np.bitwise_count(a).sum() + np.bitwise_count(b).sum())
    return 2 * inter / total if total else 0.0


def schema_with(fields: list[dict[str, Any]], **encoding: Any) -> LinkageSchema:
    document = {
        "blindlink_schema": 1,
        "name": "test",
        "id_column": "id",
        "encoding": {"type": "clk", "filter_bits": 512, "hashing": "hmac-sha256-random"},
        "fields": fields,
    }
    document["encoding"].update(encoding)
    return parse_schema(document)


def plain_document() -> dict[str, Any]:
    """The built-in schema without hardening, so bits can be traced to tokens."""
    document = copy.deepcopy(default_schema().document)
    del document["encoding"]["hardening"]
    return document


def encode(schema: LinkageSchema, *rows: dict[str, str], secret: bytes = SECRET) -> np.ndarray:
    return Encoder(schema, secret).encode(list(rows))


NUMERIC = {
    "name": "height",
    "column": "height",
    "type": "numeric",
    "features": [{"kind": "numeric", "tolerance": 10, "resolution": 5, "hashes": 10}],
}


def test_numeric_similarity_falls_with_distance_and_vanishes_beyond_tolerance() -> None:
    schema = schema_with([NUMERIC], filter_bits=8192)  # few chance collisions
    filters = encode(schema, *[{"height": str(v)} for v in (160, 162, 166, 169, 175, 190)])
    scores = [dice(filters[0], filters[i]) for i in range(1, 6)]
    assert scores[0] > scores[1] > scores[2] > 0
    assert scores[3] == pytest.approx(0.0, abs=0.05)  # 15 apart: only hash collisions
    assert scores[4] == pytest.approx(0.0, abs=0.05)


def test_numbers_are_parsed_not_compared_as_text() -> None:
    schema = schema_with(
        [
            {
                "name": "n",
                "column": "n",
                "type": "numeric",
                "features": [{"kind": "exact", "hashes": 20}],
            }
        ]
    )
    filters = encode(schema, {"n": "2.50"}, {"n": " +2.5"}, {"n": "12 500"}, {"n": "12500.0"})
    assert np.array_equal(filters[0], filters[1])
    assert np.array_equal(filters[2], filters[3])
    report = EncodeReport()
    Encoder(schema, SECRET).encode([{"n": "about 3"}, {"n": ""}], report)
    assert (report.fields["n"].missing, report.fields["n"].invalid) == (2, 1)


def test_identifiers_ignore_spacing_case_and_script_of_digits() -> None:
    schema = schema_with(
        [
            {
                "name": "passport",
                "column": "passport",
                "type": "identifier",
                "features": [
                    {"kind": "exact", "hashes": 20},
                    {"kind": "ngrams", "n": 2, "hashes": 4},
                ],
            }
        ]
    )
    filters = encode(
        schema,
        {"passport": "ab 123-456"},
        {"passport": "AB123456"},
        {"passport": "AB١٢٣456"},
        {"passport": "AB123465"},
    )
    assert np.array_equal(filters[0], filters[1])
    assert np.array_equal(filters[0], filters[2])
    assert 0.3 < dice(filters[0], filters[3]) < 1.0  # a typo keeps the shared bigrams


def test_free_text_keeps_every_word_in_any_script() -> None:
    schema = schema_with(
        [
            {
                "name": "place",
                "column": "place",
                "type": "free_text",
                "features": [{"kind": "ngrams", "n": 2, "hashes": 8}],
            }
        ]
    )
    filters = encode(
        schema, {"place": "Odesa"}, {"place": "Одеса"}, {"place": "de la Paz"}, {"place": "la Paz"}
    )
    assert dice(filters[0], filters[1]) > 0.9
    assert dice(filters[2], filters[3]) < 1.0  # particles are words in free text


def test_positional_ngrams_tell_reordered_letters_apart() -> None:
    def field(positional: bool) -> dict[str, Any]:
        return {
            "name": "code",
            "column": "code",
            "type": "identifier",
            "features": [
                {"kind": "ngrams", "n": 2, "hashes": 10, "positional": positional, "padding": False}
            ],
        }

    rows = ({"code": "ABAB"}, {"code": "BABA"})
    plain = encode(schema_with([field(False)]), *rows)
    positional = encode(schema_with([field(True)]), *rows)
    assert dice(plain[0], plain[1]) > dice(positional[0], positional[1])


def test_month_year_needs_both_and_skips_placeholder_birthdays() -> None:
    schema = schema_with(
        [
            {
                "name": "dob",
                "column": "dob",
                "type": "date",
                "features": [{"kind": "month_year", "hashes": 20, "unknown_month_days": ["01-01"]}],
            }
        ]
    )
    filters = encode(
        schema, {"dob": "1990-05-07"}, {"dob": "1990-05"}, {"dob": "1990"}, {"dob": "1990-01-01"}
    )
    assert np.array_equal(filters[0], filters[1])
    assert not filters[2].any() and not filters[3].any()


def test_missing_value_placeholders_contribute_no_bits() -> None:
    document = copy.deepcopy(default_schema().document)
    for field in document["fields"][:2]:
        field["missing"] = {"values": ["Unknown", "N/A"]}
    schema = parse_schema(document)
    report = EncodeReport()
    row = {"given_name": "UNKNOWN", "family_name": "n/a", "sex": "F"}
    filters = Encoder(schema, SECRET).encode([row, {"sex": "F"}], report)
    assert np.array_equal(filters[0], filters[1])  # the placeholder is not a name
    assert report.fields["given_name"].missing == 2
    assert report.fields["given_name"].invalid == 0


def test_reject_missing_names_the_record_and_column() -> None:
    schema = schema_with(
        [
            {
                "name": "n",
                "column": "n",
                "type": "categorical",
                "missing": {"action": "reject"},
                "features": [{"kind": "exact", "hashes": 5}],
            }
        ]
    )
    encoder = Encoder(schema, SECRET)
    encoder.encode([{"n": "a"}])
    with pytest.raises(InputError, match=r"record 3, column 'n'"):
        encoder.encode([{"n": "b"}, {"n": " "}])


def test_double_hashing_positions_are_an_arithmetic_progression() -> None:
    hasher = TokenHasher(b"k" * 32, 1000, "hmac-sha256-double")
    positions = hasher.positions("g2:an", 6)
    steps = {(b - a) % 1000 for a, b in zip(positions, positions[1:], strict=False)}
    assert len(steps) == 1 and 0 not in steps
    random = TokenHasher(b"k" * 32, 1000).positions("g2:an", 6)
    assert positions != random


def test_double_hashing_encodes_similar_names_similarly() -> None:
    document = plain_document()
    document["encoding"]["hashing"] = "hmac-sha256-double"
    schema = parse_schema(document)
    rows = [
        {"given_name": "Mohammed", "family_name": "Hassan"},
        {"given_name": "Muhammad", "family_name": "Hasan"},
        {"given_name": "Olena", "family_name": "Kovalenko"},
    ]
    filters = encode(schema, *rows)
    assert dice(filters[0], filters[1]) > 0.7 > dice(filters[0], filters[2])
    assert not np.array_equal(filters, encode(parse_schema(plain_document()), *rows))


def test_salting_separates_records_with_other_salts() -> None:
    document = plain_document()
    document["encoding"]["salt"] = {"column": "birth_country"}
    schema = parse_schema(document)
    assert "birth_country" in schema.columns
    base = {"given_name": "Ana", "family_name": "Silva", "date_of_birth": "1990-01-02"}
    filters = encode(
        schema,
        {**base, "birth_country": "PT"},
        {**base, "birth_country": " pt"},
        {**base, "birth_country": "BR"},
    )
    assert np.array_equal(filters[0], filters[1])  # salts are normalised like codes
    assert dice(filters[0], filters[2]) < 0.2


def field_level(kind: str) -> LinkageSchema:
    fields = plain_document()["fields"]
    sizes = {
        "given_name": 256,
        "family_name": 256,
        "date_of_birth": 256,
        "sex": 64,
        "nationality": 128,
    }
    for field in fields:
        field["bits"] = sizes[field["name"]]
        if kind == "rbf":
            field["sample_bits"] = sizes[field["name"]] // 2
    total = (sum(sizes.values()) - sizes["family_name"]) // (2 if kind == "rbf" else 1)
    document = {
        **plain_document(),
        "fields": fields,
        "encoding": {"type": kind, "filter_bits": total, "hashing": "hmac-sha256-random"},
    }
    return parse_schema(document)


PEOPLE = [
    {
        "given_name": "Mohammed",
        "family_name": "Hassan",
        "date_of_birth": "1990-03-04",
        "sex": "M",
        "nationality": "SDN",
    },
    {
        "given_name": "Muhammad",
        "family_name": "Hasan",
        "date_of_birth": "1990-04-03",
        "sex": "M",
        "nationality": "SDN",
    },
    {
        "given_name": "Olena",
        "family_name": "Kovalenko",
        "date_of_birth": "2001-11-20",
        "sex": "F",
        "nationality": "UKR",
    },
]


def test_field_bloom_keeps_each_field_in_its_own_slice() -> None:
    schema = field_level("field_bloom")
    filters = encode(schema, *PEOPLE)
    assert filters.shape == (3, 88)  # given and family name share one filter
    only_sex = encode(schema, {"sex": "F"})
    assert only_sex[0, :64].sum() == 0 and only_sex[0, 64:72].any() and only_sex[0, 72:].sum() == 0
    assert dice(filters[0], filters[1]) > 0.7 > dice(filters[0], filters[2])


def test_rbf_samples_fields_by_weight_and_keys_the_sampling() -> None:
    schema = field_level("rbf")
    filters = encode(schema, *PEOPLE)
    assert filters.shape == (3, 44)
    assert dice(filters[0], filters[1]) > 0.7 > dice(filters[0], filters[2])
    assert not np.array_equal(filters, encode(schema, *PEOPLE, secret=b"y" * 32))
    # a field's bits land only where its samples were permuted to
    only_sex = encode(schema, {"sex": "F"})
    assert 0 < int(np.bitwise_count(only_sex).sum()) <= 32


def test_keyed_random_is_deterministic_and_a_permutation() -> None:
    permutation = keyed_permutation(b"k" * 32, 1000)
    assert sorted(permutation.tolist()) == list(range(1000))
    assert np.array_equal(permutation, keyed_permutation(b"k" * 32, 1000))
    assert not np.array_equal(permutation, keyed_permutation(b"j" * 32, 1000))
    draws = keyed_integers(b"k" * 32, 20_000, 10)
    assert draws.min() == 0 and draws.max() == 9
    assert np.all(np.abs(np.bincount(draws) - 2000) < 200)


@pytest.mark.parametrize(
    ("change", "location"),
    [
        (lambda d: d["fields"][0].update(bits=256), "$.fields[0].bits: not used by a 'clk'"),
        (
            lambda d: d["encoding"].update(type="field_bloom"),
            "$.fields[0]: a 'field_bloom' encoding needs 'bits'",
        ),
        (
            lambda d: d["fields"][3]["features"][0].update(positional=True),
            "$.fields[3].features[0].positional",
        ),
        (
            lambda d: d["fields"][2]["features"][0].update(tolerance=1.5),
            "a year tolerance is a whole number",
        ),
        (lambda d: d["encoding"].update(hardening=[{"kind": "blip"}]), "'blip' needs 'epsilon'"),
        (
            lambda d: d["encoding"].update(hardening=[{"kind": "xor_folding", "epsilon": 2}]),
            "hardening[0].epsilon: does not apply",
        ),
        (lambda d: d["encoding"].update(salt={"column": "record_id"}), "$.encoding.salt.column"),
        (lambda d: d["fields"][3].update(type="date"), "$.fields[3].features[0].kind"),
    ],
)
def test_meaning_errors_name_their_location(change: Any, location: str) -> None:
    document = copy.deepcopy(default_schema().document)
    change(document)
    with pytest.raises(SchemaError) as caught:
        parse_schema(document)
    assert location in str(caught.value)


def test_field_level_sizes_must_add_up() -> None:
    document = copy.deepcopy(field_level("rbf").document)
    document["encoding"]["filter_bits"] = 1024
    with pytest.raises(SchemaError, match=r"key groups' 'sample_bits' add up to 352"):
        parse_schema(document)


def hardened(*steps: dict[str, Any]) -> LinkageSchema:
    document = plain_document()
    document["encoding"]["hardening"] = list(steps)
    return parse_schema(document)


def test_hardening_steps_run_in_order_and_set_the_output_length() -> None:
    rows = PEOPLE * 2
    balanced = encode(hardened({"kind": "balancing"}), *rows)
    assert balanced.shape == (6, 256)
    assert set(np.bitwise_count(balanced).sum(axis=1).tolist()) == {1024}
    folded_then_balanced = encode(hardened({"kind": "xor_folding"}, {"kind": "balancing"}), *rows)
    assert folded_then_balanced.shape == (6, 128)
    assert set(np.bitwise_count(folded_then_balanced).sum(axis=1).tolist()) == {512}
    diffused = encode(hardened({"kind": "diffusion", "taps": 2, "output_bits": 2048}), *rows)
    assert diffused.shape == (6, 256)
    assert dice(diffused[0], diffused[1]) > dice(diffused[0], diffused[2])


def test_blip_flips_bits_afresh_on_every_run() -> None:
    schema = hardened({"kind": "blip", "epsilon": 3})
    first, second = encode(schema, *PEOPLE), encode(schema, *PEOPLE)
    assert not np.array_equal(first, second)
    plain = encode(parse_schema(plain_document()), *PEOPLE)
    flipped = int(np.bitwise_count(first ^ plain).sum())
    expected = 1 / (1 + np.exp(3)) * plain.size * 8
    assert 0.5 * expected < flipped < 1.5 * expected


def test_the_default_schema_diffuses_its_bloom_filters() -> None:
    schema = default_schema()
    assert [step.kind for step in schema.hardening] == ["diffusion"]
    raw = encode(parse_schema(plain_document()), *PEOPLE)
    assert not np.array_equal(encode(schema, *PEOPLE), raw)


def test_sex_written_as_a_word_in_several_languages_reads_as_its_code() -> None:
    words = ("F", " female ", "Ж", "أنثى", "女", "Femme")
    filters = encode(default_schema(), *[{"sex": w} for w in words], {"sex": "M"}, {"sex": "男"})
    assert all(np.array_equal(filters[0], row) for row in filters[1:6])
    assert np.array_equal(filters[6], filters[7])
    assert not np.array_equal(filters[0], filters[6])


def test_codes_are_checked_for_meaning() -> None:
    document = plain_document()
    document["fields"][3]["codes"] = {"M": ["MALE", "X"], "F": ["female", " x "]}
    document["fields"][2]["codes"] = {"Y": ["YES"]}
    with pytest.raises(SchemaError) as caught:
        parse_schema(document)
    assert "$.fields[3].codes.M: 'X' already stands for 'F'" in str(caught.value)
    assert "$.fields[2].codes: only a categorical field has codes" in str(caught.value)
