"""Agency use case: case records in, an encoded batch (and .blk file) out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from blindlink.encoding.clkhash_compat import (
    ClkhashEncoder,
    is_clkhash_schema,
    load_schema_document,
)
from blindlink.encoding.encoder import Encoder, EncodeReport
from blindlink.errors import InputError
from blindlink.io.blk import check_agency_name, write_blk
from blindlink.io.records import (
    RecordTable,
    dataframe_records,
    mapping_records,
    read_csv_records,
)
from blindlink.schema import LinkageSchema, default_schema, parse_schema
from blindlink.types import EncodedBatch

#: Records encoded per chunk: bounds the encoder's working memory.
CHUNK_RECORDS = 20_000

Progress = Callable[[int, int], None]
RecordSource = str | os.PathLike[str] | Any
#: A blindlink linkage schema, or a clkhash v3 linkage schema document (a dict).
SchemaChoice = LinkageSchema | Mapping[str, Any]


def load_any_schema(path: str | os.PathLike[str]) -> SchemaChoice:
    """Read a schema file: a clkhash v3 schema stays a document, ours becomes a LinkageSchema."""
    document = load_schema_document(Path(path))
    if is_clkhash_schema(document):
        return cast(Mapping[str, Any], document)
    return parse_schema(document, source=str(path))


@dataclass(frozen=True)
class _Compiled:
    encoder: Encoder | ClkhashEncoder
    fingerprint: str
    filter_bits: int
    data_columns: tuple[str, ...]
    default_id_column: str


def _compile(schema: SchemaChoice | None, secret: bytes) -> _Compiled:
    if isinstance(schema, LinkageSchema) or schema is None:
        ours = schema if schema is not None else default_schema()
        return _Compiled(
            encoder=Encoder(ours, secret),
            fingerprint=ours.fingerprint,
            filter_bits=ours.filter_bits,
            data_columns=ours.columns[1:],
            default_id_column=ours.id_column,
        )
    theirs = ClkhashEncoder(dict(schema), secret)
    return _Compiled(
        encoder=theirs,
        fingerprint=theirs.fingerprint,
        filter_bits=theirs.filter_bits,
        data_columns=theirs.columns,
        default_id_column=theirs.id_feature or "record_id",
    )


def _records(data: RecordSource, data_columns: tuple[str, ...], id_column: str) -> RecordTable:
    required = (id_column, *[c for c in data_columns if c != id_column])
    if isinstance(data, str | os.PathLike):
        return read_csv_records(data, required=required, id_column=id_column)
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        return dataframe_records(data, required=required, id_column=id_column)
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        rows = cast(Iterable[Mapping[str, Any]], data)
        return mapping_records(rows, required=required, id_column=id_column)
    raise InputError("records: expected a CSV path, a pandas DataFrame or an iterable of dicts")


def encode(
    data: RecordSource,
    *,
    secret: bytes,
    agency: str,
    schema: SchemaChoice | None = None,
    id_column: str | None = None,
    report: EncodeReport | None = None,
    progress: Progress | None = None,
) -> EncodedBatch:
    """Encode case records into keyed Bloom filters under the shared ``secret``.

    ``data`` is a CSV path (UTF-8, with a header), a pandas DataFrame, or an iterable of
    dicts; columns are those of ``schema`` (default: the built-in schema on the standard
    columns). ``schema`` may also be a clkhash v3 schema document: the filters are then
    bit-identical to clkhash's for the same secret text. ``id_column`` names the record-id
    column (default: the schema's, ``record_id``; for clkhash, its first ignored feature).
    ``report``, if given, receives counts of missing and unusable values.
    """
    check_agency_name(agency)
    compiled = _compile(schema, secret)
    id_column = id_column or compiled.default_id_column
    table = _records(data, compiled.data_columns, id_column)
    encoder = compiled.encoder
    report = report if report is not None else EncodeReport()
    records = table.records
    chunks = []
    for start in range(0, len(records), CHUNK_RECORDS):
        chunk = records[start : start + CHUNK_RECORDS]
        chunks.append(encoder.encode(chunk, report))
        if progress is not None:
            progress(start + len(chunk), len(records))
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=compiled.fingerprint,
        key_check=encoder.key_check,
        filter_bits=compiled.filter_bits,
        record_ids=table.record_ids,
        filters=np.concatenate(chunks),
    )


def encode_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    secret: bytes,
    agency: str,
    schema: SchemaChoice | None = None,
    id_column: str | None = None,
    report: EncodeReport | None = None,
    progress: Progress | None = None,
) -> EncodedBatch:
    """Encode a CSV file and write the .blk file atomically (nothing is written on error)."""
    batch = encode(
        input_path,
        secret=secret,
        agency=agency,
        schema=schema,
        id_column=id_column,
        report=report,
        progress=progress,
    )
    write_blk(Path(output_path), batch)
    return batch
