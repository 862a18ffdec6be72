from __future__ import annotations

import os
from pathlib import Path

import pytest

from blindlink.errors import OutputError
from blindlink.io.atomic import atomic_directory, atomic_file


def test_atomic_file_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    with atomic_file(target, mode=0o600) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_atomic_file_in_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"), atomic_file(tmp_path / "x" / "y"):
        pass


def test_atomic_directory_swaps_previous_result(tmp_path: Path) -> None:
    target = tmp_path / "results"
    with atomic_directory(target, replaceable=frozenset({"a.txt"})) as staging:
        (staging / "a.txt").write_text("1")
    with (
        pytest.raises(RuntimeError),
        atomic_directory(target, replaceable=frozenset({"a.txt"})) as staging,
    ):
        (staging / "a.txt").write_text("2")
        raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "1"
    assert sorted(os.listdir(tmp_path)) == ["results"]
    with atomic_directory(target, replaceable=frozenset({"a.txt"})) as staging:
        (staging / "a.txt").write_text("3")
    assert (target / "a.txt").read_text() == "3"
    assert sorted(os.listdir(tmp_path)) == ["results"]


def test_atomic_directory_refuses_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "important.doc").write_text("keep me")
    with (
        pytest.raises(OutputError, match="not a previous blindlink result"),
        atomic_directory(tmp_path, replaceable=frozenset({"a.txt"})),
    ):
        pass
    assert (tmp_path / "important.doc").read_text() == "keep me"
