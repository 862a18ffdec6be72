"""The anonlink upload format ({"clks": [base64, ...]}): round trips and every rejection."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from blindlink.errors import EncodedFileError, InputError, OutputError
from blindlink.io.anonlink_json import (
    UNKNOWN_FINGERPRINT,
    UNKNOWN_KEY_CHECK,
    read_anonlink_json,
    write_anonlink_json,
)
from blindlink.io.blk import read_blk, write_blk
from blindlink.types import EncodedBatch

VECTOR_BLK = Path(__file__).resolve().parents[1] / "protocols" / "test-vectors" / "blk-v1-small.blk"
#: Base64 text that must never appear in an error message.
SECRET_CLK = base64.b64encode(b"SECRET-CLK-BYTES").decode()


def random_batch(records: int = 50, bits: int = 1024, seed: int = 3) -> EncodedBatch:
    rng = np.random.default_rng(seed)
    return EncodedBatch(
        agency="agency-a",
        schema_fingerprint="ab" * 32,
        key_check="cd" * 16,
        filter_bits=bits,
        record_ids=tuple(f"case-{i}" for i in range(records)),
        filters=rng.integers(0, 256, size=(records, bits // 8), dtype=np.uint8),
    )


def test_round_trip_from_a_blk_file(tmp_path: Path) -> None:
    batch = read_blk(VECTOR_BLK)
    path = tmp_path / "clks.json"
    write_anonlink_json(path, batch)
    document = json.loads(path.read_text(encoding="ascii"))
    assert list(document) == ["clks"]
    assert document["clks"] == [base64.b64encode(row.tobytes()).decode() for row in batch.filters]

    back = read_anonlink_json(path, agency="agency-b")
    assert back.agency == "agency-b"
    assert back.filter_bits == batch.filter_bits
    assert back.record_ids == tuple(str(i) for i in range(len(batch)))
    assert np.array_equal(back.filters, batch.filters)
    assert back.filters.flags.writeable and back.filters.flags.c_contiguous
    assert (back.schema_fingerprint, back.key_check) == (UNKNOWN_FINGERPRINT, UNKNOWN_KEY_CHECK)

    with_ids = read_anonlink_json(
        path,
        agency=batch.agency,
        ids=batch.record_ids,
        schema_fingerprint=batch.schema_fingerprint,
        key_check=batch.key_check,
    )
    assert with_ids.record_ids == batch.record_ids
    assert (with_ids.schema_fingerprint, with_ids.key_check) == (
        batch.schema_fingerprint,
        batch.key_check,
    )
    again = tmp_path / "again.blk"
    write_blk(again, with_ids)
    assert np.array_equal(read_blk(again).filters, batch.filters)


@pytest.mark.parametrize("bits", [8, 64, 1000, 1024, 2048])
def test_round_trip_any_width(tmp_path: Path, bits: int) -> None:
    batch = random_batch(bits=bits)
    path = tmp_path / "clks.json"
    write_anonlink_json(path, batch)
    back = read_anonlink_json(path, agency="x", ids=batch.record_ids)
    assert back.filter_bits == bits
    assert np.array_equal(back.filters, batch.filters)


def test_written_clks_are_what_clkhash_serialises(tmp_path: Path) -> None:
    serialization = pytest.importorskip("clkhash.serialization")
    bitarray = pytest.importorskip("bitarray")
    batch = random_batch(records=5)
    path = tmp_path / "clks.json"
    write_anonlink_json(path, batch)
    written = json.loads(path.read_text())["clks"]
    for row, text in zip(batch.filters, written, strict=True):
        bits = bitarray.bitarray()
        bits.frombytes(row.tobytes())
        assert text == serialization.serialize_bitarray(bits)
        assert serialization.deserialize_bitarray(text).tobytes() == row.tobytes()


def test_marker_batches_are_compatible_only_with_each_other(tmp_path: Path) -> None:
    from blindlink.errors import IncompatibleFilesError
    from blindlink.pipeline.link import link

    path = tmp_path / "clks.json"
    write_anonlink_json(path, random_batch())
    a = read_anonlink_json(path, agency="a")
    b = read_anonlink_json(path, agency="b")
    assert (a.schema_fingerprint, a.key_check) == (b.schema_fingerprint, b.key_check)
    with pytest.raises(IncompatibleFilesError, match="different linkage schemas"):
        link([a, dataclasses.replace(random_batch(), agency="c")])


def test_write_is_atomic_and_checks_the_batch(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_anonlink_json(tmp_path / "missing" / "clks.json", random_batch())
    bad = dataclasses.replace(random_batch(), filter_bits=512)
    target = tmp_path / "clks.json"
    with pytest.raises(InputError, match="shape"):
        write_anonlink_json(target, bad)
    empty = dataclasses.replace(
        random_batch(), record_ids=(), filters=np.zeros((0, 128), dtype=np.uint8)
    )
    with pytest.raises(InputError, match="no records"):
        write_anonlink_json(target, empty)
    with pytest.raises(InputError, match="EncodedBatch"):
        write_anonlink_json(target, "not a batch")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def write(tmp_path: Path, content: Any, *, raw: bytes | None = None) -> Path:
    path = tmp_path / "upload.json"
    path.write_bytes(raw if raw is not None else json.dumps(content).encode())
    return path


GOOD = base64.b64encode(bytes(8)).decode()

BAD_FILES: dict[str, tuple[Any, bytes | None, str]] = {
    "not-json": (None, b'{"clks": [' + SECRET_CLK.encode(), "is not valid JSON"),
    "not-utf8": (None, b'{"clks": ["\xff\xfe"]}', "is not UTF-8 text"),
    "nan": (None, b'{"clks": NaN}', "is not valid JSON (NaN or Infinity)"),
    "array": ([SECRET_CLK], None, 'is JSON an array, not an object {"clks": [...]}'),
    "no-clks": ({"encodings": [SECRET_CLK]}, None, "lacks the key 'clks'"),
    "clknblocks": ({"clknblocks": [[SECRET_CLK, "1"]]}, None, "holds 'clknblocks'"),
    "extra-key": ({"clks": [GOOD], "blocks": {}}, None, "has keys other than 'clks' ('blocks')"),
    "clks-object": ({"clks": {"0": SECRET_CLK}}, None, "'clks' is an object, not an array"),
    "empty": ({"clks": []}, None, "'clks' is empty"),
    "number": ({"clks": [GOOD, 7]}, None, "clks[1] is a number, not a base64 string"),
    "bad-base64": ({"clks": [GOOD, SECRET_CLK + "!"]}, None, "clks[1] is not valid base64"),
    "bad-padding": ({"clks": [SECRET_CLK[:-1]]}, None, "clks[0] is not valid base64"),
    "zero-length": ({"clks": [""]}, None, "clks[0] holds 0 bytes"),
    "unequal": (
        {"clks": [GOOD, GOOD, SECRET_CLK]},
        None,
        "clks[2] holds 16 bytes but clks[0] holds 8; all CLKs of a file must have the same length",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_naming_file_and_index_never_content(
    tmp_path: Path, case: str
) -> None:
    content, raw, problem = BAD_FILES[case]
    path = write(tmp_path, content, raw=raw)
    with pytest.raises(EncodedFileError) as caught:
        read_anonlink_json(path, agency="agency-a")
    message = str(caught.value)
    assert message == f"{path}: {problem}" or message.startswith(f"{path}: {problem}")
    assert SECRET_CLK not in message and SECRET_CLK[:8] not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EncodedFileError, match=r"missing\.json: cannot be read"):
        read_anonlink_json(tmp_path / "missing.json", agency="a")


def test_caller_arguments_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, {"clks": [GOOD, GOOD]})
    with pytest.raises(InputError, match="2 CLKs but 1 record ids"):
        read_anonlink_json(path, agency="a", ids=["only-one"])
    with pytest.raises(InputError, match="record id 2 repeats"):
        read_anonlink_json(path, agency="a", ids=["x", "x"])
    with pytest.raises(InputError, match="record id 1 must be non-empty"):
        read_anonlink_json(path, agency="a", ids=["", "y"])
    with pytest.raises(InputError, match="agency name"):
        read_anonlink_json(path, agency="../escape")
    with pytest.raises(InputError, match="schema_fingerprint must be 64"):
        read_anonlink_json(path, agency="a", schema_fingerprint="XYZ")
    with pytest.raises(InputError, match="key_check must be 32"):
        read_anonlink_json(path, agency="a", key_check="0" * 31)
