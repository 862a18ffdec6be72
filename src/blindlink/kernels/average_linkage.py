"""Average-linkage clustering of scored links, compiled with numba.

The same algorithm as ``linkage.cluster.cluster_records``, which is the readable reference and
defines the result: links in descending score order (one stable sort); two clusters merge when
the mean adjusted score over every pair of their records reaches the threshold and every pair
of records of one agency reaches the stricter threshold; a link between two single records is
judged by its own score. Members are kept in linked lists in the reference's order, and each
block of scores is summed in numpy's pairwise order, so both give the same labels, float for
float (tests/test_average_linkage.py). The reference spends ~25 us of numpy overhead on each
block of a merge; compiled, a block costs about what its popcounts cost, which is what makes
re-clustering at a handful of thresholds cheap (``linkage.sensitivity``).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.packing import as_words
from blindlink.kernels.simd import popcount64

#: numpy's pairwise summation: blocks up to this size are summed in 8 interleaved lanes.
_PAIRWISE_BLOCK = 128


@numba.njit(nogil=True, cache=True)
def _block_sum(values: npt.NDArray[np.float64], start: int, n: int) -> float:
    """numpy's sum of at most ``_PAIRWISE_BLOCK`` values: 8 interleaved lanes (or, below 8
    values, one plain loop)."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    lanes = np.empty(8, dtype=np.float64)
    for j in range(8):
        lanes[j] = values[start + j]
    i = 8
    stop = n - n % 8
    while i < stop:
        for j in range(8):
            lanes[j] += values[start + i + j]
        i += 8
    total = float(
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    )
    while i < n:
        total += values[start + i]
        i += 1
    return total


@numba.njit(nogil=True, cache=True)
def _pairwise_sum(values: npt.NDArray[np.float64], start: int, n: int) -> float:
    """Sum of ``values[start:start + n]`` in exactly the order of numpy's ``pairwise_sum``.

    numpy halves the range (at a multiple of 8) until a part holds at most 128 values and adds
    the halves' sums back up the tree; this walks the same tree with an explicit stack
    (numba cannot cache a recursive function: loading one from the cache crashes).
    """
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    stages = np.empty(64, dtype=np.int64)  # 0: nothing done, 1: left half done, 2: both
    sums = np.empty(64, dtype=np.float64)
    top = 0
    starts[0], sizes[0], stages[0] = start, n, 0
    n_sums = 0
    while top >= 0:
        size = sizes[top]
        if size <= _PAIRWISE_BLOCK:
            sums[n_sums] = _block_sum(values, starts[top], size)
            n_sums += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if stages[top] == 0:
            stages[top] = 1
            top += 1
            starts[top], sizes[top], stages[top] = starts[top - 1], half, 0
        elif stages[top] == 1:
            stages[top] = 2
            top += 1
            starts[top], sizes[top], stages[top] = starts[top - 1] + half, size - half, 0
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
    total: float = sums[0]
    return total


@numba.njit(nogil=True, cache=True)
def _members(first: int, following: npt.NDArray[np.int64], out: npt.NDArray[np.int64]) -> None:
    record = first
    k = 0
    while record != -1:
        out[k] = record
        k += 1
        record = following[record]


@numba.njit(nogil=True, cache=True)
def _cluster(
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float64],
    words: npt.NDArray[np.uint64],
    popcounts: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.float64],
    agency_of: npt.NDArray[np.int64],
    threshold: float,
    same_agency_threshold: float,
) -> npt.NDArray[np.int64]:
    n = words.shape[0]
    n_words = words.shape[1]
    owner = np.arange(n)
    following = np.full(n, -1, dtype=np.int64)  # next member of the same cluster
    last = np.arange(n)  # last member of the cluster whose id (and first member) is the index
    size = np.ones(n, dtype=np.int64)
    left = np.empty(16, dtype=np.int64)
    right = np.empty(16, dtype=np.int64)
    block = np.empty(256, dtype=np.float64)
    for p in range(scores.shape[0]):
        u = rows_a[p]
        v = rows_b[p]
        cu = owner[u]
        cv = owner[v]
        if cu == cv:
            continue
        n_left = size[cu]
        n_right = size[cv]
        if n_left == 1 and n_right == 1:
            needed = same_agency_threshold if agency_of[u] == agency_of[v] else threshold
            if scores[p] < needed:
                continue
        else:
            if left.shape[0] < n_left:
                left = np.empty(2 * n_left, dtype=np.int64)
            if right.shape[0] < n_right:
                right = np.empty(2 * n_right, dtype=np.int64)
            if block.shape[0] < n_left * n_right:
                block = np.empty(2 * n_left * n_right, dtype=np.float64)
            _members(cu, following, left)
            _members(cv, following, right)
            for i in range(n_left):
                x = left[i]
                for j in range(n_right):
                    y = right[j]
                    inter = 0
                    for w in range(n_words):
                        inter += popcount64(words[x, w] & words[y, w])
                    total = popcounts[x] + popcounts[y]
                    dice = 2.0 * inter / total if total > 0 else 0.0
                    block[i * n_right + j] = dice + (offsets[x] + offsets[y]) / 2
            count = n_left * n_right
            if _pairwise_sum(block, 0, count) / count < threshold:
                continue
            allowed = True
            for i in range(n_left):
                for j in range(n_right):
                    if (
                        agency_of[left[i]] == agency_of[right[j]]
                        and block[i * n_right + j] < same_agency_threshold
                    ):
                        allowed = False
                        break
                if not allowed:
                    break
            if not allowed:
                continue
        if n_left < n_right:
            cu, cv = cv, cu
        record = cv
        while record != -1:
            owner[record] = cu
            record = following[record]
        following[last[cu]] = cv
        last[cu] = last[cv]
        size[cu] += size[cv]
    return owner


def average_linkage(
    scores: npt.NDArray[np.float64],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    filters: npt.NDArray[np.uint8],
    agency_of: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.float64],
    threshold: float,
    same_agency_threshold: float,
) -> npt.NDArray[np.int64]:
    """Cluster id per record (the id of a cluster is one of its records; not dense).

    Arguments as ``linkage.cluster.cluster_records``: every pair scoring at least
    ``threshold``, with exactly those scores; ``offsets`` per record.
    """
    order = np.argsort(-scores, kind="stable")
    popcounts = np.bitwise_count(filters).sum(axis=1, dtype=np.int64)
    owner: npt.NDArray[np.int64] = _cluster(
        np.ascontiguousarray(rows_a[order], dtype=np.int64),
        np.ascontiguousarray(rows_b[order], dtype=np.int64),
        np.ascontiguousarray(scores[order], dtype=np.float64),
        as_words(filters),
        popcounts,
        np.ascontiguousarray(offsets, dtype=np.float64),
        np.ascontiguousarray(agency_of, dtype=np.int64),
        float(threshold),
        float(same_agency_threshold),
    )
    return owner
