"""Scaling the candidate search out: the local backend against Dask with 1 and 2 workers.

What is measured is the stage a backend distributes: the exact self-join of the filters at
the candidate floor (Dice >= 0.55, the call ``link``'s one-pass search makes), cut into
tiles (``blindlink.backends.tiles``). Encoding is excluded: the filters are synthetic,
1024 bits, each 15-30 % full (so every pair lies inside the popcount band at 0.55 and no
pair is skipped unseen: the worst case, like encoded filters at the floor), with 10 % of the
records planted as noisy copies (3 % of bits flipped) of others.

Two parts:

1. ``--full N`` (default 200,000): the whole search on N records, untiled kernel call
   (what ``link`` does without a backend), the local backend on tiles, and Dask with 1 and 2
   worker processes (1 thread each); every result is checked to be identical to the
   untiled one.
2. ``--records N --fraction F`` (default 1,000,000 and 1/8): the plan for N records is
   made, and a deterministic, evenly spread share F of its tiles (every ``1/F``-th, diagonal
   and off-diagonal alike) is computed on each backend; the time for all tiles is
   extrapolated by comparisons: ``measured seconds * all comparisons / measured comparisons``.
   Nothing is reduced (a partial plan would be refused); the per-tile costs are the point.

Per-tile costs: seconds per tile and comparisons per second per tile (median, min, max),
where a tile's comparisons are the pairs of records it covers. Cluster start-up is reported
apart and not counted. The machine is shared and noisy: rerun before trusting a difference
under 20 %.

    python benchmarks/dask_scale.py                  # 200k full + 1M at 1/8 of the tiles
    python benchmarks/dask_scale.py --quick          # a few seconds (the smoke test)
    python benchmarks/dask_scale.py --records 1000000 --fraction 1 --skip-full   # all of 1M
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.backends import Backend, LocalBackend, TileCost, TiledSearch
from blindlink.backends.tiles import TileResult, TileSpec, compute_tile, plan_tiles
from blindlink.kernels.dice import candidate_pairs

THRESHOLD = 0.55
BITS = 1024
CHUNK = 20_000


def synthetic_filters(n: int, seed: int) -> npt.NDArray[np.uint8]:
    """``n`` random filters 15-30 % full; 10 % of them noisy copies of others."""
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, n, CHUNK):
        rows = min(CHUNK, n - start)
        density = rng.uniform(0.15, 0.30, (rows, 1))
        parts.append(np.packbits(rng.random((rows, BITS)) < density, axis=1))
    filters = np.concatenate(parts) if parts else np.zeros((0, BITS // 8), np.uint8)
    planted = n // 10
    source = rng.choice(n, planted, replace=False)
    target = rng.choice(n, planted, replace=False)
    flips = np.packbits(rng.random((planted, BITS)) < 0.03, axis=1)
    filters[target] = filters[source] ^ flips
    return filters


def dask_backend(workers: int, tile_rows: int, processes: bool) -> Backend:
    from blindlink.backends.dask import DaskBackend

    return DaskBackend(workers=workers, tile_rows=tile_rows, processes=processes)


def cost_summary(costs: Sequence[TileCost]) -> dict[str, float]:
    seconds = [c.seconds for c in costs]
    rates = [c.comparisons_per_second for c in costs if c.seconds > 0]
    cpu_rates = [c.comparisons_per_cpu_second for c in costs if c.cpu_seconds > 0] or [0.0]
    return {
        "tiles": len(costs),
        "tile_s_median": statistics.median(seconds),
        "tile_s_min": min(seconds),
        "tile_s_max": max(seconds),
        "cmp_per_s_median": statistics.median(rates),
        "cmp_per_s_min": min(rates),
        "cmp_per_s_max": max(rates),
        "cmp_per_cpu_s_median": statistics.median(cpu_rates),
        "cmp_per_cpu_s_min": min(cpu_rates),
        "cmp_per_cpu_s_max": max(cpu_rates),
    }


def backends(tile_rows: int, workers: Sequence[int], processes: bool) -> list[tuple[str, Any]]:
    """(name, factory) of each backend measured: local on tiles, then Dask per worker count."""
    setups: list[tuple[str, Any]] = [
        ("local backend, tiles", lambda: LocalBackend(tile_rows=tile_rows))
    ]
    for w in workers:
        setups.append(
            (f"dask, {w} worker{'s' * (w > 1)}", lambda w=w: dask_backend(w, tile_rows, processes))
        )
    return setups


def full_run(
    n: int, tile_rows: int, workers: Sequence[int], processes: bool
) -> list[dict[str, Any]]:
    filters = synthetic_filters(n, seed=1)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    want = candidate_pairs(filters, None, THRESHOLD)
    untiled = time.perf_counter() - started
    comparisons = n * (n - 1) // 2
    rows.append({"backend": "untiled kernel (link without a backend)", "start_s": 0.0,
                 "search_s": untiled, "pairs": len(want[0]), "same": True,
                 "cmp_per_s": comparisons / untiled})  # fmt: skip
    setups = backends(tile_rows, workers, processes)
    for name, make in setups:
        started = time.perf_counter()
        with make() as backend:
            if hasattr(backend, "client"):
                backend.client  # noqa: B018 -- start the cluster outside the timed search
            start_s = time.perf_counter() - started
            started = time.perf_counter()
            got = TiledSearch(backend)(filters, None, THRESHOLD)
            search_s = time.perf_counter() - started
            same = all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
            rows.append({"backend": name, "start_s": start_s, "search_s": search_s,
                         "pairs": len(got[0]), "same": same,
                         "cmp_per_s": comparisons / search_s,
                         **cost_summary(backend.tile_costs)})  # fmt: skip
    return rows


def sample_tiles(specs: Sequence[TileSpec], fraction: float) -> list[TileSpec]:
    step = max(1, round(1 / fraction))
    return [spec for spec in specs if spec.index % step == 0]


def fraction_run(
    n: int,
    tile_rows: int,
    fraction: float,
    workers: Sequence[int],
    processes: bool,
    repeats: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    started = time.perf_counter()
    filters = synthetic_filters(n, seed=2)
    generate_s = time.perf_counter() - started
    specs = plan_tiles(n, THRESHOLD, tile_rows)
    chosen = sample_tiles(specs, fraction)
    total_cmp = sum(s.comparisons for s in specs)
    chosen_cmp = sum(s.comparisons for s in chosen)
    plan = {"records": n, "tile_rows": tile_rows, "tiles": len(specs), "tiles_run": len(chosen),
            "comparisons": total_cmp, "comparisons_run": chosen_cmp,
            "generate_s": generate_s, "filter_mib": filters.nbytes / 2**20}  # fmt: skip
    rows: list[dict[str, Any]] = []
    setups = backends(tile_rows, workers, processes)
    for repeat, (name, make) in ((r, s) for r in range(repeats) for s in setups):
        started = time.perf_counter()
        with make() as backend:
            if hasattr(backend, "client"):
                backend.client  # noqa: B018
            start_s = time.perf_counter() - started
            started = time.perf_counter()
            results: list[TileResult] = backend.map_tiles(compute_tile, chosen, filters, None)
            run_s = time.perf_counter() - started
        costs = [TileCost(r.index, r.rows[1] - r.rows[0], r.cols[1] - r.cols[0],
                          TileSpec(r.index, r.rows, r.cols, THRESHOLD).comparisons,
                          len(r.pairs), r.seconds, r.worker, r.cpu_seconds)
                 for r in results]  # fmt: skip
        cpu_s = sum(c.cpu_seconds for c in costs)
        rows.append({"backend": name, "repeat": repeat + 1, "start_s": start_s, "run_s": run_s,
                     "cpu_s": cpu_s, "cores_used": cpu_s / run_s,
                     "cmp_per_cpu_s": chosen_cmp / cpu_s,
                     "extrapolated_cpu_s": cpu_s * total_cmp / chosen_cmp,
                     "cmp_per_s": chosen_cmp / run_s,
                     "extrapolated_s": run_s * total_cmp / chosen_cmp,
                     "pairs": sum(c.pairs_found for c in costs),
                     **cost_summary(costs)})  # fmt: skip
    return plan, rows


def spread(row: dict[str, Any], key: str, scale: float = 1.0, digits: int = 2) -> str:
    """``median (min-max)`` of a per-tile measure."""
    values = [row[f"{key}_{part}"] / scale for part in ("median", "min", "max")]
    return f"{values[0]:.{digits}f} ({values[1]:.{digits}f}-{values[2]:.{digits}f})"


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


PER_TILE = ("tile s (median, min-max)", "G cmp/s per tile (median, min-max)")


def print_full(n: int, rows: list[dict[str, Any]]) -> None:
    comparisons = n * (n - 1) // 2
    print(f"\n### Whole search, {n:,} records ({comparisons:.3g} comparisons), Dice >= 0.55\n")
    header = ("backend", "start s", "search s", "G cmp/s", "pairs", "same as untiled", "tiles")
    print_table(
        (*header, *PER_TILE),
        [
            (
                r["backend"],
                f"{r['start_s']:.1f}",
                f"{r['search_s']:.1f}",
                f"{r['cmp_per_s'] / 1e9:.2f}",
                f"{r['pairs']:,}",
                "yes" if r["same"] else "NO",
                str(r.get("tiles", 1)),
                spread(r, "tile_s") if "tiles" in r else "-",
                spread(r, "cmp_per_s", 1e9) if "tiles" in r else "-",
            )
            for r in rows
        ],
    )


def print_fraction(plan: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    print(
        f"\n### {plan['records']:,} records: {plan['tiles_run']} of {plan['tiles']} tiles of "
        f"{plan['tile_rows']:,} rows run ({plan['comparisons_run']:.3g} of "
        f"{plan['comparisons']:.3g} comparisons), the rest extrapolated\n"
    )
    print(f"filters: {plan['filter_mib']:.0f} MiB, generated in {plan['generate_s']:.1f} s\n")
    header = ("backend", "run", "start s", "tiles run s", "G cmp/s", "all tiles s (extrap.)")
    print_table(
        (
            *header,
            "cores used",
            "CPU s (all tiles, extrap.)",
            "G cmp/CPU-s",
            *PER_TILE,
            "G cmp/CPU-s per tile",
            "pairs",
        ),  # fmt: skip
        [
            (
                r["backend"],
                str(r["repeat"]),
                f"{r['start_s']:.1f}",
                f"{r['run_s']:.1f}",
                f"{r['cmp_per_s'] / 1e9:.2f}",
                f"{r['extrapolated_s']:,.0f}",
                f"{r['cores_used']:.2f}",
                f"{r['extrapolated_cpu_s']:,.0f}",
                f"{r['cmp_per_cpu_s'] / 1e9:.2f}",
                spread(r, "tile_s", digits=1),
                spread(r, "cmp_per_s", 1e9),
                spread(r, "cmp_per_cpu_s", 1e9),
                f"{r['pairs']:,}",
            )
            for r in rows
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", type=int, default=200_000, help="records for the whole search")
    parser.add_argument("--full-tile-rows", type=int, default=25_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--tile-rows", type=int, default=62_500)
    parser.add_argument("--fraction", type=float, default=1 / 8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each backend, interleaved")
    parser.add_argument(
        "--threads", action="store_true", help="Dask workers as threads (quick; not for timing)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, threads")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if args.quick:
        args.full, args.full_tile_rows = 3_000, 700
        args.records, args.tile_rows, args.fraction, args.threads = 6_000, 1_000, 0.5, True
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cores} cores available, load average "
          f"{os.getloadavg()[0]:.1f}; Dask workers: {'threads' if args.threads else 'processes'}, "
          "1 thread each")  # fmt: skip
    report: dict[str, Any] = {}
    if not args.skip_full:
        report["full"] = full_run(args.full, args.full_tile_rows, args.workers, not args.threads)
        print_full(args.full, report["full"])
    plan, rows = fraction_run(args.records, args.tile_rows, args.fraction, args.workers,
                              not args.threads, args.repeats)  # fmt: skip
    report["fraction"] = {"plan": plan, "rows": rows}
    print_fraction(plan, rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
