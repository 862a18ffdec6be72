from __future__ import annotations

from pathlib import Path

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
    path = write(tmp_path, "record_id;given_name\n1;Ana\n")
    with pytest.raises(InputError, match="missing columns record_id, given_name.*delimiter"):
        read(path)


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
