"""Agency use case: case records in, an encoded batch (and .blk file) out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from blindlink.encoding.encoder import Encoder, EncodeReport
from blindlink.errors import InputError
from blindlink.io.blk import check_agency_name, write_blk
from blindlink.io.records import RecordTable, dataframe_records, read_csv_records
from blindlink.schema import LinkageSchema, default_schema
from blindlink.types import EncodedBatch

#: Records encoded per chunk: bounds the encoder's working memory.
CHUNK_RECORDS = 20_000

Progress = Callable[[int, int], None]
RecordSource = str | os.PathLike[str] | Any


def _records(data: RecordSource, schema: LinkageSchema, id_column: str) -> RecordTable:
    required = (id_column, *[c for c in schema.columns if c != schema.id_column])
    if isinstance(data, str | os.PathLike):
        return read_csv_records(data, required=required, id_column=id_column)
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        return dataframe_records(data, required=required, id_column=id_column)
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        rows: list[Mapping[str, str]] = [dict(row) for row in cast(Iterable[Any], data)]
        if not rows:
            raise InputError("records: no records given")
        missing = sorted(set(required) - set(rows[0]))
        if missing:
            raise InputError(f"records: missing column(s) {', '.join(missing)}")
        return RecordTable(source="records", id_column=id_column, records=rows)
    raise InputError("records: expected a CSV path, a pandas DataFrame or an iterable of dicts")


def encode(
    data: RecordSource,
    *,
    secret: bytes,
    agency: str,
    schema: LinkageSchema | None = None,
    id_column: str | None = None,
    report: EncodeReport | None = None,
    progress: Progress | None = None,
) -> EncodedBatch:
    """Encode case records into keyed Bloom filters under the shared ``secret``.

    ``data`` is a CSV path (UTF-8, with a header), a pandas DataFrame, or an iterable of
    dicts; columns are those of ``schema`` (default: the built-in schema on the standard
    columns). ``report``, if given, receives counts of missing and unusable values.
    """
    schema = schema if schema is not None else default_schema()
    id_column = id_column or schema.id_column
    check_agency_name(agency)
    table = _records(data, schema, id_column)
    encoder = Encoder(schema, secret)
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
        schema_fingerprint=schema.fingerprint,
        key_check=encoder.key_check,
        filter_bits=schema.filter_bits,
        record_ids=table.record_ids,
        filters=np.concatenate(chunks),
    )


def encode_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    secret: bytes,
    agency: str,
    schema: LinkageSchema | None = None,
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
