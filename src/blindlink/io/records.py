"""Reading case records from a CSV file, a DataFrame or dicts, with errors that say where.

Errors name the file, the line and the column, never a value: a record's content must not
end up in a terminal log or an e-mailed error report.

Records are held as columns (one list of text per required column), not as a dict per
record: the encoders work column by column, and a dict per record costs as much as parsing
the CSV line. A CSV file can be read in chunks (:func:`csv_record_chunks`), so that encoding
a file needs memory for one chunk, not for the whole file; only the record ids of the whole
file are kept, to refuse a repeated id with the line of its first occurrence.

Hostile files cost bounded memory: no line is read past :data:`MAX_LINE_CHARS` characters
and no field past the CSV reader's field limit. Only UTF-8 is read (a byte order mark is
skipped), with no option to declare another encoding: a wrongly declared legacy encoding
decodes without any error into other letters, whose filters would then silently fail to
match; a byte that is not UTF-8 is reported with its line and column instead.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import chain, compress, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from blindlink.errors import InputError

Record = Mapping[str, str]
#: Cell texts that pandas writes for a missing value: read as empty, i.e. missing.
_MISSING_TEXTS = frozenset({"<NA>", "NaT", "nan"})
_AS_MISSING = dict.fromkeys(_MISSING_TEXTS, "")
#: A line longer than this many characters (its end included) is refused: no CSV of case
#: records has one, and reading it whole would let a file without line ends fill the memory.
MAX_LINE_CHARS = 1 << 20
#: Delimiters a header line may use: ',' unless the header has no comma but one of the
#: others (spreadsheets set to a European locale save ';').
_OTHER_DELIMITERS = (";", "\t")
#: A NUL, or a character the ``surrogateescape`` decoder makes of a byte that is not UTF-8
#: (a strict UTF-8 decoder never produces these), in the careful reading.
_SUSPECT = re.compile("[\x00\udc80-\udcff]")
_UTF16_BOMS = ("\udcff\udcfe", "\udcfe\udcff")


@dataclass(frozen=True)
class RecordChunk:
    """Consecutive records of one input, as columns: what an encoder is given at once.

    ``columns[name][i]`` is the value of record ``first + i`` (counting from 0 over the whole
    input) in column ``name``; every required column is present.
    """

    first: int
    columns: Mapping[str, Sequence[str]]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def rows(self) -> list[dict[str, str]]:
        """The records as dicts, for encoders that read records one by one."""
        names = list(self.columns)
        return [
            dict(zip(names, values, strict=True))
            for values in zip(*self.columns.values(), strict=True)
        ]


@dataclass(frozen=True)
class RecordTable:
    """All records of an input in input order, as columns, with the column of their ids."""

    source: str
    id_column: str
    columns: Mapping[str, Sequence[str]]

    def __len__(self) -> int:
        return len(self.columns[self.id_column])

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(self.columns[self.id_column])

    @property
    def records(self) -> list[dict[str, str]]:
        """The records as dicts (a dict per record: for small inputs and tests)."""
        return RecordChunk(0, self.columns).rows()

    def chunks(self, size: int) -> Iterator[RecordChunk]:
        """The records in chunks of at most ``size``, in order (slices of the columns)."""
        for start in range(0, len(self), size):
            yield RecordChunk(
                start, {name: values[start : start + size] for name, values in self.columns.items()}
            )


def _check_columns(source: str, header: Sequence[str], required: Sequence[str]) -> None:
    """Every required column once in the header.

    The header's names are listed only when some required column is among them: a first
    line without any may be a record (a file without its header line), whose values must
    not end up in the message.
    """
    missing = [c for c in required if c not in header]
    if missing:
        listed = ", ".join(missing)
        if len(missing) < len(required):
            found = f"the header has: {', '.join(header)}"
        elif len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
            found = "line 1 has none of the expected columns; the file seems to use another "
            found += "delimiter: save it as comma-separated CSV"
        else:
            found = "line 1 has none of the expected columns: is the header line missing?"
        raise InputError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} {listed} ({found})"
        )
    for name in required:
        if header.count(name) > 1:
            first, second = [i + 1 for i, h in enumerate(header) if h == name][:2]
            raise InputError(
                f"{source}: line 1: column {name} appears more than once in the header "
                f"(fields {first} and {second}); which one to read is unclear"
            )


def _delimiter(line: str) -> str:
    """The delimiter of a file whose header starts with ``line``: ',' unless the line has no
    comma and has a ';' or a tab (then that), so European spreadsheet exports read as they are."""
    if "," not in line:
        for mark in _OTHER_DELIMITERS:
            if mark in line:
                return mark
    return ","


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _bounded_lines(handle: TextIO) -> Iterator[str]:
    """The lines of ``handle`` (ended by LF, CR LF or CR), none read past
    :data:`MAX_LINE_CHARS` characters: raises :class:`_LineTooLong` for a longer one."""
    for number, line in enumerate(iter(partial(handle.readline, MAX_LINE_CHARS + 1), ""), 1):
        if len(line) > MAX_LINE_CHARS:
            raise _LineTooLong(number)
        yield line


def _too_long(source: str, line: int) -> InputError:
    return InputError(
        f"{source}: line {line}: longer than {MAX_LINE_CHARS:,} characters (is this a CSV "
        "file of case records?)"
    )


def _malformed(source: str, line: int, exc: csv.Error, record_start: int) -> InputError:
    """The message for a CSV syntax error at ``line`` (file numbering), value-free."""
    reason = str(exc)
    if reason.startswith("field larger than field limit"):
        line = record_start  # the field may span lines: name the record's first
        reason = f"a field is longer than {csv.field_size_limit():,} characters"
    elif reason.startswith("unexpected end of data"):
        line = record_start
        reason = "a quote opened in the record starting on this line is never closed"
    return InputError(f"{source}: line {line}: malformed CSV ({reason})")


class RecordIds:
    """Record ids seen so far, each with where it first appeared: refuses empty and repeated ids.

    Holds every id of the input (a dict), which is what refusing a repeat on line 900,000 of
    the one on line 12 needs; records themselves are not held. ``unit`` is what ``where``
    counts: CSV lines, or rows.
    """

    def __init__(self, source: str, id_column: str, unit: str) -> None:
        self._source = source
        self._id_column = id_column
        self._unit = unit
        self._first: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._first)

    def add(self, ids: Sequence[str], where: Sequence[int]) -> None:
        """Add the ids of consecutive records at lines (or rows) ``where``."""
        if (
            all(map(str.strip, ids))
            and self._first.keys().isdisjoint(ids)
            and len(set(ids)) == len(ids)
        ):
            self._first.update(zip(ids, where, strict=True))
            return
        self._first_problem(ids, where)

    def _first_problem(self, ids: Sequence[str], where: Sequence[int]) -> None:
        """Raise for the first empty or repeated id, in input order."""
        first = self._first
        prefix = f"{self._source}: {self._unit}"
        for record_id, place in zip(ids, where, strict=True):
            if not record_id.strip():
                raise InputError(f"{prefix} {place}, column {self._id_column}: empty record id")
            if record_id in first:
                raise InputError(
                    f"{prefix} {place}, column {self._id_column}: record id repeats the one on "
                    f"{self._unit} {first[record_id]}"
                )
            first[record_id] = place


class _CsvBatches:
    """A UTF-8 CSV file read in batches of rows, each checked (field count, NUL bytes,
    bytes that are not UTF-8, line length).

    Problems are reported in file order: a bad row is reported before a later quoting error,
    as a line-by-line reader would. Bytes that are not UTF-8 are decoded as lone surrogates
    (``surrogateescape``) and reported with their line and column; lines are read no longer
    than :data:`MAX_LINE_CHARS`, fields no longer than the CSV reader's field limit.
    """

    def __init__(self, path: Path, source: str) -> None:
        self._path = path
        self._source = source

    def batches(self, size: int) -> Iterator[tuple[list[str], list[list[str]], list[int]]]:
        """Yield ``(header, rows, line numbers)`` batches of at most ``size`` non-blank rows.

        The first batch is ``(header, [], [])``, so that the header can be checked before
        any record is read.
        """
        source = self._source
        try:
            handle = self._path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as exc:
            raise InputError(f"{source}: cannot open ({exc.strerror})") from exc
        with handle:
            rows: list[list[str]] = []
            lines: list[int] = []
            header: list[str] | None = None
            done = 0  # lines read up to the end of the last record
            try:
                physical = _bounded_lines(handle)
                first = next(physical, "")
                reader = csv.reader(
                    chain([first] if first else [], physical),
                    delimiter=_delimiter(first),
                    strict=True,
                )
                for row in reader:
                    if header is None:
                        _check_rows(source, [row], [reader.line_num], None)
                        header = [name.strip() for name in row]
                        yield header, rows, lines
                    elif row:
                        rows.append(row)
                        lines.append(reader.line_num)
                        if len(rows) == size:
                            _check_rows(source, rows, lines, header)
                            yield header, rows, lines
                            rows, lines = [], []
                    done = reader.line_num
            except _LineTooLong as exc:
                _check_rows(source, rows, lines, header)
                raise _too_long(source, exc.line) from None
            except csv.Error as exc:
                _check_rows(source, rows, lines, header)
                raise _malformed(source, reader.line_num, exc, done + 1) from exc
            if header is None:
                raise InputError(f"{source}: empty file (expected a header line and records)")
            if rows:
                _check_rows(source, rows, lines, header)
                yield header, rows, lines


def _check_rows(
    source: str, rows: list[list[str]], lines: list[int], header: Sequence[str] | None
) -> None:
    """Raise for the first row with a NUL byte, a byte that is not UTF-8 or (given the
    ``header``) a wrong field count; ``header`` None checks the header line itself."""
    width = None if header is None else len(header)
    suspect = _SUSPECT.search("".join(map("".join, rows))) is not None
    wrong = width is not None and set(map(len, rows)) - {width}
    if not (suspect or wrong):
        return
    for row, line in zip(rows, lines, strict=True):
        for index, cell in enumerate(row):
            if (found := _SUSPECT.search(cell)) is None:
                continue
            column = f" in column {header[index]}" if header and index < len(header) else ""
            if header is None and index == 0 and cell.startswith(_UTF16_BOMS):
                raise InputError(f"{source}: line {line}: UTF-16 text; export the CSV as UTF-8")
            if found.group() == "\x00":
                raise InputError(
                    f"{source}: line {line}: contains a NUL byte{column} (a UTF-16 or binary "
                    "file? export the CSV as UTF-8)"
                )
            raise InputError(
                f"{source}: line {line}: not UTF-8 text{column}; export the CSV as UTF-8 "
                "(in Excel: 'CSV UTF-8')"
            )
        if width is not None and len(row) != width:
            raise InputError(
                f"{source}: line {line}: {len(row)} fields where the header has "
                f"{width} (a stray delimiter or quote?)"
            )


def csv_record_chunks(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str],
    id_column: str,
    chunk_records: int,
) -> Iterator[RecordChunk]:
    """Read a UTF-8 CSV with a header in chunks of ``chunk_records`` records.

    Every line must have the header's number of fields; only the ``required`` columns are
    kept. The checks of :func:`read_csv_records` apply, but a problem is raised when the chunk
    holding it is read: chunks before it have been yielded already, so a caller that must not
    act on a bad file (write an output, say) acts only once the iteration has ended.
    """
    if chunk_records < 1:
        raise ValueError(f"chunk_records must be at least 1, not {chunk_records}")
    target = Path(path)
    source = str(target)
    if target.is_dir():
        raise InputError(f"{source}: is a folder, not a CSV file")
    ids = RecordIds(source, id_column, "line")
    pick: list[tuple[str, Callable[[list[str]], str]]] | None = None
    first = 0
    for header, rows, lines in _CsvBatches(target, source).batches(chunk_records):
        if pick is None:
            _check_columns(source, header, required)
            pick = [(name, itemgetter(header.index(name))) for name in required]
        if not rows:
            continue
        columns = {name: list(map(getter, rows)) for name, getter in pick}
        ids.add(columns[id_column], lines)
        yield RecordChunk(first, columns)
        first += len(rows)
    if not first:
        raise InputError(f"{source}: has a header but no records")


@dataclass(frozen=True)
class CsvLayout:
    """What a CSV file's header says: how many fields a line has, where the wanted ones are."""

    source: str
    width: int
    columns: tuple[tuple[str, int], ...]
    header: tuple[str, ...] = ()
    delimiter: str = ","


@dataclass(frozen=True)
class CsvLines:
    """Consecutive lines of a CSV file that hold whole records (lines as the file reads
    them: ended by LF, CR LF or CR), and how many lines come before them."""

    first_line: int
    lines: list[str]


class IrregularCsv(Exception):
    """The file cannot be cut into :class:`CsvLines` (it is not UTF-8, or a quote never
    closes): read it with :func:`csv_record_chunks`, which says exactly what is wrong."""


@contextmanager
def csv_line_chunks(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str],
    lines_per_chunk: int,
    max_chunk_chars: int,
) -> Iterator[tuple[CsvLayout, Iterator[CsvLines]]]:
    """Open a CSV file: its header, and its remaining lines in chunks of whole records.

    A context manager (the file is closed on leaving it). The lines are not parsed: this
    lets several processes parse one file. A line ends a record exactly when the quote
    characters before its end are even in number (in a quoted field quotes come in pairs),
    so chunks are cut where that count is even. A quote inside an unquoted field can make a
    cut fall inside a record, but then parsing the chunk before it fails (a quoted field
    without its end), so chunks that all parse were cut at record boundaries.

    Problems are not reported here beyond :class:`IrregularCsv` and :class:`InputError` for
    the header; whoever sees one should read the file with :func:`csv_record_chunks`, whose
    messages name the first problem in file order. A chunk grows past ``lines_per_chunk``
    lines until a cut is possible; past ``max_chunk_chars`` characters that is irregular.
    """
    target = Path(path)
    source = str(target)
    try:
        handle = target.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{source}: cannot open ({exc.strerror})") from exc
    with handle:
        try:
            header_lines, _ = _whole_records(handle, [], 1, max_chunk_chars)
            delimiter = _delimiter(header_lines[0]) if header_lines else ","
            rows = list(csv.reader(header_lines, delimiter=delimiter, strict=True))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise IrregularCsv(source) from exc
        if len(rows) != 1:
            raise IrregularCsv(source)
        header = [name.strip() for name in rows[0]]
        _check_rows(source, rows, [len(header_lines)], None)
        _check_columns(source, header, required)
        layout = CsvLayout(
            source=source,
            width=len(header),
            columns=tuple((name, header.index(name)) for name in required),
            header=tuple(header),
            delimiter=delimiter,
        )
        yield layout, _line_chunks(handle, len(header_lines), lines_per_chunk, max_chunk_chars)


def _line_chunks(handle: TextIO, first_line: int, size: int, max_chars: int) -> Iterator[CsvLines]:
    rest: list[str] = []
    while True:
        try:
            lines, rest = _whole_records(handle, rest, size, max_chars)
        except UnicodeDecodeError as exc:
            raise IrregularCsv(handle.name) from exc
        if not lines:
            return
        yield CsvLines(first_line, lines)
        first_line += len(lines)


def _whole_records(
    handle: TextIO, carry: list[str], size: int, max_chars: int
) -> tuple[list[str], list[str]]:
    """``carry`` and about ``size`` more lines, split after the last line that ends a record:
    (lines of whole records, lines of a record still open).

    Raises :class:`IrregularCsv` when the lines grow past ``max_chars`` characters without a
    line that ends a record, a line is longer than :data:`MAX_LINE_CHARS` (it is not read
    further), or the file ends inside a quoted field (an unclosed quote).
    """
    lines = list(carry)
    quotes = list(map(str.count, lines, repeat('"')))
    while True:
        try:
            more = list(islice(_bounded_lines(handle), size))
        except _LineTooLong:
            raise IrregularCsv(handle.name) from None
        lines += more
        quotes += map(str.count, more, repeat('"'))
        odd = sum(quotes) & 1
        cut = len(lines)
        while odd and cut:  # the quotes before line `cut` are odd: step back a line
            cut -= 1
            odd ^= quotes[cut] & 1
        if not more and cut < len(lines):
            raise IrregularCsv(handle.name)
        if cut or not more:
            return lines[:cut], lines[cut:]
        if sum(map(len, lines)) > max_chars:
            raise IrregularCsv(handle.name)


def parse_csv_lines(layout: CsvLayout, chunk: CsvLines) -> tuple[dict[str, list[str]], list[int]]:
    """The wanted columns of the records in ``chunk``, and the line each record ends on.

    Raises :class:`InputError` (with the file's line numbers) for a malformed line, a NUL
    byte or a wrong field count; a chunk that was cut inside a record fails this way too.
    Lines without any quote character (most exports quote nothing) are split at commas in C,
    which is what the CSV reader would make of them, at half its cost.
    """
    offset = chunk.first_line
    long_lines = max(map(len, chunk.lines), default=0) > csv.field_size_limit()
    if long_lines or '"' in "".join(chunk.lines):  # the CSV reader applies its field limit
        rows, lines = _read_rows(layout, chunk.lines, offset)
    else:
        texts = list(map(str.rstrip, chunk.lines, repeat("\r\n")))
        rows = list(map(str.split, texts, repeat(layout.delimiter)))
        lines = list(range(offset + 1, offset + 1 + len(rows)))
        if "" in texts:  # blank lines are no records
            keep = list(map(bool, texts))
            rows, lines = list(compress(rows, keep)), list(compress(lines, keep))
    _check_rows(layout.source, rows, lines, _header(layout))
    return {name: list(map(itemgetter(index), rows)) for name, index in layout.columns}, lines


def _header(layout: CsvLayout) -> Sequence[str]:
    return layout.header or [""] * layout.width


def _read_rows(
    layout: CsvLayout, text_lines: list[str], offset: int
) -> tuple[list[list[str]], list[int]]:
    """Rows read by the CSV reader, with the line each ends on, blank lines left out."""
    reader = csv.reader(text_lines, delimiter=layout.delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    done = 0
    try:
        for row in reader:
            if row:
                rows.append(row)
                lines.append(offset + reader.line_num)
            done = reader.line_num
    except csv.Error as exc:
        _check_rows(layout.source, rows, lines, _header(layout))  # a bad row comes first
        raise _malformed(layout.source, offset + reader.line_num, exc, offset + done + 1) from exc
    return rows, lines


def read_csv_records(
    path: str | os.PathLike[str], *, required: Sequence[str], id_column: str
) -> RecordTable:
    """Read a UTF-8 CSV with a header; every line must have the header's number of fields.

    Only the ``required`` columns are kept (others are ignored, so nothing unneeded is held).
    The delimiter is ',' unless the header line has no comma but a ';' or a tab (then that
    one), so European spreadsheet exports read as they are; a byte order mark is skipped.
    """
    columns: dict[str, list[str]] = {name: [] for name in required}
    for chunk in csv_record_chunks(
        path, required=required, id_column=id_column, chunk_records=1 << 16
    ):
        for name, values in chunk.columns.items():
            columns[name] += values
    return RecordTable(source=str(Path(path)), id_column=id_column, columns=columns)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN, pandas' missing value
        return ""
    text = str(value)
    return "" if text in _MISSING_TEXTS else text


def _cells(values: Iterable[Any]) -> list[str]:
    """Values as text, missing ones (None, NaN, NA) as empty strings.

    A column that is all text already (the common case) is checked and converted in C.
    """
    column = list(values)
    if set(map(type, column)) <= {str}:
        if _MISSING_TEXTS.isdisjoint(column):
            return column
        return list(map(_AS_MISSING.get, column, column))
    return [_cell(value) for value in column]


def _check_ids(source: str, id_column: str, ids: Sequence[str], unit: str) -> None:
    RecordIds(source, id_column, unit).add(ids, range(1, len(ids) + 1))


def dataframe_records(frame: Any, *, required: Sequence[str], id_column: str) -> RecordTable:
    """Records from a pandas DataFrame (or anything with ``columns`` and ``to_dict``).

    Missing values (NaN, None, NA) become empty strings: absent, not a value.
    """
    source = "DataFrame"
    header = [str(c) for c in frame.columns]
    _check_columns(source, header, required)
    columns: dict[str, list[Any]] = frame.to_dict(orient="list")
    if not columns or not columns[required[0]]:
        raise InputError(f"{source}: has columns but no records")
    values = {name: _cells(columns[name]) for name in required}
    _check_ids(source, id_column, values[id_column], unit="row")
    return RecordTable(source=source, id_column=id_column, columns=values)


def mapping_records(
    rows: Iterable[Mapping[str, Any]], *, required: Sequence[str], id_column: str
) -> RecordTable:
    """Records from dicts (one per record); missing values (None, NaN) become empty strings."""
    source = "records"
    records = rows if isinstance(rows, Sequence) else list(rows)
    if not records:
        raise InputError(f"{source}: no records given")
    columns: dict[str, list[str]] = {}
    for name in required:
        try:
            columns[name] = _cells(map(itemgetter(name), records))
        except (KeyError, TypeError):
            _first_missing_column(source, records, required)
            raise
    _check_ids(source, id_column, columns[id_column], unit="row")
    return RecordTable(source=source, id_column=id_column, columns=columns)


def _first_missing_column(
    source: str, records: Sequence[Mapping[str, Any]], required: Sequence[str]
) -> None:
    """Raise for the first record that lacks a required column, naming all it lacks."""
    for number, row in enumerate(records, start=1):
        missing = [name for name in required if name not in row]
        if missing:
            raise InputError(f"{source}: row {number}: missing column(s) {', '.join(missing)}")
