"""The encoded file format (.blk v1): round trips, the known-answer vector, every rejection."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindlink.errors import BlindlinkError, EncodedFileError, InputError
from blindlink.io.blk import (
    FORMAT_VERSION,
    MAGIC,
    BlkWriter,
    _write_blk,
    check_agency_name,
    read_blk,
    write_blk,
)
from blindlink.types import EncodedBatch

VECTORS = Path(__file__).resolve().parents[1] / "protocols" / "test-vectors"
VECTOR_BLK = VECTORS / "blk-v1-small.blk"
VECTOR_JSON = VECTORS / "blk-v1-small.json"

FINGERPRINT = "0f" * 32
KEY_CHECK = "c3" * 16
#: Ids that must never appear in an error message.
SECRET_IDS = ("SECRET-ID-alpha", "SECRET-ID-beta", "SECRET-ID-gamma")

BAD_AGENCY_NAMES = [
    "",
    "../x",
    "a/b",
    ".hidden",
    "..",
    ".",
    "x.",
    "a..b",
    "-x",
    "_x",
    "a b",
    "a\\b",
    "a\nb",
    "a\n",
    "a\x00",
    "\u0141\u00f3d\u017a",
    "a" * 65,
    "C:x",
]
GOOD_AGENCY_NAMES = ["agency-a", "NGO_2", "police.north", "A", "7", "1.2.3", "a" * 64, "x-.y"]


# ----------------------------------------------------------------------------------- helpers


def make_batch(
    ids: tuple[str, ...] = SECRET_IDS, filter_bits: int = 64, agency: str = "agency-a"
) -> EncodedBatch:
    rng = np.random.default_rng(len(ids) * 1000 + filter_bits)
    filters = rng.integers(0, 256, size=(len(ids), filter_bits // 8), dtype=np.uint8)
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=FINGERPRINT,
        key_check=KEY_CHECK,
        filter_bits=filter_bits,
        record_ids=ids,
        filters=filters,
    )


def header_doc(**overrides: Any) -> dict[str, Any]:
    """A valid header for SECRET_IDS with 64-bit filters, with some keys replaced."""
    doc: dict[str, Any] = {
        "agency": "agency-a",
        "filter_bits": 64,
        "format": "blindlink-encodings",
        "ids_bytes": len(ids_section(SECRET_IDS)),
        "key_check": KEY_CHECK,
        "producer": "test",
        "record_count": len(SECRET_IDS),
        "schema_fingerprint": FINGERPRINT,
    }
    doc.update(overrides)
    return doc


def ids_section(ids: tuple[str, ...]) -> bytes:
    return b"".join(struct.pack("<I", len(i.encode())) + i.encode() for i in ids)


def assemble(
    header: dict[str, Any] | bytes,
    ids: bytes | None = None,
    filters: bytes | None = None,
    *,
    magic: bytes = MAGIC,
    version: int = 1,
    flags: int = 0,
) -> bytes:
    """A file from raw parts, with a correct checksum (so only the intended fault is present)."""
    raw = (
        header
        if isinstance(header, bytes)
        else json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    )
    ids = ids_section(SECRET_IDS) if ids is None else ids
    filters = bytes(range(8 * len(SECRET_IDS))) if filters is None else filters
    body = magic + struct.pack("<HHI", version, flags, len(raw)) + raw + ids + filters
    return body + hashlib.sha256(body).digest()


def rejected(path: Path, *fragments: str) -> str:
    """Assert that reading ``path`` fails with one safe line naming the path; return it."""
    with pytest.raises(EncodedFileError) as caught:
        read_blk(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "SECRET" not in message, message
    assert KEY_CHECK not in message and FINGERPRINT not in message, message
    assert caught.value.exit_code == 5
    return message


def load_vector_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_blk_vector", VECTORS / "make_blk_vector.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same(batch: EncodedBatch, expected: EncodedBatch) -> None:
    assert batch.agency == expected.agency
    assert batch.schema_fingerprint == expected.schema_fingerprint
    assert batch.key_check == expected.key_check
    assert batch.filter_bits == expected.filter_bits
    assert batch.record_ids == expected.record_ids
    assert isinstance(batch.record_ids, tuple)
    assert batch.filters.dtype == np.uint8
    assert batch.filters.shape == (len(expected.record_ids), expected.filter_bits // 8)
    assert np.array_equal(batch.filters, expected.filters)


# -------------------------------------------------------------------------------- round trip

record_ids = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=24),
    st.sampled_from(
        [
            "\u0141\u00f3d\u017a",
            "\u6771\u4eac-1",
            "\u0645\u0631\u062d\u0628\u0627",
            "\U0001f600",
            "\u0416-\u00e9-\u03a9",
            " ",
            "\x00",
            "a\nb",
        ]
    ),
)


@st.composite
def batches(draw: st.DrawFn) -> EncodedBatch:
    filter_bits = draw(st.sampled_from([8, 16, 24, 64, 72, 128, 1000, 1024, 2048]))
    ids = tuple(draw(st.lists(record_ids, unique=True, max_size=12)))
    width = filter_bits // 8
    raw = draw(st.binary(min_size=len(ids) * width, max_size=len(ids) * width))
    agency = draw(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}(\.[A-Za-z0-9]{1,5})?", fullmatch=True)
    )
    hexdigits = "0123456789abcdef"
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=draw(st.text(hexdigits, min_size=64, max_size=64)),
        key_check=draw(st.text(hexdigits, min_size=32, max_size=32)),
        filter_bits=filter_bits,
        record_ids=ids,
        filters=np.frombuffer(raw, dtype=np.uint8).reshape(len(ids), width),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
def test_round_trip(batch: EncodedBatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("rt") / "x.blk"
    write_blk(path, batch)
    back = read_blk(path)
    assert_same(back, batch)
    assert back.filters.flags.c_contiguous and back.filters.flags.writeable


def test_round_trip_zero_records(tmp_path: Path) -> None:
    batch = make_batch(ids=())
    write_blk(tmp_path / "e.blk", batch)
    assert_same(read_blk(tmp_path / "e.blk"), batch)
    data = (tmp_path / "e.blk").read_bytes()
    assert len(data) == 16 + struct.unpack_from("<I", data, 12)[0] + 32


def test_round_trip_accepts_str_path_and_non_contiguous_filters(tmp_path: Path) -> None:
    batch = make_batch(filter_bits=128)
    strided = np.asfortranarray(batch.filters)
    assert not strided.flags.c_contiguous
    write_blk(str(tmp_path / "f.blk"), dataclasses.replace(batch, filters=strided))
    assert_same(read_blk(str(tmp_path / "f.blk")), batch)


def test_large_file_round_trip(tmp_path: Path) -> None:
    n = 100_000
    rng = np.random.default_rng(7)
    batch = EncodedBatch(
        agency="big",
        schema_fingerprint=FINGERPRINT,
        key_check=KEY_CHECK,
        filter_bits=1024,
        record_ids=tuple(f"r{i}" for i in range(n)),
        filters=rng.integers(0, 256, size=(n, 128), dtype=np.uint8),
    )
    write_blk(tmp_path / "big.blk", batch)
    back = read_blk(tmp_path / "big.blk")
    assert_same(back, batch)
    assert back.filters.flags.owndata


def test_header_is_canonical_and_names_the_producer(tmp_path: Path) -> None:
    write_blk(tmp_path / "c.blk", make_batch())
    data = (tmp_path / "c.blk").read_bytes()
    magic, version, flags, length = struct.unpack_from("<8sHHI", data)
    assert (magic, version, flags) == (b"BLINDLNK", FORMAT_VERSION, 0)
    raw = data[16 : 16 + length]
    header = json.loads(raw)
    assert raw == json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert set(header) == {
        "agency",
        "filter_bits",
        "format",
        "ids_bytes",
        "key_check",
        "producer",
        "record_count",
        "schema_fingerprint",
    }
    assert header["producer"] == f"blindlink {importlib.metadata.version('blindlink')}"
    assert data[-32:] == hashlib.sha256(data[:-32]).digest()


def test_writer_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "a.blk"
    write_blk(path, make_batch(ids=("1",)))
    write_blk(path, make_batch())
    assert read_blk(path).record_ids == SECRET_IDS
    assert os.listdir(tmp_path) == ["a.blk"]


def test_reader_ignores_unknown_header_keys_and_white_space(tmp_path: Path) -> None:
    path = tmp_path / "u.blk"
    doc = header_doc(comment="added by a later release")
    path.write_bytes(assemble(json.dumps(doc, indent=2).encode()))
    assert read_blk(path).record_ids == SECRET_IDS


# ------------------------------------------------------------------------------- test vector


def vector_batch(expected: dict[str, Any]) -> EncodedBatch:
    width = expected["filter_bits"] // 8
    filters = np.array(
        [list(bytes.fromhex(h)) for h in expected["filters_hex"]], dtype=np.uint8
    ).reshape(-1, width)
    return EncodedBatch(
        agency=expected["agency"],
        schema_fingerprint=expected["schema_fingerprint"],
        key_check=expected["key_check"],
        filter_bits=expected["filter_bits"],
        record_ids=tuple(expected["record_ids"]),
        filters=filters,
    )


def test_vector_decodes_to_its_json() -> None:
    expected = json.loads(VECTOR_JSON.read_text(encoding="utf-8"))
    batch = read_blk(VECTOR_BLK)
    assert_same(batch, vector_batch(expected))
    assert [row.tobytes().hex() for row in batch.filters] == expected["filters_hex"]
    bits = np.unpackbits(batch.filters, axis=1)
    assert [np.flatnonzero(row).tolist() for row in bits] == expected["set_bits"]
    data = VECTOR_BLK.read_bytes()
    assert len(data) == expected["file_size"]
    assert hashlib.sha256(data).hexdigest() == expected["file_sha256"]
    assert data[-32:].hex() == expected["checksum_sha256"]


def test_vector_re_encodes_to_identical_bytes(tmp_path: Path) -> None:
    expected = json.loads(VECTOR_JSON.read_text(encoding="utf-8"))
    _write_blk(tmp_path / "v.blk", vector_batch(expected), producer=expected["producer"])
    assert (tmp_path / "v.blk").read_bytes() == VECTOR_BLK.read_bytes()


def test_vector_files_match_their_generator() -> None:
    script = load_vector_script()
    data, description = script.build()
    assert data == VECTOR_BLK.read_bytes()
    assert script.json_text(description) == VECTOR_JSON.read_text(encoding="utf-8")


# -------------------------------------------------------------------------------- rejections


@pytest.fixture
def vector_bytes() -> bytes:
    return VECTOR_BLK.read_bytes()


@pytest.mark.parametrize(
    "keep", [1, 4, 7, 8, 12, 15, 16, 100, 286, 287, 290, 300, 328, 329, 340, 352, 353, 370, 384]
)
def test_truncated(tmp_path: Path, vector_bytes: bytes, keep: int) -> None:
    path = tmp_path / "t.blk"
    path.write_bytes(vector_bytes[:keep])
    message = rejected(path, "truncated")
    assert "case-000" not in message


def test_every_flipped_bit_is_detected(tmp_path: Path, vector_bytes: bytes) -> None:
    path = tmp_path / "f.blk"
    header_end = 16 + struct.unpack_from("<I", vector_bytes, 12)[0]
    for offset in range(len(vector_bytes)):
        for bit in range(8):
            damaged = bytearray(vector_bytes)
            damaged[offset] ^= 1 << bit
            path.write_bytes(damaged)
            with pytest.raises(EncodedFileError) as caught:
                read_blk(path)
            message = str(caught.value)
            assert message.startswith(f"{path}: "), (offset, bit, message)
            assert "case-000" not in message
            if offset >= header_end:  # ids, filters, trailer: layout intact, content damaged
                assert "checksum does not match" in message, (offset, bit, message)


def test_trailing_garbage(tmp_path: Path, vector_bytes: bytes) -> None:
    path = tmp_path / "g.blk"
    path.write_bytes(vector_bytes + b"\n")
    rejected(path, "1 unexpected bytes", "trailing garbage")


def test_checksum_mismatch(tmp_path: Path) -> None:
    data = bytearray(assemble(header_doc()))
    data[-1] ^= 0xFF
    path = tmp_path / "c.blk"
    path.write_bytes(data)
    rejected(path, "corrupted or modified: checksum does not match")


@pytest.mark.parametrize(
    "content",
    [
        b"NOTABLNK" + bytes(100),
        b"hello world, this is a text file\n",
        b"\x89PNG\r\n\x1a\n" * 8,
        b"blindlnk" + bytes(50),
        b"X",
    ],
)
def test_bad_magic(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.blk"
    path.write_bytes(content)
    rejected(path, "not a blindlink encoded file")


def test_newer_format_version(tmp_path: Path) -> None:
    path = tmp_path / "v2.blk"
    path.write_bytes(assemble(header_doc(), version=2))
    rejected(path, "made by a newer blindlink (format 2); this blindlink reads format 1")


def test_older_format_version(tmp_path: Path) -> None:
    path = tmp_path / "v0.blk"
    path.write_bytes(assemble(header_doc(), version=0))
    rejected(path, "made by an older blindlink (format 0); this blindlink reads format 1")


def test_unknown_flags(tmp_path: Path) -> None:
    path = tmp_path / "s.blk"
    path.write_bytes(assemble(header_doc(), flags=4))  # bits 0, 1: attributes, blocking keys
    rejected(path, "flags 0x0004")
    path.write_bytes(assemble(header_doc(), flags=2))  # blocking keys announced, none listed
    rejected(path, "blocking-keys flag is set")


def _without(key: str) -> dict[str, Any]:
    doc = header_doc()
    del doc[key]
    return doc


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (b"not json", "header is not valid JSON"),
        (b"\xff\xfe{}", "header is not valid JSON (not UTF-8)"),
        (b"", "header is not valid JSON"),
        (b"[1, 2]", "header is JSON list, not a JSON object"),
        (b'"text"', "not a JSON object"),
        (
            json.dumps(header_doc()).encode()[:-1] + b',"agency":"b"}',
            "key 'agency' appears twice",
        ),
        (
            json.dumps(header_doc()).replace('"filter_bits": 64', '"filter_bits": NaN').encode(),
            "NaN is not a JSON number",
        ),
        *[(_without(key), f"header lacks the key {key!r}") for key in header_doc()],
        (header_doc(filter_bits="64"), "'filter_bits' must be an integer"),
        (header_doc(filter_bits=64.0), "'filter_bits' must be an integer"),
        (header_doc(record_count=True), "'record_count' must be an integer"),
        (header_doc(agency=None), "'agency' must be a string"),
        (header_doc(producer=1), "'producer' must be a string"),
        (header_doc(key_check=["c3"]), "'key_check' must be a string"),
        (header_doc(format="blindlink-results"), "is not an encodings file"),
        (header_doc(filter_bits=12), "positive multiple of 8"),
        (header_doc(filter_bits=0), "positive multiple of 8"),
        (header_doc(filter_bits=-64), "positive multiple of 8"),
        (header_doc(filter_bits=1 << 21), "positive multiple of 8"),
        (header_doc(record_count=-1), "'record_count' is negative"),
        (header_doc(ids_bytes=-1), "'ids_bytes' is negative"),
        (header_doc(ids_bytes=11), "'ids_bytes' is too small"),
        (header_doc(schema_fingerprint=FINGERPRINT.upper()), "'schema_fingerprint' must be 64"),
        (header_doc(schema_fingerprint=FINGERPRINT[:-1]), "'schema_fingerprint' must be 64"),
        (header_doc(schema_fingerprint="z" * 64), "'schema_fingerprint' must be 64"),
        (header_doc(key_check=KEY_CHECK + "0"), "'key_check' must be 32"),
        (header_doc(key_check=" " + KEY_CHECK[1:]), "'key_check' must be 32"),
        (header_doc(agency="../x"), "agency name '../x' is not allowed"),
    ],
)
def test_bad_header(tmp_path: Path, header: dict[str, Any] | bytes, fragment: str) -> None:
    path = tmp_path / "h.blk"
    path.write_bytes(assemble(header))
    rejected(path, fragment)


def test_oversized_header(tmp_path: Path) -> None:
    raw = json.dumps(header_doc()).encode() + b" " * 70_000
    path = tmp_path / "big-header.blk"
    path.write_bytes(assemble(raw))
    rejected(path, "header (at most 65536)")


@pytest.mark.parametrize(
    ("declared", "fragment"),
    [
        ({"ids_bytes": 200}, "truncated"),
        ({"record_count": 4, "ids_bytes": 57}, "truncated"),
        ({"ids_bytes": 20}, "checksum does not match"),
    ],
)
def test_sizes_disagree_with_the_file(
    tmp_path: Path, declared: dict[str, int], fragment: str
) -> None:
    path = tmp_path / "s.blk"
    path.write_bytes(assemble(header_doc(**declared)))
    rejected(path, fragment)


@pytest.mark.parametrize(
    ("count", "section", "fragment"),
    [
        (1, struct.pack("<I", 9) + b"abc", "record id 1 runs past the end of the ids section"),
        (2, struct.pack("<I", 5) + b"abcde" + b"xyz", "ids section ends before record id 2 of 2"),
        (1, struct.pack("<I", 3) + b"abc" + b"zz", "2 bytes left over after 1 record ids"),
        (1, struct.pack("<I", 2) + b"\xff\xfe", "record id 1 is not valid UTF-8"),
        (1, struct.pack("<I", 3) + b"\xed\xa0\x80", "record id 1 is not valid UTF-8"),
        (1, struct.pack("<I", 0), "record id 1 is empty"),
        (2, struct.pack("<I", 1) + b"a" + struct.pack("<I", 0), "record id 2 is empty"),
        (
            3,
            ids_section(("SECRET-ID-alpha", "SECRET-ID-beta", "SECRET-ID-alpha")),
            "record id 3 repeats an earlier record id",
        ),
        (
            2,
            ids_section(("SECRET-ID-\u00e9", "SECRET-ID-\u00e9")),
            "record id 2 repeats an earlier record id",
        ),
    ],
)
def test_bad_ids_section(tmp_path: Path, count: int, section: bytes, fragment: str) -> None:
    path = tmp_path / "i.blk"
    doc = header_doc(record_count=count, ids_bytes=len(section))
    path.write_bytes(assemble(doc, section, bytes(8 * count)))
    rejected(path, fragment)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.blk"
    path.write_bytes(b"")
    rejected(path, "empty file")


def test_missing_file(tmp_path: Path) -> None:
    rejected(tmp_path / "nowhere.blk", "cannot be read", "No such file")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "d.blk").mkdir()
    rejected(tmp_path / "d.blk", "cannot be read", "directory")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.blk"
    write_blk(path, make_batch())
    path.chmod(0)
    try:
        rejected(path, "cannot be read", "ermission denied")
    finally:
        path.chmod(0o644)


# ------------------------------------------------------------------------------ agency names


@pytest.mark.parametrize("name", GOOD_AGENCY_NAMES)
def test_good_agency_names(name: str, tmp_path: Path) -> None:
    assert check_agency_name(name) == name
    write_blk(tmp_path / "a.blk", make_batch(agency=name))
    assert read_blk(tmp_path / "a.blk").agency == name


@pytest.mark.parametrize("name", BAD_AGENCY_NAMES)
def test_bad_agency_names(name: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        check_agency_name(name)
    message = str(caught.value)
    assert "A-Z, a-z, 0-9" in message and "without '..'" in message
    with pytest.raises(InputError):
        write_blk(tmp_path / "a.blk", make_batch(agency=name))
    assert os.listdir(tmp_path) == []
    path = tmp_path / "r.blk"
    path.write_bytes(assemble(header_doc(agency=name)))
    rejected(path, "agency name")


def test_agency_name_must_be_text() -> None:
    with pytest.raises(InputError, match="must be text"):
        check_agency_name(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- writer refusals


def _replace(**changes: Any) -> EncodedBatch:
    return dataclasses.replace(make_batch(), **changes)


@pytest.mark.parametrize(
    ("batch", "fragment"),
    [
        (_replace(filters=make_batch().filters.astype(np.int64)), "dtype uint8"),
        (_replace(filters=make_batch().filters.astype(bool)), "dtype uint8"),
        (_replace(filters=make_batch().filters.reshape(-1)), "shape"),
        (_replace(filters=make_batch().filters[:2]), "shape"),
        (_replace(filters=make_batch().filters[:, :4]), "shape"),
        (_replace(filters=make_batch().filters.tolist()), "numpy array"),
        (_replace(filter_bits=60), "filter_bits is 60"),
        (_replace(filter_bits=0), "filter_bits is 0"),
        (_replace(filter_bits=True), "filter_bits must be an integer"),
        (_replace(filter_bits=64.0), "filter_bits must be an integer"),
        (_replace(schema_fingerprint=FINGERPRINT.upper()), "'schema_fingerprint' must be 64"),
        (_replace(key_check=KEY_CHECK[:-2]), "'key_check' must be 32"),
        (_replace(key_check=None), "'key_check' must be 32"),
        (
            _replace(record_ids=("SECRET-ID-alpha", "SECRET-ID-beta", "SECRET-ID-alpha")),
            "record id 3 repeats",
        ),
        (_replace(record_ids=("SECRET-ID-alpha", "", "SECRET-ID-gamma")), "record id 2 is empty"),
        (_replace(record_ids=("SECRET-ID-alpha", 2, "SECRET-ID-gamma")), "record id 2 is int"),
        (_replace(record_ids=("SECRET-ID-\ud800", "b", "c")), "record id 1 is not valid Unicode"),
        (_replace(record_ids="abc"), "record_ids must be a tuple"),
        (_replace(agency="../x"), "agency name '../x' is not allowed"),
    ],
)
def test_writer_refuses_bad_batches(tmp_path: Path, batch: EncodedBatch, fragment: str) -> None:
    path = tmp_path / "w.blk"
    with pytest.raises(InputError) as caught:
        write_blk(path, batch)
    message = str(caught.value)
    assert fragment in message, message
    assert "SECRET" not in message
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.blk"
    write_blk(path, make_batch())
    before = path.read_bytes()
    with pytest.raises(BlindlinkError):
        write_blk(path, _replace(record_ids=("x", "x", "y")))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.blk"]


def test_write_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(BlindlinkError, match="does not exist"):
        write_blk(tmp_path / "no" / "such.blk", make_batch())


# ------------------------------------------------------------------------- chunked writing


def writer_for(path: Path, batch: EncodedBatch) -> BlkWriter:
    return BlkWriter(
        path,
        agency=batch.agency,
        schema_fingerprint=batch.schema_fingerprint,
        key_check=batch.key_check,
        filter_bits=batch.filter_bits,
    )


@pytest.mark.parametrize("sizes", [[3], [1, 1, 1], [0, 2, 0, 1], [2, 1]])
def test_chunked_writer_writes_what_write_blk_writes(tmp_path: Path, sizes: list[int]) -> None:
    batch = make_batch(filter_bits=128)
    write_blk(tmp_path / "whole.blk", batch)
    with writer_for(tmp_path / "chunked.blk", batch) as writer:
        start = 0
        for size in sizes:
            writer.add(batch.record_ids[start : start + size], batch.filters[start : start + size])
            start += size
        written = writer.finish()
    assert (tmp_path / "chunked.blk").read_bytes() == (tmp_path / "whole.blk").read_bytes()
    assert_same(written, batch)
    assert sorted(os.listdir(tmp_path)) == ["chunked.blk", "whole.blk"]


def test_chunked_writer_with_no_records(tmp_path: Path) -> None:
    batch = make_batch(ids=())
    write_blk(tmp_path / "whole.blk", batch)
    with writer_for(tmp_path / "empty.blk", batch) as writer:
        written = writer.finish()
    assert (tmp_path / "empty.blk").read_bytes() == (tmp_path / "whole.blk").read_bytes()
    assert written.filters.shape == (0, 8)


def test_chunked_writer_leaves_nothing_unless_finished(tmp_path: Path) -> None:
    path = tmp_path / "keep.blk"
    path.write_bytes(b"previous")
    batch = make_batch()
    with writer_for(path, batch) as writer:
        writer.add(batch.record_ids, batch.filters)
    with pytest.raises(RuntimeError), writer_for(path, batch) as writer:
        writer.add(batch.record_ids, batch.filters)
        raise RuntimeError("stopped half-way")
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["keep.blk"]


@pytest.mark.parametrize(
    ("chunks", "fragment"),
    [
        (
            [(("SECRET-ID-alpha", "SECRET-ID-beta"), 2), (("SECRET-ID-alpha",), 1)],
            "record id 3 repeats",
        ),
        ([(("SECRET-ID-alpha",), 1), (("",), 1)], "record id 2 is empty"),
        ([(("SECRET-ID-alpha",), 2)], "filters have shape (2, 8); 1 records"),
    ],
)
def test_chunked_writer_refuses_bad_chunks(
    tmp_path: Path, chunks: list[tuple[tuple[str, ...], int]], fragment: str
) -> None:
    path = tmp_path / "w.blk"
    batch = make_batch()
    with pytest.raises(InputError) as caught, writer_for(path, batch) as writer:
        for ids, rows in chunks:
            writer.add(ids, np.zeros((rows, 8), dtype=np.uint8))
        writer.finish()
    assert fragment in str(caught.value) and "SECRET" not in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_chunked_writer_checks_the_header_values_and_folder(tmp_path: Path) -> None:
    batch = make_batch()
    with pytest.raises(InputError, match="agency name"):
        writer_for(tmp_path / "a.blk", dataclasses.replace(batch, agency="../x"))
    with pytest.raises(InputError, match="filter_bits is 60"):
        writer_for(tmp_path / "a.blk", dataclasses.replace(batch, filter_bits=60))
    with pytest.raises(BlindlinkError, match="does not exist"):
        writer_for(tmp_path / "no" / "a.blk", batch)
    assert os.listdir(tmp_path) == []
