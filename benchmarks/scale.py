"""Scale targets of the linkage core: wall time per stage, peak memory and quality of ``link``.

Two targets (docs/scale.md holds the measured numbers):

1. about 150,000 records from 4 agencies, linked end to end (encoding excluded) in at most
   60 s and 4 GB, with pairwise F1 >= 0.85 and the unique-person count within 3 %;
2. two agencies of 1,000,000 records each, linked with LSH blocking within 8 GB.

The records come from ``blindlink.synth`` (so the truth is known) and are encoded in memory
with the default schema (per chunk, to bound memory), then written as ``.blk`` files. The
linking itself runs in a fresh child process (this script again, with ``--stage link``) that
reads those files, as a coordinator would: its peak RSS is that of linking alone, not of the
generator and encoder that came before. The child reports, per stage, the wall and CPU
seconds and the peak RSS reached during that stage (``VmHWM``, reset at each stage start via
``/proc/self/clear_refs``, which resets ``ru_maxrss`` too), and the peak of the whole process
(the largest of those, or ``ru_maxrss`` where /proc cannot be reset).

Stages: by default the child calls ``blindlink.pipeline.link.link`` and times the stages it
announces through ``progress`` (comparing: candidate search plus density scores; fitting the
score model plus the threshold cut; clustering: solver, link probabilities, statistics and
entity ids). ``--detail`` runs a copy of ``link``'s steps instead, calling the same library
functions one by one, so the candidate search, density scoring, solver and the rest are timed
apart and the candidate count (and, with LSH, the blocking report and pairs completeness) is
known; it keeps the candidate arrays alive a little longer than ``link`` does.

    python benchmarks/scale.py                          # smoke: 2,000 persons, 4 agencies
    python benchmarks/scale.py --persons 86000          # target 1, seed 1: 163,056 records
    python benchmarks/scale.py --persons 86000 --detail # the same, stage by stage
    python benchmarks/scale.py --persons 93000 --seed 2 # target 1, seed 2: 161,778 records
    python benchmarks/scale.py --persons 98000 --seed 3 # target 1, seed 3: 149,473 records
    python benchmarks/scale.py --persons 86000 --threshold 0.66     # other thresholds
    # target 2: 1M x 1M (generate + encode ~2.5 min; link() refuses to plan LSH there)
    python benchmarks/scale.py --pair 1000000 --blocking lsh --workdir /tmp/scale/pair1000000
    # where it breaks: smaller pairs, stopped at 12 GB or 30 min
    python benchmarks/scale.py --pair 100000 --blocking lsh --detail --max-rss-gb 12
    python benchmarks/scale.py --pair 200000 --blocking lsh --detail --max-rss-gb 12
    python benchmarks/scale.py --pair 250000 --blocking lsh --detail --max-rss-gb 12
    python benchmarks/scale.py --pair 500000 --blocking lsh --detail --max-rss-gb 12 \\
        --max-seconds 1800
    # what LSH would need, and what a bounded exact top-k pass costs, on the 1M x 1M files
    python benchmarks/scale.py --pair 1000000 --workdir /tmp/scale/pair1000000 \\
        --lsh-plans 200000 500000 1000000 1500000 2000000
    python benchmarks/scale.py --pair 1000000 --workdir /tmp/scale/pair1000000 --knn-probe 10

``--workdir`` keeps the encoded files and the truth there and reuses them when the data
arguments match, so the linking can be rerun without generating and encoding again.
``--max-rss-gb`` and ``--max-seconds`` stop the linking process (the parent samples its RSS
every 0.5 s and writes the timeline to ``rss.csv`` in the work folder) and name the stage it
was in. The machine is shared: rerun a timing before trusting a difference under 20 %.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from blindlink.encoding.encoder import Encoder
from blindlink.io.blk import read_blk, write_blk
from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.blocking import (
    DEFAULT_RECALL,
    MAX_BANDS,
    RECORD_BAND_COST,
    lsh_search,
    plan_lsh,
)
from blindlink.linkage.candidates import one_pass, select_scored, two_pass
from blindlink.linkage.cluster import ClusteringRule
from blindlink.linkage.probability import automatic_threshold, fit_score_mixture
from blindlink.linkage.scoring import DensityAdjustment, record_offsets
from blindlink.linkage.solvers import LinkageProblem, solver_named
from blindlink.pipeline.link import (
    DEFAULT_THRESHOLD,
    EXACT_LIMIT,
    SAME_AGENCY_MARGIN,
    Threshold,
    _entity_ids,
    candidate_floors,
    default_threshold,
    link,
)
from blindlink.schema import default_schema
from blindlink.stats.aggregates import linkage_statistics
from blindlink.stats.quality import PairwiseQuality, pairwise_quality
from blindlink.synth import generate
from blindlink.types import CandidatePairs, EncodedBatch

SECRET = b"benchmark-secret-0123456789abcdef"
#: Records encoded per call: bounds the encoder's boolean bit matrix (1 KiB per record).
ENCODE_CHUNK = 100_000
#: Persons generated per record wanted in each agency of ``--pair``: the generator's first two
#: agencies capture about 0.3 to 0.4 of the persons each, depending on seed and size (the
#: agencies are drawn after the population); ``_make_data`` generates more where it falls short.
PERSONS_PER_PAIR_RECORD = 2.6
MANIFEST = "manifest.json"
STAGE_LOG = "stages.jsonl"
#: The parent samples the linking process's RSS this often (seconds).
SAMPLE_EVERY = 0.5
KB = 1024


# ------------------------------------------------------------------------------- memory


def _status_kb(key: str) -> int:
    """A ``VmXXX`` line of /proc/self/status in KiB (0 where /proc is not available)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS, so the next reading is the peak of one stage."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _max_rss_mib() -> float:
    """Peak RSS of this process over its whole life (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KB


@dataclass
class StageClock:
    """Wall seconds, CPU seconds and peak RSS of each named stage, one stage after another.

    Why VmHWM and not ru_maxrss: the latter cannot be reset, so it only tells the peak of the
    whole process; resetting VmHWM at each stage start tells which stage sets the peak.
    """

    #: Each stage start and finished stage is appended here as a JSON line, so that a parent
    #: that has to stop this process knows which stage it stopped and what went before.
    log: Path | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    _name: str | None = None
    _wall: float = 0.0
    _cpu: float = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._name, self._wall, self._cpu = name, time.perf_counter(), time.process_time()
        _reset_peak()
        self._write({"started": name})

    def stop(self) -> None:
        if self._name is None:
            return
        self.stages.append(
            {
                "stage": self._name,
                "wall_s": time.perf_counter() - self._wall,
                "cpu_s": time.process_time() - self._cpu,
                "peak_rss_mib": _status_kb("VmHWM") / KB,
                "rss_after_mib": _status_kb("VmRSS") / KB,
            }
        )
        self._write(self.stages[-1])
        self._name = None

    def _write(self, entry: dict[str, Any]) -> None:
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")


# ------------------------------------------------------------------------------- data


def _encode(rows: Sequence[dict[str, str]], agency: str) -> EncodedBatch:
    """One agency's batch, as ``blindlink.pipeline.encode`` would make it (not used: it is
    being rewritten), encoded per chunk so the encoder's bit matrix stays small."""
    schema = default_schema()
    encoder = Encoder(schema, SECRET)
    chunks = [
        encoder.encode(rows[start : start + ENCODE_CHUNK])
        for start in range(0, len(rows), ENCODE_CHUNK)
    ]
    filters = np.concatenate(chunks) if chunks else np.zeros((0, schema.filter_bits // 8), np.uint8)
    return EncodedBatch(
        agency=agency,
        schema_fingerprint=schema.fingerprint,
        key_check=encoder.key_check,
        filter_bits=schema.filter_bits,
        record_ids=tuple(row["record_id"] for row in rows),
        filters=filters,
    )


def _make_data(args: argparse.Namespace) -> dict[str, Any]:
    """Agencies' rows and truth: ``--persons`` over ``--agencies``, or ``--pair`` records in
    each of two agencies (the generator's first two agencies, each cut to ``--pair`` records;
    its rows are in random order, so the cut is a random sample of each agency)."""
    if args.pair:
        persons = int(args.pair * PERSONS_PER_PAIR_RECORD)
        for _ in range(3):  # capture shares vary with seed and size: grow until both suffice
            data = generate(n_persons=persons, n_agencies=2, seed=args.seed)
            fewest = min(len(rows) for rows in data.agencies.values())
            if fewest >= args.pair:
                break
            persons = int(persons * args.pair / fewest * 1.05)
        else:
            raise SystemExit(f"too few records generated for --pair {args.pair}")
        agencies = {name: rows[: args.pair] for name, rows in data.agencies.items()}
    else:
        data = generate(n_persons=args.persons, n_agencies=args.agencies, seed=args.seed)
        agencies = data.agencies
    return {"agencies": agencies, "truth": data.truth, "persons": data.n_persons}


def prepare(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Generate, encode and write the agencies' ``.blk`` files and the truth (person number of
    each record, in link order) to ``workdir``; reuse them when the data arguments match."""
    wanted = {
        "persons": None if args.pair else args.persons,
        "agencies": 2 if args.pair else args.agencies,
        "pair": args.pair,
        "seed": args.seed,
    }
    manifest_path = workdir / MANIFEST
    if manifest_path.exists():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["data"] == wanted:
            print(f"reusing the encoded files in {workdir}")
            return manifest
    start = time.perf_counter()
    made = _make_data(args)
    generated = time.perf_counter() - start
    agencies: dict[str, list[dict[str, str]]] = made["agencies"]
    truth_map: dict[tuple[str, str], str] = made["truth"]
    person_number: dict[str, int] = {}
    truth: list[int] = []
    files: list[str] = []
    start = time.perf_counter()
    for name, rows in agencies.items():
        batch = _encode(rows, name)
        path = workdir / f"{name}.blk"
        write_blk(path, batch)
        files.append(path.name)
        for record_id in batch.record_ids:
            truth.append(person_number.setdefault(truth_map[(name, record_id)], len(person_number)))
    encoded = time.perf_counter() - start
    np.save(workdir / "truth.npy", np.asarray(truth, dtype=np.int64))
    manifest = {
        "data": wanted,
        "files": files,
        "records": {name: len(rows) for name, rows in agencies.items()},
        "generated_persons": made["persons"],
        "generate_s": round(generated, 1),
        "encode_s": round(encoded, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


# ------------------------------------------------------------------------------- linking


def _candidate_floor(threshold: float | Literal["auto"]) -> float:
    """The lowest Dice ``link`` searches for at this threshold (``"auto"``: the model floor)."""
    return candidate_floors(threshold, DensityAdjustment())[0]


def _link_by_stages(
    batches: Sequence[EncodedBatch],
    clock: StageClock,
    *,
    threshold: Threshold,
    blocking: str,
    seed: int,
) -> tuple[npt.NDArray[np.int64], dict[str, Any], CandidatePairs]:
    """The steps of ``link`` (multiparty solver, default density adjustment and margins), one
    stage each, with the candidates and the LSH report kept for the caller.

    A copy of ``blindlink.pipeline.link.link``'s body: if that changes, this must follow.
    """
    clock.start("concatenate filters")
    adjustment = DensityAdjustment()
    solver = solver_named("multiparty")
    filters = np.concatenate([b.filters for b in batches])
    agency_of = np.repeat(np.arange(len(batches)), [len(b) for b in batches]).astype(np.int64)
    if threshold == "default":
        threshold = default_threshold(filters.shape[0])
    lowest, keep_from = candidate_floors(threshold, adjustment)
    if blocking == "auto":
        blocking = "exact" if filters.shape[0] <= EXACT_LIMIT else "bounded"
    info: dict[str, Any] = {"candidate_floor": lowest, "search": blocking}
    if blocking == "lsh":
        clock.start("candidate search (LSH)")
        candidates, report = lsh_search(filters, min(lowest, adjustment.floor))
        plan = report.plan
        info["lsh_report"] = {
            "bits_per_band": plan.bits_per_band,
            "bands": plan.bands,
            "expected_recall": plan.expected_recall,
            "expected_comparisons": plan.expected_comparisons,
            "candidate_pairs": report.candidate_pairs,
            "dice_evaluations": report.dice_evaluations,
            "pairs_found": report.pairs_found,
            "buckets_skipped": report.buckets_skipped,
            "largest_bucket": report.largest_bucket,
        }
        info["raw_candidates"] = len(candidates)
        clock.start("density scores")
        offsets = record_offsets(candidates, filters.shape[0], adjustment, agency_of)
        scored = select_scored(candidates, offsets, lowest, keep_from)
    else:
        search = one_pass if blocking == "exact" else two_pass
        clock.start(f"candidate search + density scores ({blocking})")
        scored = search(filters, lowest, keep_from, adjustment, agency_of=agency_of)
    candidates = scored.pairs
    info["candidates"] = len(candidates)
    clock.start("fit score model + cut")
    model = fit_score_mixture(scored.pairs.scores)
    if threshold == "auto":
        value = automatic_threshold(model, scored.pairs.scores) if model else DEFAULT_THRESHOLD
    else:
        value = float(threshold)
    info["threshold"] = value
    keep = scored.pairs.scores >= value
    kept = CandidatePairs(
        scored.pairs.scores[keep], scored.pairs.rows_a[keep], scored.pairs.rows_b[keep]
    )
    info["links_above_threshold"] = len(kept)
    rule = ClusteringRule(threshold=value, same_agency_threshold=value + SAME_AGENCY_MARGIN)
    clock.start("clustering (multiparty solver)")
    labels = solver.solve(LinkageProblem(filters, agency_of, kept, scored.offsets, rule))
    clock.start("links, statistics, entity ids")
    inside = labels[kept.rows_a] == labels[kept.rows_b]
    link_scores = kept.scores[inside]
    if model is not None:
        model.probability(link_scores)
    linkage_statistics(tuple(b.agency for b in batches), agency_of, labels)
    _entity_ids(int(labels.max()) + 1 if labels.size else 0, seed)
    info["links"] = int(inside.sum())
    clock.stop()
    return labels, info, candidates


def _pairs_completeness(candidates: CandidatePairs, truth: npt.NDArray[np.int64]) -> float:
    """Share of true pairs (two records of one person) among the candidate pairs."""
    _, counts = np.unique(truth, return_counts=True)
    true_pairs = int((counts * (counts - 1) // 2).sum())
    found = int(np.count_nonzero(truth[candidates.rows_a] == truth[candidates.rows_b]))
    return found / true_pairs if true_pairs else 1.0


def run_link_stage(args: argparse.Namespace) -> None:
    """The child: read the files, link, and write ``result.json`` and ``labels.npy``."""
    workdir = Path(args.workdir)
    manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    clock = StageClock(log=workdir / STAGE_LOG)
    base_rss = _status_kb("VmRSS") / KB
    clock.start("read .blk files")
    batches = [read_blk(workdir / name) for name in manifest["files"]]
    clock.stop()
    candidates: CandidatePairs | None = None
    started = time.perf_counter()
    if args.detail:
        labels, info, candidates = _link_by_stages(
            batches, clock, threshold=args.threshold, blocking=args.blocking, seed=args.link_seed
        )
    else:
        announced: Callable[[str], None] = clock.start
        result = link(
            batches,
            threshold=args.threshold,
            blocking=args.blocking,
            seed=args.link_seed,
            progress=announced,
        )
        clock.stop()
        labels = result.labels
        info = {"threshold": result.threshold, "links": result.statistics["linkage"]["links"]}
    link_seconds = time.perf_counter() - started
    output: dict[str, Any] = {
        "records": int(labels.shape[0]),
        "link_s": link_seconds,
        "stages": clock.stages,
        "rss_at_start_mib": base_rss,
        # clear_refs resets ru_maxrss with VmHWM: the process peak is the largest stage peak
        "max_rss_mib": max([_max_rss_mib()] + [s["peak_rss_mib"] for s in clock.stages]),
        "threads": os.cpu_count(),
        **info,
    }
    truth_path = workdir / "truth.npy"
    if candidates is not None and truth_path.exists():  # after every measurement above
        output["pairs_completeness"] = _pairs_completeness(candidates, np.load(truth_path))
    np.save(workdir / "labels.npy", labels)
    (workdir / "result.json").write_text(json.dumps(output, indent=2) + "\n", encoding="utf-8")


def _spawn_link(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the linking in a fresh interpreter, so its peak RSS is its own."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--stage",
        "link",
        "--workdir",
        str(workdir),
        "--blocking",
        args.blocking,
        "--threshold",
        str(args.threshold),
        "--link-seed",
        str(args.link_seed),
    ] + (["--detail"] if args.detail else [])
    for stale in (STAGE_LOG, "result.json", "labels.npy"):
        (workdir / stale).unlink(missing_ok=True)
    limit_mib = args.max_rss_gb * KB if args.max_rss_gb else float("inf")
    limit_s = args.max_seconds or float("inf")
    started = time.perf_counter()
    timeline: list[str] = ["seconds,rss_mib,stage"]
    stopped = ""
    with subprocess.Popen(command) as child:
        while child.poll() is None:
            time.sleep(SAMPLE_EVERY)
            rss = _child_rss_mib(child.pid)
            elapsed = time.perf_counter() - started
            stage = _stage_log(workdir)[1]
            timeline.append(f"{elapsed:.1f},{rss:.0f},{stage}")
            if rss > limit_mib or elapsed > limit_s:
                what = f"RSS {rss:,.0f} MiB" if rss > limit_mib else f"{elapsed:.0f} s"
                stopped = f"stopped at {what}, {elapsed:.0f} s in, during stage {stage!r}"
                child.kill()
                child.wait()
    (workdir / "rss.csv").write_text("\n".join(timeline) + "\n", encoding="utf-8")
    if stopped or child.returncode:
        done, _ = _stage_log(workdir)
        for entry in done:
            print(
                f"  finished {entry['stage']}: {entry['wall_s']:.1f} s, "
                f"peak RSS {entry['peak_rss_mib']:,.0f} MiB"
            )
        peak = max((float(line.split(",")[1]) for line in timeline[1:]), default=0.0)
        raise SystemExit(
            f"linking {stopped or f'failed (exit status {child.returncode})'}; "
            f"highest RSS sampled {peak:,.0f} MiB; timeline in {workdir / 'rss.csv'}"
        )
    result: dict[str, Any] = json.loads((workdir / "result.json").read_text(encoding="utf-8"))
    return result


def _child_rss_mib(pid: int) -> float:
    """Current RSS of process ``pid`` (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / KB
    except OSError:
        pass
    return 0.0


def _stage_log(workdir: Path) -> tuple[list[dict[str, Any]], str]:
    """Finished stages so far, and the stage running now ("" before the first one)."""
    path = workdir / STAGE_LOG
    if not path.exists():
        return [], ""
    done: list[dict[str, Any]] = []
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a line being written
            continue
        if "started" in entry:
            current = entry["started"]
        else:
            done.append(entry)
            current = ""
    return done, current


def _pairs_above(filters: npt.NDArray[np.uint8], floor: float, samples: int) -> float:
    """Estimated pairs with Dice >= ``floor`` among all pairs of ``filters``, from a seeded
    sample of random pairs (almost all such pairs are non-matches, so sampling finds them)."""
    rng = np.random.default_rng(1)
    n = int(filters.shape[0])
    a = rng.integers(0, n, samples)
    b = rng.integers(0, n, samples)
    b[a == b] = (b[a == b] + 1) % n
    inter = np.bitwise_count(filters[a] & filters[b]).sum(axis=1, dtype=np.int64)
    pop = np.bitwise_count(filters).sum(axis=1, dtype=np.int64)
    total = pop[a] + pop[b]
    dice = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)
    share = float(np.count_nonzero(dice >= floor)) / samples
    return share * n * (n - 1) / 2


def lsh_plans(workdir: Path, threshold: Threshold, sizes: Sequence[int]) -> None:
    """What LSH blocking at ``link``'s candidate floor would cost on the first ``size``
    records of a random order of these filters: the plan ``link`` would use or, where
    ``plan_lsh`` refuses it (more than ``MAX_BANDS`` bands), the cheapest band width by the
    planner's own cost model, and how many pairs reach the floor (which the search must
    return and keep). Planning only samples pairs, so this is quick where linking is not."""
    manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    filters = np.concatenate([read_blk(workdir / name).filters for name in manifest["files"]])
    filters = filters[np.random.default_rng(0).permutation(filters.shape[0])]
    print(f"LSH plans at link's candidate floor (recall target {DEFAULT_RECALL})")
    print("| records | floor | plan | r | bands L | expected comparisons | pairs >= floor (est.) |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        part = filters[: min(size, filters.shape[0])]
        n = part.shape[0]
        floor = _candidate_floor(default_threshold(n) if threshold == "default" else threshold)
        above = _pairs_above(part, floor, 2_000_000)
        try:
            plan = plan_lsh(part, floor)
            rows = [("link's plan", plan.bits_per_band, plan.bands, plan.expected_comparisons)]
        except ValueError:
            options = []
            for r in range(10, 30):
                single = plan_lsh(part, floor, bits_per_band=r, bands=1)
                p, q = single.expected_recall, single.random_band_collision
                bands = math.ceil(math.log1p(-DEFAULT_RECALL) / math.log1p(-p))
                cost = (RECORD_BAND_COST * n + n * (n - 1) / 2 * q) / -math.log1p(-p)
                options.append((cost, r, bands, bands * n * (n - 1) / 2 * q))
            cheapest = min(options)
            allowed = min(o for o in options if o[2] <= MAX_BANDS)
            rows = [
                (f"refused (> {MAX_BANDS:,} bands); cheapest", *cheapest[1:]),
                (f"cheapest within {MAX_BANDS:,} bands", *allowed[1:]),
            ]
        for label, r, bands, comparisons in rows:
            print(
                f"| {n:,} | {floor:.3g} | {label} | {r} | {bands:,} | {comparisons:.3g} | "
                f"{above:.3g} |"
            )


def knn_probe(workdir: Path, threshold: Threshold, k: int) -> None:
    """Time the exact kernel's bounded-output mode on all records: every record's ``k`` best
    partners with Dice >= ``link``'s candidate floor (``candidate_pairs(..., k=k)``), the
    first pass a density adjustment needs. Unlike the all-pairs-above-the-floor result that
    ``link`` keeps (quadratic in the records), its output is at most ``n * k`` pairs, so this
    shows what an all-pairs scan costs at this size when memory is not the limit."""
    manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    filters = np.concatenate([read_blk(workdir / name).filters for name in manifest["files"]])
    if threshold == "default":
        threshold = default_threshold(filters.shape[0])
    floor = _candidate_floor(threshold)
    _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    scores, _, _ = candidate_pairs(filters, None, floor, k=k)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"exact top-{k} at Dice >= {floor} over {filters.shape[0]:,} records: {wall:.1f} s wall "
        f"({cpu:.1f} s CPU), {scores.shape[0]:,} pairs, peak RSS {_status_kb('VmHWM') / KB:,.0f}"
        " MiB (this process, files included)"
    )


# ------------------------------------------------------------------------------- quality


def _pair_count(*keys: npt.NDArray[np.int64]) -> int:
    """Pairs of records that agree on every key array: sum of c(c-1)/2 over the groups."""
    _, counts = np.unique(np.stack(keys), axis=1, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def cross_agency_quality(
    labels: npt.NDArray[np.int64], truth: npt.NDArray[np.int64], agency: npt.NDArray[np.int64]
) -> PairwiseQuality:
    """Pairwise quality over pairs of records from different agencies only (all pairs minus
    the pairs within one agency), the part a two-agency linkage is about."""

    def across(*keys: npt.NDArray[np.int64]) -> int:
        return _pair_count(*keys) - _pair_count(*keys, agency)

    return PairwiseQuality(across(labels, truth), across(labels), across(truth))


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def report(manifest: dict[str, Any], result: dict[str, Any], workdir: Path) -> None:
    labels = np.load(workdir / "labels.npy")
    truth = np.load(workdir / "truth.npy")
    agency = np.repeat(np.arange(len(manifest["records"])), list(manifest["records"].values()))
    # the labels are result.labels; result.rows() maps them one-to-one to entity ids
    overall = pairwise_quality(labels.tolist(), truth.tolist())
    across = cross_agency_quality(labels, truth, agency)
    found = int(labels.max()) + 1 if labels.size else 0
    true_persons = int(np.unique(truth).shape[0])
    records = ", ".join(f"{name} {count:,}" for name, count in manifest["records"].items())
    print(f"records: {result['records']:,} ({records}); {result['threads']} threads")
    print(
        f"generate {manifest['generate_s']} s, encode {manifest['encode_s']} s "
        "(not part of the linking)"
    )
    print("| stage | wall s | cpu s | peak RSS MiB | RSS after MiB |")
    print("|---|---:|---:|---:|---:|")
    for stage in result["stages"]:
        print(
            f"| {stage['stage']} | {stage['wall_s']:.2f} | {stage['cpu_s']:.2f} | "
            f"{stage['peak_rss_mib']:,.0f} | {stage['rss_after_mib']:,.0f} |"
        )
    print(
        f"link wall {result['link_s']:.1f} s (reading the files excluded); "
        f"peak RSS of the linking process (ru_maxrss) {result['max_rss_mib']:,.0f} MiB; "
        f"interpreter and imports {result['rss_at_start_mib']:,.0f} MiB"
    )
    counts = ("threshold", "candidate_floor", "candidates", "links_above_threshold", "links")
    print("; ".join(f"{key} {_number(result[key])}" for key in counts if key in result))
    if "lsh_report" in result:
        print("LSH: " + ", ".join(f"{k} {_number(v)}" for k, v in result["lsh_report"].items()))
    if "pairs_completeness" in result:
        completeness = result["pairs_completeness"]
        print(f"pairs completeness (true pairs among the candidates): {completeness:.4f}")
    error = (found - true_persons) / true_persons if true_persons else 0.0
    print(
        f"pairwise P {overall.precision:.4f} R {overall.recall:.4f} F1 {overall.f1:.4f} "
        f"(true pairs {overall.true_pairs:,}); across agencies P {across.precision:.4f} "
        f"R {across.recall:.4f} F1 {across.f1:.4f} (true pairs {across.true_pairs:,})"
    )
    print(f"persons found {found:,} / true {true_persons:,} ({error:+.2%})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=2000, help="persons to generate")
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument(
        "--pair", type=int, default=0, help="instead: two agencies of this many records each"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--link-seed", type=int, default=1, help="seed given to link()")
    parser.add_argument(
        "--threshold",
        type=lambda text: text if text in ("auto", "default") else float(text),
        default="default",
        help="a number, 'auto' or 'default' (link's default: by caseload size)",
    )
    parser.add_argument("--blocking", choices=("auto", "exact", "bounded", "lsh"), default="auto")
    parser.add_argument("--detail", action="store_true", help="time link()'s steps one by one")
    parser.add_argument("--workdir", help="keep (and reuse) the encoded files here")
    parser.add_argument(
        "--max-rss-gb", type=float, help="stop the linking process when its RSS passes this"
    )
    parser.add_argument("--max-seconds", type=float, help="stop the linking after this long")
    parser.add_argument(
        "--lsh-plans",
        type=int,
        nargs="+",
        metavar="RECORDS",
        help="instead of linking: LSH plans at link's candidate floor for these input sizes",
    )
    parser.add_argument(
        "--knn-probe",
        type=int,
        metavar="K",
        help="instead of linking: time the exact kernel's top-K search at the candidate floor",
    )
    parser.add_argument("--stage", choices=("all", "link"), default="all", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "link":
        run_link_stage(args)
        return
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        manifest = prepare(args, workdir)
        if args.lsh_plans:
            lsh_plans(workdir, args.threshold, args.lsh_plans)
            return
        if args.knn_probe:
            knn_probe(workdir, args.threshold, args.knn_probe)
            return
        result = _spawn_link(args, workdir)
        report(manifest, result, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
