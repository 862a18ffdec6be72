from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from blindlink.errors import InputError
from blindlink.io.records import dataframe_records, read_csv_records

REQUIRED = ("record_id", "given_name")


def write(tmp_path: Path, content: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def read(path: Path) -> list[dict[str, str]]:
    return [
        dict(r) for r in read_csv_records(path, required=REQUIRED, id_column="record_id").records
    ]


def test_reads_required_columns_only_and_handles_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffrecord_id,given_name,notes\n1,Ana,secret note\n2,Олег,\n")
    assert read(path) == [
        {"record_id": "1", "given_name": "Ana"},
        {"record_id": "2", "given_name": "Олег"},
    ]


def test_quoted_fields_with_commas_and_newlines(tmp_path: Path) -> None:
    path = write(tmp_path, 'record_id,given_name\n1,"Ana, Maria"\n2,"two\nlines"\n')
    assert [r["given_name"] for r in read(path)] == ["Ana, Maria", "two\nlines"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("record_id,given_name\n", "header but no records"),
        ("record_id,name\n1,Ana\n", "missing column given_name"),
        ("record_id,given_name\n1,Ana\n2,Bo,extra\n", "line 3: 3 fields where the header has 2"),
        ("record_id,given_name\n1,Ana\n1,Bo\n", "line 3, column record_id: record id repeats"),
        ("record_id,given_name\n1,Ana\n ,Bo\n", "line 3, column record_id: empty record id"),
        ('record_id,given_name\n1,"Ana\n', "malformed CSV"),
        ("record_id,given_name\n1,A\x00na\n", "line 2: contains a NUL byte"),
    ],
)
def test_bad_csv_gives_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError, match=message) as caught:
        read(path)
    assert str(path) in str(caught.value)


def test_non_utf8_is_reported_with_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"record_id,given_name\n1,Ana\n2," + "José".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read(path)


def test_error_never_shows_values(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id,given_name\nSECRETID,Ana\nSECRETID,Bo\n")
    with pytest.raises(InputError) as caught:
        read(path)
    assert "SECRETID" not in str(caught.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        read(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read(tmp_path)


def test_dataframe_missing_values_become_empty() -> None:
    frame = pd.DataFrame({"record_id": [1, 2], "given_name": ["Ana", None]})
    table = dataframe_records(frame, required=REQUIRED, id_column="record_id")
    assert [dict(r) for r in table.records] == [
        {"record_id": "1", "given_name": "Ana"},
        {"record_id": "2", "given_name": ""},
    ]


def test_dataframe_errors() -> None:
    with pytest.raises(InputError, match="missing column given_name"):
        dataframe_records(
            pd.DataFrame({"record_id": [1]}), required=REQUIRED, id_column="record_id"
        )
    frame = pd.DataFrame({"record_id": [1, 1], "given_name": ["a", "b"]})
    with pytest.raises(InputError, match="row 2, column record_id: record id repeats"):
        dataframe_records(frame, required=REQUIRED, id_column="record_id")


def test_wrong_delimiter_names_the_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id|given_name\n1|Ana\n")
    with pytest.raises(InputError, match="missing columns record_id, given_name.*delimiter"):
        read(path)
    # ';' (European spreadsheets) and tabs are read as they are: see test_hostile_input.py
    semicolons = write(tmp_path, "record_id;given_name\n1;Ana\n", "semicolons.csv")
    assert read(semicolons) == [{"record_id": "1", "given_name": "Ana"}]


def test_huge_field_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "record_id,given_name\n1," + "x" * 200_000 + "\n")
    with pytest.raises(InputError, match="line 2: malformed CSV"):
        read(path)


def test_dict_records_are_checked_row_by_row() -> None:
    from blindlink.io.records import mapping_records

    table = mapping_records(
        [{"record_id": 1, "given_name": None}, {"record_id": "2", "given_name": "Bo"}],
        required=REQUIRED,
        id_column="record_id",
    )
    assert [dict(r) for r in table.records] == [
        {"record_id": "1", "given_name": ""},
        {"record_id": "2", "given_name": "Bo"},
    ]
    with pytest.raises(InputError, match="row 2: missing column"):
        mapping_records([{"record_id": "1", "given_name": "a"}, {"record_id": "2"}],
                        required=REQUIRED, id_column="record_id")  # fmt: skip
    with pytest.raises(InputError, match="row 2, column record_id: record id repeats"):
        mapping_records([{"record_id": "1", "given_name": "a"}] * 2,
                        required=REQUIRED, id_column="record_id")  # fmt: skip
    with pytest.raises(InputError, match="no records"):
        mapping_records([], required=REQUIRED, id_column="record_id")


# ------------------------------------------------------------------------ reading in chunks


def test_csv_chunks_together_are_the_whole_table(tmp_path: Path) -> None:
    from blindlink.io.records import csv_record_chunks

    body = "".join(f"{i},name {i}\n" + ("\n" if i % 7 == 0 else "") for i in range(50))
    path = write(tmp_path, "record_id,given_name\n" + body)
    chunks = list(
        csv_record_chunks(path, required=REQUIRED, id_column="record_id", chunk_records=8)
    )
    assert [chunk.first for chunk in chunks] == list(range(0, 50, 8))
    assert [len(chunk) for chunk in chunks] == [8] * 6 + [2]
    rows = [row for chunk in chunks for row in chunk.rows()]
    assert rows == read(path)
    with pytest.raises(ValueError, match="at least 1"):
        next(csv_record_chunks(path, required=REQUIRED, id_column="record_id", chunk_records=0))


def test_a_repeat_in_a_later_chunk_names_both_lines(tmp_path: Path) -> None:
    from blindlink.io.records import csv_record_chunks

    body = "".join(f"{i},n\n" for i in range(30)) + "3,again\n"
    path = write(tmp_path, "record_id,given_name\n" + body)
    chunks = csv_record_chunks(path, required=REQUIRED, id_column="record_id", chunk_records=4)
    with pytest.raises(
        InputError, match="line 32, column record_id: record id repeats the one on line 5"
    ):
        list(chunks)


def line_chunks(path: Path, size: int, max_chars: int = 10_000) -> tuple[Any, list[Any]]:
    from blindlink.io.records import csv_line_chunks

    with csv_line_chunks(
        path, required=REQUIRED, lines_per_chunk=size, max_chunk_chars=max_chars
    ) as (
        layout,
        chunks,
    ):
        return layout, list(chunks)


def test_line_chunks_are_cut_only_between_records(tmp_path: Path) -> None:
    from blindlink.io.records import parse_csv_lines

    body = '1,a\n2,"b\nb"\n3,"c,""d""\n\ne"\n\n4,f\r\n5,"g"\n'
    path = write(tmp_path, "record_id,given_name\n" + body)
    layout, chunks = line_chunks(path, 1)
    assert layout.width == 2 and dict(layout.columns) == {"record_id": 0, "given_name": 1}
    assert [chunk.first_line for chunk in chunks] == [1, 2, 4, 7, 8, 9]
    parsed = [parse_csv_lines(layout, chunk) for chunk in chunks]
    assert [p[0]["given_name"] for p in parsed] == [
        ["a"],
        ["b\nb"],
        ['c,"d"\n\ne'],
        [],
        ["f"],
        ["g"],
    ]
    assert [p[1] for p in parsed] == [[2], [4], [7], [], [9], [10]]
    assert [line for p in parsed for line in p[1]] == [2, 4, 7, 9, 10]


def test_line_chunks_give_up_on_an_unclosed_quote(tmp_path: Path) -> None:
    from blindlink.io.records import IrregularCsv

    path = write(tmp_path, 'record_id,given_name\n1,"a\n' + "2,b\n" * 100)
    with pytest.raises(IrregularCsv):
        line_chunks(path, 10)
    with pytest.raises(IrregularCsv):
        line_chunks(path, 10, max_chars=50)
    not_utf8 = write(tmp_path, b"record_id,given_name\n1,\xe9\n", "latin.csv")
    with pytest.raises(IrregularCsv):
        line_chunks(not_utf8, 10)
    with pytest.raises(IrregularCsv):
        line_chunks(write(tmp_path, "", "empty.csv"), 10)
    with pytest.raises(InputError, match="missing column given_name"):
        line_chunks(write(tmp_path, "record_id\n1\n", "one.csv"), 10)


def test_parsing_line_chunks_reports_file_lines(tmp_path: Path) -> None:
    from blindlink.io.records import CsvLines, parse_csv_lines

    path = write(tmp_path, "record_id,given_name\n1,a\n")
    layout, _ = line_chunks(path, 10)
    with pytest.raises(InputError, match="line 12: 3 fields where the header has 2"):
        parse_csv_lines(layout, CsvLines(10, ["5,x\n", "6,y,z\n"]))
    with pytest.raises(InputError, match="line 11: contains a NUL byte"):
        parse_csv_lines(layout, CsvLines(10, ["5,\x00\n"]))
    with pytest.raises(InputError, match="line 11: malformed CSV"):
        parse_csv_lines(layout, CsvLines(10, ['5,"x\n']))


def test_pandas_missing_texts_in_dicts_become_empty_in_c() -> None:
    from blindlink.io.records import mapping_records

    rows = [
        {"record_id": str(i), "given_name": name} for i, name in enumerate(["nan", "Ana", "NaT"])
    ]
    table = mapping_records(rows, required=REQUIRED, id_column="record_id")
    assert table.columns["given_name"] == ["", "Ana", ""]
    assert len(table) == 3 and table.record_ids == ("0", "1", "2")


@pytest.mark.parametrize(
    "body",
    [
        "1,a\n2,b\n",
        "1,a\r\n\r\n2, b \r\n3,\r\n",
        "1,a\r2,b\r\r3,c",
        "\n\n1,a\n\n",
        '1,"a"\n2,b\n',
    ],
    ids=["lf", "crlf-blank-spaces", "cr", "blank-lines", "quoted"],
)
def test_line_chunks_parse_as_the_csv_reader_reads(tmp_path: Path, body: str) -> None:
    from blindlink.io.records import parse_csv_lines

    path = write(tmp_path, "record_id,given_name\n" + body)
    layout, chunks = line_chunks(path, 100)
    parsed = [parse_csv_lines(layout, chunk) for chunk in chunks]
    ids = [i for columns, _ in parsed for i in columns["record_id"]]
    names = [n for columns, _ in parsed for n in columns["given_name"]]
    assert [{"record_id": i, "given_name": n} for i, n in zip(ids, names, strict=True)] == read(
        path
    )
