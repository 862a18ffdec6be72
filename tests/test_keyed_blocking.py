"""Keyed blocking keys: agency side (values), transport (.blk section), coordinator (search)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blindlink.encoding.blocking_keys import BlockingKeyCoder, key_message
from blindlink.encoding.keys import derive_key
from blindlink.errors import EncodedFileError, InputError, SchemaError
from blindlink.io.blk import BlkWriter, read_blk, write_blk
from blindlink.kernels.dice_reference import candidate_pairs_reference
from blindlink.linkage.keyed_blocking import (
    BlockingKeyIndex,
    gather_blocking_keys,
    keyed_candidate_pairs,
    keyed_search,
)
from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import link
from blindlink.schema import default_schema, parse_schema
from blindlink.types import EncodedBatch, RecordBlockingKeys
from helpers import run_cli

SECRET = b"test-secret-0123456789abcdef"
OTHER_SECRET = b"another-secret-0123456789abcdef"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def schema_with(keys: list[dict[str, Any]]) -> Any:
    document = copy.deepcopy(default_schema().document)
    document["blocking_keys"] = keys
    return parse_schema(document)


FAMILY_SOUNDEX = {
    "name": "family",
    "parts": [{"field": "family_name", "feature": "phonetic", "algorithm": "soundex"}],
}


def key_values(
    schema: Any, records: Sequence[Mapping[str, str]], secret: bytes = SECRET
) -> list[list[list[int]]]:
    """Per record, per key, the values (as ints)."""
    coder = BlockingKeyCoder(schema, secret)
    columns = {c: [r.get(c, "") for r in records] for c in schema.columns}
    keys = coder.keys(columns, len(records))
    out: list[list[list[int]]] = []
    position = 0
    for counts in keys.counts.tolist():
        row = []
        for count in counts:
            row.append(keys.values[position : position + count].tolist())
            position += count
        out.append(row)
    return out


# ------------------------------------------------------------------------------ agency side


def test_native_script_and_romanised_names_get_the_same_key() -> None:
    schema = schema_with([FAMILY_SOUNDEX])
    values = key_values(
        schema,
        [{"family_name": "Коваленко"}, {"family_name": "Kovalenko"}, {"family_name": "KOVALENKO"},
         {"family_name": "Kowalski"}],
    )  # fmt: skip
    assert values[0] == values[1] == values[2] and len(values[0][0]) == 1
    assert values[3] != values[0]


def test_value_is_the_truncated_hmac_under_the_blocking_key() -> None:
    """protocols/keys.md: HMAC-SHA256(HKDF purpose 'blocking:<name>', parts joined by
    U+001F), first 8 bytes, big-endian."""
    schema = schema_with([FAMILY_SOUNDEX])
    (value,) = key_values(schema, [{"family_name": "Ivanova"}])[0][0]
    key = derive_key(SECRET, "blocking:family")
    expected = hmac.digest(key, b"I151", hashlib.sha256)[:8]
    assert value == int.from_bytes(expected, "big")
    assert key_message(["I151", "1990"]) == b"I151\x1f1990"


def test_values_depend_on_the_secret() -> None:
    schema = schema_with([FAMILY_SOUNDEX])
    records = [{"family_name": "Ivanova"}, {"family_name": "Mulugeta"}]
    assert key_values(schema, records) == key_values(schema, records)
    mine, theirs = key_values(schema, records), key_values(schema, records, OTHER_SECRET)
    assert all(set(a[0]).isdisjoint(b[0]) for a, b in zip(mine, theirs, strict=True))


def test_missing_part_gives_no_value_and_parts_combine() -> None:
    schema = schema_with(
        [
            {
                "name": "name_year",
                "parts": [
                    {"fields": ["given_name", "family_name"], "feature": "skeleton"},
                    {"field": "date_of_birth", "feature": "year"},
                ],
            },
            {
                "name": "pairs",
                "parts": [
                    {
                        "fields": ["given_name", "family_name"],
                        "feature": "initial",
                        "words": "pairs",
                    }
                ],
            },  # fmt: skip
        ]
    )
    values = key_values(
        schema,
        [
            {"given_name": "Olena", "family_name": "Kovalenko", "date_of_birth": "1998-11-20"},
            {"given_name": "Kovalenko", "family_name": "Olena", "date_of_birth": "1998"},
            {"given_name": "Olena", "family_name": "Kovalenko", "date_of_birth": "1900-01-01"},
            {"given_name": "unknown", "family_name": "", "date_of_birth": "1998"},
        ],
    )
    assert len(values[0][0]) == 2 and values[0][0] == values[1][0]  # swapped names agree
    assert values[2][0] == [] and values[3][0] == []  # placeholder date; placeholder name
    assert len(values[0][1]) == 1 and values[0][1] == values[1][1] == values[2][1]
    assert values[3][1] == []  # one word: no pair
    assert all(row[k] == sorted(set(row[k])) for row in values for k in range(2))


def test_encode_attaches_the_default_schemas_keys() -> None:
    batch = encode(
        [{"record_id": "1", "given_name": "Olena", "family_name": "Kovalenko",
          "date_of_birth": "1998-11-20", "sex": "F", "nationality": "UKR"}],
        secret=SECRET, agency="a", blocking_keys=True,
    )  # fmt: skip
    assert batch.blocking_keys is not None
    assert batch.blocking_keys.names == tuple(k.name for k in default_schema().blocking_keys)
    assert "blocking_keys" not in repr(batch)


def test_asking_for_keys_a_schema_lacks_is_an_input_error() -> None:
    document = copy.deepcopy(default_schema().document)
    del document["blocking_keys"]
    record = {"record_id": "1", "given_name": "Olena", "family_name": "Kovalenko",
              "date_of_birth": "", "sex": "", "nationality": ""}  # fmt: skip
    plain = encode([record], secret=SECRET, agency="a", schema=parse_schema(document))
    assert plain.blocking_keys is None
    with pytest.raises(InputError, match="no blocking_keys"):
        encode(
            [record], secret=SECRET, agency="a", schema=parse_schema(document), blocking_keys=True
        )


@pytest.mark.parametrize(
    ("part", "problem"),
    [
        ({"field": "nope", "feature": "year"}, "no field named"),
        ({"field": "sex", "feature": "year"}, "does not apply"),
        ({"field": "family_name", "fields": ["given_name"], "feature": "initial"}, "exactly one"),
        ({"field": "family_name", "feature": "phonetic"}, "needs an 'algorithm'"),
        ({"field": "date_of_birth", "feature": "year", "length": 2}, "does not apply"),
    ],
)
def test_schema_rejects_bad_blocking_keys(part: dict[str, Any], problem: str) -> None:
    with pytest.raises(SchemaError, match=problem):
        schema_with([{"name": "k", "parts": [part]}])


def test_packaged_json_schema_equals_the_protocol_copy() -> None:
    root = Path(__file__).resolve().parents[1]
    packaged = root / "src" / "blindlink" / "schema" / "linkage-schema.schema.json"
    assert packaged.read_bytes() == (root / "protocols" / "linkage-schema.schema.json").read_bytes()


# -------------------------------------------------------------------------------- transport


def batch_with_keys(n: int = 5, seed: int = 0) -> EncodedBatch:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size=(n, 2)).astype(np.uint16)
    values = np.concatenate(
        [np.sort(rng.choice(10**6, size=c, replace=False)).astype(np.uint64) << np.uint64(40)
         for c in counts.ravel().tolist()] or [np.zeros(0, dtype=np.uint64)]
    )  # fmt: skip
    values[-1:] |= np.uint64(1 << 63)  # a value with the top bit set (still the list's largest)
    return EncodedBatch(
        agency="agency-a",
        schema_fingerprint="ab" * 32,
        key_check="cd" * 16,
        filter_bits=64,
        record_ids=tuple(f"r{i}" for i in range(n)),
        filters=rng.integers(0, 256, size=(n, 8), dtype=np.uint8),
        blocking_keys=RecordBlockingKeys(("first", "second"), counts, values.astype(np.uint64)),
    )


def test_blk_round_trip_with_blocking_keys(tmp_path: Path) -> None:
    batch = batch_with_keys()
    write_blk(tmp_path / "a.blk", batch)
    data = (tmp_path / "a.blk").read_bytes()
    assert struct.unpack_from("<H", data, 10)[0] == 0x0002
    read = read_blk(tmp_path / "a.blk")
    assert read.blocking_keys is not None and batch.blocking_keys is not None
    assert read.blocking_keys.names == ("first", "second")
    assert np.array_equal(read.blocking_keys.counts, batch.blocking_keys.counts)
    assert np.array_equal(read.blocking_keys.values, batch.blocking_keys.values)
    rows, values = read.blocking_keys.key(1)
    assert rows.shape == values.shape
    assert rows.shape[0] == int(batch.blocking_keys.counts[:, 1].sum())
    # the streaming writer writes the same bytes
    with BlkWriter(
        tmp_path / "b.blk", agency=batch.agency, schema_fingerprint=batch.schema_fingerprint,
        key_check=batch.key_check, filter_bits=64, blocking_keys=("first", "second"),
    ) as writer:  # fmt: skip
        for start, stop in ((0, 2), (2, 5)):
            counts = batch.blocking_keys.counts[start:stop]
            first = int(batch.blocking_keys.counts[:start].sum())
            part = RecordBlockingKeys(
                ("first", "second"), counts,
                batch.blocking_keys.values[first : first + int(counts.sum())],
            )  # fmt: skip
            writer.add(list(batch.record_ids[start:stop]), batch.filters[start:stop], None, part)
        streamed = writer.finish()
    assert (tmp_path / "b.blk").read_bytes() == data
    assert streamed.blocking_keys is not None
    assert np.array_equal(streamed.blocking_keys.values, batch.blocking_keys.values)


def test_blk_without_blocking_keys_is_unchanged(tmp_path: Path) -> None:
    batch = batch_with_keys()
    plain = EncodedBatch(
        batch.agency, batch.schema_fingerprint, batch.key_check, 64, batch.record_ids,
        batch.filters,
    )  # fmt: skip
    write_blk(tmp_path / "a.blk", plain)
    data = (tmp_path / "a.blk").read_bytes()
    assert struct.unpack_from("<H", data, 10)[0] == 0 and b"blocking_keys" not in data
    assert read_blk(tmp_path / "a.blk").blocking_keys is None


def test_tampered_blocking_keys_are_refused(tmp_path: Path) -> None:
    write_blk(tmp_path / "a.blk", batch_with_keys())
    data = bytearray((tmp_path / "a.blk").read_bytes())
    data[-40] ^= 0x01  # inside the last value
    (tmp_path / "a.blk").write_bytes(bytes(data))
    with pytest.raises(EncodedFileError, match="checksum"):
        read_blk(tmp_path / "a.blk")


def rewrite_with_valid_checksum(data: bytes) -> bytes:
    body = data[:-32]
    return body + hashlib.sha256(body).digest()


def test_inconsistent_blocking_keys_with_a_valid_checksum_are_refused(tmp_path: Path) -> None:
    batch = batch_with_keys()
    write_blk(tmp_path / "a.blk", batch)
    data = (tmp_path / "a.blk").read_bytes()
    assert batch.blocking_keys is not None
    n, total = len(batch), batch.blocking_keys.values.shape[0]
    counts_at = len(data) - 32 - total * 8 - n * 2 * 2
    # move one value from record 1's first key to its second key: totals per key disagree
    counts = np.frombuffer(data[counts_at : counts_at + n * 4], dtype="<u2").copy()
    if counts[0] == 0:
        counts[0], counts[2] = 1, counts[2] - 1
    counts[0], counts[1] = counts[0] - 1, counts[1] + 1
    forged = data[:counts_at] + counts.astype("<u2").tobytes() + data[counts_at + n * 4 :]
    (tmp_path / "b.blk").write_bytes(rewrite_with_valid_checksum(forged))
    with pytest.raises(EncodedFileError, match="blocking-keys section"):
        read_blk(tmp_path / "b.blk")
    # two equal values in one record's list
    values_at = len(data) - 32 - total * 8
    first = data[values_at : values_at + 8]
    forged = data[: values_at + 8] + first + data[values_at + 16 :]
    if int(counts[0]) >= 2:
        (tmp_path / "c.blk").write_bytes(rewrite_with_valid_checksum(forged))
        with pytest.raises(EncodedFileError, match="distinct and ascending"):
            read_blk(tmp_path / "c.blk")


def test_writer_refuses_unsorted_values() -> None:
    batch = batch_with_keys()
    assert batch.blocking_keys is not None
    keys = batch.blocking_keys
    bad = RecordBlockingKeys(keys.names, keys.counts, keys.values[::-1].copy())
    with pytest.raises(InputError):
        write_blk("/nonexistent/never.blk", EncodedBatch(
            batch.agency, batch.schema_fingerprint, batch.key_check, 64, batch.record_ids,
            batch.filters, blocking_keys=bad,
        ))  # fmt: skip


# ------------------------------------------------------------------------------ coordinator


def random_case(seed: int, n: int = 120) -> tuple[np.ndarray, BlockingKeyIndex]:
    rng = np.random.default_rng(seed)
    filters = np.packbits(rng.random((n, 64)) < 0.3, axis=1)
    filters[5] = 0  # an empty filter
    rows: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for _ in range(2):
        holders = rng.random(n) < 0.8
        row = np.flatnonzero(holders)
        extra = rng.choice(row, size=row.shape[0] // 4)
        row = np.concatenate([row, extra]).astype(np.int64)
        value = rng.integers(0, 12, size=row.shape[0]).astype(np.uint64)
        keep = np.unique(np.stack([row, value.astype(np.int64)]), axis=1)
        rows.append(keep[0].astype(np.int64))
        values.append(keep[1].astype(np.uint64))
    return filters, BlockingKeyIndex(("k1", "k2"), tuple(rows), tuple(values), n)


def brute_force(filters: np.ndarray, index: BlockingKeyIndex, threshold: float) -> set[tuple]:
    n = filters.shape[0]
    held: list[set[tuple[int, int]]] = [set() for _ in range(n)]
    for k, (rows, values) in enumerate(zip(index.rows, index.values, strict=True)):
        for r, v in zip(rows.tolist(), values.tolist(), strict=True):
            held[r].add((k, v))
    scores, a, b = candidate_pairs_reference(filters, None, threshold)
    return {
        (i, j, s)
        for s, i, j in zip(scores.tolist(), a.tolist(), b.tolist(), strict=True)
        if held[i] & held[j] or not held[i] or not held[j]
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.6])
def test_keyed_search_finds_exactly_the_pairs_sharing_a_key(seed: int, threshold: float) -> None:
    filters, index = random_case(seed)
    pairs, report = keyed_search(filters, index, threshold)
    found = set(
        zip(pairs.rows_a.tolist(), pairs.rows_b.tolist(), pairs.scores.tolist(), strict=True)
    )
    expected = brute_force(filters, index, threshold)
    if threshold == 0.0:  # empty filters are never grouped (they only reach 0)
        expected = {p for p in expected if 5 not in p[:2]}
    assert found == expected
    assert np.all(np.diff(pairs.rows_a * len(filters) + pairs.rows_b) > 0)  # sorted, distinct
    assert report.records_without_key > 0 and report.empty_records == 1


def test_group_cap_skips_and_reports() -> None:
    filters, index = random_case(0)
    capped, report = keyed_search(filters, index, 0.3, max_group_size=2)
    assert report.keys[0].groups_skipped > 0 and report.keys[0].pairs_skipped > 0
    assert len(capped) < len(keyed_candidate_pairs(filters, index, 0.3))


def test_gather_refuses_batches_without_keys() -> None:
    keys = RecordBlockingKeys(("a",), np.ones((1, 1), np.uint16), np.ones(1, np.uint64))
    with pytest.raises(InputError, match="x.blk: has no blocking keys"):
        gather_blocking_keys([keys, None], [1, 1], ["w.blk", "x.blk"])
    index = gather_blocking_keys([keys, keys], [1, 1], ["w.blk", "x.blk"])
    assert index.rows[0].tolist() == [0, 1]


def test_link_with_keys_matches_exact_on_easy_data() -> None:
    rows = [
        {"record_id": str(i), "given_name": g, "family_name": f, "date_of_birth": d,
         "sex": s, "nationality": c}
        for i, (g, f, d, s, c) in enumerate([
            ("Olena", "Kovalenko", "1998-11-20", "F", "UKR"),
            ("Tesfaye", "Mulugeta", "2001-07-14", "M", "ETH"),
            ("Wei", "Wang", "1979-02-28", "M", "CHN"),
        ])
    ]  # fmt: skip
    other = [dict(r, record_id=f"b{r['record_id']}") for r in rows]
    other[0]["family_name"] = "Коваленко"
    batches = [
        encode(rows, secret=SECRET, agency="a", blocking_keys=True),
        encode(other, secret=SECRET, agency="b", blocking_keys=True),
    ]
    exact = link(batches, blocking="exact", seed=1)
    keyed = link(batches, blocking="keys", seed=1)
    assert np.array_equal(exact.labels, keyed.labels)
    assert keyed.statistics["linkage"]["keyed_blocking"]["records_without_key"] == 0


# ---------------------------------------------------------------------------------------- CLI

HEADER = "record_id,given_name,family_name,date_of_birth,sex,nationality\n"


def test_cli_link_with_blocking_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text(
        HEADER + "1,Olena,Kovalenko,1998-11-20,F,UKR\n2,Wei,Wang,1979-02-28,M,CHN\n",
        encoding="utf-8",
    )
    (tmp_path / "b.csv").write_text(
        HEADER + "x,Олена,Коваленко,1998-11-20,F,UKR\ny,Tesfaye,Mulugeta,2001-07-14,M,ETH\n",
        encoding="utf-8",
    )
    assert run_cli(["keygen", "--out", str(tmp_path / "s.key")], capsys)[0] == 0
    for agency in ("a", "b"):
        for suffix, extra in (("", ["--blocking-keys"]), ("-plain", [])):
            code, _, err = run_cli(
                ["encode", str(tmp_path / f"{agency}.csv"), "--secret-file",
                 str(tmp_path / "s.key"), "--agency", agency, "--out",
                 str(tmp_path / f"{agency}{suffix}.blk"), *extra],
                capsys,
            )  # fmt: skip
            assert code == 0, err
    code, _, err = run_cli(
        ["link", str(tmp_path / "a.blk"), str(tmp_path / "b.blk"), "--out",
         str(tmp_path / "r"), "--blocking", "keys", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    stats = json.loads((tmp_path / "r" / "stats.json").read_text(encoding="utf-8"))
    assert stats["linkage"]["candidates"].startswith("keyed blocking")
    assert stats["unique_persons"] == 3
    code, _, err = run_cli(
        ["link", str(tmp_path / "b.blk"), str(tmp_path / "a-plain.blk"), "--out",
         str(tmp_path / "r2"), "--blocking", "keys"],
        capsys,
    )  # fmt: skip
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1 and "a-plain.blk: has no blocking keys" in lines[0]


def test_blocking_benchmark_keys_smoke_run() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "blocking.py"), "--keys-only", "--no-febrl",
         "--persons", "300", "--f1"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "keyed blocking at the candidate floor" in done.stdout
    assert "end to end, blocking=keys" in done.stdout
