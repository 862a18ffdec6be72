"""Vectorised filter assembly: every function against a plain per-record reference."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from blindlink.encoding.assemble import (
    ValueColumn,
    assemble_filters,
    or_rows,
    or_segments,
    pack_positions,
    xor_fold,
)


def random_csr(
    rng: np.random.Generator, groups: int, bits: int, most: int = 12
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR positions with empty groups and repeated positions among the groups."""
    lengths = rng.integers(0, most, size=groups)
    lengths[:: max(1, groups // 4)] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return offsets, rng.integers(0, bits, size=int(offsets[-1])).astype(np.int64)


def unpacked(
    offsets: npt.NDArray[np.int64], positions: npt.NDArray[np.int64], bits: int
) -> list[list[bool]]:
    rows = [[False] * bits for _ in range(len(offsets) - 1)]
    for group in range(len(offsets) - 1):
        for position in positions[offsets[group] : offsets[group + 1]]:
            rows[group][int(position)] = True
    return rows


def packed(rows: list[list[bool]], bits: int) -> npt.NDArray[np.uint8]:
    """MSB-first packing written out: bit i is bit 7 - i % 8 of byte i // 8."""
    out = np.zeros((len(rows), bits // 8), dtype=np.uint8)
    for r, row in enumerate(rows):
        for i, bit in enumerate(row):
            if bit:
                out[r, i // 8] |= 1 << (7 - i % 8)
    return out


@pytest.mark.parametrize(
    ("groups", "bits", "seed"), [(0, 64, 1), (1, 8, 2), (40, 1024, 3), (9, 1016, 4)]
)
def test_pack_positions_sets_each_groups_bits(groups: int, bits: int, seed: int) -> None:
    offsets, positions = random_csr(np.random.default_rng(seed), groups, bits)
    got = pack_positions(offsets, positions, bits)
    assert got.shape == (groups, bits // 8) and got.dtype == np.uint8
    assert np.array_equal(got, packed(unpacked(offsets, positions, bits), bits))


def test_pack_positions_works_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import blindlink.encoding.assemble as assemble

    offsets, positions = random_csr(np.random.default_rng(5), 30, 256)
    whole = pack_positions(offsets, positions, 256)
    monkeypatch.setattr(assemble, "_DENSE_BITS", 256 * 7)
    assert np.array_equal(pack_positions(offsets, positions, 256), whole)


@pytest.mark.parametrize(
    ("offsets", "positions", "bits", "message"),
    [
        ([0, 1], [3], 12, "multiple of 8"),
        ([0, 1], [3], 0, "multiple of 8"),
        ([1, 1], [3], 8, "start at 0"),
        ([0, 2], [3], 8, "end at the number"),
        ([0, 1, 0, 1], [3], 8, "must not decrease"),
        ([0, 1], [8], 8, r"\[0, 8\)"),
        ([0, 1], [-1], 8, r"\[0, 8\)"),
    ],
)
def test_pack_positions_refuses_bad_input(
    offsets: list[int], positions: list[int], bits: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pack_positions(offsets, positions, bits)


@pytest.mark.parametrize("width", [16, 13])  # 64-bit words, and bytes when rows are not
def test_or_rows_ors_each_records_rows(width: int) -> None:
    rng = np.random.default_rng(width)
    tables = [rng.integers(0, 256, size=(rows, width), dtype=np.uint8) for rows in (5, 1, 9)]
    indices = [rng.integers(0, len(table), size=50) for table in tables]
    expected = np.zeros((50, width), dtype=np.uint8)
    for table, index in zip(tables, indices, strict=True):
        for record, row in enumerate(index):
            expected[record] |= table[row]
    assert np.array_equal(or_rows(tables, indices), expected)
    assert np.array_equal(or_rows(tables[:1], indices[:1]), tables[0][indices[0]])


def test_or_rows_refuses_mismatches() -> None:
    table = np.zeros((2, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="one index array per table"):
        or_rows([table, table], [[0]])
    with pytest.raises(ValueError, match="one index array per table"):
        or_rows([], [])
    with pytest.raises(ValueError, match="same width"):
        or_rows([table, np.zeros((2, 4), dtype=np.uint8)], [[0], [1]])
    with pytest.raises(ValueError, match="same length"):
        or_rows([table, table], [[0], [1, 0]])


@pytest.mark.parametrize("width", [8, 3])
def test_or_segments_ors_each_group(width: int) -> None:
    rng = np.random.default_rng(width)
    table = rng.integers(0, 256, size=(20, width), dtype=np.uint8)
    offsets, index = random_csr(rng, 25, len(table), most=7)
    expected = np.zeros((25, width), dtype=np.uint8)
    for group in range(25):
        for row in index[offsets[group] : offsets[group + 1]]:
            expected[group] |= table[row]
    assert np.array_equal(or_segments(table, index, offsets), expected)


def test_or_segments_edge_cases() -> None:
    table = np.arange(16, dtype=np.uint8).reshape(2, 8)
    assert or_segments(table, [], [0]).shape == (0, 8)
    assert np.array_equal(or_segments(table, [], [0, 0, 0]), np.zeros((2, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="end at the length of index"):
        or_segments(table, [0], [0, 2])
    with pytest.raises(ValueError, match="must not decrease"):
        or_segments(table, [0, 1], [0, 2, 1, 2])


def unfold_reference(filters: npt.NDArray[np.uint8], folds: int) -> npt.NDArray[np.uint8]:
    bits = np.unpackbits(filters, axis=1)
    for _ in range(folds):
        half = bits.shape[1] // 2
        bits = bits[:, :half] ^ bits[:, half:]
    return np.packbits(bits, axis=1)


@pytest.mark.parametrize("folds", [0, 1, 2, 3])
def test_xor_fold_matches_folding_the_bits(folds: int) -> None:
    filters = np.random.default_rng(folds).integers(0, 256, size=(7, 64), dtype=np.uint8)
    got = xor_fold(filters, folds)
    assert got.shape == (7, 64 >> folds) and got.flags.c_contiguous
    assert np.array_equal(got, unfold_reference(filters, folds))


def test_xor_fold_refuses_what_cannot_fold() -> None:
    with pytest.raises(ValueError, match="negative"):
        xor_fold(np.zeros((1, 8), dtype=np.uint8), -1)
    with pytest.raises(ValueError, match="cannot be folded 2 times"):
        xor_fold(np.zeros((1, 6), dtype=np.uint8), 2)


@pytest.mark.parametrize(("bits", "folds"), [(1024, 0), (512, 1), (256, 2)])
def test_assemble_filters_matches_a_record_by_record_encoder(bits: int, folds: int) -> None:
    rng = np.random.default_rng(bits)
    columns = []
    for values in (6, 1, 30):
        offsets, positions = random_csr(rng, values, bits, most=40)
        columns.append(ValueColumn(rng.integers(0, values, size=100), offsets, positions))
    expected_bits = np.zeros((100, bits), dtype=np.uint8)
    for column in columns:
        for record, value in enumerate(column.value_of_record):
            start, end = column.offsets[value], column.offsets[value + 1]
            expected_bits[record, column.positions[start:end]] = 1
    expected = unfold_reference(np.packbits(expected_bits, axis=1), folds)
    got = assemble_filters(columns, bits, folds=folds)
    assert got.shape == (100, (bits >> folds) // 8)
    assert np.array_equal(got, expected)


def test_assemble_filters_needs_a_column() -> None:
    with pytest.raises(ValueError, match="at least one column"):
        assemble_filters([], 64)
