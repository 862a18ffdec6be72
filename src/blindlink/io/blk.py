"""The encoded file (``.blk``, format 1): what an agency sends to the coordinator.

The layout is specified, byte by byte, in ``protocols/encoded-file-format.md`` so that other
implementations can read and write it; this module is the reference implementation.

Why it looks the way it does:

* A fixed binary prefix (magic, format version, flags) lets a reader refuse a foreign or
  future file before it parses anything.
* The header is canonical JSON, so it is easy to read anywhere and every writer produces the
  same bytes for the same batch (test vectors can compare files byte for byte).
* Filters are stored exactly as packed in memory, so a million records load with one read and
  no per-record work.
* A SHA-256 trailer catches truncated copies, bit flips and accidental edits. It does not prove
  who made the file; that will come as signed variants announced by the flags field.
* Aggregate attributes (flag bit 0) follow the filters as a ``uint16`` code per record and
  attribute, their values listed once in the header: one read, no per-record parsing, and a
  file without them is byte for byte what earlier releases wrote.
* Keyed blocking keys (flag bit 1) follow as a ``uint16`` count per record and key, then
  the 8-byte values themselves; the header gives each key's number of values, so the file's
  size is known before anything is read, and a file without them is unchanged too.

Every error names the file and what is wrong with it -- never a record id or filter bytes,
because error text ends up in logs and e-mails.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import re
import struct
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, NoReturn, Protocol, cast

import numpy as np
import numpy.typing as npt

from blindlink.errors import EncodedFileError, InputError, OutputError
from blindlink.io.atomic import atomic_file
from blindlink.types import AttributeColumn, EncodedBatch, RecordAttributes, RecordBlockingKeys

__all__ = [
    "BlkWriter",
    "Destination",
    "FLAG_ATTRIBUTES",
    "FLAG_BLOCKING_KEYS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAGIC",
    "check_agency_name",
    "read_blk",
    "write_blk",
]

#: First eight bytes of every encoded file.
MAGIC = b"BLINDLNK"
#: The one format version this module reads and writes.
FORMAT_VERSION = 1
#: Value of the header's ``format`` key: tells encodings apart from other blindlink files.
FORMAT_NAME = "blindlink-encodings"
#: Flag bit: an attributes section (aggregate attributes in the clear) follows the filters.
FLAG_ATTRIBUTES = 0x0001
#: Flag bit: a blocking-keys section (keyed blocking-key values) follows the attributes.
FLAG_BLOCKING_KEYS = 0x0002
#: Flags this module reads and writes.
_KNOWN_FLAGS = FLAG_ATTRIBUTES | FLAG_BLOCKING_KEYS

#: magic, u16 format version, u16 flags, u32 header length.
_PREFIX = struct.Struct("<8sHHI")
_ID_LENGTH = struct.Struct("<I")
_CODE = np.dtype("<u2")
#: Blocking-key values: 8 bytes each, compared bytewise (so read big-endian).
_KEY_VALUE = np.dtype(">u8")
#: At most this many blocking keys in one file (schemas allow 16).
_MAX_BLOCKING_KEYS = 64
_ATTRIBUTE_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DATE_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
#: Codes are uint16 and 0 means unknown.
_MAX_ATTRIBUTE_VALUES = 0xFFFF
_TRAILER_BYTES = hashlib.sha256().digest_size  # 32
#: A format-1 header is a few hundred bytes; anything near this limit is not one.
MAX_HEADER_BYTES = 65536
#: Far above any useful Bloom filter (schemas allow 65536 bits); bounds memory on bad input.
MAX_FILTER_BITS = 1 << 20
_MAX_PRODUCER_CHARS = 256

_AGENCY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_AGENCY_RULE = (
    "use 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-', starting with a letter "
    "or digit, not ending in '.' and without '..'"
)
#: Names Windows keeps for devices, whatever the extension: ``agencies/CON.csv`` is no file there.
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
_FINGERPRINT_RE = re.compile(r"[0-9a-f]{64}")
_KEY_CHECK_RE = re.compile(r"[0-9a-f]{32}")

#: Header keys a format-1 writer writes, with the JSON type each must have.
_HEADER_TYPES: dict[str, type] = {
    "agency": str,
    "filter_bits": int,
    "format": str,
    "ids_bytes": int,
    "key_check": str,
    "producer": str,
    "record_count": int,
    "schema_fingerprint": str,
}
_JSON_TYPE_NAMES: dict[type, str] = {str: "a string", int: "an integer"}

_READ_CHUNK = 1 << 24


def check_agency_name(name: str) -> str:
    """Return ``name`` if it is a safe agency name; raise :class:`InputError` otherwise.

    The coordinator turns agency names into output file names, so a name must not be able to
    climb out of a folder (``../x``), name a sub-folder (``a/b``), hide (``.x``), name a
    Windows device (``CON``, ``nul.x``) or be empty.
    """
    if not isinstance(name, str):
        raise InputError(f"agency name must be text, not {type(name).__name__}: {_AGENCY_RULE}")
    if not name:
        raise InputError(f"agency name is empty: {_AGENCY_RULE}")
    if _AGENCY_RE.fullmatch(name) is None or name.endswith(".") or ".." in name:
        raise InputError(f"agency name {_shown(name)} is not allowed: {_AGENCY_RULE}")
    if name.split(".", 1)[0].casefold() in _RESERVED_NAMES:
        raise InputError(
            f"agency name {_shown(name)} is not allowed: Windows reserves it for a device "
            "(CON, PRN, AUX, NUL, COM0-9, LPT0-9, with or without an extension)"
        )
    return name


def write_blk(path: str | os.PathLike[str], batch: EncodedBatch) -> None:
    """Write ``batch`` to ``path`` as a format-1 encoded file, atomically.

    The batch is checked completely before anything is written, so a bad batch raises
    :class:`InputError` and leaves no file (not even a temporary one) behind; an existing file
    at ``path`` is replaced only once the new one is complete.
    """
    _write_blk(path, batch, producer=_default_producer())


def read_blk(path: str | os.PathLike[str]) -> EncodedBatch:
    """Read and fully validate a format-1 encoded file.

    Raises :class:`EncodedFileError` (one line, starting with the path) for a file that cannot
    be opened, is not an encoded file, is of another format version, is truncated, has extra
    bytes, fails its checksum or holds an invalid header or record id.
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            return _Reader(shown, handle).read()
    except OSError as exc:
        _fail(shown, f"cannot be read ({_os_reason(exc)})", exc)


# --------------------------------------------------------------------------------- writing


def _default_producer() -> str:
    """``"blindlink <version>"``: informational, helps diagnose files made by old releases."""
    try:
        return f"blindlink {importlib.metadata.version('blindlink')}"
    except importlib.metadata.PackageNotFoundError:
        return "blindlink (unknown version)"


def _write_blk(path: str | os.PathLike[str], batch: EncodedBatch, *, producer: str) -> None:
    """:func:`write_blk` with the ``producer`` string fixed, for reproducible test vectors."""
    if not isinstance(producer, str) or not 0 < len(producer) <= _MAX_PRODUCER_CHARS:
        raise InputError(f"producer must be 1 to {_MAX_PRODUCER_CHARS} characters of text")
    filters, id_section = _check_batch(batch)
    columns, codes = None, b""
    if batch.attributes is not None:
        columns = _check_columns(batch.attributes.columns)
        codes = _check_codes(batch.attributes.codes, len(batch.record_ids), columns)
    key_list, key_counts, key_values = None, b"", b""
    if batch.blocking_keys is not None:
        names = _check_key_names(batch.blocking_keys.names)
        key_counts, key_values, totals = _check_key_values(
            batch.blocking_keys, len(batch.record_ids), names
        )
        key_list = tuple(zip(names, totals, strict=True))
    head = _head(
        batch.agency,
        batch.schema_fingerprint,
        batch.key_check,
        batch.filter_bits,
        record_count=len(batch.record_ids),
        ids_bytes=len(id_section),
        producer=producer,
        attributes=columns,
        blocking_keys=key_list,
    )
    digest = hashlib.sha256()
    with atomic_file(path) as out:
        for part in (head, id_section, _bytes_view(filters), codes, key_counts, key_values):
            digest.update(part)
            out.write(part)
        out.write(digest.digest())


def _head(
    agency: str,
    schema_fingerprint: str,
    key_check: str,
    filter_bits: int,
    *,
    record_count: int,
    ids_bytes: int,
    producer: str,
    attributes: tuple[AttributeColumn, ...] | None = None,
    blocking_keys: Sequence[tuple[str, int]] | None = None,
) -> bytes:
    """The fixed prefix and the canonical JSON header: everything before the ids section.

    ``blocking_keys`` lists each blocking key's name and its number of values in the file.
    """
    document: dict[str, Any] = {
        "agency": agency,
        "filter_bits": filter_bits,
        "format": FORMAT_NAME,
        "ids_bytes": ids_bytes,
        "key_check": key_check,
        "producer": producer,
        "record_count": record_count,
        "schema_fingerprint": schema_fingerprint,
    }
    flags = 0
    if attributes is not None:
        flags |= FLAG_ATTRIBUTES
        document["attributes"] = [_column_document(column) for column in attributes]
    if blocking_keys is not None:
        flags |= FLAG_BLOCKING_KEYS
        document["blocking_keys"] = [
            {"name": name, "value_count": values} for name, values in blocking_keys
        ]
    header = _canonical_json(document)
    if len(header) > MAX_HEADER_BYTES:
        raise InputError(
            f"the header would be {len(header)} bytes (at most {MAX_HEADER_BYTES}): "
            "too many attribute values"
        )
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, flags, len(header)) + header


def _column_document(column: AttributeColumn) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": column.kind,
        "name": column.name,
        "values": list(column.values),
    }
    if column.reference_date is not None:
        document["reference_date"] = column.reference_date
    return document


def _column_problem(column: object) -> str | None:
    """Why ``column`` cannot be an attribute column, or None."""
    if not isinstance(column, AttributeColumn):
        return f"is {type(column).__name__}, not an AttributeColumn"
    if not isinstance(column.name, str) or not _ATTRIBUTE_NAME_RE.fullmatch(column.name):
        return "has a name that is not 1 to 64 of a-z, 0-9 and '_' starting with a letter"
    if not isinstance(column.kind, str) or not column.kind:
        return "has no kind"
    values = column.values
    if not isinstance(values, tuple | list) or not 0 < len(values) <= _MAX_ATTRIBUTE_VALUES:
        return f"must have 1 to {_MAX_ATTRIBUTE_VALUES} values"
    if not all(isinstance(value, str) and value for value in values):
        return "has a value that is not non-empty text"
    if len(set(values)) != len(values):
        return "repeats a value"
    reference = column.reference_date
    if reference is not None and not (isinstance(reference, str) and _DATE_RE.fullmatch(reference)):
        return "has a reference date that is not YYYY-MM-DD"
    return None


def _check_columns(columns: object) -> tuple[AttributeColumn, ...]:
    """Attribute columns for writing: at least one, each valid, names distinct."""
    if not isinstance(columns, tuple | list) or not columns:
        raise InputError("attributes must name at least one attribute column")
    names: set[str] = set()
    for position, column in enumerate(columns, start=1):
        if problem := _column_problem(column):
            raise InputError(f"attribute column {position} {problem}")
        if column.name in names:
            raise InputError(f"attribute column {position} repeats the name {column.name!r}")
        names.add(column.name)
    return tuple(columns)


def _check_table(
    table: object, what: str, records: int, width: int, per: str
) -> npt.NDArray[np.uint16]:
    """``table`` checked to be a uint16 array of ``records`` rows of ``width`` (``per``)."""
    if not isinstance(table, np.ndarray) or table.dtype != np.uint16:
        raise InputError(f"{what} must be a numpy array of dtype uint16")
    if table.shape != (records, width):
        raise InputError(
            f"{what} have shape {table.shape}; {records} records of "
            f"{width} {per} need shape ({records}, {width})"
        )
    checked: npt.NDArray[np.uint16] = table
    return checked


def _check_codes(codes: object, records: int, columns: tuple[AttributeColumn, ...]) -> bytes:
    """The attributes section for ``records`` records: the codes, checked, as bytes."""
    codes = _check_table(codes, "attribute codes", records, len(columns), "attributes")
    if problem := _code_range_problem(codes, columns):
        raise InputError(problem)
    return np.ascontiguousarray(codes, dtype=_CODE).tobytes()


def _code_range_problem(codes: npt.NDArray[np.uint16], columns: Sequence[AttributeColumn]) -> str:
    """A message for the first attribute with a code beyond its values, or ''."""
    if not codes.size:
        return ""
    highest = codes.max(axis=0)
    for column, top in zip(columns, highest.tolist(), strict=True):
        if top > len(column.values):
            return f"attribute {column.name!r} has a code above its {len(column.values)} values"
    return ""


def _check_key_names(names: object) -> tuple[str, ...]:
    """Blocking-key names for writing: 1 to 64, each valid, distinct."""
    if not isinstance(names, tuple | list) or not 0 < len(names) <= _MAX_BLOCKING_KEYS:
        raise InputError(f"blocking keys must name 1 to {_MAX_BLOCKING_KEYS} keys")
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str) or not _ATTRIBUTE_NAME_RE.fullmatch(name):
            raise InputError(
                f"blocking key {position} has a name that is not 1 to 64 of a-z, 0-9 and '_' "
                "starting with a letter"
            )
    if len(set(names)) != len(names):
        raise InputError("blocking keys repeat a name")
    return tuple(names)


def _check_key_values(
    keys: RecordBlockingKeys, records: int, names: tuple[str, ...]
) -> tuple[bytes, bytes, list[int]]:
    """The blocking-keys section of ``records`` records, checked: (counts, values, values
    per key)."""
    counts = _check_table(keys.counts, "blocking-key counts", records, len(names), "keys")
    values = keys.values
    if not isinstance(values, np.ndarray) or values.dtype != np.uint64 or values.ndim != 1:
        raise InputError("blocking-key values must be a 1-D numpy array of dtype uint64")
    if values.shape[0] != int(counts.sum(dtype=np.int64)):
        raise InputError(
            f"{values.shape[0]} blocking-key values, but the counts add up to "
            f"{int(counts.sum(dtype=np.int64))}"
        )
    if problem := _key_order_problem(counts, values):
        raise InputError(problem)
    totals = [int(total) for total in counts.sum(axis=0, dtype=np.int64)]
    return (
        np.ascontiguousarray(counts, dtype=_CODE).tobytes(),
        np.ascontiguousarray(values, dtype=_KEY_VALUE).tobytes(),
        totals,
    )


def _key_order_problem(counts: npt.NDArray[np.uint16], values: npt.NDArray[np.uint64]) -> str:
    """'' if each record's values of each key are distinct and ascending, else a message."""
    if values.shape[0] < 2:
        return ""
    lists = counts.ravel().astype(np.int64)
    starts = np.cumsum(lists) - lists
    first = np.zeros(values.shape[0], dtype=bool)
    first[starts[lists > 0]] = True
    rising = values[1:] > values[:-1]
    if bool(np.all(rising | first[1:])):
        return ""
    position = int(np.flatnonzero(~(rising | first[1:]))[0]) + 1
    record = int(np.searchsorted(np.cumsum(lists), position, side="right")) // counts.shape[1]
    return f"record {record + 1}: its values of one blocking key are not distinct and ascending"


def _check_identity(agency: str, schema_fingerprint: str, key_check: str, bits: int) -> None:
    """Checks on what the header says about the whole batch (all but the record count)."""
    check_agency_name(agency)
    for problem in (
        _hex_problem("schema_fingerprint", schema_fingerprint, _FINGERPRINT_RE, 64),
        _hex_problem("key_check", key_check, _KEY_CHECK_RE, 32),
    ):
        if problem:
            raise InputError(problem)
    if problem := _filter_bits_problem(bits):
        raise InputError(f"filter_bits {problem}")


def _check_filters(filters: object, records: int, bits: int) -> npt.NDArray[np.uint8]:
    """``filters`` for ``records`` records, C-contiguous, or :class:`InputError`."""
    if not isinstance(filters, np.ndarray):
        raise InputError(f"filters must be a numpy array, not {type(filters).__name__}")
    if filters.dtype != np.uint8:
        raise InputError(f"filters must have dtype uint8, not {filters.dtype}")
    width = bits // 8
    if filters.shape != (records, width):
        raise InputError(
            f"filters have shape {filters.shape}; {records} records of {bits} bits need "
            f"shape ({records}, {width})"
        )
    return np.ascontiguousarray(filters)


def _id_entries(ids: Sequence[object], first: int) -> bytes:
    """The ids section entries of ``ids``, the first being record id number ``first``.

    Checks each id (text, not empty, valid Unicode, under 4 GiB), not that they are distinct.
    Valid ids (the rule) are encoded without a Python loop per id; otherwise
    :func:`_id_entries_one_by_one` finds the first bad one, so the message names its position.
    """
    if set(map(type, ids)) <= {str}:
        try:
            encoded = [text.encode("utf-8") for text in cast(Sequence[str], ids)]
        except UnicodeEncodeError:
            return _id_entries_one_by_one(ids, first)
        lengths = list(map(len, encoded))
        if not lengths or (min(lengths) > 0 and max(lengths) <= 0xFFFFFFFF):
            parts: list[bytes] = [b""] * (2 * len(encoded))
            parts[0::2] = map(_ID_LENGTH.pack, lengths)
            parts[1::2] = encoded
            return b"".join(parts)
    return _id_entries_one_by_one(ids, first)


def _id_entries_one_by_one(ids: Sequence[object], first: int) -> bytes:
    """:func:`_id_entries`, checking id after id: raises for the first bad one."""
    parts: list[bytes] = []
    for position, record_id in enumerate(ids, start=first):
        if not isinstance(record_id, str):
            raise InputError(f"record id {position} is {type(record_id).__name__}, not text")
        if not record_id:
            raise InputError(f"record id {position} is empty")
        try:
            encoded = record_id.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(
                f"record id {position} is not valid Unicode text (lone surrogate)"
            ) from exc
        if len(encoded) > 0xFFFFFFFF:
            raise InputError(f"record id {position} is longer than 4 GiB")
        parts.append(_ID_LENGTH.pack(len(encoded)))
        parts.append(encoded)
    return b"".join(parts)


def _check_batch(batch: EncodedBatch) -> tuple[npt.NDArray[np.uint8], bytes]:
    """Validate a batch for writing; return its filters (C-contiguous) and its ids section."""
    if not isinstance(batch, EncodedBatch):
        raise InputError(f"expected an EncodedBatch, not {type(batch).__name__}")
    _check_identity(batch.agency, batch.schema_fingerprint, batch.key_check, batch.filter_bits)
    ids = batch.record_ids
    if not isinstance(ids, tuple | list):
        raise InputError(f"record_ids must be a tuple of strings, not {type(ids).__name__}")
    filters = _check_filters(batch.filters, len(ids), batch.filter_bits)
    id_section = _id_entries(ids, 1)
    if len(set(ids)) != len(ids):
        raise InputError(f"record id {_first_duplicate(ids)} repeats an earlier record id")
    return filters, id_section


class Sink(Protocol):
    """Where :class:`BlkWriter` writes a file's bytes: an open file, or a sealing writer."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...


#: Opens somewhere else than a path for :class:`BlkWriter` to write a file into, given the
#: file's size in bytes (``pipeline.exchange.encoded_destination``: sealed as it is written,
#: so the plain file never exists under a name on disk).
Destination = Callable[[int], AbstractContextManager[Sink]]


class BlkWriter:
    """Writes a ``.blk`` file chunk by chunk, in memory independent of the number of records.

    The header gives the record count and the size of the ids section before the ids, so
    neither can be written until the last chunk is in: ids and filters go to two unnamed
    temporary files beside the target (deleted by the system however the process ends), and
    :meth:`finish` writes the file from them atomically. Only the record ids are held, to
    refuse a repeated one and to return them. Use it as a context manager::

        with BlkWriter(path, agency=..., schema_fingerprint=..., key_check=...,
                       filter_bits=...) as writer:
            for ids, filters in chunks:
                writer.add(ids, filters)
            batch = writer.finish()

    Leaving the block without :meth:`finish` (an exception, say) writes nothing; an existing
    file at ``path`` is replaced only once the new one is complete. The file is byte for byte
    the one :func:`write_blk` writes for the same records. With ``attributes`` (the aggregate
    attribute columns), every :meth:`add` gives the records' attribute codes too; with
    ``blocking_keys`` (the names of the blocking keys), their blocking-key values.

    With ``destination``, :meth:`finish` writes the file's bytes there instead of to
    ``path`` (which then only names the folder of the temporaries), and the batch's filters
    are mapped from the unnamed temporary that holds them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        agency: str,
        schema_fingerprint: str,
        key_check: str,
        filter_bits: int,
        attributes: Sequence[AttributeColumn] | None = None,
        destination: Destination | None = None,
        blocking_keys: Sequence[str] | None = None,
    ) -> None:
        _check_identity(agency, schema_fingerprint, key_check, filter_bits)
        self._destination = destination
        self._columns = None if attributes is None else _check_columns(attributes)
        self._key_names = None if blocking_keys is None else _check_key_names(blocking_keys)
        self._key_totals = [0] * len(self._key_names or ())
        self._path = Path(path)
        self._identity = (agency, schema_fingerprint, key_check, filter_bits)
        self._ids: list[str] = []
        self._ids_bytes = 0
        directory = self._path.parent if str(self._path.parent) else Path(".")
        if not directory.is_dir():
            raise OutputError(f"{self._path}: folder {directory} does not exist")
        try:
            self._id_spool = tempfile.TemporaryFile(dir=directory)
        except OSError as exc:
            self._spool_failed(exc)
        try:
            self._filter_spool = tempfile.TemporaryFile(dir=directory)
        except OSError as exc:
            self._id_spool.close()
            self._spool_failed(exc)
        try:
            self._code_spool = tempfile.TemporaryFile(dir=directory)
        except OSError as exc:
            self._id_spool.close()
            self._filter_spool.close()
            self._spool_failed(exc)
        # blocking-key counts, then values
        self._key_spools: list[IO[bytes]] = []
        try:
            while len(self._key_spools) < 2:
                self._key_spools.append(tempfile.TemporaryFile(dir=directory))
        except OSError as exc:
            for spool in (self._id_spool, self._filter_spool, self._code_spool, *self._key_spools):
                spool.close()
            self._spool_failed(exc)

    def __enter__(self) -> BlkWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._id_spool.close()
        self._filter_spool.close()
        self._code_spool.close()
        for spool in self._key_spools:
            spool.close()

    def add(
        self,
        record_ids: Sequence[str],
        filters: npt.NDArray[np.uint8],
        attributes: npt.NDArray[np.uint16] | None = None,
        blocking_keys: RecordBlockingKeys | None = None,
    ) -> None:
        """Append records: their ids, their packed filters and, if the writer has attribute
        columns, their attribute codes, and if it has blocking keys, their blocking-key
        values (ids must all be distinct: :meth:`finish` checks)."""
        packed = _check_filters(filters, len(record_ids), self._identity[3])
        codes = b""
        if self._columns is not None:
            if attributes is None:
                raise InputError("this writer sends attributes: give each record's codes")
            codes = _check_codes(attributes, len(record_ids), self._columns)
        elif attributes is not None:
            raise InputError("this writer has no attribute columns: give no codes")
        key_counts, key_values, totals = b"", b"", [0] * len(self._key_totals)
        if self._key_names is not None:
            if blocking_keys is None or tuple(blocking_keys.names) != self._key_names:
                raise InputError("this writer sends blocking keys: give each record's values")
            key_counts, key_values, totals = _check_key_values(
                blocking_keys, len(record_ids), self._key_names
            )
        elif blocking_keys is not None:
            raise InputError("this writer has no blocking keys: give no blocking-key values")
        entries = _id_entries(record_ids, len(self._ids) + 1)
        try:
            self._id_spool.write(entries)
            self._filter_spool.write(_bytes_view(packed))
            self._code_spool.write(codes)
            self._key_spools[0].write(key_counts)
            self._key_spools[1].write(key_values)
        except OSError as exc:
            self._spool_failed(exc)
        self._key_totals = [a + b for a, b in zip(self._key_totals, totals, strict=True)]
        self._ids += record_ids
        self._ids_bytes += len(entries)

    def finish(self) -> EncodedBatch:
        """Write the file (atomically); return the batch, its filters mapped from the file.

        Raises :class:`InputError` if an id repeats an earlier one (checked here, once for
        all ids, which is cheaper than chunk by chunk; nothing has been written yet).
        """
        agency, fingerprint, key_check, bits = self._identity
        count = len(self._ids)
        if len(set(self._ids)) != count:
            raise InputError(
                f"record id {_first_duplicate(self._ids)} repeats an earlier record id"
            )
        head = _head(
            agency,
            fingerprint,
            key_check,
            bits,
            record_count=count,
            ids_bytes=self._ids_bytes,
            producer=_default_producer(),
            attributes=self._columns,
            blocking_keys=(
                None
                if self._key_names is None
                else tuple(zip(self._key_names, self._key_totals, strict=True))
            ),
        )
        digest = hashlib.sha256(head)
        spools = (self._id_spool, self._filter_spool, self._code_spool, *self._key_spools)
        output: AbstractContextManager[Sink]
        if self._destination is None:
            output = atomic_file(self._path)
        else:
            try:
                size = len(head) + sum(spool.seek(0, io.SEEK_END) for spool in spools)
            except OSError as exc:  # flushing a spool's buffer onto a full disk
                self._spool_failed(exc)
            output = self._destination(size + _TRAILER_BYTES)
        with output as out:
            out.write(head)
            for spool in spools:
                spool.seek(0)
                while block := spool.read(_READ_CHUNK):
                    digest.update(block)
                    out.write(block)
            out.write(digest.digest())
        width = bits // 8
        filters: npt.NDArray[np.uint8] = np.zeros((0, width), dtype=np.uint8)
        if count and self._destination is not None:
            self._filter_spool.flush()
            filters = np.memmap(self._filter_spool, dtype=np.uint8, mode="r", shape=(count, width))
        elif count:
            filters = np.memmap(
                self._path,
                dtype=np.uint8,
                mode="r",
                offset=len(head) + self._ids_bytes,
                shape=(count, width),
            )
        attributes = None
        if self._columns is not None:
            self._code_spool.seek(0)
            raw = self._code_spool.read()
            codes = np.frombuffer(raw, dtype=_CODE).astype(np.uint16)
            attributes = RecordAttributes(self._columns, codes.reshape(count, len(self._columns)))
        keys = None
        if self._key_names is not None:
            raw_counts, raw_values = (self._spooled(spool) for spool in self._key_spools)
            keys = RecordBlockingKeys(
                self._key_names,
                np.frombuffer(raw_counts, dtype=_CODE)
                .astype(np.uint16)
                .reshape(count, len(self._key_names)),
                np.frombuffer(raw_values, dtype=_KEY_VALUE).astype(np.uint64),
            )
        return EncodedBatch(
            agency=agency,
            schema_fingerprint=fingerprint,
            key_check=key_check,
            filter_bits=bits,
            record_ids=tuple(self._ids),
            filters=filters,
            attributes=attributes,
            blocking_keys=keys,
        )

    @staticmethod
    def _spooled(spool: IO[bytes]) -> bytes:
        spool.seek(0)
        return spool.read()

    def _spool_failed(self, exc: OSError) -> NoReturn:
        raise OutputError(f"{self._path}: could not be written ({_os_reason(exc)})") from exc


def _canonical_json(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no white space, UTF-8: the one serialisation every writer must produce."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


# --------------------------------------------------------------------------------- reading


class _Reader:
    """Reads one open file section by section, hashing as it goes.

    Checks run in the order that gives the most useful message: is it ours at all (magic,
    version, flags), is it complete (sizes declared in the header against the file size), is it
    intact (checksum), and only then is its content meaningful (names, hex strings, ids) --
    so a flipped bit in an id is reported as corruption, not as a strange id.
    """

    def __init__(self, shown: str, handle: io.BufferedReader) -> None:
        self.shown = shown
        self.handle = handle
        self.size = os.fstat(handle.fileno()).st_size
        self.digest = hashlib.sha256()

    def fail(self, problem: str, cause: BaseException | None = None) -> NoReturn:
        _fail(self.shown, problem, cause)

    def take(self, count: int) -> bytes:
        """The next ``count`` bytes (already known to exist), added to the running hash."""
        data = self.handle.read(count)
        if len(data) != count:
            self.fail("is truncated (the file shrank while it was being read)")
        self.digest.update(data)
        return data

    def read(self) -> EncodedBatch:
        if self.size == 0:
            self.fail("empty file")
        prefix = self.handle.read(_PREFIX.size)
        magic = prefix[: len(MAGIC)]
        if magic != MAGIC[: len(magic)]:
            self.fail("not a blindlink encoded file (wrong magic bytes)")
        if len(prefix) < _PREFIX.size:
            self.fail(
                f"is truncated: only {self.size} bytes, shorter than the "
                f"{_PREFIX.size}-byte start of an encoded file"
            )
        self.digest.update(prefix)
        _, version, flags, header_length = _PREFIX.unpack(prefix)
        self._check_version(version, flags)
        if header_length > MAX_HEADER_BYTES:
            self.corrupt_or(f"declares a {header_length}-byte header (at most {MAX_HEADER_BYTES})")
        header_end = _PREFIX.size + header_length
        if header_end + _TRAILER_BYTES > self.size:
            self.fail(
                f"is truncated: {self.size} bytes, but its header alone declares "
                f"{header_end + _TRAILER_BYTES}"
            )
        header = self._parse_header(self.take(header_length))
        columns = self._parse_attributes(header, flags)
        key_list = self._parse_blocking_keys(header, flags)
        record_count: int = header["record_count"]
        filter_bits: int = header["filter_bits"]
        ids_bytes: int = header["ids_bytes"]
        width = filter_bits // 8
        codes_bytes = record_count * len(columns or ()) * _CODE.itemsize
        keys_bytes = sum(
            record_count * _CODE.itemsize + count * _KEY_VALUE.itemsize
            for _, count in key_list or ()
        )
        expected = (
            header_end + ids_bytes + record_count * width + codes_bytes + keys_bytes
            + _TRAILER_BYTES
        )  # fmt: skip
        if self.size < expected:
            self.fail(
                f"is truncated: {self.size} bytes, but its header declares {expected} "
                f"({record_count} records of {filter_bits} bits); was the copy incomplete?"
            )
        if self.size > expected:
            self._reject_extra_bytes(expected)
        id_section = self.take(ids_bytes)
        filters = np.empty((record_count, width), dtype=np.uint8)
        self._read_into(filters)
        code_section = self.take(codes_bytes)
        key_section = self.take(keys_bytes)
        trailer = self.handle.read(_TRAILER_BYTES)
        if trailer != self.digest.digest():
            self.fail("corrupted or modified: checksum does not match")
        agency = self._check_content(header)
        record_ids = self._parse_ids(id_section, record_count)
        attributes = None
        if columns is not None:
            codes = np.frombuffer(code_section, dtype=_CODE).astype(np.uint16)
            codes = codes.reshape(record_count, len(columns))
            if problem := _code_range_problem(codes, columns):
                self.fail(f"attributes section: {problem}")
            attributes = RecordAttributes(columns, codes)
        blocking_keys = None
        if key_list is not None:
            blocking_keys = self._blocking_keys(key_section, record_count, key_list)
        return EncodedBatch(
            agency=agency,
            schema_fingerprint=header["schema_fingerprint"],
            key_check=header["key_check"],
            filter_bits=filter_bits,
            record_ids=record_ids,
            filters=filters,
            attributes=attributes,
            blocking_keys=blocking_keys,
        )

    def _parse_blocking_keys(
        self, header: Mapping[str, Any], flags: int
    ) -> tuple[tuple[str, int], ...] | None:
        """Name and number of values of each blocking key (flag bit 1), or None without."""
        if not flags & FLAG_BLOCKING_KEYS:
            if "blocking_keys" in header:
                self.corrupt_or("header has 'blocking_keys' but the blocking-keys flag is not set")
            return None
        listed = header.get("blocking_keys")
        if not isinstance(listed, list) or not 0 < len(listed) <= _MAX_BLOCKING_KEYS:
            self.corrupt_or(
                f"the blocking-keys flag is set but the header does not list 1 to "
                f"{_MAX_BLOCKING_KEYS} 'blocking_keys'"
            )
        keys: list[tuple[str, int]] = []
        for position, entry in enumerate(listed, start=1):
            if not isinstance(entry, dict):
                self.corrupt_or(f"header blocking key {position} is not a JSON object")
            name, count = entry.get("name"), entry.get("value_count")
            if not isinstance(name, str) or not _ATTRIBUTE_NAME_RE.fullmatch(name):
                self.corrupt_or(
                    f"header blocking key {position} has a name that is not 1 to 64 of a-z, "
                    "0-9 and '_' starting with a letter"
                )
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                self.corrupt_or(
                    f"header blocking key {position} 'value_count' must be an integer >= 0"
                )
            if any(name == other for other, _ in keys):
                self.corrupt_or(
                    f"header blocking key {position} repeats the name of an earlier one"
                )
            keys.append((name, count))
        return tuple(keys)

    def _blocking_keys(
        self, section: bytes, record_count: int, key_list: tuple[tuple[str, int], ...]
    ) -> RecordBlockingKeys:
        """The blocking-keys section, checked against the header (after the checksum)."""
        split = record_count * len(key_list) * _CODE.itemsize
        counts = np.frombuffer(section[:split], dtype=_CODE).astype(np.uint16)
        counts = counts.reshape(record_count, len(key_list))
        values = np.frombuffer(section[split:], dtype=_KEY_VALUE).astype(np.uint64)
        totals = counts.sum(axis=0, dtype=np.int64).tolist()
        for (name, declared), total in zip(key_list, totals, strict=True):
            if declared != total:
                self.fail(
                    f"blocking-keys section: key {name!r} has {total} values, but the header "
                    f"declares {declared}"
                )
        if problem := _key_order_problem(counts, values):
            self.fail(f"blocking-keys section: {problem}")
        return RecordBlockingKeys(tuple(name for name, _ in key_list), counts, values)

    def _parse_attributes(
        self, header: Mapping[str, Any], flags: int
    ) -> tuple[AttributeColumn, ...] | None:
        """The attribute columns the header declares (flag bit 0), or None without them."""
        if not flags & FLAG_ATTRIBUTES:
            if "attributes" in header:
                self.corrupt_or("header has 'attributes' but the attributes flag is not set")
            return None
        listed = header.get("attributes")
        if not isinstance(listed, list) or not listed:
            self.corrupt_or("the attributes flag is set but the header lists no 'attributes'")
        columns: list[AttributeColumn] = []
        for position, entry in enumerate(listed, start=1):
            if not isinstance(entry, dict):
                self.corrupt_or(f"header attribute {position} is not a JSON object")
            values = entry.get("values")
            column = AttributeColumn(  # checked just below
                name=entry.get("name", ""),
                kind=entry.get("kind", ""),
                values=tuple(values) if isinstance(values, list) else cast(tuple[str], values),
                reference_date=entry.get("reference_date"),
            )
            if problem := _column_problem(column):
                self.corrupt_or(f"header attribute {position} {problem}")
            if any(column.name == other.name for other in columns):
                self.corrupt_or(f"header attribute {position} repeats the name of an earlier one")
            columns.append(column)
        return tuple(columns)

    def _check_version(self, version: int, flags: int) -> None:
        if version > FORMAT_VERSION:
            self.fail(
                f"made by a newer blindlink (format {version}); this blindlink reads "
                f"format {FORMAT_VERSION}: upgrade blindlink to read it"
            )
        if version < FORMAT_VERSION:
            self.fail(
                f"made by an older blindlink (format {version}); this blindlink reads "
                f"format {FORMAT_VERSION}: encode the records again"
            )
        if flags & ~_KNOWN_FLAGS:
            self.fail(
                f"uses format features this blindlink does not support (flags 0x{flags:04x}; "
                "signed or encrypted files need a newer blindlink)"
            )

    def corrupt_or(self, problem: str, cause: BaseException | None = None) -> NoReturn:
        """Report ``problem``, or corruption if the whole-file checksum fails.

        Used when the header cannot be understood: then the declared sizes are unknown, but
        the checksum is always the last 32 bytes, so it can still tell a damaged file from a
        file that a faulty writer made.
        """
        if not self._whole_file_intact():
            self.fail("corrupted or modified: checksum does not match", cause)
        self.fail(problem, cause)

    def _whole_file_intact(self) -> bool:
        if self.size < _PREFIX.size + _TRAILER_BYTES:
            return False
        digest = hashlib.sha256()
        self.handle.seek(0)
        remaining = self.size - _TRAILER_BYTES
        while remaining > 0:
            chunk = self.handle.read(min(remaining, _READ_CHUNK))
            if not chunk:
                return False
            digest.update(chunk)
            remaining -= len(chunk)
        return self.handle.read(_TRAILER_BYTES) == digest.digest()

    def _reject_extra_bytes(self, expected: int) -> NoReturn:
        """Bytes beyond the declared end: appended garbage if the declared part is intact."""
        position = self.handle.tell()
        digest = self.digest.copy()
        remaining = expected - _TRAILER_BYTES - position
        while remaining > 0:
            chunk = self.handle.read(min(remaining, _READ_CHUNK))
            digest.update(chunk)
            remaining -= len(chunk)
        if self.handle.read(_TRAILER_BYTES) != digest.digest():
            self.fail("corrupted or modified: checksum does not match")
        self.fail(
            f"has {self.size - expected} unexpected bytes after the end of the encoded data "
            "(trailing garbage)"
        )

    def _read_into(self, filters: npt.NDArray[np.uint8]) -> None:
        view = _bytes_view(filters)
        done = 0
        while done < len(view):
            got = self.handle.readinto(view[done : done + _READ_CHUNK])
            if not got:
                self.fail("is truncated (the file shrank while it was being read)")
            done += got
        self.digest.update(view)

    def _parse_header(self, raw: bytes) -> dict[str, Any]:
        """Decode the header and check the keys that the file's layout depends on."""
        try:
            document = json.loads(
                raw.decode("utf-8"),
                object_pairs_hook=_no_duplicate_keys,
                parse_constant=_no_constants,
            )
        except (UnicodeDecodeError, ValueError) as exc:
            self.corrupt_or(f"header is not valid JSON ({_json_reason(exc)})", exc)
        if not isinstance(document, dict):
            self.corrupt_or(f"header is JSON {type(document).__name__}, not a JSON object")
        for key, kind in _HEADER_TYPES.items():
            if key not in document:
                self.corrupt_or(f"header lacks the key {key!r}")
            value = document[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                self.corrupt_or(f"header key {key!r} must be {_JSON_TYPE_NAMES[kind]}")
        if document["format"] != FORMAT_NAME:
            self.corrupt_or(
                f"is not an encodings file (header format is {_shown(document['format'])}, "
                f"expected {FORMAT_NAME!r})"
            )
        if problem := _filter_bits_problem(document["filter_bits"]):
            self.corrupt_or(f"header key 'filter_bits' {problem}")
        for key in ("record_count", "ids_bytes"):
            if document[key] < 0:
                self.corrupt_or(f"header key {key!r} is negative")
        if document["ids_bytes"] < _ID_LENGTH.size * document["record_count"]:
            self.corrupt_or(
                "header key 'ids_bytes' is too small for 'record_count' ids "
                f"({document['ids_bytes']} bytes for {document['record_count']} ids)"
            )
        return document

    def _check_content(self, header: Mapping[str, Any]) -> str:
        """Checks on values that do not affect the layout (run after the checksum passed)."""
        agency: str = header["agency"]
        try:
            check_agency_name(agency)
        except InputError as exc:
            self.fail(f"header: {exc}")
        for problem in (
            _hex_problem("schema_fingerprint", header["schema_fingerprint"], _FINGERPRINT_RE, 64),
            _hex_problem("key_check", header["key_check"], _KEY_CHECK_RE, 32),
        ):
            if problem:
                self.fail(f"header key {problem}")
        return agency

    def _parse_ids(self, section: bytes, record_count: int) -> tuple[str, ...]:
        ids: list[str] = []
        offset = 0
        end = len(section)
        unpack = _ID_LENGTH.unpack_from
        for position in range(1, record_count + 1):
            if end - offset < _ID_LENGTH.size:
                self.fail(
                    f"ids section ends before record id {position} of {record_count} "
                    "(inconsistent with 'ids_bytes')"
                )
            (length,) = unpack(section, offset)
            offset += _ID_LENGTH.size
            if length == 0:
                self.fail(f"record id {position} is empty")
            if length > end - offset:
                self.fail(
                    f"record id {position} runs past the end of the ids section "
                    "(inconsistent with 'ids_bytes')"
                )
            try:
                ids.append(section[offset : offset + length].decode("utf-8"))
            except UnicodeDecodeError as exc:
                self.fail(f"record id {position} is not valid UTF-8", exc)
            offset += length
        if offset != end:
            self.fail(
                f"ids section has {end - offset} bytes left over after {record_count} record "
                "ids (inconsistent with 'ids_bytes' and 'record_count')"
            )
        if len(set(ids)) != len(ids):
            self.fail(f"record id {_first_duplicate(ids)} repeats an earlier record id")
        return tuple(ids)


# --------------------------------------------------------------------------------- helpers


def _fail(shown: str, problem: str, cause: BaseException | None = None) -> NoReturn:
    raise EncodedFileError(f"{shown}: {problem}") from cause


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at byte {exc.pos}"
    return str(exc)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"key {_shown(key)} appears twice")
        document[key] = value
    return document


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _filter_bits_problem(bits: object) -> str | None:
    if not isinstance(bits, int) or isinstance(bits, bool):
        return f"must be an integer, not {type(bits).__name__}"
    if bits <= 0 or bits % 8 or bits > MAX_FILTER_BITS:
        return f"is {bits}; it must be a positive multiple of 8 up to {MAX_FILTER_BITS}"
    return None


def _hex_problem(name: str, value: object, pattern: re.Pattern[str], length: int) -> str | None:
    """Why ``value`` is not ``length`` lowercase hex digits, or None if it is."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return f"{name!r} must be {length} lowercase hexadecimal digits"


def _bytes_view(array: npt.NDArray[np.uint8]) -> memoryview:
    """The bytes of a C-contiguous array, without copying (numpy stubs lack Buffer)."""
    view: memoryview = array.reshape(-1).data
    return view


def _first_duplicate(ids: tuple[str, ...] | list[str]) -> int:
    """1-based position of the first id equal to an earlier one (positions, never values)."""
    seen: set[str] = set()
    for position, record_id in enumerate(ids, start=1):
        if record_id in seen:
            return position
        seen.add(record_id)
    return 0


def _shown(text: str) -> str:
    """A value from a file or caller, quoted, escaped and cut short, safe for one log line."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
