"""Agency use case: case records in, an encoded batch (and .blk file) out.

Records are encoded in chunks of :data:`CHUNK_RECORDS`. A CSV file is read, encoded and
written chunk by chunk (:func:`encode_file`), so its size does not change the memory needed
beyond its record ids. Large inputs use several processes (:func:`worker_count`): for a CSV
file, workers parse as well as encode chunks of its lines, since parsing costs as much as
encoding; records already in memory go to workers only when encoding them is slow enough
to pay for the hand-over. Results are put back in input order, and any problem in a file
is reported by reading it again in one process, so neither the output nor an error message
depends on how many processes were used.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from blindlink.encoding.attributes import AttributeCoder
from blindlink.encoding.blocking_keys import BlockingKeyCoder
from blindlink.encoding.clkhash_compat import (
    ClkhashEncoder,
    is_clkhash_schema,
    load_schema_document,
)
from blindlink.encoding.encoder import Encoder, EncodeReport, FieldCounts
from blindlink.errors import InputError
from blindlink.io.blk import BlkWriter, Destination, check_agency_name
from blindlink.io.identity import PrivateIdentity, PublicIdentity
from blindlink.io.records import (
    CsvLayout,
    CsvLines,
    IrregularCsv,
    RecordChunk,
    RecordIds,
    RecordTable,
    csv_line_chunks,
    csv_record_chunks,
    dataframe_records,
    mapping_records,
    parse_csv_lines,
    read_csv_records,
)
from blindlink.pipeline.exchange import encoded_destination
from blindlink.schema import AggregateAttribute, LinkageSchema, default_schema, parse_schema
from blindlink.types import EncodedBatch, RecordAttributes, RecordBlockingKeys

#: Records encoded per chunk: bounds the working memory of the reader and of each encoder,
#: and is the unit of work handed to a worker process.
CHUNK_RECORDS = 20_000
#: Lines of a CSV file handed to a worker at once: smaller than a chunk of records, so that
#: work is spread evenly over the workers (measured: 10,000 beat 20,000 and 5,000).
PARALLEL_CHUNK_LINES = 10_000
#: Inputs with fewer records are encoded in this process when the number of workers is
#: automatic: starting processes and shipping records to them costs more than it saves.
PARALLEL_MIN_RECORDS = 100_000
#: Encoding cost per record (CPU seconds, measured on the first chunk) below which records in
#: memory stay in this process when the number of workers is automatic.
_PARALLEL_MIN_SECONDS_PER_RECORD = 10e-6
#: Characters of CSV lines without the end of a record (an unclosed quote) after which the
#: file is read by one process instead, which reports the problem exactly.
_MAX_CHUNK_CHARS = 1 << 26
#: Chunks in flight per worker process: enough to keep workers busy while this process
#: reads and writes, few enough to bound memory.
_CHUNKS_PER_WORKER = 2

Progress = Callable[[int, int], None]
RecordSource = str | os.PathLike[str] | Any
#: A blindlink linkage schema, or a clkhash v3 linkage schema document (a dict).
SchemaChoice = LinkageSchema | Mapping[str, Any]
Filters = npt.NDArray[np.uint8]
Codes = npt.NDArray[np.uint16]


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
    attributes: tuple[AggregateAttribute, ...] = ()
    #: Computes the schema's keyed blocking keys (None: the schema has none).
    keyer: BlockingKeyCoder | None = None


_NO_BLOCKING_KEYS = "blocking keys were asked for, but the linkage schema defines no blocking_keys"


def _compile(
    schema: SchemaChoice | None, secret: bytes, *, blocking_keys: bool = False
) -> _Compiled:
    if isinstance(schema, LinkageSchema) or schema is None:
        ours = schema if schema is not None else default_schema()
        if blocking_keys and not ours.blocking_keys:
            raise InputError(_NO_BLOCKING_KEYS)
        return _Compiled(
            encoder=Encoder(ours, secret),
            fingerprint=ours.fingerprint,
            filter_bits=ours.filter_bits,
            data_columns=ours.columns[1:],
            default_id_column=ours.id_column,
            attributes=ours.aggregate_attributes,
            keyer=BlockingKeyCoder(ours, secret) if blocking_keys else None,
        )
    if blocking_keys:
        raise InputError(_NO_BLOCKING_KEYS)
    theirs = ClkhashEncoder(dict(schema), secret)
    return _Compiled(
        encoder=theirs,
        fingerprint=theirs.fingerprint,
        filter_bits=theirs.filter_bits,
        data_columns=theirs.columns,
        default_id_column=theirs.id_feature or "record_id",
    )


def _required(
    compiled: _Compiled, id_column: str, coder: AttributeCoder | None = None
) -> tuple[str, ...]:
    columns = [*compiled.data_columns, *(coder.source_columns if coder else ())]
    return (id_column, *[c for c in dict.fromkeys(columns) if c != id_column])


def _attribute_coder(
    compiled: _Compiled, present: Collection[str], reference_date: date | None
) -> AttributeCoder | None:
    """What codes the schema's aggregate attributes: an optional one is sent only if the
    input has its column (a required one is looked for, and missed, like any column)."""
    chosen = [a for a in compiled.attributes if not a.optional or a.column in present]
    return AttributeCoder(chosen, on=reference_date) if chosen else None


def _csv_header(path: Path) -> list[str]:
    """A CSV file's column names, or none if it cannot be read (reading it says why)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _columns_of(data: RecordSource) -> list[str]:
    """Column names of records given in memory (a DataFrame, or dicts: the first one's)."""
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        return [str(name) for name in data.columns]
    if isinstance(data, Sequence) and data and isinstance(data[0], Mapping):
        return [str(name) for name in data[0]]
    return []


def _codes(
    coder: AttributeCoder | None, columns: Mapping[str, Sequence[str]], count: int
) -> Codes | None:
    return None if coder is None else coder.codes(columns, count)


def _keys(
    keyer: BlockingKeyCoder | None, columns: Mapping[str, Sequence[str]], count: int
) -> RecordBlockingKeys | None:
    return None if keyer is None else keyer.keys(columns, count)


def _records(data: RecordSource, required: tuple[str, ...], id_column: str) -> RecordTable:
    if isinstance(data, str | os.PathLike):
        return read_csv_records(data, required=required, id_column=id_column)
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        return dataframe_records(data, required=required, id_column=id_column)
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        rows = cast(Iterable[Mapping[str, Any]], data)
        return mapping_records(rows, required=required, id_column=id_column)
    raise InputError("records: expected a CSV path, a pandas DataFrame or an iterable of dicts")


# ------------------------------------------------------------------------------ workers


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _cores() -> int:
    """Cores this process may run on (its affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_count(requested: int | None, records: int) -> int:
    """How many processes encode ``records`` records: ``requested``, or automatically.

    Automatic (``None``): one per core for inputs of at least :data:`PARALLEL_MIN_RECORDS`
    records, else 1 (this process). Never more than there are chunks, and 1 where processes
    cannot be forked (Windows): workers inherit the compiled schema and key by forking.
    """
    if requested is not None and (isinstance(requested, bool) or requested < 1):
        raise ValueError(f"workers must be at least 1, not {requested}")
    chunks = max(1, -(-records // CHUNK_RECORDS))
    if not _can_fork():
        return 1
    if requested is None:
        return min(_cores(), chunks) if records >= PARALLEL_MIN_RECORDS else 1
    return min(requested, chunks)


#: The encoder of a worker process, set once by :func:`_start_worker`.
_worker_encoder: Encoder | ClkhashEncoder | None = None


def _start_worker(encoder: Encoder | ClkhashEncoder) -> None:
    """Adopt the encoder this (forked) worker inherited, caches and all."""
    global _worker_encoder
    _worker_encoder = encoder


def _work(chunk: RecordChunk) -> tuple[Filters, EncodeReport]:
    """Encode one chunk in a worker; the counts come back with the filters."""
    if _worker_encoder is None:
        raise RuntimeError("worker process was not started by _start_worker")
    report = EncodeReport()
    return _encode_chunk(_worker_encoder, chunk, report), report


def _encode_chunk(
    encoder: Encoder | ClkhashEncoder, chunk: RecordChunk, report: EncodeReport
) -> Filters:
    if isinstance(encoder, ClkhashEncoder):
        # columns straight in (no dict per record); errors numbered by input position
        return encoder.encode_columns(
            chunk.columns, report, count=len(chunk), first_record=chunk.first
        )
    return encoder.encode(chunk.rows(), report)


def _add_report(total: EncodeReport, part: EncodeReport) -> None:
    total.records += part.records
    for name, counts in part.fields.items():
        into = total.fields.setdefault(name, FieldCounts())
        for item in dataclasses.fields(FieldCounts):
            setattr(into, item.name, getattr(into, item.name) + getattr(counts, item.name))


def _encoded_chunks(
    encoder: Encoder | ClkhashEncoder,
    chunks: Iterable[RecordChunk],
    workers: int,
    report: EncodeReport,
    *,
    automatic: bool,
) -> Iterator[tuple[RecordChunk, Filters]]:
    """Each chunk of records in memory with its filters, in input order.

    The first chunk is encoded here. With ``workers`` > 1 the rest go to that many forked
    processes, which inherit ``encoder`` with its caches full of the first chunk's values
    (the distinct names, dates... of an input mostly appear early) instead of each hashing
    them all again; when the number of workers is ``automatic``, only if the first chunk
    cost more than :data:`_PARALLEL_MIN_SECONDS_PER_RECORD`: below that, handing records to
    workers and their filters back costs about what it saves (measured with the clkhash
    encoder; blindlink's own schema costs tens of microseconds a record).
    """
    remaining = iter(chunks)
    first = next(remaining, None)
    if first is None:
        return
    started = time.process_time()
    filters = _encode_chunk(encoder, first, report)
    cost = (time.process_time() - started) / max(1, len(first))
    yield first, filters
    if workers == 1 or (automatic and cost < _PARALLEL_MIN_SECONDS_PER_RECORD):
        for chunk in remaining:
            yield chunk, _encode_chunk(encoder, chunk, report)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start_worker, initargs=(encoder,)) as pool:
        pending: deque[tuple[RecordChunk, AsyncResult[tuple[Filters, EncodeReport]]]] = deque()
        for task in itertools.chain(remaining, [None]):
            if task is not None:
                pending.append((task, pool.apply_async(_work, (task,))))
            in_flight = _CHUNKS_PER_WORKER * workers if task is not None else 1
            while len(pending) >= in_flight:
                done, result = pending.popleft()
                filters, part = result.get()
                _add_report(report, part)
                yield done, filters


# --------------------------------------------------------------------------- use cases


def encode(
    data: RecordSource,
    *,
    secret: bytes,
    agency: str,
    schema: SchemaChoice | None = None,
    id_column: str | None = None,
    report: EncodeReport | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    reference_date: date | None = None,
    blocking_keys: bool = False,
) -> EncodedBatch:
    """Encode case records into keyed Bloom filters under the shared ``secret``.

    ``data`` is a CSV path (UTF-8, with a header), a pandas DataFrame, or an iterable of
    dicts; columns are those of ``schema`` (default: the built-in schema on the standard
    columns). ``schema`` may also be a clkhash v3 schema document: the filters are then
    bit-identical to clkhash's for the same secret text. ``id_column`` names the record-id
    column (default: the schema's, ``record_id``; for clkhash, its first ignored feature).
    ``report``, if given, receives counts of missing and unusable values. ``workers`` is the
    number of processes that encode (default ``None``: automatic, one per core for inputs of
    :data:`PARALLEL_MIN_RECORDS` records or more whose records are slow enough to encode to
    pay for handing them over, see :func:`worker_count`); the result does not depend on it.
    The schema's aggregate attributes come with the batch (``attributes``), coarsened here;
    age bands count ages to ``reference_date`` unless the schema fixes the day (default:
    today, UTC). With ``blocking_keys=True`` the schema's keyed blocking keys come too, for
    ``link(..., blocking="keys")``; they are off by default because they reveal which
    records agree on them (``docs/privacy.md``) and only keyed blocking uses them.
    """
    check_agency_name(agency)
    compiled = _compile(schema, secret, blocking_keys=blocking_keys)
    id_column = id_column or compiled.default_id_column
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | os.PathLike | Sequence):
        if not (hasattr(data, "columns") and hasattr(data, "to_dict")):
            data = list(cast(Iterable[Mapping[str, Any]], data))
    present = _csv_header(Path(data)) if isinstance(data, str | os.PathLike) else _columns_of(data)
    coder = _attribute_coder(compiled, present, reference_date)
    table = _records(data, _required(compiled, id_column, coder), id_column)
    report = report if report is not None else EncodeReport()
    total = len(table)
    filters = np.empty((total, compiled.filter_bits // 8), dtype=np.uint8)
    chunks = table.chunks(CHUNK_RECORDS)
    count = worker_count(workers, total)
    encoded_chunks = _encoded_chunks(
        compiled.encoder, chunks, count, report, automatic=workers is None
    )
    for chunk, encoded in encoded_chunks:
        filters[chunk.first : chunk.first + len(chunk)] = encoded
        if progress is not None:
            progress(chunk.first + len(chunk), total)
    attributes = None
    if coder is not None:
        attributes = RecordAttributes(coder.columns, coder.codes(table.columns, total))
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=compiled.fingerprint,
        key_check=compiled.encoder.key_check,
        filter_bits=compiled.filter_bits,
        record_ids=table.record_ids,
        filters=filters,
        attributes=attributes,
        blocking_keys=_keys(compiled.keyer, table.columns, total),
    )


def _estimated_records(path: Path) -> int:
    """Lines after the header: the record count, unless fields span lines or lines are blank.

    Counting newlines is a fast pass over the bytes (no CSV parsing); it sizes the progress
    bar and decides whether worker processes are worth starting.
    """
    lines = 0
    last = b"\n"
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return 0  # reading the records reports the problem, with the right message
    return max(0, lines + (last != b"\n") - 1)


@dataclass(frozen=True)
class _FileJob:
    """What encoding one CSV file into one .blk file needs, however it is done."""

    source: Path
    output: Path
    agency: str
    compiled: _Compiled
    id_column: str
    estimate: int
    progress: Progress | None
    coder: AttributeCoder | None = None
    #: Where the file goes instead of ``output`` (sealed for the coordinator), if anywhere.
    destination: Destination | None = None

    def writer(self) -> BlkWriter:
        return BlkWriter(
            self.output,
            agency=self.agency,
            schema_fingerprint=self.compiled.fingerprint,
            key_check=self.compiled.encoder.key_check,
            filter_bits=self.compiled.filter_bits,
            attributes=None if self.coder is None else self.coder.columns,
            destination=self.destination,
            blocking_keys=None if self.compiled.keyer is None else self.compiled.keyer.names,
        )

    @property
    def required(self) -> tuple[str, ...]:
        return _required(self.compiled, self.id_column, self.coder)

    def advance(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, max(done, self.estimate))


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
    workers: int | None = None,
    recipient: PublicIdentity | None = None,
    signer: PrivateIdentity | None = None,
    reference_date: date | None = None,
    blocking_keys: bool = False,
) -> EncodedBatch:
    """Encode a CSV file and write the .blk file atomically (nothing is written on error).

    The file is read, encoded and written in chunks, in memory independent of its size
    (its record ids aside, which are kept to refuse a repeated one); the batch returned has
    its filters mapped from the written file (when sealed, from their unnamed temporary).
    ``progress`` gets (records done, estimated total) after each chunk; the estimate counts
    lines, so it can be a little high.
    ``workers`` is the number of processes that read and encode (default: automatic, see
    :func:`worker_count`); neither the output nor an error message depends on it.
    Aggregate attributes are sent as in :func:`encode`; an optional one only if the file has
    its column. Blocking keys only with ``blocking_keys=True``, as in :func:`encode`.
    With ``recipient`` (the coordinator's public key) the file is sealed for it, and signed
    by ``signer`` (this agency's identity) if given (``protocols/exchange.md``).
    """
    check_agency_name(agency)
    compiled = _compile(schema, secret, blocking_keys=blocking_keys)
    id_column = id_column or compiled.default_id_column
    source = Path(input_path)
    destination = encoded_destination(output_path, agency=agency, recipient=recipient,
                                      signer=signer)  # fmt: skip
    job = _FileJob(
        source=source,
        output=Path(output_path),
        agency=agency,
        compiled=compiled,
        id_column=id_column,
        estimate=_estimated_records(source),
        progress=progress,
        coder=_attribute_coder(compiled, _csv_header(source), reference_date),
        destination=destination,
    )
    report = report if report is not None else EncodeReport()
    count = worker_count(workers, job.estimate)
    batch = _encode_file_in_chunks(job, schema, secret, count, report)
    if batch is None:
        batch = _encode_file_in_order(job, report)
    if progress is not None:
        progress(len(batch), len(batch))
    return batch


def _encode_file_in_order(job: _FileJob, report: EncodeReport) -> EncodedBatch:
    """Read, check and encode the file record after record, chunk after chunk, in this
    process: the careful reading, whose messages name a file's first problem exactly."""
    chunks = csv_record_chunks(
        job.source,
        required=job.required,
        id_column=job.id_column,
        chunk_records=CHUNK_RECORDS,
    )
    # read the header and first chunk before creating the output: a bad input is named first
    first = next(chunks)
    with job.writer() as writer:
        all_chunks = itertools.chain([first], chunks)
        encoded_chunks = _encoded_chunks(
            job.compiled.encoder, all_chunks, 1, report, automatic=False
        )
        for chunk, encoded in encoded_chunks:
            codes = _codes(job.coder, chunk.columns, len(chunk))
            keys = _keys(job.compiled.keyer, chunk.columns, len(chunk))
            writer.add(chunk.columns[job.id_column], encoded, codes, keys)
            job.advance(chunk.first + len(chunk))
        return writer.finish()


_EncodedLines = tuple[list[str], Filters, EncodeReport, Codes | None, RecordBlockingKeys | None]


@dataclass(frozen=True)
class _LineEncoder:
    """Parses, checks and encodes chunks of a CSV file's lines (in this process or a worker)."""

    layout: CsvLayout
    id_column: str
    encoder: Encoder | ClkhashEncoder
    coder: AttributeCoder | None = None
    keyer: BlockingKeyCoder | None = None

    def __call__(self, chunk: CsvLines) -> _EncodedLines:
        """A chunk's record ids, filters, counts, attribute codes and blocking keys.

        Ids are checked within the chunk here; a repeat across chunks is caught by the
        writer. Errors are not numbered for the whole file (chunks do not know how many
        records came before them): the caller reads the file again in order on any.
        """
        columns, lines = parse_csv_lines(self.layout, chunk)
        record_ids = columns[self.id_column]
        RecordIds(self.layout.source, self.id_column, "line").add(record_ids, lines)
        report = EncodeReport()
        filters = _encode_chunk(self.encoder, RecordChunk(0, columns), report)
        count = len(record_ids)
        return (
            record_ids, filters, report, _codes(self.coder, columns, count),
            _keys(self.keyer, columns, count),
        )  # fmt: skip


#: The :class:`_LineEncoder` of a worker process, set once by :func:`_start_line_worker`.
_line_encoder: _LineEncoder | None = None


def _start_line_worker(
    layout: CsvLayout,
    id_column: str,
    schema: SchemaChoice | None,
    secret: bytes,
    coder: AttributeCoder | None = None,
    blocking_keys: bool = False,
) -> None:
    """Build this worker's encoder once, from the schema and secret it inherited."""
    global _line_encoder
    compiled = _compile(schema, secret, blocking_keys=blocking_keys)
    _line_encoder = _LineEncoder(layout, id_column, compiled.encoder, coder, compiled.keyer)


def _work_lines(chunk: CsvLines) -> _EncodedLines:
    if _line_encoder is None:
        raise RuntimeError("worker process was not started by _start_line_worker")
    return _line_encoder(chunk)


def _encode_file_in_chunks(
    job: _FileJob,
    schema: SchemaChoice | None,
    secret: bytes,
    workers: int,
    report: EncodeReport,
) -> EncodedBatch | None:
    """Encode the file from chunks of its lines, here or in ``workers`` processes that parse
    as well as encode; None if the file has any problem.

    Chunks of lines are cut without parsing (:func:`csv_line_chunks`) and parsed where they
    are encoded, so workers do not wait on this process to parse: parsing costs about as
    much as encoding. On any problem in the input nothing is reported here: the caller reads
    the file again in order (:func:`_encode_file_in_order`), which names the first problem
    exactly as it always does, whatever the chunks were.
    """
    attempt = EncodeReport()
    try:
        with (
            csv_line_chunks(
                job.source,
                required=job.required,
                lines_per_chunk=PARALLEL_CHUNK_LINES if workers > 1 else CHUNK_RECORDS,
                max_chunk_chars=_MAX_CHUNK_CHARS,
            ) as (layout, chunks),
            job.writer() as writer,
        ):
            done = 0
            for record_ids, filters, part, codes, keys in _encoded_line_chunks(
                _LineEncoder(
                    layout, job.id_column, job.compiled.encoder, job.coder, job.compiled.keyer
                ),
                chunks,
                schema,
                secret,
                workers,
            ):
                writer.add(record_ids, filters, codes, keys)
                _add_report(attempt, part)
                done += len(record_ids)
                job.advance(done)
            if not done:
                return None
            batch = writer.finish()
    except (InputError, IrregularCsv):
        return None
    _add_report(report, attempt)
    return batch


def _encoded_line_chunks(
    here: _LineEncoder,
    chunks: Iterator[CsvLines],
    schema: SchemaChoice | None,
    secret: bytes,
    workers: int,
) -> Iterator[_EncodedLines]:
    """What :class:`_LineEncoder` makes of each chunk, in order: ``here``, or by workers."""
    if workers == 1:
        yield from map(here, chunks)
        return
    context = multiprocessing.get_context("fork")
    initargs = (here.layout, here.id_column, schema, secret, here.coder, here.keyer is not None)
    with context.Pool(workers, initializer=_start_line_worker, initargs=initargs) as pool:
        pending: deque[AsyncResult[_EncodedLines]] = deque()
        for chunk in itertools.chain(chunks, [None]):
            if chunk is not None:
                pending.append(pool.apply_async(_work_lines, (chunk,)))
            in_flight = _CHUNKS_PER_WORKER * workers if chunk is not None else 1
            while len(pending) >= in_flight:
                yield pending.popleft().get()
