"""Dice-coefficient candidate search over packed filters, compiled with numba.

The numpy twin in ``dice_reference.py`` defines the results; this module computes the same
arrays, bit for bit, as fast as the machine allows. How (measured numbers in docs/kernel.md):

* **Popcount order.** Both sides are sorted by popcount (the permutations map rows back at the
  end). A pair can only reach the threshold when its popcounts are close, so for each row of
  the first set the possible partners form one contiguous range of the sorted second set,
  found by binary search; everything outside it is never touched.
* **Transposed tiles.** The second set is stored as 64-byte aligned tiles of 32 filters,
  transposed so that one vector load fetches the same word of 8 filters. The inner loop
  (``simd.tile_intersections``) ANDs a broadcast word of the first filter with 32 filters at
  once and counts bits with ``llvm.ctpop`` on 8-lane vectors: ``vpopcntq`` on AVX-512
  VPOPCNTDQ, whatever is best elsewhere. Tiles are visited in L1-sized blocks so that a block
  is reused by all rows of a work chunk.
* **Exact integer prefilter.** For a fixed popcount sum ``T`` the float64 score
  ``2.0 * inter / T`` never decreases as ``inter`` grows, so ``inter >= need[T]``, with
  ``need[T]`` the smallest intersection whose float64 score passes, is *exactly* the
  reference's test. The table is built by evaluating that formula, so there is no rational
  approximation of the threshold to get wrong. The vector loop compares a whole tile against
  the need of its smallest popcount sum and returns a bit mask; only the (rare) hit lanes
  are re-checked with their own ``need`` and written out.
* **Early exit.** After a quarter and after half of the words, the partial count plus the
  popcount still to come (``min`` of both filters' remaining popcounts) bounds every lane's
  final intersection; when no lane of the tile can reach the need the rest is skipped. On
  CLK-like data at thresholds >= 0.8 nearly every tile stops at the first or second check.
  Whether a checkpoint pays depends on the data, so each worker measures its rejection rate
  and switches it off when it costs more than it saves (``_choose_checks``).
* **One pass.** Threads take chunks of rows from an atomic counter and append
  ``(row, partner, intersection)`` as int32 to their own buffer. A chunk that does not fit is
  rolled back and redone after the buffers grow, so nothing is computed twice in the common
  case and memory is bounded by the result, never by ``n * m``. The float64 scores are
  computed from the intersections at the end with the reference's formula.
* **Top k.** With ``k`` each row keeps a heap of its best partners, and once the heap is full
  its worst score raises the prefilter, so later tiles are rejected in the vector loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.dice_reference import PairArrays, check_k, dice_scores
from blindlink.kernels.packing import as_words, popcounts
from blindlink.kernels.simd import (
    CHECKPOINTS,
    STAGE_SLOT,
    TILE_ROWS,
    aligned_zeros,
    atomic_fetch_add,
    checkpoint_words,
    lowest_set_bit,
    tile_intersections,
)

#: sha256 of ``simd.py``, whose intrinsics are compiled into this module's cached functions.
#: numba's on-disk cache only notices changes to *this* file, so any edit of simd.py must
#: update this line (tests/test_kernels_simd.py checks), or stale kernels would be loaded.
SIMD_FINGERPRINT = "9c5a17543b4ba3432e078f01dbd3a983b0cc9242280fa608e8285eb3881e2010"

#: Rows of the first set per work chunk: a chunk reuses each L1 block of tiles for all its
#: rows, and chunks are the unit of load balancing and of overflow roll-back.
CHUNK_ROWS = 64
#: Bytes of tiles visited per block, sized to stay in a 48 KiB L1 data cache with the rows.
BLOCK_BYTES = 32 * 1024
#: Initial per-thread output capacity (candidates); doubled whenever a chunk does not fit.
INITIAL_CAPACITY = 1 << 16
#: Margin that keeps the top-k bound conservative against float rounding (see _chunk_top_k).
_TOP_K_SLACK = 1.0 - 1e-9
#: Checkpoint cost model, in units of one word step of a tile (4 vector AND-popcount-adds,
#: about 3 cycles): the check itself costs ~2, a mispredicted branch ~5. A checkpoint that
#: rejects a share ``p`` of the tiles reaching it and skips ``s`` words stays on while
#: ``p * s > CHECK_COST + MISPREDICT_COST * min(p, 1 - p)``.
CHECK_COST = 2.0
MISPREDICT_COST = 5.0
#: Every this many chunks a worker runs all checkpoints again to re-measure them.
PROBE_EVERY = 16
_INT32_LIMIT = 2**31 - 1
#: Below this many pairs a single thread is quicker than starting more.
SERIAL_PAIRS = 1 << 20


def need_table(threshold: float, max_total: int) -> npt.NDArray[np.int64]:
    """``need[T]``: smallest intersection whose Dice score with popcount sum ``T`` passes.

    Built by evaluating the reference formula (``dice_scores``) on a small window around
    ``threshold * T / 2``: the exact answer lies within one of it, since float64 division is
    correctly rounded. ``T + 1`` (unreachable) where nothing passes, which only happens for
    ``T = 0`` with a positive threshold: two empty filters score 0.0.
    """
    total = np.arange(max_total + 1, dtype=np.int64)
    guess = np.maximum(np.floor(threshold * total / 2.0).astype(np.int64) - 2, 0)
    candidates = guess[:, None] + np.arange(5, dtype=np.int64)[None, :]
    passes = (dice_scores(candidates, total[:, None]) >= threshold) & (candidates <= total[:, None])
    first = np.argmax(passes, axis=1)
    need: npt.NDArray[np.int64] = np.where(passes.any(axis=1), candidates[total, first], total + 1)
    return need


@numba.njit(nogil=True, cache=True)
def _popcount_band(
    pop_sorted: npt.NDArray[np.int64], need: npt.NDArray[np.int64], max_pop: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each popcount ``pa``, the interval of partner popcounts that can pass at all.

    Pair ``(pa, pb)`` can pass iff ``need[pa + pb] <= min(pa, pb)`` (the intersection is at
    most the smaller popcount). Because ``need`` never decreases and grows by at most one per
    step of ``T``, this holds on one interval ``[lo, hi]`` around ``pa``: binary search finds
    both ends. Empty intervals come back as ``lo = 1, hi = 0``.
    """
    n = pop_sorted.shape[0]
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    previous = -1
    for i in range(n):
        pa = pop_sorted[i]
        if pa == previous:
            lo[i] = lo[i - 1]
            hi[i] = hi[i - 1]
            continue
        previous = pa
        if need[2 * pa] > pa:
            lo[i] = 1
            hi[i] = 0
            continue
        a, b = 0, pa  # lowest pb <= pa with need[pa + pb] <= pb
        while a < b:
            mid = (a + b) // 2
            if need[pa + mid] <= mid:
                b = mid
            else:
                a = mid + 1
        lo[i] = a
        a, b = pa, max_pop  # highest pb >= pa with need[pa + pb] <= pa
        while a < b:
            mid = (a + b + 1) // 2
            if need[pa + mid] <= pa:
                a = mid
            else:
                b = mid - 1
        hi[i] = a
    return lo, hi


@numba.njit(nogil=True, cache=True)
def _tile_range(lo: int, hi: int) -> tuple[int, int]:
    return lo // TILE_ROWS, (hi + TILE_ROWS - 1) // TILE_ROWS


@numba.njit(inline="always", nogil=True)
def _count_stage(checks: int, stage: int, stats: npt.NDArray[np.float64]) -> None:
    """Tally, per checkpoint, the tiles that reached it and those it rejected.

    ``stage`` is where the tile loop stopped (``CHECKPOINTS`` when it counted every word).
    """
    for s in range(CHECKPOINTS):
        if (checks >> s) & 1 and stage >= s:
            stats[2 * s] += 1.0
            if stage == s:
                stats[2 * s + 1] += 1.0


@numba.njit(nogil=True, cache=True)
def _choose_checks(
    allowed: int, stats: npt.NDArray[np.float64], skipped: npt.NDArray[np.float64], chunks_done: int
) -> int:
    """Checkpoints worth running for the next chunk, from this worker's recent tallies.

    Whether a checkpoint pays depends on the threshold and on how similar non-matching
    filters are, so it is measured rather than guessed (cost model at ``CHECK_COST``).
    ``skipped[s]`` is the number of words a rejection at checkpoint ``s`` saves. Tallies
    decay by half per chunk, and every ``PROBE_EVERY`` chunks all allowed checkpoints run so
    that a switched-off one is measured again.
    """
    checks = 0
    for stage in range(CHECKPOINTS):
        reached = stats[2 * stage]
        rate = stats[2 * stage + 1] / reached if reached > 0.0 else 1.0
        cost = CHECK_COST + MISPREDICT_COST * min(rate, 1.0 - rate)
        if chunks_done % PROBE_EVERY == 0 or rate * skipped[stage] > cost:
            checks |= 1 << stage
    stats *= 0.5
    return checks & allowed


@numba.njit(nogil=True, cache=True)
def _chunk_pairs(
    rows_a: npt.NDArray[np.uint64],
    pop_a: npt.NDArray[np.int64],
    tiles: npt.NDArray[np.uint64],
    pop_b: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    jlo: npt.NDArray[np.int64],
    jhi: npt.NDArray[np.int64],
    rest_a: npt.NDArray[np.int64],
    rest_b: npt.NDArray[np.int64],
    checks: int,
    stats: npt.NDArray[np.float64],
    r0: int,
    r1: int,
    block_tiles: int,
    inter: npt.NDArray[np.int64],
    out_i: npt.NDArray[np.int32],
    out_j: npt.NDArray[np.int32],
    out_x: npt.NDArray[np.int32],
    count: int,
) -> int:
    """Append every passing pair of rows ``r0:r1``; the new count, or -1 when out of room."""
    cap = out_i.shape[0]
    t_first = tiles.shape[0]
    t_stop = 0
    for i in range(r0, r1):
        if jlo[i] < jhi[i]:
            t0, t1 = _tile_range(jlo[i], jhi[i])
            t_first = min(t_first, t0)
            t_stop = max(t_stop, t1)
    for b0 in range(t_first, t_stop, block_tiles):
        b1 = min(b0 + block_tiles, t_stop)
        for i in range(r0, r1):
            lo = jlo[i]
            hi = jhi[i]
            if lo >= hi:
                continue
            t0, t1 = _tile_range(lo, hi)
            pa = pop_a[i]
            for t in range(max(b0, t0), min(b1, t1)):
                first = max(t * TILE_ROWS, lo)
                mask = tile_intersections(
                    rows_a, i, tiles, t, need[pa + pop_b[first]], inter, rest_a, rest_b, checks
                )
                _count_stage(checks, inter[STAGE_SLOT], stats)
                while mask != 0:
                    lane = lowest_set_bit(mask)
                    mask &= mask - np.uint64(1)
                    j = t * TILE_ROWS + lane
                    if j < lo or j >= hi or inter[lane] < need[pa + pop_b[j]]:
                        continue
                    if count >= cap:
                        return -1
                    out_i[count] = i
                    out_j[count] = j
                    out_x[count] = inter[lane]
                    count += 1
    return count


@numba.njit(inline="always", nogil=True)
def _worse(score_a: float, partner_a: int, score_b: float, partner_b: int) -> bool:
    """Whether candidate a ranks below b: lower score, or equal score and higher row_b."""
    return score_a < score_b or (score_a == score_b and partner_a > partner_b)


@numba.njit(nogil=True, cache=True)
def _offer(
    heap_s: npt.NDArray[np.float64],
    heap_j: npt.NDArray[np.int64],
    heap_x: npt.NDArray[np.int64],
    size: int,
    score: float,
    j: int,
    x: int,
    order_b: npt.NDArray[np.int64],
) -> int:
    """Offer a candidate to a heap of the best ``len(heap_s)`` (worst at the root); new size."""
    k = heap_s.shape[0]
    partner = order_b[j]
    if size < k:
        node = size
        size += 1
        while node > 0:
            parent = (node - 1) // 2
            if not _worse(score, partner, heap_s[parent], order_b[heap_j[parent]]):
                break
            heap_s[node] = heap_s[parent]
            heap_j[node] = heap_j[parent]
            heap_x[node] = heap_x[parent]
            node = parent
    else:
        if not _worse(heap_s[0], order_b[heap_j[0]], score, partner):
            return size
        node = 0
        while True:
            child = 2 * node + 1
            if child >= size:
                break
            if child + 1 < size and _worse(
                heap_s[child + 1], order_b[heap_j[child + 1]], heap_s[child], order_b[heap_j[child]]
            ):
                child += 1
            if not _worse(heap_s[child], order_b[heap_j[child]], score, partner):
                break
            heap_s[node] = heap_s[child]
            heap_j[node] = heap_j[child]
            heap_x[node] = heap_x[child]
            node = child
    heap_s[node] = score
    heap_j[node] = j
    heap_x[node] = x
    return size


@numba.njit(nogil=True, cache=True)
def _chunk_top_k(
    rows_a: npt.NDArray[np.uint64],
    pop_a: npt.NDArray[np.int64],
    tiles: npt.NDArray[np.uint64],
    pop_b: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    jlo: npt.NDArray[np.int64],
    jhi: npt.NDArray[np.int64],
    rest_a: npt.NDArray[np.int64],
    rest_b: npt.NDArray[np.int64],
    checks: int,
    stats: npt.NDArray[np.float64],
    r0: int,
    r1: int,
    block_tiles: int,
    self_join: bool,
    order_b: npt.NDArray[np.int64],
    inter: npt.NDArray[np.int64],
    heap_s: npt.NDArray[np.float64],
    heap_j: npt.NDArray[np.int64],
    heap_x: npt.NDArray[np.int64],
    heap_n: npt.NDArray[np.int64],
    out_i: npt.NDArray[np.int32],
    out_j: npt.NDArray[np.int32],
    out_x: npt.NDArray[np.int32],
    count: int,
) -> int:
    """Like ``_chunk_pairs`` but keep each row's ``k`` best partners (``k = heap_s.shape[1]``).

    Once a row's heap is full, a partner must score at least the heap's worst score ``s``;
    with popcount sum ``T >= T_min`` that needs ``inter >= s * T_min / 2`` up to rounding, so
    ``floor(s * T_min / 2 * (1 - 1e-9))`` is a safe extra bound for the vector prefilter.
    """
    k = heap_s.shape[1]
    heap_n[: r1 - r0] = 0
    t_first = tiles.shape[0]
    t_stop = 0
    for i in range(r0, r1):
        if jlo[i] < jhi[i]:
            t0, t1 = _tile_range(jlo[i], jhi[i])
            t_first = min(t_first, t0)
            t_stop = max(t_stop, t1)
    for b0 in range(t_first, t_stop, block_tiles):
        b1 = min(b0 + block_tiles, t_stop)
        for i in range(r0, r1):
            lo = jlo[i]
            hi = jhi[i]
            if lo >= hi:
                continue
            r = i - r0
            t0, t1 = _tile_range(lo, hi)
            pa = pop_a[i]
            for t in range(max(b0, t0), min(b1, t1)):
                first = max(t * TILE_ROWS, lo)
                bound = need[pa + pop_b[first]]
                if heap_n[r] == k:
                    raised = np.int64(heap_s[r, 0] * (pa + pop_b[first]) * 0.5 * _TOP_K_SLACK)
                    bound = max(bound, raised)
                mask = tile_intersections(rows_a, i, tiles, t, bound, inter, rest_a, rest_b, checks)
                _count_stage(checks, inter[STAGE_SLOT], stats)
                while mask != 0:
                    lane = lowest_set_bit(mask)
                    mask &= mask - np.uint64(1)
                    j = t * TILE_ROWS + lane
                    if j < lo or j >= hi or (self_join and j == i):
                        continue
                    x = inter[lane]
                    total = pa + pop_b[j]
                    if x < need[total]:
                        continue
                    score = 2.0 * x / total if total > 0 else 0.0
                    heap_n[r] = _offer(
                        heap_s[r], heap_j[r], heap_x[r], heap_n[r], score, j, x, order_b
                    )
    for i in range(r0, r1):
        r = i - r0
        if count + heap_n[r] > out_i.shape[0]:
            return -1
        for e in range(heap_n[r]):
            out_i[count] = i
            out_j[count] = heap_j[r, e]
            out_x[count] = heap_x[r, e]
            count += 1
    return count


@numba.njit(nogil=True, cache=True)
def _worker(
    w: int,
    rows_a: npt.NDArray[np.uint64],
    pop_a: npt.NDArray[np.int64],
    tiles: npt.NDArray[np.uint64],
    pop_b: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    jlo: npt.NDArray[np.int64],
    jhi: npt.NDArray[np.int64],
    rest_a: npt.NDArray[np.int64],
    rest_b: npt.NDArray[np.int64],
    allowed_checks: int,
    skipped: npt.NDArray[np.float64],
    chunks: npt.NDArray[np.int64],
    chunk_rows: int,
    block_tiles: int,
    self_join: bool,
    k: int,
    order_b: npt.NDArray[np.int64],
    counter: npt.NDArray[np.int64],
    out_i: npt.NDArray[np.int32],
    out_j: npt.NDArray[np.int32],
    out_x: npt.NDArray[np.int32],
    counts: npt.NDArray[np.int64],
    pending: npt.NDArray[np.int64],
) -> None:
    """Worker ``w``: take chunks from ``counter`` until none is left or the buffer is full.

    Appends to ``out_*[w]`` and leaves the count in ``counts[w]``; a chunk that did not fit
    is rolled back and left in ``pending[w]`` (else -1), and the worker stops. ``k = 0``
    means no top-k. Runs without the GIL, one call per thread (see ``candidate_pairs``).
    """
    n_rows = rows_a.shape[0]
    inter = np.empty(TILE_ROWS + 1, dtype=np.int64)
    stats = np.zeros(2 * CHECKPOINTS, dtype=np.float64)
    chunks_done = 0
    heap_rows = chunk_rows if k > 0 else 0
    heap_s = np.empty((heap_rows, max(k, 1)), dtype=np.float64)
    heap_j = np.empty((heap_rows, max(k, 1)), dtype=np.int64)
    heap_x = np.empty((heap_rows, max(k, 1)), dtype=np.int64)
    heap_n = np.zeros(heap_rows, dtype=np.int64)
    count = 0
    pending[w] = -1
    while True:
        index = atomic_fetch_add(counter, 1)
        if index >= chunks.shape[0]:
            break
        chunk = chunks[index]
        r0 = chunk * chunk_rows
        r1 = min(r0 + chunk_rows, n_rows)
        checks = _choose_checks(allowed_checks, stats, skipped, chunks_done)
        chunks_done += 1
        if k > 0:
            new_count = _chunk_top_k(
                rows_a, pop_a, tiles, pop_b, need, jlo, jhi, rest_a, rest_b, checks, stats,
                r0, r1, block_tiles, self_join, order_b, inter, heap_s, heap_j, heap_x, heap_n,
                out_i[w], out_j[w], out_x[w], count,
            )  # fmt: skip
        else:
            new_count = _chunk_pairs(
                rows_a, pop_a, tiles, pop_b, need, jlo, jhi, rest_a, rest_b, checks, stats,
                r0, r1, block_tiles, inter, out_i[w], out_j[w], out_x[w], count,
            )  # fmt: skip
        if new_count < 0:
            pending[w] = chunk
            break
        count = new_count
    counts[w] = count


def _run_workers(n_workers: int, arguments: tuple[Any, ...]) -> None:
    """Run ``_worker`` once per thread: plain Python threads, as the compiled code drops the GIL.

    Threads rather than ``parallel=True``: the work is already split by the workers' shared
    counter (a prange would add nothing but a parfor pass to compile), and concurrent calls
    from several Python threads cannot trip numba's threading layers, of which the default
    (workqueue) aborts on concurrent or nested use.
    """
    if n_workers == 1:
        _worker(0, *arguments)
        return
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for done in [pool.submit(_worker, w, *arguments) for w in range(n_workers)]:
            done.result()


def _to_tiles(
    words: npt.NDArray[np.uint64], max_pop: int, pop: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Transpose sorted filters into aligned ``(tiles, W, TILE_ROWS)`` tiles, zero-padded.

    Padding lanes are never reported (the caller's row ranges end at the real rows); their
    popcount is set to ``max_pop`` only so that every index stays in range.
    """
    m, width = words.shape
    n_tiles = -(-m // TILE_ROWS)
    padded = np.zeros((n_tiles * TILE_ROWS, width), dtype=np.uint64)
    padded[:m] = words
    tiles = aligned_zeros((n_tiles, width, TILE_ROWS))
    tiles[...] = padded.reshape(n_tiles, TILE_ROWS, width).transpose(0, 2, 1)
    pop_padded = np.full(n_tiles * TILE_ROWS, max_pop, dtype=np.int64)
    pop_padded[:m] = pop
    return tiles, pop_padded


@numba.njit(nogil=True, cache=True)
def _sort_segment(keys: npt.NDArray[np.int64], lo: int, hi: int) -> None:
    """Sort ``keys[lo:hi]`` in place: insertion sort when short, heapsort otherwise.

    Hand-written because numba's ``np.sort`` adds over a second to the first compile.
    """
    if hi - lo <= 16:
        for e in range(lo + 1, hi):
            value = keys[e]
            f = e - 1
            while f >= lo and keys[f] > value:
                keys[f + 1] = keys[f]
                f -= 1
            keys[f + 1] = value
        return
    n = hi - lo
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(keys, lo, start, n)
    for end in range(n - 1, 0, -1):
        keys[lo], keys[lo + end] = keys[lo + end], keys[lo]
        _sift_down(keys, lo, 0, end)


@numba.njit(inline="always", nogil=True)
def _sift_down(keys: npt.NDArray[np.int64], lo: int, node: int, size: int) -> None:
    value = keys[lo + node]
    while True:
        child = 2 * node + 1
        if child >= size:
            break
        if child + 1 < size and keys[lo + child + 1] > keys[lo + child]:
            child += 1
        if keys[lo + child] <= value:
            break
        keys[lo + node] = keys[lo + child]
        node = child
    keys[lo + node] = value


@numba.njit(nogil=True, cache=True)
def _sorted_pairs(
    ii: npt.NDArray[np.int32],
    jj: npt.NDArray[np.int32],
    xx: npt.NDArray[np.int32],
    order_a: npt.NDArray[np.int64],
    order_b: npt.NDArray[np.int64],
    self_join: bool,
    unique: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Map sorted positions back to rows and order the pairs by (row_a, row_b).

    A counting sort on row_a scatters ``row_b << 32 | intersection`` keys into per-row
    segments, which are then sorted in place (they are short and contiguous): linear-ish in
    the number of pairs, where an argsort of combined keys took as long as the search
    itself at millions of candidates. Self-joins list each pair as (smaller, larger); with
    ``unique`` a pair found from both ends is kept once.
    """
    c = ii.shape[0]
    n_rows = order_a.shape[0]
    starts = np.zeros(n_rows + 1, dtype=np.int64)
    for e in range(c):
        a = order_a[ii[e]]
        if self_join:
            a = min(a, order_b[jj[e]])
        starts[a + 1] += 1
    for r in range(n_rows):
        starts[r + 1] += starts[r]
    fill = starts[:-1].copy()
    packed = np.empty(c, dtype=np.int64)
    for e in range(c):
        a = order_a[ii[e]]
        b = order_b[jj[e]]
        if self_join and b < a:
            a, b = b, a
        packed[fill[a]] = (b << 32) | np.int64(xx[e])
        fill[a] += 1
    out_a = np.empty(c, dtype=np.int64)
    out_b = np.empty(c, dtype=np.int64)
    out_x = np.empty(c, dtype=np.int64)
    keep = 0
    for r in range(n_rows):
        lo = starts[r]
        hi = starts[r + 1]
        _sort_segment(packed, lo, hi)
        for e in range(lo, hi):
            b = packed[e] >> 32
            if unique and e > lo and b == out_b[keep - 1]:
                continue
            out_a[keep] = r
            out_b[keep] = b
            out_x[keep] = packed[e] & 0xFFFFFFFF
            keep += 1
    return out_a[:keep], out_b[:keep], out_x[:keep]


def _rest_popcounts(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Per filter and checkpoint, the popcount of the words after the checkpoint."""
    rest = np.empty((words.shape[0], CHECKPOINTS), dtype=np.int64)
    for stage, start in enumerate(checkpoint_words(words.shape[1])):
        rest[:, stage] = np.bitwise_count(words[:, start:]).sum(axis=1, dtype=np.int64)
    return rest


def _rest_tiles(rest: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``rest`` of the second set laid out like its tiles: ``(tiles, CHECKPOINTS, 32)``."""
    n_tiles = -(-rest.shape[0] // TILE_ROWS)
    padded = np.zeros((n_tiles * TILE_ROWS, CHECKPOINTS), dtype=np.int64)
    padded[: rest.shape[0]] = rest
    tiled = aligned_zeros((n_tiles, CHECKPOINTS, TILE_ROWS)).view(np.int64)
    tiled[...] = padded.reshape(n_tiles, TILE_ROWS, CHECKPOINTS).transpose(0, 2, 1)
    return tiled


def _partner_ranges(
    sorted_pop_a: npt.NDArray[np.int64],
    sorted_pop_b: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    max_pop: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each (popcount-sorted) row of A, the range of sorted B rows that can pass."""
    lo_pop, hi_pop = _popcount_band(sorted_pop_a, need, max_pop)
    jlo = np.searchsorted(sorted_pop_b, lo_pop, side="left").astype(np.int64)
    jhi = np.searchsorted(sorted_pop_b, hi_pop, side="right").astype(np.int64)
    return jlo, np.maximum(jhi, jlo)


def band_pairs(
    filters_a: npt.NDArray[np.uint8], filters_b: npt.NDArray[np.uint8], threshold: float
) -> int:
    """How many pairs the popcount bound leaves to compare (the rest are never touched).

    For benchmarks and capacity planning: ``candidate_pairs`` runs its vector loop on about
    this many pairs (rounded up to whole tiles), whatever ``n * m`` is.
    """
    pop_a = np.sort(popcounts(filters_a))
    pop_b = np.sort(popcounts(filters_b))
    max_pop = 64 * as_words(filters_a[:0]).shape[1]
    jlo, jhi = _partner_ranges(pop_a, pop_b, need_table(float(threshold), 2 * max_pop), max_pop)
    return int((jhi - jlo).sum())


def _empty() -> PairArrays:
    return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


def candidate_pairs(
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None = None,
    threshold: float = 0.8,
    *,
    k: int | None = None,
) -> PairArrays:
    """Every pair of filters with Dice coefficient >= ``threshold``.

    ``filters_a`` and ``filters_b`` are 2-D ``uint8`` arrays of packed filters (one row per
    record, equal widths; the bytes of anonlink CLKs). Returns ``(scores, rows_a, rows_b)``
    sorted by row_a then row_b. With ``filters_b=None`` the set is compared with itself and
    each unordered pair is returned once (``row_a < row_b``). With ``k``, each row of
    ``filters_a`` keeps at most its ``k`` best partners (ties: lower row_b first); in a
    self-join a pair is kept when either record picked the other. ``dice_reference`` gives
    the precise definition; results are identical to it.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    k = check_k(k)
    self_join = filters_b is None
    other = filters_a if filters_b is None else filters_b
    if other.ndim != 2 or filters_a.ndim != 2 or other.shape[1] != filters_a.shape[1]:
        raise ValueError("both filter arrays must be 2-D with the same width")
    n, m = filters_a.shape[0], other.shape[0]
    if max(n, m) > _INT32_LIMIT:
        raise ValueError("at most 2**31 - 1 filters per set")
    if n == 0 or m == 0:
        return _empty()
    if k is not None and k >= (m - 1 if self_join else m):
        k = None  # every row keeps all its partners anyway
    words_a = as_words(filters_a)
    pop_a = popcounts(filters_a)
    pop_b = pop_a if self_join else popcounts(other)
    max_pop = 64 * words_a.shape[1]
    need = need_table(float(threshold), 2 * max_pop)

    order_a = np.argsort(pop_a, kind="stable")
    order_b = order_a if self_join else np.argsort(pop_b, kind="stable")
    rows_a = np.ascontiguousarray(words_a[order_a])
    sorted_pop_a = pop_a[order_a]
    sorted_pop_b = pop_b[order_b]
    rows_b = rows_a if self_join else as_words(other)[order_b]
    tiles, padded_pop_b = _to_tiles(rows_b, max_pop, sorted_pop_b)
    rest_a = _rest_popcounts(rows_a)
    rest_b = _rest_tiles(rest_a if self_join else _rest_popcounts(rows_b))
    # Checkpoints need a few words left to skip; with under 4 words they cannot pay.
    allowed_checks = (1 << CHECKPOINTS) - 1 if words_a.shape[1] >= 4 else 0
    skipped = np.array(
        [words_a.shape[1] - start for start in checkpoint_words(words_a.shape[1])],
        dtype=np.float64,
    )

    jlo, jhi = _partner_ranges(sorted_pop_a, sorted_pop_b, need, max_pop)
    if self_join and k is None:
        jlo = np.maximum(jlo, np.arange(1, n + 1, dtype=np.int64))

    row_bytes = 8 * max(words_a.shape[1], 1) * TILE_ROWS
    block_tiles = max(1, BLOCK_BYTES // row_bytes)
    chunk_rows = CHUNK_ROWS
    if k is not None:
        chunk_rows = int(min(CHUNK_ROWS, max(1, (1 << 22) // (24 * k))))  # heaps <= 4 MiB
    chunks = np.arange(-(-n // chunk_rows), dtype=np.int64)
    n_workers = numba.get_num_threads() if n * m >= SERIAL_PAIRS else 1
    capacity = max(INITIAL_CAPACITY, chunk_rows * (k or 0))
    found_i: list[npt.NDArray[np.int32]] = []
    found_j: list[npt.NDArray[np.int32]] = []
    found_x: list[npt.NDArray[np.int32]] = []
    while chunks.size:
        out_i = np.empty((n_workers, capacity), dtype=np.int32)
        out_j = np.empty((n_workers, capacity), dtype=np.int32)
        out_x = np.empty((n_workers, capacity), dtype=np.int32)
        counts = np.zeros(n_workers, dtype=np.int64)
        pending = np.full(n_workers, -1, dtype=np.int64)
        counter = np.zeros(1, dtype=np.int64)
        arguments = (
            rows_a, sorted_pop_a, tiles, padded_pop_b, need, jlo, jhi, rest_a, rest_b,
            allowed_checks, skipped, chunks, chunk_rows,
            block_tiles, self_join, k or 0, order_b, counter, out_i, out_j, out_x, counts,
            pending,
        )  # fmt: skip
        _run_workers(n_workers, arguments)
        for w in range(n_workers):
            found_i.append(out_i[w, : counts[w]].copy())
            found_j.append(out_j[w, : counts[w]].copy())
            found_x.append(out_x[w, : counts[w]].copy())
        taken = min(int(counter[0]), chunks.size)
        done = taken - int(np.count_nonzero(pending >= 0))
        chunks = np.concatenate([pending[pending >= 0], chunks[taken:]])
        # Grow at least 2x, or to what the remaining chunks need at the rate seen so far.
        expected = int(counts.sum()) / max(done, 1) * chunks.size / n_workers
        capacity = max(2 * capacity, int(1.25 * expected))

    rows_out_a, rows_out_b, inter = _sorted_pairs(
        np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_x),
        order_a, order_b, self_join, self_join and k is not None,
    )  # fmt: skip
    scores = dice_scores(inter, pop_a[rows_out_a] + pop_b[rows_out_b])
    return scores, rows_out_a, rows_out_b
