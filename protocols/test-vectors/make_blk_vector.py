"""Make the known-answer test vector for the encoded file format, version 1.

Writes ``blk-v1-small.blk`` and ``blk-v1-small.json`` beside this script. The bytes are built
directly from ``protocols/encoded-file-format.md`` with the standard library only -- not with
blindlink -- so the vector is an independent second implementation: blindlink's tests check
that its reader decodes the vector and its writer reproduces it byte for byte, and another
implementation can do the same.

Usage: ``python make_blk_vector.py`` (write) or ``python make_blk_vector.py --check`` (exit 1
if the files on disk differ from what this script makes).
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BLK_PATH = HERE / "blk-v1-small.blk"
JSON_PATH = HERE / "blk-v1-small.json"

AGENCY = "agency-a"
SCHEMA_FINGERPRINT = "0123456789abcdef" * 4  # shape of a SHA-256 hex digest; not a real schema
KEY_CHECK = "fedcba9876543210" * 2  # shape of a key check value; derived from no secret
FILTER_BITS = 64
PRODUCER = "blindlink test vector"
#: The third id is not ASCII, to pin down that ids are stored as UTF-8 (and lengths in bytes).
RECORD_IDS = ("case-0001", "case-0002", "\u0141\u00f3d\u017a-0003")  # "Łódź-0003"
#: Set bit positions per record. Bit i is bit 7 - i % 8 of byte i // 8 (most significant first).
SET_BITS = (
    (0,),  # -> 80 00 00 00 00 00 00 00
    (7, 8, 63),  # -> 01 80 00 00 00 00 00 01
    (3, 9, 10, 20, 31, 32, 45, 46, 47, 58),  # arbitrary
)


def pack_filter(bits: tuple[int, ...], filter_bits: int) -> bytes:
    """One packed filter, most significant bit first (numpy packbits / anonlink CLK order)."""
    data = bytearray(filter_bits // 8)
    for i in bits:
        data[i // 8] |= 0x80 >> (i % 8)
    return bytes(data)


def build() -> tuple[bytes, dict[str, Any]]:
    """The vector's bytes and the JSON document that describes their decoded content."""
    filters = [pack_filter(bits, FILTER_BITS) for bits in SET_BITS]
    ids_section = b"".join(
        struct.pack("<I", len(encoded)) + encoded
        for encoded in (record_id.encode("utf-8") for record_id in RECORD_IDS)
    )
    header = json.dumps(
        {
            "agency": AGENCY,
            "filter_bits": FILTER_BITS,
            "format": "blindlink-encodings",
            "ids_bytes": len(ids_section),
            "key_check": KEY_CHECK,
            "producer": PRODUCER,
            "record_count": len(RECORD_IDS),
            "schema_fingerprint": SCHEMA_FINGERPRINT,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    prefix = b"BLINDLNK" + struct.pack("<HHI", 1, 0, len(header))
    body = prefix + header + ids_section + b"".join(filters)
    trailer = hashlib.sha256(body).digest()
    data = body + trailer
    description = {
        "description": (
            "Known-answer vector for the blindlink encoded file format, version 1 "
            "(protocols/encoded-file-format.md). Decoding blk-v1-small.blk must give exactly "
            "this content; encoding this content with the given producer must give exactly "
            "those bytes."
        ),
        "file": BLK_PATH.name,
        "file_size": len(data),
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "format_version": 1,
        "flags": 0,
        "header_length": len(header),
        "header_json": header.decode("utf-8"),
        "sections": {
            "header_offset": len(prefix),
            "ids_offset": len(prefix) + len(header),
            "ids_bytes": len(ids_section),
            "filters_offset": len(prefix) + len(header) + len(ids_section),
            "filters_bytes": len(filters) * FILTER_BITS // 8,
            "trailer_offset": len(body),
        },
        "checksum_sha256": trailer.hex(),
        "agency": AGENCY,
        "schema_fingerprint": SCHEMA_FINGERPRINT,
        "key_check": KEY_CHECK,
        "filter_bits": FILTER_BITS,
        "producer": PRODUCER,
        "record_count": len(RECORD_IDS),
        "record_ids": list(RECORD_IDS),
        "filters_hex": [packed.hex() for packed in filters],
        "set_bits": [list(bits) for bits in SET_BITS],
    }
    return data, description


def json_text(description: dict[str, Any]) -> str:
    """The JSON file's exact text (stable, so --check can compare it)."""
    return json.dumps(description, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    data, description = build()
    text = json_text(description)
    if argv[1:] == ["--check"]:
        same = (
            BLK_PATH.is_file()
            and BLK_PATH.read_bytes() == data
            and JSON_PATH.is_file()
            and JSON_PATH.read_text(encoding="utf-8") == text
        )
        sys.stderr.write("test vector is up to date\n" if same else "test vector is stale\n")
        return 0 if same else 1
    if argv[1:]:
        sys.stderr.write(__doc__ or "")
        return 2
    BLK_PATH.write_bytes(data)
    JSON_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
