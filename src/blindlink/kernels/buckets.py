"""Exact Dice scoring of every pair within buckets of rows: what LSH and keyed blocking share.

Both blockers (``linkage.blocking``, ``linkage.keyed_blocking``) end in the same work: rows
fall into buckets (an LSH band's bucket, a blocking key's group), each bucket sorted by
popcount, and every pair within a bucket is scored, keeping those at or above the threshold.
:class:`BucketScorer` does it for both, so they decide and score exactly as the exact kernel
(``kernels.dice``, whose numpy twin ``dice_reference`` defines the results) does:

* **Integer decisions.** ``need[total]`` is the smallest intersection whose float64 Dice
  passes and ``max_partner[p]`` the largest partner popcount that still can
  (:func:`threshold_tables`, built by evaluating the float64 formulas themselves), so the
  scan compares integers and its decision is the exact kernel's, bit for bit. Members are
  sorted by popcount: the first partner past ``max_partner`` ends a row.
* **Chunks.** Buckets are scored in one parallel pass, in chunks of about equal work, each
  writing its passing pairs to its own slice of one buffer as ``row_a * n + row_b``; the few
  chunks that overflow their slice are run again with room to spare.
* **Gathering.** A bucket's rows are read in place (LSH: small buckets, whose rows stay in
  cache after their first use) or first copied side by side (keyed groups: larger, and read
  in order a third faster, measured).
* **Deduplication.** Pairs found in several buckets are merged by sorting and one linear
  merge of sorted keys, so keeping a large set of found pairs costs no re-sorting.
* **Scores.** Kept pairs are scored at the end with the exact kernel's formula.

This module never needs, and must never import, ``blindlink.encoding``.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.dice import need_table
from blindlink.kernels.packing import as_words, popcounts

#: Work chunks per scoring pass: enough for load balance over threads.
CHUNKS = 256
#: Bounds on each chunk's slice of the output buffer (pairs): at most 256 MiB in all.
CAPACITY_MIN = 1024
CAPACITY_MAX = (256 << 20) // (8 * CHUNKS)
#: Found pairs held back before they are merged into the deduplicated set (at least).
MERGE_MIN = 1 << 20

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)

_Ints = npt.NDArray[np.int64]
_Words = npt.NDArray[np.uint64]


@numba.njit(inline="always", nogil=True)
def _popcount64(x: np.uint64) -> np.uint64:
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@numba.njit(nogil=True, cache=True)
def _merge_unique(kept: _Ints, new: _Ints, out: _Ints) -> int:
    """Merge two sorted arrays of distinct values into ``out``, each value once; returns
    the length. Linear, so keeping a large set of found pairs costs no re-sorting."""
    i = j = k = 0
    while i < kept.shape[0] and j < new.shape[0]:
        if kept[i] < new[j]:
            out[k] = kept[i]
            i += 1
        elif new[j] < kept[i]:
            out[k] = new[j]
            j += 1
        else:
            out[k] = kept[i]
            i += 1
            j += 1
        k += 1
    while i < kept.shape[0]:
        out[k] = kept[i]
        i += 1
        k += 1
    while j < new.shape[0]:
        out[k] = new[j]
        j += 1
        k += 1
    return k


def merge_pairs(kept: _Ints, parts: list[_Ints]) -> _Ints:
    """``kept`` (sorted, distinct) with the values of ``parts`` added. The parts are sorted
    by value (not hashed: they are mostly repeats of the same pairs, found in many buckets),
    then merged in one linear pass."""
    new = np.concatenate(parts)
    new.sort()
    keep = np.ones(new.shape[0], dtype=bool)
    np.not_equal(new[1:], new[:-1], out=keep[1:])
    new = new[keep]
    out = np.empty(kept.shape[0] + new.shape[0], dtype=np.int64)
    merged: _Ints = out[: _merge_unique(kept, new, out)]
    return merged


@numba.njit(inline="always", nogil=True)
def _score_bucket(
    words: _Words,
    word_rows: _Ints,
    members: _Ints,
    member_pop: _Ints,
    need: _Ints,
    max_partner: _Ints,
    n_rows: int,
    out: _Ints,
    offset: int,
    limit: int,
) -> tuple[int, int]:
    """Score all pairs of one bucket: (pairs passing, Dice evaluations made).

    Member ``members[x]``'s filter is row ``word_rows[x]`` of ``words``: ``members`` itself
    (the filters, read in place) or ``0, 1, ...`` (the bucket's rows copied side by side; an
    index array, as a flag measured slower). Members are sorted by popcount, so the first
    partner past ``max_partner`` ends the row (the popcount bound). ``need[total]`` is the
    smallest intersection whose float64 Dice passes (see :func:`threshold_tables`), so
    integer compares replace both divisions and decide exactly as the exact kernel does.
    Passing pairs are written to ``out[offset:limit]`` as ``row_a * n_rows + row_b`` and
    counted beyond it.
    """
    n_found = 0
    n_eval = 0
    for x in range(members.shape[0] - 1):
        i = members[x]
        row_i = word_rows[x]
        pop_i = member_pop[x]
        bound = max_partner[pop_i]
        for y in range(x + 1, members.shape[0]):
            if member_pop[y] > bound:
                break
            j = members[y]
            row_j = word_rows[y]
            n_eval += 1
            inter = np.uint64(0)
            for w in range(words.shape[1]):
                inter += _popcount64(words[row_i, w] & words[row_j, w])
            if np.int64(inter) >= need[pop_i + member_pop[y]]:
                if offset + n_found < limit:
                    out[offset + n_found] = min(i, j) * n_rows + max(i, j)
                n_found += 1
    return n_found, n_eval


@numba.njit(parallel=True, nogil=True, cache=True)
def _scan_chunks(
    words: _Words,
    gather: bool,
    members: _Ints,
    member_pop: _Ints,
    starts: _Ints,
    stops: _Ints,
    chunk_first: _Ints,
    chunks: _Ints,
    need: _Ints,
    max_partner: _Ints,
    n_rows: int,
    out_start: _Ints,
    out_limit: _Ints,
    out: _Ints,
    found: _Ints,
    evaluated: _Ints,
) -> None:
    """Score the buckets ``members[starts[b]:stops[b]]`` of the given chunks (``b`` from
    ``chunk_first[c]`` to ``chunk_first[c + 1]``), one chunk per task, each writing its
    passing pairs to its own slice of ``out``. ``found`` may exceed the slice: such a chunk
    is run again into a slice of the right size. With ``gather`` each bucket's rows are
    copied side by side first, so its ``k(k-1)/2`` comparisons read memory in order."""
    width = words.shape[1]
    for t in numba.prange(chunks.shape[0]):
        c = chunks[t]
        biggest = 0
        if gather:
            for b in range(chunk_first[c], chunk_first[c + 1]):
                biggest = max(biggest, stops[b] - starts[b])
        rows = np.empty((biggest, width), dtype=np.uint64)
        local = np.arange(biggest)  # the row of each member in ``rows``
        k = out_start[t]
        n_eval = 0
        for b in range(chunk_first[c], chunk_first[c + 1]):
            bucket = members[starts[b] : stops[b]]
            if gather:
                for x in range(bucket.shape[0]):
                    rows[x, :] = words[bucket[x], :]
                f, e = _score_bucket(
                    rows, local, bucket, member_pop[starts[b] : stops[b]],
                    need, max_partner, n_rows, out, k, out_limit[t],
                )  # fmt: skip
            else:
                f, e = _score_bucket(
                    words, bucket, bucket, member_pop[starts[b] : stops[b]],
                    need, max_partner, n_rows, out, k, out_limit[t],
                )  # fmt: skip
            k += f
            n_eval += e
        found[t] = k - out_start[t]
        evaluated[t] = n_eval


def threshold_tables(threshold: float, filter_bits: int) -> tuple[_Ints, _Ints]:
    """Integer forms of the float64 tests ``2.0 * inter / total >= threshold`` and
    ``2.0 * pop_i / (pop_i + pop_j) >= threshold``, built by evaluating those very formulas,
    so no rational approximation of the threshold can disagree with the exact search.

    ``need[total]``: smallest ``inter`` that passes (``total + 1`` if none does; the score
    never decreases in ``inter``): the exact kernel's own table, ``kernels.dice.need_table``.
    ``max_partner[p]``: largest partner popcount ``q >= p`` that can still pass (``p - 1`` if
    none; the bound never increases in ``q``).
    """
    need = need_table(threshold, 2 * filter_bits)
    pops = np.arange(filter_bits + 1, dtype=np.int64)
    max_partner = np.empty(pops.shape[0], dtype=np.int64)
    for p in range(pops.shape[0]):
        partners = pops[p:]
        with np.errstate(invalid="ignore"):
            ok = 2.0 * p / (p + partners) >= threshold
        max_partner[p] = p - 1 + int(np.count_nonzero(ok))
    return need, max_partner


@numba.njit(parallel=True, nogil=True, cache=True)
def _pair_scores(
    words: _Words, pop: _Ints, rows_a: _Ints, rows_b: _Ints, out: npt.NDArray[np.float64]
) -> None:
    """Dice of each pair with the exact kernel's formula, so scores match it bit for bit."""
    for k in numba.prange(rows_a.shape[0]):
        i = rows_a[k]
        j = rows_b[k]
        inter = np.uint64(0)
        for w in range(words.shape[1]):
            inter += _popcount64(words[i, w] & words[j, w])
        out[k] = 2.0 * np.int64(inter) / (pop[i] + pop[j])


class BucketScorer:
    """Scores buckets of rows of ``filters`` at ``threshold`` and keeps the passing pairs,
    deduplicated, as sorted keys ``row_a * n_rows + row_b`` (``row_a < row_b``).

    ``evaluations`` counts the Dice evaluations made (pairs not ruled out by popcount).
    """

    def __init__(self, filters: npt.NDArray[np.uint8], threshold: float) -> None:
        self.filters = np.ascontiguousarray(filters)
        self.words = as_words(self.filters)
        self.pop = popcounts(self.filters)
        self.n_rows = int(filters.shape[0])
        self.need, self.max_partner = threshold_tables(threshold, int(filters.shape[1]) * 8)
        self.capacity = CAPACITY_MIN
        self.evaluations = 0
        self.kept = np.zeros(0, dtype=np.int64)
        self.pending: list[_Ints] = []
        self.pending_size = 0

    def add(self, *found: _Ints) -> None:
        """Pair keys found; merged into ``kept`` once enough are pending."""
        for part in found:
            if part.shape[0]:
                self.pending.append(part)
                self.pending_size += int(part.shape[0])
        if self.pending_size >= max(MERGE_MIN, self.kept.shape[0]):
            self.flush()

    def flush(self) -> None:
        """Merge every pending pair into ``kept``."""
        if self.pending:
            self.kept = merge_pairs(self.kept, self.pending)
            self.pending, self.pending_size = [], 0

    def score(
        self, members: _Ints, member_pop: _Ints, starts: _Ints, stops: _Ints, *, gather: bool
    ) -> None:
        """Score every pair within each bucket ``members[starts[b]:stops[b]]`` (sorted by
        popcount, ``member_pop`` alongside) in one parallel pass, in chunks of about equal
        work, each chunk writing passing pairs to its own slice of one buffer; the few chunks
        that overflow their slice are run again with room to spare. ``gather``: copy each
        bucket's rows side by side before scoring it (module docstring)."""
        if not starts.shape[0]:
            return
        sizes = stops - starts
        work = np.cumsum(sizes * (sizes - 1) // 2 + 1)
        n_chunks = min(int(starts.shape[0]), CHUNKS)
        bounds = np.searchsorted(work, np.linspace(0, work[-1], n_chunks + 1)[1:-1])
        chunk_first = np.concatenate(([0], bounds, [starts.shape[0]])).astype(np.int64)
        chunks = np.arange(n_chunks, dtype=np.int64)
        out_start = chunks * self.capacity
        out = np.empty(n_chunks * self.capacity, dtype=np.int64)
        found = np.zeros(n_chunks, dtype=np.int64)
        evaluated = np.zeros(n_chunks, dtype=np.int64)
        buckets = (self.words, gather, members, member_pop, starts, stops, chunk_first)
        tables, n_rows = (self.need, self.max_partner), self.n_rows
        _scan_chunks(
            *buckets, chunks, *tables, n_rows, out_start, out_start + self.capacity, out, found,
            evaluated,
        )  # fmt: skip
        self.evaluations += int(evaluated.sum())
        fits = found <= self.capacity
        parts = [out[s : s + f] for s, f in zip(out_start[fits], found[fits], strict=True)]
        if not fits.all():
            again = chunks[~fits]
            sizes_again = found[~fits]
            redo_start = np.zeros(again.shape[0], dtype=np.int64)
            np.cumsum(sizes_again[:-1], out=redo_start[1:])
            redo = np.empty(int(sizes_again.sum()), dtype=np.int64)
            _scan_chunks(
                *buckets, again, *tables, n_rows, redo_start, redo_start + sizes_again, redo,
                np.zeros(again.shape[0], dtype=np.int64), np.zeros(again.shape[0], dtype=np.int64),
            )  # fmt: skip
            parts.append(redo)
        # Next pass: room for half as much again as this pass's fullest chunk (passes of a
        # search are alike), within bounds. An overflowing chunk costs a rescan of that
        # chunk, an oversized buffer only memory.
        self.capacity = int(np.clip(1.5 * found.max(), CAPACITY_MIN, CAPACITY_MAX))
        self.add(*parts)

    def pairs(self) -> tuple[npt.NDArray[np.float64], _Ints, _Ints]:
        """All pairs kept, as ``(scores, rows_a, rows_b)`` sorted by ``(row_a, row_b)``,
        scored with the exact kernel's formula."""
        self.flush()
        kept = self.kept
        n_rows = max(self.n_rows, 1)
        rows_a, rows_b = kept // n_rows, kept % n_rows
        scores = np.empty(kept.shape[0], dtype=np.float64)
        if kept.shape[0]:
            _pair_scores(self.words, self.pop, rows_a, rows_b, scores)
        return scores, rows_a, rows_b
