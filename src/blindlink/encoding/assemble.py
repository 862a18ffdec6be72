"""Packed Bloom filters for a block of records from what each distinct value contributes.

Encoders cache the bit positions of every distinct value (names and dates repeat a great
deal), so hashing is not what a record costs once values repeat: combining its values is.
Done record by record in Python (a list of positions per record, ``extend``, then a scatter
of every single position) that costs more than the hashing it saved. This module does the
combining with numpy, for whole blocks of records at once:

1. :func:`pack_positions` turns per-value bit positions, given in CSR form (``offsets`` and
   the flat ``positions``), into one packed row per value. Done once per distinct value, it
   replaces a scatter per position per record by nothing at all.
2. :func:`or_rows` ORs, for every record, the rows of its values (one gather per column).
   :func:`or_segments` ORs groups of rows (a value's tokens, say) the same way.
3. :func:`xor_fold` folds packed filters (clkhash's ``xor_folds``) without unpacking them.

:func:`assemble_filters` chains the three for callers that hold, per column, the value index
of every record and the positions of every value.

Rows are packed MSB-first (bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``), the byte
layout of anonlink's CLKs and of the ``.blk`` format. OR and XOR of whole bytes (or of 64-bit
words, when a row is a whole number of them) are then the same as of the bits, so nothing
here ever unpacks a filter.

Memory is the caller's to bound: a call holds its output, one gathered column and, in
:func:`pack_positions`, a dense block of at most ``_DENSE_BITS`` booleans. Encoders therefore
call these functions on blocks of records and keep their per-value tables bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ValueColumn",
    "assemble_filters",
    "or_rows",
    "or_segments",
    "pack_positions",
    "xor_fold",
]

#: Unpacked bits (booleans, one byte each) held at once by :func:`pack_positions`.
_DENSE_BITS = 1 << 24

Packed = npt.NDArray[np.uint8]
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True)
class ValueColumn:
    """One column (feature) of a block of records, as value indices into per-value positions.

    ``value_of_record[r]`` is the value that record ``r`` holds in this column; value ``v``
    sets the bits ``positions[offsets[v]:offsets[v + 1]]`` (a value without positions, such
    as a missing one, sets none).
    """

    value_of_record: npt.NDArray[np.integer]
    offsets: npt.NDArray[np.integer]
    positions: npt.NDArray[np.integer]


def _csr_bounds(
    offsets: npt.ArrayLike, size: int, what: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR ``offsets`` as int64, checked to run from 0 to ``size`` without decreasing, and
    the group lengths they give."""
    bounds = np.asarray(offsets, dtype=np.int64)
    if bounds.ndim != 1 or bounds.size == 0 or bounds[0] != 0 or bounds[-1] != size:
        raise ValueError(f"offsets must start at 0 and end at {what}")
    lengths = np.diff(bounds)
    if (lengths < 0).any():
        raise ValueError("offsets must not decrease")
    return bounds, lengths


def pack_positions(offsets: npt.ArrayLike, positions: npt.ArrayLike, bits: int) -> Packed:
    """One packed row of ``bits`` bits per CSR group: row ``i`` has bits
    ``positions[offsets[i]:offsets[i + 1]]`` set (repeated positions are fine).

    ``bits`` must be a positive multiple of 8 and every position lie in ``[0, bits)``.
    """
    if bits <= 0 or bits % 8:
        raise ValueError(f"bits must be a positive multiple of 8, not {bits}")
    flat = np.asarray(positions, dtype=np.int64)
    bounds, lengths = _csr_bounds(offsets, flat.size, "the number of positions")
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= bits):
        raise ValueError(f"positions must lie in [0, {bits})")
    count = lengths.size
    out = np.zeros((count, bits // 8), dtype=np.uint8)
    block = max(1, _DENSE_BITS // bits)
    for first in range(0, count, block):
        last = min(count, first + block)
        lo, hi = int(bounds[first]), int(bounds[last])
        if lo == hi:
            continue
        owners = np.repeat(np.arange(last - first), lengths[first:last])
        dense = np.zeros((last - first, bits), dtype=np.bool_)
        dense[owners, flat[lo:hi]] = True
        out[first:last] = np.packbits(dense, axis=1)
    return out


def _words(rows: Packed) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint64]:
    """``rows`` as 64-bit words when each row is a whole number of them (8x fewer ORs)."""
    if rows.shape[1] % 8 == 0 and rows.flags.c_contiguous:
        return rows.view(np.uint64)
    return rows


def or_rows(tables: Sequence[Packed], indices: Sequence[npt.ArrayLike]) -> Packed:
    """Row ``r`` of the result is the OR over columns ``c`` of ``tables[c][indices[c][r]]``.

    All tables have the same row width; all index arrays the same length (the records).
    """
    if len(tables) != len(indices) or not tables:
        raise ValueError("give one index array per table, and at least one table")
    width = tables[0].shape[1]
    if any(table.ndim != 2 or table.shape[1] != width for table in tables):
        raise ValueError("all tables must be 2-D with rows of the same width")
    picks = [np.asarray(index, dtype=np.intp) for index in indices]
    if any(pick.shape != picks[0].shape for pick in picks):
        raise ValueError("all index arrays must have the same length")
    words = [_words(np.ascontiguousarray(table, dtype=np.uint8)) for table in tables]
    out = words[0][picks[0]]
    for table, pick in zip(words[1:], picks[1:], strict=True):
        out |= table[pick]
    return out.view(np.uint8).reshape(len(picks[0]), width)


def or_segments(table: Packed, index: npt.ArrayLike, offsets: npt.ArrayLike) -> Packed:
    """Row ``i`` of the result is the OR of ``table[index[offsets[i]:offsets[i + 1]]]``
    (zeros for an empty group): e.g. a value's row from the rows of its tokens.

    Groups are visited longest first, so the work is one gather per element whatever the mix
    of group lengths (no padding to the longest group).
    """
    picks = np.asarray(index, dtype=np.intp)
    bounds, lengths = _csr_bounds(offsets, picks.size, "the length of index")
    rows = np.ascontiguousarray(table, dtype=np.uint8)
    words = _words(rows)
    out = np.zeros((lengths.size, words.shape[1]), dtype=words.dtype)
    if picks.size:
        order = np.argsort(-lengths, kind="stable")
        starts = bounds[:-1][order]
        longest_first = -lengths[order]  # ascending, for searchsorted
        merged = np.zeros_like(out)
        for step in range(int(-longest_first[0])):
            # the groups with more than `step` elements are a prefix of `order`
            alive = int(np.searchsorted(longest_first, -step, side="left"))
            merged[:alive] |= words[picks[starts[:alive] + step]]
        out[order] = merged
    return out.view(np.uint8).reshape(lengths.size, rows.shape[1])


def xor_fold(filters: Packed, folds: int) -> Packed:
    """XOR the first half of every filter onto the second, ``folds`` times (as clkhash does).

    The row width in bytes must be divisible by ``2**folds``.
    """
    if folds < 0:
        raise ValueError(f"folds must not be negative, not {folds}")
    width = filters.shape[1]
    if width % (1 << folds):
        raise ValueError(f"{width}-byte filters cannot be folded {folds} times into whole bytes")
    for _ in range(folds):
        half = filters.shape[1] // 2
        filters = filters[:, :half] ^ filters[:, half:]
    return np.ascontiguousarray(filters, dtype=np.uint8)


def assemble_filters(columns: Sequence[ValueColumn], bits: int, *, folds: int = 0) -> Packed:
    """Packed filters of ``bits >> folds`` bits, one per record: the OR over columns of each
    record's value positions in a ``bits``-bit filter, then XOR-folded ``folds`` times.

    Every column's values are packed once (:func:`pack_positions`) and gathered per record
    (:func:`or_rows`), so the cost is one scatter per distinct value's position plus one
    row OR per record and column.
    """
    if not columns:
        raise ValueError("give at least one column")
    tables = [pack_positions(c.offsets, c.positions, bits) for c in columns]
    return xor_fold(or_rows(tables, [c.value_of_record for c in columns]), folds)
