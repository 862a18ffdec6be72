"""Field-aware scoring against record-level scoring on the synthetic generator.

Three set-ups on the same generated records, each linked with its default threshold:

(a) the built-in schema (CLK, diffusion) with record-level scoring (the default pipeline);
(b) a field-level schema (``protocols/examples/field-level-bloom.json``: the same fields and
    features, one Bloom filter per key group, no hardening) with record-level scoring;
(c) the same field-level encodings with field scoring (per-segment Dice, Fellegi–Sunter by EM,
    m, u and prior fitted on the candidate pairs: the default of ``scoring="fields"``);
(d) the same with u from random record pairs, held fixed (Splink's estimator), for comparison.

Prints one table: pairwise precision / recall / F1, the error of the unique-person count, and
the F1 over pairs involving a record with a missing or partial date of birth or a missing
field (the pairs field scoring is meant to help).

    python benchmarks/field_scoring.py --persons 2000 --seeds 1 2
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from blindlink.pipeline import field_scoring
from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import link
from blindlink.schema import LinkageSchema, default_schema, load_schema
from blindlink.stats.quality import PairwiseQuality, pairwise_quality
from blindlink.synth import generate

SECRET = b"benchmark-secret-0123456789abcdef"
FIELD_SCHEMA = (
    Path(__file__).resolve().parents[1] / "protocols" / "examples" / "field-level-bloom.json"
)
#: Corruption kinds that leave a field (or part of one) out of a record.
MISSING_KINDS = frozenset(
    {"dob_missing", "dob_year_only", "dob_year_month", "sex_missing", "family_missing"}
)


def _missing_quality(
    predicted: list[str], truth: list[str], flagged: list[bool]
) -> PairwiseQuality:
    """Pairwise quality over the pairs that involve at least one flagged record."""
    tp = pred = true = 0
    for labels, count_true in ((predicted, False), (truth, True)):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(labels):
            groups[label].append(i)
        for members in groups.values():
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    if not (flagged[i] or flagged[j]):
                        continue
                    if count_true:
                        true += 1
                    else:
                        pred += 1
                        tp += truth[i] == truth[j]
    return PairwiseQuality(tp, pred, true)


def run(persons: int, seed: int, setup: str, schema: LinkageSchema) -> dict[str, Any]:
    data = generate(n_persons=persons, n_agencies=4, seed=seed)
    batches = [
        encode(rows, secret=SECRET, agency=name, schema=schema)
        for name, rows in data.agencies.items()
    ]
    fields = setup in ("c", "d")
    original = field_scoring.score_by_fields
    if setup == "d":  # no public switch for the comparison estimator: wrap the function
        field_scoring.score_by_fields = partial(original, u_from="random pairs")  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        result = link(
            batches,
            seed=seed,
            scoring="fields" if fields else "record",
            schema=schema if fields else None,
        )
        seconds = time.perf_counter() - start
    finally:
        field_scoring.score_by_fields = original
    keys = [(agency, rid) for _, agency, rid in result.rows()]
    predicted = [entity for entity, _, _ in result.rows()]
    truth = [data.truth[k] for k in keys]
    flagged = [bool(MISSING_KINDS & set(data.corruptions.get(k, ()))) for k in keys]
    return {
        "records": len(keys),
        "quality": pairwise_quality(predicted, truth),
        "missing": _missing_quality(predicted, truth, flagged),
        "found": len(set(predicted)),
        "true": len(set(truth)),
        "threshold": result.threshold,
        "seconds": seconds,
        "scoring": result.statistics["linkage"]["scoring"]["used"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    setups = {
        "a": ("CLK (built-in) + record", default_schema()),
        "b": ("field_bloom + record", load_schema(FIELD_SCHEMA)),
        "c": ("field_bloom + fields (FS/EM)", load_schema(FIELD_SCHEMA)),
        "d": ("field_bloom + fields, u from random pairs", load_schema(FIELD_SCHEMA)),
    }
    print(f"persons={args.persons} agencies=4 (default thresholds)")
    print(
        "| seed | set-up | records | threshold | precision | recall | F1 | "
        "F1, pairs with a missing field | persons found / true | link s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed in args.seeds:
        for key, (label, schema) in setups.items():
            r = run(args.persons, seed, key, schema)
            q: PairwiseQuality = r["quality"]
            error = (r["found"] - r["true"]) / r["true"]
            used = "" if key in "ab" or r["scoring"] == "fields" else " (fell back)"
            print(
                f"| {seed} | ({key}) {label}{used} | {r['records']:,} | {r['threshold']:.3f} | "
                f"{q.precision:.3f} | {q.recall:.3f} | {q.f1:.3f} | {r['missing'].f1:.3f} | "
                f"{r['found']:,} / {r['true']:,} ({error:+.1%}) | {r['seconds']:.1f} |"
            )


if __name__ == "__main__":
    main()
