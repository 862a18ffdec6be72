"""Blocking for inputs too large to compare all pairs: Hamming LSH (bit sampling) on filters.

Why: the exact search compares every pair, n²/2 of them, which is fine for tens of thousands
of records and hopeless for millions. Bit sampling is the locality-sensitive hash family of
Hamming distance and needs nothing but the filters themselves, so the coordinator can run it
without the linkage secret. Each of ``L`` *bands* samples ``r`` bit positions (seeded, so the
same seed gives the same bands); records whose sampled bits agree exactly share a bucket, and
only pairs that share a bucket in at least one band are scored, exactly, with Dice. The result
is therefore a subset of the exact all-pairs result with identical scores; what blocking can
lose is recall, and ``(r, L)`` are chosen to bound that loss (see ``docs/blocking.md``).

Parameter maths, in short. For a pair that agrees on ``A`` of the ``m`` bit positions, a band
of ``r`` positions drawn without replacement agrees with probability
``P_r(A) = prod_{k<r} (A - k) / (m - k)`` (about ``(A/m)^r``), and at least one of ``L``
independent bands does with probability ``1 - (1 - P_r)^L``. A pair at Dice exactly ``t``
whose filters both hold ``c`` bits (``c`` = the data's median popcount) agrees on
``A = m - 2c(1 - t)`` positions: this *design pair* sets ``L = ceil(log(1 - recall) /
log(1 - P_r))``. ``r`` trades bands against bucket sizes: every band costs about one sort of
``n`` keys, and lets through ``n²/2 * E[P_r(A_random)]`` random pairs, where the expectation
is estimated on a seeded sample of pairs. ``r`` minimises ``(c_rec * n + n²/2 * E[P_r]) /
-log(1 - P_r)``, the total cost with ``L`` relaxed to a real number, which does not depend on
the recall target: a higher target then only ever adds bands.

Memory stays bounded for millions of records: bands are processed a group at a time (keys,
sort order and bucket bounds take ``32 * n`` bytes per band, ``GROUP_BYTES`` per group),
candidate pairs are scored inside their bucket as soon as they are found and only pairs at
or above the threshold are kept, and those are deduplicated across bands by merging sorted
``row_a * n + row_b`` keys, so beyond ``O(n)`` memory grows only with the result (the
scoring, shared with keyed blocking, is ``kernels.buckets``). A bucket with more than
``max_bucket_size`` records (all-identical or degenerate filters; its pairs grow
quadratically) is not expanded in that band; such buckets and the pairs they held are
counted in the report. This module never needs, and must never import, ``blindlink.encoding``.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.buckets import BucketScorer
from blindlink.kernels.packing import popcounts
from blindlink.types import CandidatePairs

#: Target share of pairs at Dice exactly ``threshold`` (design popcount) that are found.
DEFAULT_RECALL = 0.99
#: Band keys are packed into one uint64.
MAX_BITS_PER_BAND = 64
#: Plans needing more bands than this are refused: blocking would cost more than it saves.
MAX_BANDS = 10_000
#: Buckets larger than this are skipped in their band (k records hold k(k-1)/2 pairs, so
#: 20,000 records are 2e8 pairs, about a second of one core). Real buckets at a sensible
#: ``r`` hold tens to a few thousand records; bigger ones come from degenerate data.
MAX_BUCKET_SIZE = 20_000
#: Random pairs sampled to estimate how often unrelated records share a bucket.
SAMPLE_PAIRS = 20_000
#: Cost of putting one record through one band (key, sort, bucket bounds), in units of one
#: candidate-pair comparison; measured on the benchmark data (see docs/blocking.md).
RECORD_BAND_COST = 4.0
#: Working memory for the keys and bucket layout of a group of bands searched together.
GROUP_BYTES = 128 << 20
_BYTES_PER_RECORD_BAND = 32


class LshPlanError(ValueError):
    """No bit-sampling plan reaches the recall within ``MAX_BANDS`` bands."""


@dataclass(frozen=True)
class LshPlan:
    """The bands to search with and what they are expected to achieve.

    ``bits_per_band`` (r) positions are sampled in each of ``bands`` (L) bands; positions
    come from ``seed`` alone (see :meth:`positions`), so a plan is reproducible and the bands
    of a plan with fewer bands are a prefix of those of one with more. ``expected_recall`` is
    the probability that the design pair (Dice exactly ``threshold``, both filters at
    ``design_popcount`` bits) shares a bucket in some band; pairs with higher Dice or fewer
    bits are found more often, pairs at the threshold with more bits less often.
    """

    threshold: float
    target_recall: float
    seed: int
    filter_bits: int
    n_records: int
    bits_per_band: int
    bands: int
    expected_recall: float
    #: Quantile of the (non-empty) filters' popcounts the design pair is built on.
    popcount_quantile: float
    #: That popcount: the median by default.
    design_popcount: float
    #: Per-bit agreement of the design pair, ``1 - 2 c (1 - t) / m``.
    design_similarity: float
    #: Mean per-bit agreement of sampled random pairs.
    random_similarity: float
    #: Estimated chance that a random pair agrees on one band's bits, ``E[P_r(A)]``.
    random_band_collision: float
    #: Expected pair comparisons over all bands, ``L * n²/2 * random_band_collision``.
    expected_comparisons: float

    def positions(self) -> npt.NDArray[np.int64]:
        """Sampled bit positions, shape ``(bands, bits_per_band)``, each row sorted."""
        return band_positions(self.seed, self.bands, self.bits_per_band, self.filter_bits)


@dataclass(frozen=True)
class LshReport:
    """What a search did: the plan, the work, and what the bucket-size cap skipped.

    ``candidate_pairs`` counts pairs of records sharing a bucket, summed over bands (a pair
    sharing buckets in two bands counts twice: this is work done, and ``1 - candidate_pairs /
    all_pairs`` is a conservative reduction ratio). ``dice_evaluations`` are those candidates
    not already ruled out by their popcounts. ``pairs_skipped`` sums ``k(k-1)/2`` over the
    skipped buckets; those pairs may still be found through another band.
    """

    plan: LshPlan
    candidate_pairs: int
    dice_evaluations: int
    pairs_found: int
    buckets_skipped: int
    pairs_skipped: int
    largest_bucket: int
    #: Records with no bit set: they cannot reach any threshold > 0 and are not bucketed.
    empty_records: int


@numba.njit(parallel=True, nogil=True, cache=True)
def _band_keys(
    filters: npt.NDArray[np.uint8],
    rows: npt.NDArray[np.int64],
    pop: npt.NDArray[np.int64],
    positions: npt.NDArray[np.int64],
    pop_bits: int,
    index_bits: int,
    out: npt.NDArray[np.uint64],
) -> None:
    """Sort keys of a group of bands: ``out[g, x]`` packs, from high to low bits, the bits
    row ``rows[x]`` has at ``positions[g]``, then (``pop_bits`` > 0) its popcount, then
    (``index_bits`` > 0) ``x``. One value sort then groups rows by bucket and orders each
    bucket by popcount, and the position ``x`` comes back out of the low bits."""
    for x in numba.prange(rows.shape[0]):
        row = rows[x]
        for g in range(positions.shape[0]):
            key = np.uint64(0)
            for k in range(positions.shape[1]):
                pos = positions[g, k]
                bit = np.uint64((filters[row, pos >> 3] >> (7 - (pos & 7))) & 1)
                key |= bit << np.uint64(k)
            if pop_bits > 0:
                key = (key << np.uint64(pop_bits)) | np.uint64(pop[row])
            if index_bits > 0:
                key = (key << np.uint64(index_bits)) | np.uint64(x)
            out[g, x] = key


@numba.njit(nogil=True, cache=True)
def _band_layout(
    sorted_ids: npt.NDArray[np.uint64],
    order: npt.NDArray[np.int64],
    shift: int,
    index_bits: int,
    rows: npt.NDArray[np.int64],
    pop: npt.NDArray[np.int64],
    cap: int,
    offset: int,
    members: npt.NDArray[np.int64],
    member_pop: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    stops: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> int:
    """Lay out one sorted band: ``members`` (rows in bucket order, popcounts alongside) and
    the runs of equal ``sorted_ids >> shift`` that hold 2 to ``cap`` records, as ``[start,
    stop) + offset``. The position of the x-th row is the low ``index_bits`` of its id, or
    ``order[x]`` when ``index_bits`` is 0. Returns the number of buckets written; ``counts``
    gets ``[candidate pairs, buckets over cap, pairs in them, largest bucket]``."""
    n = sorted_ids.shape[0]
    mask = (np.uint64(1) << np.uint64(index_bits)) - np.uint64(1)
    for x in range(n):
        at = np.int64(sorted_ids[x] & mask) if index_bits > 0 else order[x]
        members[x] = rows[at]
        member_pop[x] = pop[rows[at]]
    written = 0
    first = 0
    for x in range(1, n + 1):
        if x < n and (sorted_ids[x] >> shift) == (sorted_ids[first] >> shift):
            continue
        size = x - first
        pairs = size * (size - 1) // 2
        counts[3] = max(counts[3], size)
        if size > cap:
            counts[1] += 1
            counts[2] += pairs
        elif size >= 2:
            starts[written] = first + offset
            stops[written] = x + offset
            counts[0] += pairs
            written += 1
        first = x
    return written


def band_positions(
    seed: int, bands: int, bits_per_band: int, filter_bits: int
) -> npt.NDArray[np.int64]:
    """The bit positions each band samples: ``bits_per_band`` distinct positions per band.

    Drawn band after band from one generator seeded with ``(seed, 0)``, so they depend only
    on the arguments, and a plan with more bands extends one with fewer.
    """
    rng = np.random.default_rng([seed, 0])
    out = np.empty((bands, bits_per_band), dtype=np.int64)
    for b in range(bands):
        out[b] = np.sort(rng.choice(filter_bits, size=bits_per_band, replace=False))
    return out


def _band_probability(agree: npt.NDArray[np.float64], r: int, m: int) -> npt.NDArray[np.float64]:
    """``P_r(A)``: chance that ``r`` positions drawn without replacement all agree."""
    out = np.ones_like(agree, dtype=np.float64)
    for k in range(r):
        out *= np.clip(agree - k, 0.0, None) / (m - k)
    return out


def _bands_for(recall: float, per_band: float) -> int:
    """Fewest bands reaching ``recall`` when each band finds the pair with ``per_band``."""
    if per_band >= 1.0:
        return 1
    if per_band <= 0.0:
        return MAX_BANDS + 1
    bands = max(1, math.ceil(math.log1p(-recall) / math.log1p(-per_band)))
    while bands <= MAX_BANDS and 1.0 - (1.0 - per_band) ** bands < recall:
        bands += 1  # float rounding in the logarithms
    return bands


def _check_filters(filters: npt.NDArray[np.uint8]) -> None:
    if filters.dtype != np.uint8 or filters.ndim != 2 or filters.shape[1] == 0:
        raise ValueError("filters must be a 2-D uint8 array of packed filters, one per row")


def _sample_agreements(
    filters: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64], seed: int, sample_pairs: int
) -> npt.NDArray[np.float64]:
    """Per-pair agreement counts ``m - hamming`` of random distinct pairs (all, if few)."""
    n = rows.shape[0]
    m = filters.shape[1] * 8
    if n < 2:
        return np.zeros(0, dtype=np.float64)
    if n * (n - 1) // 2 <= sample_pairs:
        first, second = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng([seed, 1])
        first = rng.integers(0, n, size=sample_pairs)
        second = (first + rng.integers(1, n, size=sample_pairs)) % n  # never equal to first
    a = filters[rows[first]]
    b = filters[rows[second]]
    hamming: npt.NDArray[np.int64] = np.bitwise_count(a ^ b).sum(axis=1, dtype=np.int64)
    agree: npt.NDArray[np.float64] = (m - hamming).astype(np.float64)
    return agree


def plan_lsh(
    filters: npt.NDArray[np.uint8],
    threshold: float,
    recall: float = DEFAULT_RECALL,
    seed: int = 0,
    *,
    bands: int | None = None,
    bits_per_band: int | None = None,
    popcount_quantile: float = 0.5,
    sample_pairs: int = SAMPLE_PAIRS,
) -> LshPlan:
    """Choose ``(r, L)`` for these filters, threshold and recall target (module docstring).

    With ``bits_per_band`` given, ``bands`` follows from the recall target; with ``bands``
    given, ``bits_per_band`` is the largest that still reaches it; with both, they are used
    as they are and the plan reports the recall they are expected to give. Pairs at the
    threshold lose more bits the more bits they hold, so they are found less often;
    ``popcount_quantile`` above 0.5 designs for fuller filters (more bands, more recall
    near the threshold; see docs/blocking.md). Raises
    ``ValueError`` where bit sampling cannot reach the target within ``MAX_BANDS`` bands
    (thresholds so low that matches look like random pairs: compare all pairs instead).
    """
    _check_filters(filters)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if not 0.0 < recall < 1.0:
        raise ValueError(f"recall must be in (0, 1), got {recall}")
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    if not 0.0 <= popcount_quantile <= 1.0:
        raise ValueError(f"popcount_quantile must be in [0, 1], got {popcount_quantile}")
    m = filters.shape[1] * 8
    max_r = min(MAX_BITS_PER_BAND, m)
    if bits_per_band is not None and not 1 <= bits_per_band <= max_r:
        raise ValueError(f"bits_per_band must be in [1, {max_r}], got {bits_per_band}")
    if bands is not None and not 1 <= bands <= MAX_BANDS:
        raise ValueError(f"bands must be in [1, {MAX_BANDS}], got {bands}")
    pop = popcounts(filters)
    rows = np.flatnonzero(pop > 0).astype(np.int64)
    n = int(rows.shape[0])
    all_pairs = n * (n - 1) / 2
    design_pop = float(np.quantile(pop[rows], popcount_quantile)) if n else 0.0
    design_agree = max(0.0, m - 2.0 * design_pop * (1.0 - threshold))
    agree = _sample_agreements(filters, rows, seed, sample_pairs)
    candidates = range(1, max_r + 1) if bits_per_band is None else (bits_per_band,)
    p_design = {r: float(_band_probability(np.array([design_agree]), r, m)[0]) for r in candidates}
    q_random = {
        r: float(_band_probability(agree, r, m).mean()) if agree.size else 0.0 for r in candidates
    }

    if bits_per_band is not None:
        r = bits_per_band
        chosen_bands = bands if bands is not None else _bands_for(recall, p_design[r])
    elif bands is not None:
        reaching = [r for r in candidates if 1.0 - (1.0 - p_design[r]) ** bands >= recall]
        if not reaching:
            raise ValueError(
                f"{bands} band(s) cannot reach recall {recall} at threshold {threshold} on "
                "these filters; use more bands"
            )
        r = max(reaching)
        chosen_bands = bands
    else:

        def cost(r: int) -> float:
            per_band = p_design[r]
            work = RECORD_BAND_COST * n + all_pairs * q_random[r]
            if per_band >= 1.0:
                return work
            if per_band <= 0.0:
                return math.inf
            return work / -math.log1p(-per_band)

        r = min(candidates, key=lambda k: (cost(k), -k))
        chosen_bands = _bands_for(recall, p_design[r])
    if chosen_bands > MAX_BANDS:
        raise LshPlanError(
            f"bit sampling would need more than {MAX_BANDS} bands for recall {recall} at "
            f"threshold {threshold} on these filters; compare all pairs instead"
        )
    return LshPlan(
        threshold=threshold,
        target_recall=recall,
        seed=seed,
        filter_bits=m,
        n_records=int(filters.shape[0]),
        bits_per_band=r,
        bands=chosen_bands,
        expected_recall=1.0 - (1.0 - p_design[r]) ** chosen_bands,
        popcount_quantile=popcount_quantile,
        design_popcount=design_pop,
        design_similarity=design_agree / m,
        random_similarity=float(agree.mean()) / m if agree.size else 0.0,
        random_band_collision=q_random[r],
        expected_comparisons=chosen_bands * all_pairs * q_random[r],
    )


class _Search(BucketScorer):
    """State of one search: the filters, the running counts, the pairs found so far."""

    def __init__(self, filters: npt.NDArray[np.uint8], plan: LshPlan, cap: int) -> None:
        super().__init__(filters, plan.threshold)
        self.rows = np.flatnonzero(self.pop > 0).astype(np.int64)
        self.plan = plan
        self.cap = cap
        n = int(self.rows.shape[0])
        self.pop_bits = plan.filter_bits.bit_length()
        self.index_bits = max(1, (n - 1).bit_length())
        if plan.bits_per_band + self.pop_bits + self.index_bits > 64:
            self.index_bits = 0  # no room: argsort instead of a value sort
            if plan.bits_per_band + self.pop_bits > 64:
                self.pop_bits = 0  # and lexsort by (key, popcount)
        # [candidate pairs, buckets over cap, pairs in them, largest bucket]
        self.counts = np.zeros(4, dtype=np.int64)

    def run(self) -> None:
        n = int(self.rows.shape[0])
        if n < 2:
            return
        group = max(1, min(self.plan.bands, GROUP_BYTES // (_BYTES_PER_RECORD_BAND * n)))
        group = max(group, min(self.plan.bands, numba.get_num_threads()))
        positions = self.plan.positions()
        with ThreadPoolExecutor(max_workers=numba.get_num_threads()) as pool:
            for first in range(0, self.plan.bands, group):
                members, member_pop, starts, stops = self._buckets(
                    positions[first : first + group], pool
                )
                # a bucket's rows stay in cache after their first use: read in place
                self.score(members, member_pop, starts, stops, gather=False)
        self.flush()

    def _buckets(
        self, positions: npt.NDArray[np.int64], pool: ThreadPoolExecutor
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
    ]:
        """Bucket a group of bands: rows laid out band after band (``members``, with their
        popcounts alongside), every bucket of 2 to ``cap`` rows a ``[start, stop)`` slice of
        them, sorted by popcount."""
        rows, pop = self.rows, self.pop
        n = int(rows.shape[0])
        bands = positions.shape[0]
        keys = np.empty((bands, n), dtype=np.uint64)
        _band_keys(self.filters, rows, pop, positions, self.pop_bits, self.index_bits, keys)
        members = np.empty(keys.size, dtype=np.int64)
        member_pop = np.empty(keys.size, dtype=np.int64)
        room = max(1, n // 2)  # a band has at most n // 2 buckets of two or more
        starts = np.empty(bands * room, dtype=np.int64)
        stops = np.empty(bands * room, dtype=np.int64)
        counts = np.zeros((bands, 4), dtype=np.int64)
        written = np.zeros(bands, dtype=np.int64)
        no_order = np.zeros(0, dtype=np.int64)

        def lay_out(g: int) -> None:
            # numpy sorts and the numba layout release the GIL: bands run side by side
            band = keys[g]
            order = no_order
            if self.index_bits:
                band.sort()
                shift = self.pop_bits + self.index_bits
            else:
                order = np.argsort(band) if self.pop_bits else np.lexsort((pop[rows], band))
                band = band[order]
                shift = self.pop_bits
            written[g] = _band_layout(
                band, order, shift, self.index_bits, rows, pop, self.cap, g * n,
                members[g * n : (g + 1) * n], member_pop[g * n : (g + 1) * n],
                starts[g * room : (g + 1) * room], stops[g * room : (g + 1) * room], counts[g],
            )  # fmt: skip

        list(pool.map(lay_out, range(bands)))
        self.counts[:3] += counts[:, :3].sum(axis=0)
        self.counts[3] = max(int(self.counts[3]), int(counts[:, 3].max()))
        used = [slice(g * room, g * room + int(written[g])) for g in range(bands)]
        return (
            members,
            member_pop,
            np.concatenate([starts[u] for u in used]),
            np.concatenate([stops[u] for u in used]),
        )


def lsh_search(
    filters: npt.NDArray[np.uint8],
    threshold: float,
    *,
    recall: float = DEFAULT_RECALL,
    seed: int = 0,
    bands: int | None = None,
    bits_per_band: int | None = None,
    plan: LshPlan | None = None,
    max_bucket_size: int | None = MAX_BUCKET_SIZE,
) -> tuple[CandidatePairs, LshReport]:
    """Pairs with Dice >= ``threshold`` that share a bucket in some band, and a report.

    A self-join over ``filters``: each unordered pair once, ``row_a < row_b``, sorted by
    ``(row_a, row_b)``, scores identical to the exact search's. ``plan`` (from
    :func:`plan_lsh` on the same filters) overrides ``recall``, ``seed``, ``bands`` and
    ``bits_per_band``; without it a plan is made from them. ``max_bucket_size=None`` expands
    every bucket, however large.
    """
    _check_filters(filters)
    if plan is None:
        plan = plan_lsh(filters, threshold, recall, seed, bands=bands, bits_per_band=bits_per_band)
    elif plan.threshold != threshold or plan.filter_bits != filters.shape[1] * 8:
        raise ValueError("plan was made for another threshold or filter width")
    if max_bucket_size is not None and max_bucket_size < 2:
        raise ValueError("max_bucket_size must be at least 2 (or None)")
    cap = max_bucket_size if max_bucket_size is not None else max(2, filters.shape[0])
    search = _Search(filters, plan, cap)
    search.run()
    scores, rows_a, rows_b = search.pairs()
    candidates, skipped, pairs_skipped, largest = (int(v) for v in search.counts)
    report = LshReport(
        plan=plan,
        candidate_pairs=candidates,
        dice_evaluations=search.evaluations,
        pairs_found=int(scores.shape[0]),
        buckets_skipped=skipped,
        pairs_skipped=pairs_skipped,
        largest_bucket=largest,
        empty_records=search.n_rows - int(search.rows.shape[0]),
    )
    return CandidatePairs(scores, rows_a, rows_b), report


def lsh_candidate_pairs(
    filters: npt.NDArray[np.uint8],
    threshold: float,
    *,
    recall: float = DEFAULT_RECALL,
    seed: int = 0,
    bands: int | None = None,
    bits_per_band: int | None = None,
    max_bucket_size: int | None = MAX_BUCKET_SIZE,
) -> CandidatePairs:
    """Pairs with Dice >= ``threshold`` found by bit-sampling LSH: :func:`lsh_search`
    without the report. A subset of ``candidate_pairs(filters, None, threshold)`` with the
    same scores, holding at least ``recall`` of the pairs at the threshold (in expectation,
    for filters of median popcount) and more of those above it."""
    pairs, _ = lsh_search(
        filters,
        threshold,
        recall=recall,
        seed=seed,
        bands=bands,
        bits_per_band=bits_per_band,
        max_bucket_size=max_bucket_size,
    )
    return pairs
