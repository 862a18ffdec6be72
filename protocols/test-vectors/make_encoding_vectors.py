"""Write the known-answer vectors for key derivation and record encoding (version 1).

Run from the repository root: ``python protocols/test-vectors/make_encoding_vectors.py``.
The vectors pin blindlink's behaviour so another implementation can prove byte compatibility;
tests/test_vectors.py checks that blindlink still reproduces them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blindlink.encoding.blocking_keys import BlockingKeyCoder
from blindlink.encoding.encoder import Encoder
from blindlink.encoding.keys import derive_key, key_check_value
from blindlink.schema import default_schema, load_schema

HERE = Path(__file__).resolve().parent
SECRET_TEXT = "6f1c2a9e0b7d4c3f8a5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00112"
RECORDS = [
    {"record_id": "1", "given_name": "Mohammed", "family_name": "Al-Hassan",
     "date_of_birth": "1990-05-03", "sex": "M", "nationality": "SYR"},
    {"record_id": "2", "given_name": "محمد", "family_name": "الحسن",
     "date_of_birth": "1990", "sex": "M", "nationality": ""},
    {"record_id": "3", "given_name": "Олександр", "family_name": "Шевченко",
     "date_of_birth": "1985-01", "sex": "", "nationality": "UKR"},
    {"record_id": "4", "given_name": "王伟", "family_name": "", "date_of_birth": "",
     "sex": "F", "nationality": "CHN"},
    {"record_id": "5", "given_name": "", "family_name": "", "date_of_birth": "31.13.1990",
     "sex": "", "nationality": ""},
    {"record_id": "6", "given_name": "UNKNOWN", "family_name": "Ахмедова",
     "date_of_birth": "03/05/1990", "sex": "f", "nationality": "xxx"},
]  # fmt: skip


#: Records for the example schema with extra columns (protocols/examples/extended-columns.json).
EXTENDED_RECORDS = [
    {"case_ref": "A-1", "given_name": "Oleksandr", "family_name": "Kovalenko",
     "date_of_birth": "14.03.1996", "document_number": "FA 123-456", "place_of_birth": "Odesa",
     "age_at_contact": "24"},
    {"case_ref": "A-2", "given_name": "Александр", "family_name": "Коваленко",
     "date_of_birth": "1996-03", "document_number": "fa123456", "place_of_birth": "Одеса",
     "age_at_contact": "25.5"},
    {"case_ref": "A-3", "given_name": "FNU", "family_name": "Tesfaye", "date_of_birth": "",
     "document_number": "", "place_of_birth": "unknown", "age_at_contact": "about 30"},
]  # fmt: skip
EXAMPLES = HERE.parent / "examples"


def _example(file: str, records: list[dict[str, str]], secret: bytes) -> dict[str, Any]:
    schema = load_schema(EXAMPLES / file)
    filters = Encoder(schema, secret).encode(records)
    return {
        "schema_file": f"examples/{file}",
        "schema_fingerprint": schema.fingerprint,
        "key_check": key_check_value(secret, schema.fingerprint),
        "records": [
            {"record": record, "filter_hex": row.tobytes().hex()}
            for record, row in zip(records, filters, strict=True)
        ],
    }


def _blocking_keys(schema: Any, secret: bytes) -> list[dict[str, list[str]]]:
    """Each record's blocking-key values (hex of the 8 bytes), by key name."""
    keys = BlockingKeyCoder(schema, secret).keys(
        {column: [r.get(column, "") for r in RECORDS] for column in schema.columns}, len(RECORDS)
    )
    out: list[dict[str, list[str]]] = []
    position = 0
    for counts in keys.counts.tolist():
        record: dict[str, list[str]] = {}
        for name, count in zip(keys.names, counts, strict=True):
            values = keys.values[position : position + count].tolist()
            record[name] = [value.to_bytes(8, "big").hex() for value in values]
            position += count
        out.append(record)
    return out


def build() -> dict[str, Any]:
    secret = SECRET_TEXT.encode("utf-8")
    schema = default_schema()
    groups = sorted({f.key_group for f in schema.fields})
    filters = Encoder(schema, secret).encode(RECORDS)
    blocking = _blocking_keys(schema, secret)
    return {
        "description": "blindlink encoding v1 known answers: secret text -> keys -> filters "
        "under the built-in schema and under the example schemas (every deterministic "
        "option). Filters are hex of the packed bits (MSB first); blocking keys (built-in "
        "schema) are hex of each value's 8 bytes, ascending, by key name.",
        "secret_text": SECRET_TEXT,
        "schema_fingerprint": schema.fingerprint,
        "keys": {f"group:{g}": derive_key(secret, f"group:{g}").hex() for g in groups}
        | {"key-check": derive_key(secret, "key-check").hex()}
        | {
            f"blocking:{k.name}": derive_key(secret, f"blocking:{k.name}").hex()
            for k in schema.blocking_keys
        },
        "key_check": key_check_value(secret, schema.fingerprint),
        "records": [
            {"record": record, "filter_hex": row.tobytes().hex(), "blocking_keys": keys}
            for record, row, keys in zip(RECORDS, filters, blocking, strict=True)
        ],
        "example_schemas": [
            _example("extended-columns.json", EXTENDED_RECORDS, secret),
            _example("field-level-rbf.json", RECORDS, secret),
        ],
    }


if __name__ == "__main__":
    (HERE / "encoding-v1.json").write_text(
        json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
