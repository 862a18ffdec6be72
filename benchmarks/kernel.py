"""Dice kernel benchmark: blindlink against anonlink, one process, the same filters.

Prints markdown tables (docs/kernel.md quotes them):

1. candidate search at thresholds 0.5 (top-k, k=10), 0.7, 0.8, 0.9: wall-clock medians,
   comparisons per second (n * m / time, the measure anonlink reports), the speed-up, and
   whether both tools returned the very same pairs and scores;
2. where that rate stands against the machine: the share of pairs inside the popcount band
   (the rest are never touched) and the rate on those pairs per CPU-second as a fraction
   of the measured AND-popcount limit (a loop that does nothing but the tile
   AND-popcount-add on data in L1), per CPU-second so that other load on a shared machine
   cancels out; above 100% means the early-exit checkpoints skipped words;
3. end to end at 0.7: candidates + greedy 1-to-1 solve (``anonlink.solving.greedy_solve``
   against ``blindlink.kernels.greedy.greedy_match``), and whether the matchings agree.

    python benchmarks/kernel.py                     # 20k x 20k, 1024-bit filters
    python benchmarks/kernel.py --data encoded      # filters of synthetic persons, encoded
    python benchmarks/kernel.py --quick --no-peers  # a few seconds; the smoke test runs this

``--data random`` (default) draws filters 15-30% full and makes 10% of the second set noisy
copies of first-set rows; ``--data encoded`` generates persons with ``blindlink.synth`` and
encodes two agencies with the default schema, which gives real CLK structure (non-matching
pairs score ~0.3 instead of ~0.2). The machine is shared: every figure is a median.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from blindlink.kernels.dice import band_pairs, candidate_pairs
from blindlink.kernels.greedy import greedy_match
from blindlink.kernels.simd import (
    CHECKPOINTS,
    TILE_ROWS,
    aligned_zeros,
    popcount_instructions,
    tile_intersections,
)

SECRET = b"benchmark-secret-0123456789abcdef"
SETTINGS: list[tuple[float, int | None]] = [(0.5, 10), (0.7, None), (0.8, None), (0.9, None)]


def clk_like(n: int, m: int, seed: int, bits: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Filters 15-30% full; 10% of the rows of B are noisy copies of rows of A."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, bits)) < rng.uniform(0.15, 0.30, (n, 1))
    b = rng.random((m, bits)) < rng.uniform(0.15, 0.30, (m, 1))
    planted = m // 10
    source = rng.choice(n, planted, replace=False)
    target = rng.choice(m, planted, replace=False)
    noise = rng.random((planted, bits)) < rng.uniform(0.0, 0.04, (planted, 1))
    b[target] = a[source] ^ noise
    return np.packbits(a, axis=1), np.packbits(b, axis=1)


def encoded(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two agencies' filters of synthetic persons, encoded with the default schema."""
    from blindlink.pipeline.encode import encode
    from blindlink.synth import generate

    data = generate(n_persons=4 * n, n_agencies=2, seed=seed)
    a, b = (
        encode(rows, secret=SECRET, agency=name).filters for name, rows in data.agencies.items()
    )
    return a[:n], b[:n]


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall seconds, median process CPU seconds, and the last result."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


@numba.njit(nogil=True)  # not cached: numba would not notice edits of simd.py
def _and_popcount_loop(rows, tiles, rest_a, rest_b, out, repeats):  # type: ignore[no-untyped-def]
    hits = 0
    for _ in range(repeats):
        for i in range(rows.shape[0]):
            for t in range(tiles.shape[0]):
                hits += tile_intersections(rows, i, tiles, t, 1 << 20, out, rest_a, rest_b, 0)
    return hits


def and_popcount_limit(a: np.ndarray, b: np.ndarray, threads: int, seconds: float) -> float:
    """Pairs per CPU-second of the bare tile loop: AND, popcount, add; no prefilter, no output.

    64 rows of A against 256 rows of B (32 KiB of tiles: L1-resident), so memory never
    limits it: this is the instruction-throughput ceiling of the kernel's inner loop on one
    core of this CPU. It runs on ``threads`` threads at once, as the kernel does, and is
    divided by process CPU time, so a core taken by another process does not count.
    """
    words_a = np.ascontiguousarray(a[:64]).view(np.uint64)
    words_b = np.ascontiguousarray(b[:256]).view(np.uint64)
    tiles = aligned_zeros((words_b.shape[0] // TILE_ROWS, words_b.shape[1], TILE_ROWS))
    tiles[...] = words_b.reshape(-1, TILE_ROWS, words_b.shape[1]).transpose(0, 2, 1)
    rest_a = np.zeros((words_a.shape[0], CHECKPOINTS), dtype=np.int64)
    rest_b = np.zeros((tiles.shape[0], CHECKPOINTS, TILE_ROWS), dtype=np.int64)
    pairs_per_repeat = words_a.shape[0] * tiles.shape[0] * TILE_ROWS

    def run(repeats: int) -> None:
        out = np.empty(TILE_ROWS + 1, dtype=np.int64)
        _and_popcount_loop(words_a, tiles, rest_a, rest_b, out, repeats)

    run(1)
    start = time.process_time()
    run(50)
    repeats = max(1, int(50 * seconds / max(time.process_time() - start, 1e-9)))
    rates = []
    for _ in range(3):
        workers = [threading.Thread(target=run, args=(repeats,)) for _ in range(threads)]
        start = time.process_time()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        rates.append(threads * repeats * pairs_per_repeat / (time.process_time() - start))
    return statistics.median(rates)


def rate(pairs: int, seconds: float) -> str:
    """Millions of pairs per second, as a table cell."""
    return f"{pairs / seconds / 1e6:.0f}"


def cpu_description() -> tuple[str, bool]:
    """CPU model name and whether it has AVX-512 VPOPCNTDQ (Linux; elsewhere a best guess)."""
    try:
        with open("/proc/cpuinfo") as info:
            text = info.read()
    except OSError:
        return platform.processor() or platform.machine(), False
    names = [line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line]
    return (names[0] if names else platform.machine()), "avx512_vpopcntdq" in text


def to_bitarrays(filters: np.ndarray) -> list[Any]:
    import bitarray

    out = []
    for row in filters:
        bits = bitarray.bitarray()
        bits.frombytes(row.tobytes())
        out.append(bits)
    return out


def anonlink_k_rule(ours: tuple[np.ndarray, ...], k: int) -> tuple[np.ndarray, ...]:
    """Our top-k pairs filtered by the rule ``find_candidate_pairs`` adds on top of its
    per-row top k: walking all pairs best first, a pair survives only while *both* of its
    records have been seen in at most k pairs (``anonlink.candidate_generation._enforce_k``).
    blindlink's ``k`` is the per-row-of-A top k alone; this makes the outputs comparable.
    """
    scores, rows_a, rows_b = ours
    seen_a: dict[int, int] = {}
    seen_b: dict[int, int] = {}
    keep = np.zeros(scores.shape[0], dtype=bool)
    for e in np.lexsort((rows_b, rows_a, -scores)).tolist():
        a, b = int(rows_a[e]), int(rows_b[e])
        seen_a[a] = seen_a.get(a, 0) + 1
        seen_b[b] = seen_b.get(b, 0) + 1
        keep[e] = seen_a[a] <= k and seen_b[b] <= k
    return scores[keep], rows_a[keep], rows_b[keep]


def same_pairs(ours: tuple[np.ndarray, ...], theirs: Any) -> bool:
    """Whether anonlink's ``(sims, datasets, records)`` holds exactly our pairs and scores."""
    sims, _, (rec0, rec1) = theirs
    rec0 = np.asarray(rec0, dtype=np.int64)
    rec1 = np.asarray(rec1, dtype=np.int64)
    order = np.lexsort((rec1, rec0))
    return (
        np.array_equal(ours[1], rec0[order])
        and np.array_equal(ours[2], rec1[order])
        and np.array_equal(ours[0], np.asarray(sims, dtype=np.float64)[order])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="rows per set (n = m)")
    parser.add_argument("--data", choices=["random", "encoded"], default="random")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--peer-repeats", type=int, default=3, help="runs per anonlink figure")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2000 x 2000, 3 runs: a smoke test")
    parser.add_argument("--no-peers", action="store_true", help="skip anonlink")
    args = parser.parse_args()
    if args.quick:
        args.size, args.repeats, args.peer_repeats = 2000, 3, 1

    anonlink: Any = None
    if not args.no_peers:
        try:
            import anonlink
        except ImportError:
            print("anonlink not installed: its columns are left empty")
    a, b = (
        clk_like(args.size, args.size, args.seed)
        if args.data == "random"
        else encoded(args.size, args.seed)
    )
    n, m = a.shape[0], b.shape[0]
    comparisons = n * m
    threads = numba.get_num_threads()
    cpu, vpopcnt = cpu_description()
    print(f"# Dice kernel benchmark: {n} x {m} filters of {a.shape[1] * 8} bits, data={args.data}")
    print(f"CPU {cpu} ({numba.config.NUMBA_NUM_THREADS} hardware threads), AVX-512 VPOPCNTDQ:")
    print(f"{'yes' if vpopcnt else 'no'}; blindlink threads: {threads}; numba {numba.__version__},")
    print(f"numpy {np.__version__}" + (f", anonlink {anonlink.__version__}" if anonlink else ""))
    print(f"popcount instructions LLVM emits here: {popcount_instructions()}")
    print(f"medians of {args.repeats} runs (anonlink: {args.peer_repeats})\n")

    candidate_pairs(a[:64], b[:64], 0.8)  # compile or load the cache before timing
    limit = and_popcount_limit(a, b, threads, 0.1 if args.quick else 0.5)
    peer_a = peer_b = None
    if anonlink is not None:
        from anonlink.candidate_generation import find_candidate_pairs
        from anonlink.similarities import dice_coefficient_accelerated

        peer_a, peer_b = to_bitarrays(a), to_bitarrays(b)

    rows = []
    for threshold, k in SETTINGS:
        wall, cpu_s, ours = timed(
            lambda t=threshold, k=k: candidate_pairs(a, b, t, k=k), args.repeats
        )
        peer_wall = peer_cpu = None
        agree = "-"
        if anonlink is not None:
            peer_wall, peer_cpu, theirs = timed(
                lambda t=threshold, k=k: find_candidate_pairs(
                    [peer_a, peer_b], dice_coefficient_accelerated, t, k=k
                ),
                args.peer_repeats,
            )
            comparable = ours if k is None else anonlink_k_rule(ours, k)
            agree = "yes" if same_pairs(comparable, theirs) else "NO"
            agree += "*" if k is not None else ""
        rows.append((threshold, k, ours[0].shape[0], wall, cpu_s, peer_wall, peer_cpu, agree))

    print(
        "| threshold | k | candidates | blindlink ms | M cmp/s | M cmp/CPU-s | anonlink ms "
        "| M cmp/s | M cmp/CPU-s | speed-up (wall) | speed-up (per core) | same pairs |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for threshold, k, found, wall, cpu_s, peer_wall, peer_cpu, agree in rows:
        mine = f"{wall * 1e3:.0f} | {rate(comparisons, wall)} | {rate(comparisons, cpu_s)}"
        peer = "- | - | - | - | -"
        if peer_wall is not None and peer_cpu is not None:
            peer = (
                f"{peer_wall * 1e3:.0f} | {rate(comparisons, peer_wall)} | "
                f"{rate(comparisons, peer_cpu)} | {peer_wall / wall:.1f}x | "
                f"{peer_cpu / cpu_s:.1f}x"
            )
        print(f"| {threshold} | {k or '-'} | {found} | {mine} | {peer} | {agree} |")

    if anonlink is not None:
        print("\n\\* anonlink also caps each record of B at k pairs (``_enforce_k``); the")
        print("check applies that rule to ours first, as blindlink's k is per row of A only.")
    print(
        f"\nAND-popcount limit (bare tile loop on L1-resident data, {threads} threads): "
        f"{limit / 1e6:.0f} M pairs per CPU-second\n"
    )
    print(
        "| threshold | pairs in popcount band | blindlink M band pairs per CPU-second "
        "| share of limit |"
    )
    print("|---|---|---|---|")
    for threshold, _, _, _, cpu_s, *_ in rows:
        in_band = band_pairs(a, b, threshold)
        print(
            f"| {threshold} | {in_band / comparisons:.0%} | {in_band / cpu_s / 1e6:.0f} | "
            f"{in_band / cpu_s / limit:.0%} |"
        )

    threshold = 0.7

    def ours_end_to_end() -> tuple[np.ndarray, np.ndarray]:
        return greedy_match(*candidate_pairs(a, b, threshold))

    cand_wall, cand_cpu, _ = timed(lambda: candidate_pairs(a, b, threshold), args.repeats)
    wall, cpu_s, matched = timed(ours_end_to_end, args.repeats)
    print(
        f"\nEnd to end at {threshold}: candidates + greedy 1-to-1 solve "
        f"({matched[0].shape[0]} matches)\n"
    )
    print("| step | blindlink ms | CPU ms | anonlink ms | CPU ms | speed-up (wall) | (per core) |")
    print("|---|---|---|---|---|---|---|")
    if anonlink is None:
        print(f"| candidates | {cand_wall * 1e3:.1f} | {cand_cpu * 1e3:.1f} | - | - | - | - |")
        print(f"| total | {wall * 1e3:.1f} | {cpu_s * 1e3:.1f} | - | - | - | - |")
        return

    def theirs_end_to_end() -> Any:
        found = find_candidate_pairs([peer_a, peer_b], dice_coefficient_accelerated, threshold)
        return anonlink.solving.greedy_solve(found)

    peer_cand_wall, peer_cand_cpu, _ = timed(
        lambda: find_candidate_pairs([peer_a, peer_b], dice_coefficient_accelerated, threshold),
        args.peer_repeats,
    )
    peer_wall, peer_cpu, groups = timed(theirs_end_to_end, args.peer_repeats)
    for step, mine_w, mine_c, peer_w, peer_c in (
        ("candidates", cand_wall, cand_cpu, peer_cand_wall, peer_cand_cpu),
        ("total", wall, cpu_s, peer_wall, peer_cpu),
    ):
        print(
            f"| {step} | {mine_w * 1e3:.1f} | {mine_c * 1e3:.1f} | {peer_w * 1e3:.1f} | "
            f"{peer_c * 1e3:.1f} | {peer_w / mine_w:.1f}x | {peer_c / mine_c:.1f}x |"
        )
    agree = set(anonlink.solving.pairs_from_groups(groups)) == set(
        zip(matched[0].tolist(), matched[1].tolist(), strict=True)
    )
    print(f"\nsame matching as anonlink: {'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
