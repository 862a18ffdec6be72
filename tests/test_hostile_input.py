"""Hostile and broken input through the CLI: nothing lost, one readable line (issue 7).

Every class of bad input must give exactly one line on stderr, ``blindlink: error: <file>:
<where>: <rule>``, naming the file (and line, column) but never a value; a non-zero exit code;
no traceback unless ``--debug``; and no partial output: the previous output stays byte for
byte, and no temporary is left next to it. ``docs/hostile-input.md`` lists the classes.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import resource
import shutil
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from blindlink import cli as cli_module
from blindlink.cli import app
from blindlink.io.blk import read_blk
from blindlink.io.secret_file import write_secret_file

HEADER = "record_id,given_name,family_name,date_of_birth,sex,nationality"
ROWS = [
    "A1,Mohammed,Al-Hassan,1990-05-03,M,SYR",
    "A2,Olena,Kovalenko,1998-11-20,F,UKR",
    "A3,Somchai,Srisuk,1985,M,THA",
    "A4,Maria José,García López,1993-09-09,F,COL",
]
#: A value that must never appear in a message: every bad row below carries it.
MARK = "Zqx7"
PREVIOUS = b"the previous output, which must survive"
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def csv_text(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--debug`` sticks in the CLI's state within one process: start every test without."""
    monkeypatch.setitem(cli_module._state, "debug", False)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A secret, a good CSV per agency, their .blk files and a results folder from them."""
    folder = tmp_path_factory.mktemp("kit")
    write_secret_file(folder / "secret.key")
    write_secret_file(folder / "other.key")
    for agency, rows in (("ngo-a", ROWS), ("police-b", ROWS[1:])):
        (folder / f"{agency}.csv").write_text(csv_text(*rows), encoding="utf-8")
        done = encode(folder / f"{agency}.csv", folder / f"{agency}.blk", folder, agency=agency)
        assert done.exit_code == 0, done.stderr
    done = cli("link", folder / "ngo-a.blk", folder / "police-b.blk", "--out",
               folder / "results", "--seed", "7")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    return folder


def cli(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def encode(
    source: Path, out: Path, kit: Path, *, agency: str = "ngo-a", key: str = "secret.key"
) -> Result:
    return cli("encode", source, "--secret-file", kit / key, "--agency", agency, "--out", out)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_refused(
    result: Result, code: int, *names: object, rule: str = "", secrets: Sequence[str] = (MARK,)
) -> str:
    """The CLI contract for bad input: exit code, one line naming the files, no value."""
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("blindlink: error: "), line
    assert "Traceback" not in result.stderr
    for name in names:
        assert str(name) in line, (name, line)
    assert rule in line, (rule, line)
    for secret in secrets:
        assert secret not in result.stderr and secret not in result.stdout, line
    return line


def assert_untouched(target: Path, before: bytes | None = PREVIOUS) -> None:
    """``target`` holds ``before`` (absent if None) and nothing was left beside it."""
    if before is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == before
    assert not [p.name for p in target.parent.glob(f".{target.name}.*")]


# ------------------------------------------------------------------------------ broken CSV

BAD_CSV: dict[str, tuple[str | bytes, str]] = {
    "too-many-fields": (csv_text(ROWS[0], f"A9,{MARK},B,1990,F,X,extra"),
                        "line 3: 7 fields where the header has 6"),
    "too-few-fields": (csv_text(ROWS[0], f"A9,{MARK},B"),
                       "line 3: 3 fields where the header has 6"),
    "unterminated-quote": (csv_text(ROWS[0], f'A9,"{MARK},B,1990,F,X', *ROWS[1:]),
                           "line 3: malformed CSV (a quote opened in the record starting on "
                           "this line is never closed)"),
    "text-after-a-quote": (csv_text(ROWS[0], f'A9,"{MARK}"x,B,1990,F,X'),
                           "line 3: malformed CSV"),
    "pipe-delimiter": (csv_text(ROWS[0].replace(",", "|"), header=HEADER.replace(",", "|")),
                       "another delimiter"),
    "no-header-line": (csv_text(ROWS[1], header=f"A0,{MARK},Doe,1990,F,UKR"),
                       "is the header line missing?"),
    "a-column-twice": (csv_text(ROWS[0], header=HEADER + ",given_name"),
                       "line 1: column given_name appears more than once in the header"),
    "not-utf8": ((csv_text(ROWS[0], f"A9,{MARK}é,B,1990,F,X")).encode("latin-1"),
                 "line 3: not UTF-8 text in column given_name"),
    "utf16": (csv_text(*ROWS).encode("utf-16"), "line 1: UTF-16 text"),
    "nul-byte": (csv_text(ROWS[0], f"A9,{MARK},B\x00,1990,F,X"),
                 "line 3: contains a NUL byte in column family_name"),
    "huge-field": (csv_text(ROWS[0], f"A9,{MARK}{'x' * 200_000},B,1990,F,X"),
                   "line 3: malformed CSV (a field is longer than 131,072 characters)"),
    "huge-quoted-field": (csv_text(ROWS[0], f'A9,"{MARK}' + "x\n" * 70_000 + '",B,1990,F,X'),
                          "line 3: malformed CSV (a field is longer than 131,072 characters)"),
    "huge-line": (csv_text(ROWS[0]) + MARK + "," * (1 << 21), "line 3: longer than 1,048,576"),
    "repeated-id": (csv_text(f"{MARK},A,B,1990,F,X", ROWS[1], f"{MARK},C,D,1991,M,Y"),
                    "line 4, column record_id: record id repeats the one on line 2"),
    "empty-id": (csv_text(ROWS[0], f" ,{MARK},B,1990,F,X"),
                 "line 3, column record_id: empty record id"),
    "empty-file": ("", "empty file"),
    "header-only": (csv_text(), "has a header but no records"),
    "header-and-blank-lines": (csv_text() + "\n\r\n\n", "has a header but no records"),
    "binary": (bytes(range(256)) * 8, "line 1: contains a NUL byte"),
}  # fmt: skip


@pytest.mark.parametrize("problem", list(BAD_CSV))
def test_broken_csv_is_one_line_and_keeps_the_previous_file(
    kit: Path, tmp_path: Path, problem: str
) -> None:
    content, rule = BAD_CSV[problem]
    source = tmp_path / "cases.csv"
    source.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = tmp_path / "cases.blk"
    out.write_bytes(PREVIOUS)
    assert_refused(encode(source, out, kit), 3, source, rule=rule)
    assert_untouched(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.blk", "cases.csv"]


def test_broken_csv_leaves_no_file_where_there_was_none(kit: Path, tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_text(csv_text(ROWS[0], ROWS[0]), encoding="utf-8")
    assert_refused(encode(source, tmp_path / "new.blk", kit), 3, source, rule="repeats")
    assert_untouched(tmp_path / "new.blk", None)


def test_debug_shows_the_traceback_and_still_the_line(kit: Path, tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes(BAD_CSV["not-utf8"][0])  # type: ignore[arg-type]
    out = tmp_path / "cases.blk"
    result = cli("--debug", "encode", source, "--secret-file", kit / "secret.key",
                 "--agency", "a", "--out", out)  # fmt: skip
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"blindlink: error: {source}: line 3")
    assert not out.exists()


def test_a_huge_line_is_not_read_whole(tmp_path: Path) -> None:
    """A file without line ends is refused after about a line's limit, not read into memory."""
    import tracemalloc

    from blindlink.errors import InputError
    from blindlink.pipeline.encode import encode_file

    source = tmp_path / "cases.csv"
    with source.open("w", encoding="utf-8") as handle:
        handle.write(csv_text(ROWS[0]))
        for _ in range(40):
            handle.write("x" * (1 << 20))  # 40 MiB on one line
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="line 3: longer than 1,048,576 characters"):
            encode_file(source, tmp_path / "out.blk", secret=b"k" * 32, agency="a")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB"
    assert not (tmp_path / "out.blk").exists()


# ------------------------------------------------------------------- accepted CSV variants

ACCEPTED: dict[str, bytes] = {
    "bom": ("\ufeff" + csv_text(*ROWS)).encode("utf-8"),
    "semicolons": csv_text(*(r.replace(",", ";") for r in ROWS),
                           header=HEADER.replace(",", ";")).encode("utf-8"),
    "semicolons-bom-crlf": ("\ufeff" + csv_text(*(r.replace(",", ";") for r in ROWS),
                            header=HEADER.replace(",", ";"), end="\r\n")).encode("utf-8"),
    "tabs": csv_text(*(r.replace(",", "\t") for r in ROWS),
                     header=HEADER.replace(",", "\t")).encode("utf-8"),
    "crlf": csv_text(*ROWS, end="\r\n").encode("utf-8"),
    "cr": csv_text(*ROWS, end="\r").encode("utf-8"),
    "blank-lines-no-final-newline": ("\n".join([HEADER, "", *ROWS[:2], "", "", *ROWS[2:]])
                                     ).encode("utf-8"),
    "quoted": csv_text(*(",".join(f'"{v}"' for v in r.split(",")) for r in ROWS)).encode("utf-8"),
}  # fmt: skip


@pytest.mark.parametrize("variant", list(ACCEPTED))
def test_accepted_variants_encode_to_the_same_bytes(
    kit: Path, tmp_path: Path, variant: str
) -> None:
    """A BOM, ';' or tab delimiters, any line end: the .blk is the one the plain CSV gives."""
    reference = tmp_path / "plain.csv"
    reference.write_text(csv_text(*ROWS), encoding="utf-8")
    assert encode(reference, tmp_path / "plain.blk", kit).exit_code == 0
    source = tmp_path / "variant.csv"
    source.write_bytes(ACCEPTED[variant])
    result = encode(source, tmp_path / "variant.blk", kit)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "variant.blk").read_bytes() == (tmp_path / "plain.blk").read_bytes()


def test_semicolons_are_read_the_same_by_worker_processes(tmp_path: Path) -> None:
    from blindlink.pipeline.encode import encode_file

    rows = [f"R{i},Name{i % 97},Family{i % 89},19{i % 90 + 10}-01-02,F,UKR" for i in range(300)]
    plain, semicolons = tmp_path / "plain.csv", tmp_path / "semi.csv"
    plain.write_text(csv_text(*rows), encoding="utf-8")
    semicolons.write_text(csv_text(*(r.replace(",", ";") for r in rows),
                                   header=HEADER.replace(",", ";")), encoding="utf-8")  # fmt: skip
    outputs = []
    for source, workers in ((plain, 1), (semicolons, 1), (semicolons, 2)):
        out = tmp_path / f"{source.stem}-{workers}.blk"
        encode_file(source, out, secret=b"k" * 32, agency="a", workers=workers)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


# -------------------------------------------------------------------- arbitrary CSV bytes

CSV_ALPHABET = st.sampled_from([",", ";", '"', "\n", "\r", "\x00", "é", "\ufeff", "a", "1", " "])
FIELD = st.builds(lambda t: MARK + t, st.text(CSV_ALPHABET, max_size=12))


def _check_any_outcome(result: Result, source: Path, out: Path) -> None:
    if result.exit_code == 0:
        assert result.stderr == ""
        assert len(read_blk(out)) >= 1
    else:
        assert_refused(result, 3, source)
        assert_untouched(out)


@HOSTILE
@given(content=st.binary(max_size=600))
def test_arbitrary_bytes_as_csv(kit: Path, tmp_path: Path, content: bytes) -> None:
    source, out = tmp_path / "any.csv", tmp_path / "any.blk"
    source.write_bytes(content)
    out.write_bytes(PREVIOUS)
    assert_refused(encode(source, out, kit), 3, source)  # no header: never accepted
    assert_untouched(out)


@HOSTILE
@given(body=st.binary(max_size=600) | st.lists(st.lists(FIELD, max_size=8), max_size=6))
def test_arbitrary_records_after_a_good_header(
    kit: Path, tmp_path: Path, body: bytes | list[list[str]]
) -> None:
    """Bytes, or rows of awkward text, after a good header: encoded, or one clean line."""
    if isinstance(body, list):
        body = "\n".join(",".join(row) for row in body).encode("utf-8")
    source, out = tmp_path / "any.csv", tmp_path / "any.blk"
    source.write_bytes((HEADER + "\n").encode() + body)
    out.write_bytes(PREVIOUS)
    _check_any_outcome(encode(source, out, kit), source, out)


# ------------------------------------------------------------------------ broken .blk files


def blk_bytes(
    agency: str = "ngo-x",
    *,
    fingerprint: str = "0" * 64,
    key_check: str = "0" * 32,
    bits: int = 64,
    ids: Sequence[str] = ("r1", "r2"),
    version: int = 1,
) -> bytes:
    """A .blk file built from protocols/encoded-file-format.md, checksum and all."""
    header = json.dumps(
        {"agency": agency, "filter_bits": bits, "format": "blindlink-encodings",
         "key_check": key_check, "producer": "hand-made", "record_count": len(ids),
         "schema_fingerprint": fingerprint,
         "ids_bytes": sum(4 + len(i.encode()) for i in ids)},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()  # fmt: skip
    body = struct.pack("<8sHHI", b"BLINDLNK", version, 0, len(header)) + header
    body += b"".join(struct.pack("<I", len(i.encode())) + i.encode() for i in ids)
    body += bytes(range(len(ids) * bits // 8))
    return body + hashlib.sha256(body).digest()


def like(kit: Path, **changes: Any) -> bytes:
    """A hand-made file with the identity of the kit's files, changed as asked."""
    batch = read_blk(kit / "ngo-a.blk")
    values: dict[str, Any] = {
        "fingerprint": batch.schema_fingerprint, "key_check": batch.key_check,
        "bits": batch.filter_bits, "agency": "hand-made",
    }  # fmt: skip
    values.update(changes)
    return blk_bytes(**values)


def link_refused(
    kit: Path, tmp_path: Path, files: Sequence[Path], code: int, rule: str, *names: object
) -> str:
    """Link ``files`` into a copy of a previous result: refused, the copy unchanged."""
    out = tmp_path / "results"
    shutil.copytree(kit / "results", out)
    before = tree(out)
    line = assert_refused(cli("link", *files, "--out", out), code, *names, rule=rule)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    return line


@pytest.mark.parametrize("keep", [0, 5, 15, 16, 60, -33, -1])
def test_truncated_blk(kit: Path, tmp_path: Path, keep: int) -> None:
    data = (kit / "ngo-a.blk").read_bytes()
    bad = tmp_path / "cut.blk"
    bad.write_bytes(data[:keep])
    rule = "empty file" if keep == 0 else "is truncated"
    link_refused(kit, tmp_path, [kit / "police-b.blk", bad], 5, rule, bad)


@HOSTILE
@given(data=st.data())
def test_any_flipped_bit_or_cut_of_a_blk_is_refused(
    kit: Path, tmp_path: Path, data: st.DataObject
) -> None:
    original = (kit / "ngo-a.blk").read_bytes()
    damaged = bytearray(original)
    how = data.draw(st.sampled_from(["flip", "cut", "overwrite", "append"]))
    if how == "flip":
        position = data.draw(st.integers(0, len(original) - 1))
        damaged[position] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "cut":
        del damaged[data.draw(st.integers(0, len(original) - 1)) :]
    elif how == "overwrite":
        position = data.draw(st.integers(0, len(original) - 1))
        patch = data.draw(st.binary(min_size=1, max_size=16))
        damaged[position : position + len(patch)] = patch
        if damaged == bytearray(original):
            return
    else:
        damaged += data.draw(st.binary(min_size=1, max_size=40))
    bad = tmp_path / "damaged.blk"
    bad.write_bytes(bytes(damaged))
    out = tmp_path / "results"
    shutil.rmtree(out, ignore_errors=True)
    assert_refused(cli("link", kit / "police-b.blk", bad, "--out", out), 5, bad)
    assert not out.exists()


@pytest.mark.parametrize(
    ("version", "rule"),
    [(2, "made by a newer blindlink (format 2)"), (0, "made by an older blindlink (format 0)")],
)
def test_blk_of_another_format_version(kit: Path, tmp_path: Path, version: int, rule: str) -> None:
    bad = tmp_path / "other.blk"
    bad.write_bytes(like(kit, version=version))
    link_refused(kit, tmp_path, [kit / "ngo-a.blk", bad], 5, rule, bad)


def test_a_csv_given_as_blk(kit: Path, tmp_path: Path) -> None:
    link_refused(kit, tmp_path, [kit / "ngo-a.csv"], 5, "not a blindlink encoded file",
                 kit / "ngo-a.csv")  # fmt: skip


def test_blk_with_another_filter_length(kit: Path, tmp_path: Path) -> None:
    bad = tmp_path / "short.blk"
    bad.write_bytes(like(kit, bits=512))
    bits = read_blk(kit / "ngo-a.blk").filter_bits
    line = link_refused(kit, tmp_path, [kit / "ngo-a.blk", bad], 6, "filter lengths differ",
                        kit / "ngo-a.blk", bad)  # fmt: skip
    # which files, what lengths, and why it cannot be the schemas
    assert line.startswith(f"blindlink: error: {kit / 'ngo-a.blk'} and {bad}: "), line
    assert f"({bits} and 512 bits) under the same schema fingerprint" in line, line


def test_blk_with_another_schema_filter_length(kit: Path, tmp_path: Path) -> None:
    """Agencies that encoded with schemas of different filter lengths cannot be linked."""
    from blindlink.schema import default_schema

    document = json.loads(json.dumps(default_schema().document))
    document["encoding"]["filter_bits"] = 512
    for step in document["encoding"].get("hardening", []):
        step["output_bits"] = 512
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(document), encoding="utf-8")
    other = tmp_path / "police-b.blk"
    done = cli("encode", kit / "police-b.csv", "--secret-file", kit / "secret.key",
               "--agency", "police-b", "--out", other, "--schema", schema)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert read_blk(other).filter_bits == 512
    link_refused(kit, tmp_path, [kit / "ngo-a.blk", other], 6, "different linkage schemas",
                 kit / "ngo-a.blk", other)  # fmt: skip


def test_blk_with_another_secret(kit: Path, tmp_path: Path) -> None:
    other = tmp_path / "police-b.blk"
    assert (
        encode(kit / "police-b.csv", other, kit, agency="police-b", key="other.key").exit_code == 0
    )
    link_refused(kit, tmp_path, [kit / "ngo-a.blk", other], 6, "different secrets",
                 kit / "ngo-a.blk", other)  # fmt: skip


def test_two_files_of_one_agency(kit: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.blk"
    twin.write_bytes(like(kit, agency="NGO-A"))
    link_refused(kit, tmp_path, [kit / "ngo-a.blk", twin], 6, "both are from agency",
                 kit / "ngo-a.blk", twin)  # fmt: skip


# ------------------------------------------------------------ agency names that escape


ESCAPING_NAMES = ["../x", "..", "/etc/x", "a/b", "a\\b", "C:x", ".hidden", "x.", "",
                  "CON", "nul", "Com1", "lpt9.csv", "aux.x", "a\nb", "x" * 65]  # fmt: skip


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_escaping_agency_name_is_refused_when_encoding(
    kit: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "x.blk"
    result = encode(kit / "ngo-a.csv", out, kit, agency=name)
    assert_refused(result, 3, rule="agency name", secrets=())
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped", "CON", "a/b", ".x"])
def test_escaping_agency_name_in_a_blk_is_refused_when_linking(
    kit: Path, tmp_path: Path, name: str
) -> None:
    bad = tmp_path / "bad.blk"
    bad.write_bytes(like(kit, agency=name))
    link_refused(kit, tmp_path, [kit / "ngo-a.blk", bad], 5, "agency name", bad)
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/escaped.csv").exists()


def test_a_file_name_with_a_line_break_stays_one_line(kit: Path, tmp_path: Path) -> None:
    source = tmp_path / "two\nlines.csv"
    source.write_text(csv_text(ROWS[0], ROWS[0]), encoding="utf-8")
    result = encode(source, tmp_path / "x.blk", kit)
    assert_refused(result, 3, "two\\nlines.csv", rule="repeats")


# ----------------------------------------------------------------- outputs that cannot be


@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_encode_into_an_impossible_place(kit: Path, tmp_path: Path, where: str) -> None:
    out = tmp_path / "nowhere" / "x.blk" if where == "missing-folder" else tmp_path / "x.blk"
    if where == "a-folder":
        out.mkdir()
    assert_refused(encode(kit / "ngo-a.csv", out, kit), 8, out, secrets=())
    assert [p.name for p in tmp_path.iterdir()] == (["x.blk"] if where == "a-folder" else [])


def test_link_into_a_file_or_a_foreign_folder(kit: Path, tmp_path: Path) -> None:
    blks = [kit / "ngo-a.blk", kit / "police-b.blk"]
    target = tmp_path / "results"
    target.write_bytes(PREVIOUS)
    assert_refused(cli("link", *blks, "--out", target), 8, target, rule="not a folder")
    assert_untouched(target)
    assert_refused(cli("link", *blks, "--out", tmp_path), 8, tmp_path,
                   rule="not a previous blindlink result")  # fmt: skip
    assert_untouched(target)


class _Failing:
    """A file object whose writes fail once ``budget`` bytes (shared) have been written."""

    def __init__(self, inner: Any, budget: list[int], failure: BaseException) -> None:
        self._inner = inner
        self._budget = budget
        self._failure = failure

    def write(self, data: Any) -> int:
        size = len(data.encode()) if isinstance(data, str) else memoryview(data).nbytes
        room = self._budget[0]
        if size > room:
            if room:  # a partial write first, as a filling disk does
                self._inner.write(data[:room] if isinstance(data, str) else bytes(data)[:room])
            self._budget[0] = 0
            raise self._failure
        self._budget[0] -= size
        return int(self._inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _Failing:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inner)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``disk(budget, failure)``: every file opened for writing from now on fails once
    ``budget`` bytes have been written in all (the default failure: no space left)."""

    def fill(budget: int, failure: BaseException | None = None) -> None:
        left = [budget]
        failure = failure or OSError(errno.ENOSPC, "No space left on device")
        real_open = io.open

        def failing_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(file, mode, *args, **kwargs)
            if any(m in mode for m in "wax+"):
                return _Failing(handle, left, failure)
            return handle

        monkeypatch.setattr(io, "open", failing_open)

    return fill


@pytest.mark.parametrize("budget", [0, 300, 700])
def test_full_disk_while_encoding(kit: Path, tmp_path: Path, disk: Any, budget: int) -> None:
    """Out of space while spooling the encodings (0) or writing the file itself: the previous
    .blk stays, no temporary is left, one line names the file."""
    out = tmp_path / "ngo-a.blk"
    out.write_bytes(PREVIOUS)
    assert (kit / "ngo-a.blk").stat().st_size > budget
    disk(budget)
    result = encode(kit / "ngo-a.csv", out, kit)
    assert_refused(result, 8, out, rule="No space left on device")
    assert_untouched(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ngo-a.blk"]


@pytest.mark.parametrize("budget", [0, 200, 1000])
def test_full_disk_while_linking(kit: Path, tmp_path: Path, disk: Any, budget: int) -> None:
    out = tmp_path / "results"
    shutil.copytree(kit / "results", out)
    before = tree(out)
    assert sum(map(len, before.values())) > budget
    disk(budget)
    result = cli("link", kit / "ngo-a.blk", kit / "police-b.blk", "--out", out, "--seed", "8")
    assert_refused(result, 8, out, rule="No space left on device")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("command", ["encode", "link"])
def test_interrupted_write_keeps_the_previous_output(
    kit: Path, tmp_path: Path, disk: Any, command: str
) -> None:
    """Ctrl-C in the middle of writing: exit 130, the previous output whole, no temporary."""
    if command == "encode":
        out = tmp_path / "ngo-a.blk"
        out.write_bytes(PREVIOUS)
        disk(200, KeyboardInterrupt())
        result = encode(kit / "ngo-a.csv", out, kit)
    else:
        out = tmp_path / "results"
        shutil.copytree(kit / "results", out)
        before = tree(out)
        disk(200, KeyboardInterrupt())
        result = cli("link", kit / "ngo-a.blk", kit / "police-b.blk", "--out", out)
    assert result.exit_code == 130
    assert result.stderr.splitlines() == ["blindlink: interrupted; nothing was written"]
    if command == "encode":
        assert_untouched(out)
    else:
        assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


BLINDLINK = [sys.executable, "-c", "from blindlink.cli import main; main()"]


def _file_size_limit(limit: int) -> None:  # pragma: no cover - runs in the child
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then writes fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limits here")
def test_a_real_write_failure_in_a_child_process(kit: Path, tmp_path: Path) -> None:
    """The kernel refuses writes past a file size limit (RLIMIT_FSIZE, as a full disk would):
    encode and link fail with one line and leave the previous outputs as they were."""
    out_blk = tmp_path / "ngo-a.blk"
    out_blk.write_bytes(PREVIOUS)
    results = tmp_path / "results"
    shutil.copytree(kit / "results", results)
    before = tree(results)
    limit = 512
    assert (kit / "ngo-a.blk").stat().st_size > limit
    assert max(map(len, before.values())) > limit
    commands = [
        ["encode", kit / "ngo-a.csv", "--secret-file", kit / "secret.key", "--agency", "ngo-a",
         "--out", out_blk],
        ["link", kit / "ngo-a.blk", kit / "police-b.blk", "--out", results],
    ]  # fmt: skip
    script = (  # both commands in one process: starting Python is the slow part
        "import sys\nfrom blindlink.cli import main\n"
        f"for args in {[[str(a) for a in c] for c in commands]!r}:\n"
        "    sys.argv = ['blindlink', *args]\n"
        "    try:\n        main()\n    except SystemExit as exc:\n"
        "        print('exit', exc.code, file=sys.stderr, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        preexec_fn=lambda: _file_size_limit(limit),
    )
    lines = done.stderr.splitlines()
    assert len(lines) == 4, done.stderr
    for (line, code), target in zip([lines[0:2], lines[2:4]], [out_blk, results], strict=True):
        assert line.startswith(f"blindlink: error: {target}: "), line
        assert "File too large" in line
        assert code == "exit 8"
    assert_untouched(out_blk)
    assert tree(results) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ngo-a.blk", "results"]
