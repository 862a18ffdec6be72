"""The anonlink-entity-service upload format: ``{"clks": [base64, ...]}``.

anonlink's tools (clkhash, anonlink-client, the entity service) exchange encodings as a JSON
object whose ``clks`` array holds one base64 string per record, in record order; each string
is the record's packed CLK, most significant bit first -- the byte layout of blindlink's
filters. Converting in both directions lets blindlink agencies and coordinators work with
that ecosystem.

The format carries neither record ids, nor a schema fingerprint, nor a key check. Record ids
become ``"0"``, ``"1"``, ... unless the caller supplies them. The fingerprint and key check
become the documented markers :data:`UNKNOWN_FINGERPRINT` and :data:`UNKNOWN_KEY_CHECK`
(all zeros; a real SHA-256 fingerprint or HMAC tag is never all zeros in practice), so the
coordinator's equality checks treat such a file as incompatible with every file made by
blindlink, and compatible only with other files converted the same way -- whose schema and
secret nobody has checked. Callers who know the schema and secret can pass the real values.

Errors name the file and, where it helps, the 0-based index in ``clks`` -- never a CLK.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from blindlink.errors import EncodedFileError, InputError
from blindlink.io.atomic import atomic_file
from blindlink.io.blk import MAX_FILTER_BITS, check_agency_name
from blindlink.io.json_kind import json_kind
from blindlink.types import EncodedBatch

__all__ = [
    "UNKNOWN_FINGERPRINT",
    "UNKNOWN_KEY_CHECK",
    "read_anonlink_json",
    "write_anonlink_json",
]

#: Schema fingerprint of a batch read from anonlink JSON: "no schema is known".
UNKNOWN_FINGERPRINT = "0" * 64
#: Key check of a batch read from anonlink JSON: "no secret is known".
UNKNOWN_KEY_CHECK = "0" * 32

_FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")
_KEY_CHECK_RE = re.compile(r"[0-9a-f]{32}")


def write_anonlink_json(path: str | os.PathLike[str], batch: EncodedBatch) -> None:
    """Write ``batch`` as ``{"clks": [...]}``, atomically, in record order.

    Record ids, agency, fingerprint and key check are not part of the format and are left
    out: whoever receives the file matches results back by position.
    """
    if not isinstance(batch, EncodedBatch):
        raise InputError(f"expected an EncodedBatch, not {type(batch).__name__}")
    filters = batch.filters
    width = batch.filter_bits // 8
    if (
        not isinstance(filters, np.ndarray)
        or filters.dtype != np.uint8
        or filters.shape != (len(batch.record_ids), width)
        or batch.filter_bits <= 0
        or batch.filter_bits % 8
    ):
        raise InputError(
            f"batch filters must be uint8 of shape ({len(batch.record_ids)}, {width}) for "
            f"{len(batch.record_ids)} records of {batch.filter_bits} bits"
        )
    if not batch.record_ids:
        raise InputError("the batch has no records; an anonlink upload needs at least one CLK")
    raw = np.ascontiguousarray(filters).tobytes()
    clks = [
        base64.b64encode(raw[start : start + width]).decode("ascii")
        for start in range(0, len(raw), width)
    ]
    text = json.dumps({"clks": clks}, separators=(",", ":"))
    with atomic_file(path) as out:
        out.write(text.encode("ascii"))
        out.write(b"\n")


def read_anonlink_json(
    path: str | os.PathLike[str],
    *,
    agency: str,
    ids: Sequence[str] | None = None,
    schema_fingerprint: str = UNKNOWN_FINGERPRINT,
    key_check: str = UNKNOWN_KEY_CHECK,
) -> EncodedBatch:
    """Read an anonlink ``{"clks": [...]}`` file as one agency's batch.

    ``ids`` names the records in order (default ``"0"`` .. ``"n-1"``). ``filter_bits`` is
    eight times the CLKs' byte length, which must be the same for every CLK.
    ``schema_fingerprint`` and ``key_check`` default to the "unknown" markers (see the module
    docstring); pass the real values when the schema and secret are known.
    """
    shown = os.fspath(path)
    check_agency_name(agency)
    for name, value, pattern, length in (
        ("schema_fingerprint", schema_fingerprint, _FINGERPRINT_RE, 64),
        ("key_check", key_check, _KEY_CHECK_RE, 32),
    ):
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise InputError(f"{name} must be {length} lowercase hexadecimal digits")
    clks = _load_clks(shown)
    parts: list[bytes] = []
    width = -1
    for index, item in enumerate(clks):
        if not isinstance(item, str):
            _fail(shown, f"clks[{index}] is {json_kind(item)}, not a base64 string")
        try:
            decoded = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            _fail(shown, f"clks[{index}] is not valid base64")
        if width < 0:
            width = len(decoded)
            if width == 0 or width * 8 > MAX_FILTER_BITS:
                _fail(
                    shown,
                    f"clks[{index}] holds {width} bytes; a CLK must hold 1 to "
                    f"{MAX_FILTER_BITS // 8} bytes",
                )
        elif len(decoded) != width:
            _fail(
                shown,
                f"clks[{index}] holds {len(decoded)} bytes but clks[0] holds {width}; "
                "all CLKs of a file must have the same length",
            )
        parts.append(decoded)
    record_ids = _record_ids(shown, ids, len(parts))
    filters = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(len(parts), width)
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=schema_fingerprint,
        key_check=key_check,
        filter_bits=width * 8,
        record_ids=record_ids,
        filters=filters.copy(),
    )


def _load_clks(shown: str) -> list[Any]:
    try:
        with open(shown, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        _fail(shown, f"cannot be read ({exc.strerror or type(exc).__name__})")
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        _fail(shown, "is not UTF-8 text, so not an anonlink JSON file")
    except json.JSONDecodeError as exc:
        _fail(shown, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except ValueError:
        _fail(shown, "is not valid JSON (NaN or Infinity)")
    if not isinstance(document, dict):
        _fail(shown, f'is JSON {json_kind(document)}, not an object {{"clks": [...]}}')
    if "clks" not in document:
        if "clknblocks" in document:
            _fail(shown, "holds 'clknblocks' (CLKs with blocks); blindlink reads only 'clks'")
        _fail(shown, "lacks the key 'clks'")
    extra = sorted(key for key in document if key != "clks")
    if extra:
        _fail(shown, f"has keys other than 'clks' ({', '.join(map(repr, extra[:5]))})")
    clks = document["clks"]
    if not isinstance(clks, list):
        _fail(shown, f"'clks' is {json_kind(clks)}, not an array")
    if not clks:
        _fail(shown, "'clks' is empty: there is nothing to link")
    return clks


def _record_ids(shown: str, ids: Sequence[str] | None, count: int) -> tuple[str, ...]:
    if ids is None:
        return tuple(str(index) for index in range(count))
    record_ids = tuple(ids)
    if len(record_ids) != count:
        raise InputError(f"{shown}: {count} CLKs but {len(record_ids)} record ids were given")
    seen: set[str] = set()
    for position, record_id in enumerate(record_ids, start=1):
        if not isinstance(record_id, str) or not record_id:
            raise InputError(f"{shown}: record id {position} must be non-empty text")
        if record_id in seen:
            raise InputError(f"{shown}: record id {position} repeats an earlier record id")
        seen.add(record_id)
    return record_ids


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _fail(shown: str, problem: str) -> NoReturn:
    raise EncodedFileError(f"{shown}: {problem}") from None
