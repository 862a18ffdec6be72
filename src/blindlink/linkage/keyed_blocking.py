"""Keyed blocking: compare only records that share a blocking-key value the agencies computed.

Why: the exact search compares all n²/2 pairs, and bit-sampling LSH (``linkage.blocking``)
separates matches from random pairs only weakly on these filters. The agencies know far more
than the filters show -- a name's phonetic code, a birth year -- and can send it keyed
(``encoding.blocking_keys``: an 8-byte HMAC per value, so the coordinator sees only which
records agree). Records that share a value of at least one key are *candidates*; each is
scored exactly with Dice, so the result is a subset of the exact search's, with identical
scores. What it can lose is recall: a true pair that agrees on no key is never compared.

The search, for each key: the values of all records (a record may have several values of a
key, or none) are sorted by value and popcount, so records sharing a value form a *group*,
ordered by popcount; every pair within a group is scored by the same parallel bucket scanner
as LSH (``kernels.buckets``: popcount bound, integer tables that decide as the exact kernel
does), and passing pairs are merged, deduplicated, across groups and keys. A group of more
than ``max_group_size`` records (a key with too few classes, or a value shared by a crowd;
its pairs grow quadratically) is not expanded, and is counted in the report.

**Records without any key value** (every part of every key missing: no name, no date, ...)
would otherwise never be compared: they are compared with *all* records, exactly. That costs
``n`` comparisons per such record, so it is cheap while they are few; the report says how
many there were.

This module never needs, and must never import, ``blindlink.encoding``: the values are
opaque 64-bit integers compared for equality only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blindlink.errors import InputError
from blindlink.kernels.buckets import BucketScorer
from blindlink.kernels.dice import candidate_pairs
from blindlink.types import CandidatePairs, RecordBlockingKeys

__all__ = [
    "MAX_GROUP_SIZE",
    "BlockingKeyIndex",
    "KeyReport",
    "KeyedBlocker",
    "KeyedBlockingReport",
    "gather_blocking_keys",
    "keyed_candidate_pairs",
    "keyed_search",
]

#: Groups larger than this are not expanded (20,000 records are 2·10⁸ pairs, about a second
#: of one core). A sensible key has groups of tens to a few thousand records.
MAX_GROUP_SIZE = 20_000


@dataclass(frozen=True)
class BlockingKeyIndex:
    """The blocking keys of all records being linked (rows of the concatenated batches).

    For key ``names[k]``, ``values[k][j]`` is a value held by row ``rows[k][j]``; a row
    appears once per value it holds.
    """

    names: tuple[str, ...]
    rows: tuple[npt.NDArray[np.int64], ...]
    values: tuple[npt.NDArray[np.uint64], ...]
    n_records: int


def gather_blocking_keys(
    keys: Sequence[RecordBlockingKeys | None], sizes: Sequence[int], names: Sequence[str]
) -> BlockingKeyIndex:
    """One index over several batches' blocking keys, rows numbered across the batches.

    Raises :class:`InputError` (naming the file, from ``names``) when a batch has no
    blocking keys or other keys than the first one.
    """
    first: tuple[str, ...] | None = None
    for batch_keys, name in zip(keys, names, strict=True):
        if batch_keys is None:
            raise InputError(
                f"{name}: has no blocking keys; '--blocking keys' needs every file encoded "
                "with 'blindlink encode --blocking-keys' (and a schema with 'blocking_keys', "
                "as the built-in one), or use another --blocking"
            )
        if first is None:
            first = batch_keys.names
        elif batch_keys.names != first:
            raise InputError(
                f"{name}: has other blocking keys than {names[0]}; all files must be encoded "
                "with the same schema"
            )
    if first is None:
        raise InputError("nothing to link: give at least one encoded file")
    offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
    rows: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.uint64]] = []
    for k in range(len(first)):
        parts = [batch_keys.key(k) for batch_keys in keys if batch_keys is not None]
        rows.append(np.concatenate([r + offsets[b] for b, (r, _) in enumerate(parts)]))
        values.append(np.concatenate([v for _, v in parts]))
    return BlockingKeyIndex(first, tuple(rows), tuple(values), int(offsets[-1]))


@dataclass(frozen=True)
class KeyReport:
    """What one key contributed: its groups, the pairs in them, what the cap skipped."""

    name: str
    #: Records (with a non-empty filter) holding at least one value of this key.
    records: int
    #: Groups of two or more records sharing a value (expanded or not).
    groups: int
    #: Pairs within the expanded groups (a pair sharing two values counts twice).
    candidate_pairs: int
    largest_group: int
    groups_skipped: int
    pairs_skipped: int


@dataclass(frozen=True)
class KeyedBlockingReport:
    """What a keyed search did.

    ``candidate_pairs`` sums the keys' candidate pairs (a pair found through two keys, or two
    values of one key, counts each time: work done, and ``1 - candidate_pairs / all pairs``
    is a conservative reduction ratio); ``unkeyed_comparisons`` are the comparisons of the
    records without any key value against all records.
    """

    keys: tuple[KeyReport, ...]
    candidate_pairs: int
    dice_evaluations: int
    pairs_found: int
    #: Records (non-empty filter) with no value of any key: compared with every record.
    records_without_key: int
    unkeyed_comparisons: int
    #: Records with no bit set: they cannot reach a threshold above 0 and are not grouped.
    empty_records: int

    def summary(self) -> dict[str, object]:
        """The report as JSON-ready numbers, for stats.json (counts only, no values)."""
        return {
            "candidate_pairs": self.candidate_pairs,
            "pairs_found": self.pairs_found,
            "records_without_key": self.records_without_key,
            "groups_skipped": sum(key.groups_skipped for key in self.keys),
            "keys": [
                {
                    "name": key.name,
                    "records": key.records,
                    "groups": key.groups,
                    "candidate_pairs": key.candidate_pairs,
                    "largest_group": key.largest_group,
                    "groups_skipped": key.groups_skipped,
                }
                for key in self.keys
            ],
        }


def _groups(
    rows: npt.NDArray[np.int64], values: npt.NDArray[np.uint64], pop: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows sorted by (value, popcount), and the ``[start, stop)`` of each run of one value."""
    order = np.lexsort((pop[rows], values))
    rows, values = rows[order], values[order]
    if not rows.shape[0]:
        empty = np.zeros(0, dtype=np.int64)
        return rows, empty, empty
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate(([0], change, [rows.shape[0]])).astype(np.int64)
    return rows, bounds[:-1], bounds[1:]


def keyed_search(
    filters: npt.NDArray[np.uint8],
    index: BlockingKeyIndex,
    threshold: float,
    *,
    max_group_size: int | None = MAX_GROUP_SIZE,
) -> tuple[CandidatePairs, KeyedBlockingReport]:
    """Pairs with Dice >= ``threshold`` among records sharing a value of some key, plus the
    pairs of records without any key value, and a report.

    A self-join over ``filters`` (rows as in ``index``): each unordered pair once,
    ``row_a < row_b``, sorted by ``(row_a, row_b)``, scores identical to the exact
    search's. ``max_group_size=None`` expands every group, however large.
    """
    if filters.dtype != np.uint8 or filters.ndim != 2 or filters.shape[1] == 0:
        raise ValueError("filters must be a 2-D uint8 array of packed filters, one per row")
    if index.n_records != filters.shape[0]:
        raise ValueError(
            f"the blocking keys are for {index.n_records} records, the filters for "
            f"{filters.shape[0]}"
        )
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be between 0 and 1")
    if max_group_size is not None and max_group_size < 2:
        raise ValueError("max_group_size must be at least 2 (or None)")
    cap = max_group_size if max_group_size is not None else max(2, filters.shape[0])
    scorer = BucketScorer(filters, threshold)
    pop = scorer.pop
    live = pop > 0
    keyed = np.zeros(filters.shape[0], dtype=bool)
    reports: list[KeyReport] = []
    for name, rows, values in zip(index.names, index.rows, index.values, strict=True):
        usable = live[rows]
        rows, values = rows[usable], values[usable]
        keyed[rows] = True
        members, starts, stops = _groups(rows, values, pop)
        sizes = stops - starts
        pairs = sizes * (sizes - 1) // 2
        grouped = sizes >= 2
        expanded = grouped & (sizes <= cap)
        skipped = grouped & ~expanded
        # a group's rows are copied side by side first: a third faster than read in place
        scorer.score(members, pop[members], starts[expanded], stops[expanded], gather=True)
        reports.append(
            KeyReport(
                name=name,
                records=int(np.count_nonzero(np.bincount(rows, minlength=1))),
                groups=int(grouped.sum()),
                candidate_pairs=int(pairs[expanded].sum()),
                largest_group=int(sizes.max()) if sizes.shape[0] else 0,
                groups_skipped=int(skipped.sum()),
                pairs_skipped=int(pairs[skipped].sum()),
            )
        )
    lonely = np.flatnonzero(live & ~keyed).astype(np.int64)
    if lonely.shape[0]:
        _, a, b = candidate_pairs(scorer.filters[lonely], scorer.filters, threshold)
        rows_a = lonely[a]
        other = (rows_a != b) & live[b]  # empty filters stay out (they only reach 0)
        low, high = np.minimum(rows_a, b)[other], np.maximum(rows_a, b)[other]
        found = np.unique(low * scorer.n_rows + high)
        scorer.add(found)
        scorer.evaluations += int(lonely.shape[0]) * scorer.n_rows
    scores, rows_a, rows_b = scorer.pairs()
    report = KeyedBlockingReport(
        keys=tuple(reports),
        candidate_pairs=sum(key.candidate_pairs for key in reports),
        dice_evaluations=scorer.evaluations,
        pairs_found=int(scores.shape[0]),
        records_without_key=int(lonely.shape[0]),
        unkeyed_comparisons=int(lonely.shape[0]) * scorer.n_rows,
        empty_records=int((~live).sum()),
    )
    return CandidatePairs(scores, rows_a, rows_b), report


def keyed_candidate_pairs(
    filters: npt.NDArray[np.uint8],
    index: BlockingKeyIndex,
    threshold: float,
    *,
    max_group_size: int | None = MAX_GROUP_SIZE,
) -> CandidatePairs:
    """:func:`keyed_search` without the report: a subset of ``candidate_pairs(filters,
    None, threshold)`` with the same scores."""
    pairs, _ = keyed_search(filters, index, threshold, max_group_size=max_group_size)
    return pairs


class KeyedBlocker:
    """A keyed search over one index, callable like a pair search; keeps its last report.

    ``pipeline.link`` hands it to the candidate stage and reads :attr:`report` afterwards,
    for stats.json.
    """

    def __init__(self, index: BlockingKeyIndex, *, max_group_size: int | None = MAX_GROUP_SIZE):
        self.index = index
        self.max_group_size = max_group_size
        self.report: KeyedBlockingReport | None = None

    def __call__(self, filters: npt.NDArray[np.uint8], threshold: float) -> CandidatePairs:
        pairs, self.report = keyed_search(
            filters, self.index, threshold, max_group_size=self.max_group_size
        )
        return pairs
