"""encode_file streams (chunk by chunk, several processes) and still writes what encode makes.

Chunks are made tiny here so that a few hundred records cross many chunk boundaries; the
output is compared byte for byte with the in-memory path, and bad input late in a file must
leave no output and give the message one process reading the file in order gives.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import blindlink.pipeline.encode as pipeline
from blindlink.encoding.encoder import EncodeReport
from blindlink.errors import InputError
from blindlink.io.blk import read_blk, write_blk
from blindlink.pipeline.encode import encode, encode_file, worker_count
from blindlink.synth import generate
from blindlink.types import STANDARD_COLUMNS

SECRET = b"pipeline test secret, long enough to be a secret"
EXAMPLES = Path(__file__).resolve().parents[1] / "protocols" / "examples"
CLKHASH_STANDARD = EXAMPLES / "clkhash-standard-columns-v3.json"
CHUNK = 23
#: With fork (not on Windows) the parallel paths run too.
WORKERS = [1, 2] if "fork" in multiprocessing.get_all_start_methods() else [1]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_RECORDS", CHUNK)
    monkeypatch.setattr(pipeline, "PARALLEL_CHUNK_LINES", CHUNK - 4)


def synthetic_rows(count: int = 300) -> list[dict[str, str]]:
    data = generate(n_persons=count, seed=3)
    rows = [dict(row) for records in data.agencies.values() for row in records][:count]
    for index, row in enumerate(rows):
        row["record_id"] = f"R{index:05d}"
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], *, crlf: bool = False) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(STANDARD_COLUMNS)
        writer.writerows([row[name] for name in STANDARD_COLUMNS] for row in rows)
    return path


def clkhash_schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CLKHASH_STANDARD.read_text(encoding="utf-8"))
    return document


SCHEMAS = {"default": None, "clkhash": clkhash_schema()}


def in_memory_blk(tmp_path: Path, source: Path, schema: dict[str, Any] | None) -> bytes:
    batch = encode(source, secret=SECRET, agency="agency-a", schema=schema, workers=1)
    reference = tmp_path / "reference.blk"
    write_blk(reference, batch)
    return reference.read_bytes()


def parallel_only(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """With workers, the file must be encoded by them, not by the one-process fallback."""
    if workers > 1:

        def refuse(*args: object) -> None:
            raise AssertionError("fell back to reading in one process")

        monkeypatch.setattr(pipeline, "_encode_file_in_order", refuse)


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_streamed_file_is_byte_identical_to_the_in_memory_path(
    tmp_path: Path, schema: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_csv(tmp_path / "in.csv", synthetic_rows())
    reference = in_memory_blk(tmp_path, source, SCHEMAS[schema])
    parallel_only(monkeypatch, workers)
    report = EncodeReport()
    progress: list[tuple[int, int]] = []
    batch = encode_file(
        source,
        tmp_path / "out.blk",
        secret=SECRET,
        agency="agency-a",
        schema=SCHEMAS[schema],
        report=report,
        progress=lambda done, total: progress.append((done, total)),
        workers=workers,
    )
    assert (tmp_path / "out.blk").read_bytes() == reference
    assert report.records == 300 == len(batch)
    assert len(progress) > 300 // CHUNK  # chunk by chunk, never the whole file at once
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert progress[-1] == (300, 300)
    back = read_blk(tmp_path / "out.blk")
    assert batch.record_ids == back.record_ids
    assert np.array_equal(batch.filters, back.filters)
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.blk", "reference.blk"]


def awkward_csv(path: Path) -> Path:
    """A BOM, CRLF and LF lines, blank lines, quoted commas, quotes and multi-line fields."""
    rows = synthetic_rows(120)
    rows[5]["given_name"] = "Ana, Maria"
    rows[17]["family_name"] = 'O"Neil'
    rows[30]["given_name"] = "two\nlines"
    rows[31]["family_name"] = "three\r\nline\nname"
    rows[64]["given_name"] = '"'
    write_csv(path, rows, crlf=True)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\r\n")
    lines.insert(40, "")
    lines.insert(90, "")
    path.write_text("\ufeff" + "\r\n".join(lines[:70]) + "\n" + "\n".join(lines[70:]), "utf-8")
    return path


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_awkward_csv_reads_the_same_in_chunks(
    tmp_path: Path, schema: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = awkward_csv(tmp_path / "in.csv")
    reference = in_memory_blk(tmp_path, source, SCHEMAS[schema])
    parallel_only(monkeypatch, workers)
    encode_file(
        source, tmp_path / "out.blk", secret=SECRET, agency="agency-a", schema=SCHEMAS[schema],
        workers=workers,
    )  # fmt: skip
    assert (tmp_path / "out.blk").read_bytes() == reference
    assert len(read_blk(tmp_path / "out.blk")) == 120


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def break_late_duplicate(path: Path) -> str:
    lines = lines_of(path)
    lines[281] = lines[3].split(",")[0] + "," + ",".join(lines[281].split(",")[1:])
    rewrite(path, lines)
    return "line 282, column record_id: record id repeats the one on line 4"


def break_late_fields(path: Path) -> str:
    lines = lines_of(path)
    lines[250] += ",extra"
    rewrite(path, lines)
    return "line 251: 7 fields where the header has 6"


def break_late_nul(path: Path) -> str:
    lines = lines_of(path)
    lines[260] = lines[260].replace(",", ",\x00", 1)
    rewrite(path, lines)
    return "line 261: contains a NUL byte"


def break_late_empty_id(path: Path) -> str:
    lines = lines_of(path)
    lines[270] = " " + lines[270][lines[270].index(",") :]
    rewrite(path, lines)
    return "line 271, column record_id: empty record id"


def break_unclosed_quote(path: Path) -> str:
    lines = lines_of(path)
    lines[200] = lines[200].replace(",", ',"', 1)
    rewrite(path, lines)
    return "malformed CSV"


def break_encoding(path: Path) -> str:
    raw = path.read_bytes()
    cut = raw.index(b"\n", len(raw) * 9 // 10) + 1
    path.write_bytes(raw[:cut] + b"R99999,Jos\xe9,Doe,,F,PRT\n" + raw[cut:])
    return "not UTF-8"


BREAKS = {
    "duplicate-id": break_late_duplicate,
    "field-count": break_late_fields,
    "nul-byte": break_late_nul,
    "empty-id": break_late_empty_id,
    "unclosed-quote": break_unclosed_quote,
    "not-utf8": break_encoding,
}


@pytest.mark.parametrize("workers", WORKERS)
@pytest.mark.parametrize("problem", list(BREAKS))
def test_a_late_problem_leaves_no_output_and_names_its_line(
    tmp_path: Path, problem: str, workers: int
) -> None:
    source = write_csv(tmp_path / "in.csv", synthetic_rows())
    expected = BREAKS[problem](source)
    out = tmp_path / "out.blk"
    out.write_bytes(b"previous result")
    with pytest.raises(InputError) as caught:
        encode_file(source, out, secret=SECRET, agency="agency-a", workers=workers)
    assert expected in str(caught.value)
    with pytest.raises(InputError) as in_order:
        encode(source, secret=SECRET, agency="agency-a", workers=1)
    assert str(caught.value) == str(in_order.value)
    assert out.read_bytes() == b"previous result"
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.blk"]


@pytest.mark.parametrize("workers", WORKERS)
def test_a_late_value_clkhash_rejects_is_numbered_in_the_whole_file(
    tmp_path: Path, workers: int
) -> None:
    document = clkhash_schema()
    document["features"][4]["format"] = {"type": "enum", "values": ["F", "M", ""]}
    rows = synthetic_rows()
    for row in rows:
        row["sex"] = row["sex"] if row["sex"] in {"F", "M"} else ""
    rows[244]["sex"] = "SECRET"
    source = write_csv(tmp_path / "in.csv", rows)
    with pytest.raises(InputError) as caught:
        encode_file(
            source, tmp_path / "o.blk", secret=SECRET, agency="a", schema=document,
            workers=workers,
        )  # fmt: skip
    assert str(caught.value).startswith("record 245, column 'sex': the value is not one of")
    assert "SECRET" not in str(caught.value)
    assert not (tmp_path / "o.blk").exists()


@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_records_in_memory_encode_the_same_with_workers(schema: str) -> None:
    rows = synthetic_rows(200)
    one = encode(rows, secret=SECRET, agency="a", schema=SCHEMAS[schema], workers=1)
    for workers in (None, *WORKERS[1:]):
        report = EncodeReport()
        other = encode(
            rows, secret=SECRET, agency="a", schema=SCHEMAS[schema], workers=workers,
            report=report,
        )  # fmt: skip
        assert np.array_equal(one.filters, other.filters)
        assert one.record_ids == other.record_ids
        assert report.records == 200


def test_worker_count() -> None:
    assert worker_count(1, 10**9) == 1
    assert worker_count(None, pipeline.PARALLEL_MIN_RECORDS - 1) == 1
    assert worker_count(8, 2 * CHUNK) in {1, 2}  # never more workers than chunks
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="workers must be at least 1"):
            worker_count(bad, 100)


def test_estimated_records_counts_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n3,4")
    assert pipeline._estimated_records(path) == 2
    path.write_bytes(b"a,b\n")
    assert pipeline._estimated_records(path) == 0
    assert pipeline._estimated_records(tmp_path / "missing.csv") == 0


def test_header_only_file_is_refused_by_both_paths(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(",".join(STANDARD_COLUMNS) + "\n\n", encoding="utf-8")
    for workers in WORKERS:
        with pytest.raises(InputError, match="has a header but no records"):
            encode_file(source, tmp_path / "o.blk", secret=SECRET, agency="a", workers=workers)
    assert not (tmp_path / "o.blk").exists()


@pytest.mark.parametrize("workers", WORKERS)
def test_a_quote_inside_an_unquoted_field_reads_the_same(tmp_path: Path, workers: int) -> None:
    """b"c is a field to the CSV reader, but it puts the quote count off by one: chunks may
    then be cut inside a quoted field, which fails to parse, and the file is read again."""
    source = write_csv(tmp_path / "in.csv", synthetic_rows(100))
    lines = lines_of(source)
    lines[10:10] = ['Q1,b"c,Doe,1990,F,PRT']
    lines[40:40] = ['Q2,"multi', 'line",Roe,1991,M,BRA']
    rewrite(source, lines)
    reference = in_memory_blk(tmp_path, source, None)
    encode_file(source, tmp_path / "out.blk", secret=SECRET, agency="agency-a", workers=workers)
    assert (tmp_path / "out.blk").read_bytes() == reference
