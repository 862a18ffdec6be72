"""Reading case records from a CSV file or a DataFrame, with errors that say where.

Errors name the file, the line and the column, never a value: a record's content must not
end up in a terminal log or an e-mailed error report.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blindlink.errors import InputError

Record = Mapping[str, str]


@dataclass(frozen=True)
class RecordTable:
    """Records in input order, with the column holding their identifiers."""

    source: str
    id_column: str
    records: Sequence[Record]

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(r[self.id_column] for r in self.records)


def _check_columns(source: str, header: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        listed = ", ".join(missing)
        hint = ""
        if len(header) == 1 and any(mark in header[0] for mark in ";\t|"):
            hint = "; the file seems to use another delimiter: save it as comma-separated CSV"
        raise InputError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} {listed} "
            f"(the header has: {', '.join(header) or 'nothing'}){hint}"
        )


def _check_ids(
    source: str, id_column: str, ids: Sequence[str], lines: Sequence[int], unit: str = "line"
) -> None:
    first_line: dict[str, int] = {}
    for record_id, line in zip(ids, lines, strict=True):
        if not record_id.strip():
            raise InputError(f"{source}: {unit} {line}, column {id_column}: empty record id")
        if record_id in first_line:
            raise InputError(
                f"{source}: {unit} {line}, column {id_column}: record id repeats the one on "
                f"{unit} {first_line[record_id]}"
            )
        first_line[record_id] = line


def _csv_rows(path: Path, source: str) -> Iterator[tuple[int, list[str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{source}: cannot open ({exc.strerror})") from exc
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            for row in reader:
                if any("\x00" in cell for cell in row):
                    raise InputError(
                        f"{source}: line {reader.line_num}: contains a NUL byte "
                        "(a UTF-16 or binary file? export the CSV as UTF-8)"
                    )
                yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{source}: line {reader.line_num + 1}: not UTF-8 text; export the CSV as UTF-8"
            ) from exc
        except csv.Error as exc:
            raise InputError(f"{source}: line {reader.line_num}: malformed CSV ({exc})") from exc


def read_csv_records(
    path: str | os.PathLike[str], *, required: Sequence[str], id_column: str
) -> RecordTable:
    """Read a UTF-8 CSV with a header; every line must have the header's number of fields.

    Only the ``required`` columns are kept (others are ignored, so nothing unneeded is held).
    """
    target = Path(path)
    source = str(target)
    if target.is_dir():
        raise InputError(f"{source}: is a folder, not a CSV file")
    rows = _csv_rows(target, source)
    header_line = next(rows, None)
    if header_line is None:
        raise InputError(f"{source}: empty file (expected a header line and records)")
    header = [name.strip() for name in header_line[1]]
    _check_columns(source, header, required)
    positions = [(name, header.index(name)) for name in required]
    records: list[Record] = []
    lines: list[int] = []
    for line, row in rows:
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(
                f"{source}: line {line}: {len(row)} fields where the header has {len(header)} "
                "(a stray delimiter or quote?)"
            )
        records.append({name: row[index] for name, index in positions})
        lines.append(line)
    if not records:
        raise InputError(f"{source}: has a header but no records")
    _check_ids(source, id_column, [r[id_column] for r in records], lines)
    return RecordTable(source=source, id_column=id_column, records=records)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN, pandas' missing value
        return ""
    text = str(value)
    return "" if text in {"<NA>", "NaT", "nan"} else text


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
    values = {name: [_cell(v) for v in columns[name]] for name in required}
    count = len(values[required[0]])
    records: list[Record] = [{name: values[name][i] for name in required} for i in range(count)]
    _check_ids(source, id_column, values[id_column], range(1, count + 1), unit="row")
    return RecordTable(source=source, id_column=id_column, records=records)


def mapping_records(
    rows: Iterable[Mapping[str, Any]], *, required: Sequence[str], id_column: str
) -> RecordTable:
    """Records from dicts (one per record); missing values (None, NaN) become empty strings."""
    source = "records"
    records: list[Record] = []
    for number, row in enumerate(rows, start=1):
        missing = [name for name in required if name not in row]
        if missing:
            raise InputError(f"{source}: row {number}: missing column(s) {', '.join(missing)}")
        records.append({name: _cell(row[name]) for name in required})
    if not records:
        raise InputError(f"{source}: no records given")
    _check_ids(
        source, id_column, [r[id_column] for r in records], range(1, len(records) + 1), unit="row"
    )
    return RecordTable(source=source, id_column=id_column, records=records)
