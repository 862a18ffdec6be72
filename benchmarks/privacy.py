"""Privacy self-audit on the synthetic generator: how much the published attacks recover
from plain CLKs and from the built-in (hardened) schema.

One agency's records (the largest capture of the generator's population) are encoded under
each schema and attacked with ``blindlink.audit``: the frequency alignment attack and the
pattern-mining attack of Christen et al. (PAKDD 2018). The attacker's public name list is
derived from the generator's own name pools: the canonical given and family names of a
separate population (another seed), counted. It therefore follows the very distribution the
agency's names are drawn from -- the strong-attacker case; a real census list would fit the
case records worse. Ground truth is the agency's plaintext.

Reported per schema and attack: records the attack puts a name on (claimed), records whose
name it gets right (re-identified: the claimed given or family name equals the record's),
and name q-grams whose bit pattern it decodes correctly, as a share of the distinct name
q-grams in the file and of their occurrences in the records.

    python benchmarks/privacy.py --persons 6000 --seed 1
"""

from __future__ import annotations

import argparse
import copy
import csv
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blindlink.audit import audit_batch, read_name_list
from blindlink.audit.run import truth_from_columns
from blindlink.pipeline.encode import encode
from blindlink.schema import LinkageSchema, default_schema, parse_schema
from blindlink.synth import generate

SECRET = b"benchmark-secret-0123456789abcdef"

Change = Callable[[dict[str, Any]], None]


def _hardening(*steps: dict[str, Any]) -> Change:
    def change(document: dict[str, Any]) -> None:
        document["encoding"]["hardening"] = list(steps)

    return change


#: (row label, change to the built-in schema). The first two are the measurement asked for.
SCHEMAS: list[tuple[str, Change]] = [
    ("plain CLK (no hardening)", _hardening()),
    ("built-in: diffusion t=2, l=1024", lambda d: None),
]
EXTRA: list[tuple[str, Change]] = [
    ("xor-folding", _hardening({"kind": "xor_folding"})),
    ("BLIP eps=4", _hardening({"kind": "blip", "epsilon": 4.0})),
    ("diffusion t=3, l=1024", _hardening({"kind": "diffusion", "taps": 3, "output_bits": 1024})),
]


def schema_variant(change: Change) -> LinkageSchema:
    """The built-in schema with one change (hardening list replaced or kept)."""
    document = copy.deepcopy(default_schema().document)
    change(document)
    if not document["encoding"].get("hardening"):
        document["encoding"].pop("hardening", None)
    return parse_schema(document)


def write_name_list(path: Path, persons: int, seed: int) -> None:
    """The attacker's public list: canonical names of a separate synthetic population."""
    population = generate(n_persons=persons, n_agencies=1, seed=seed).persons
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "count", "field"])
        for field in ("given_name", "family_name"):
            counts = Counter(p[field] for p in population.values())
            for name, count in counts.most_common():
                writer.writerow([name, count, field])


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--names-persons", type=int, default=50_000)
    parser.add_argument("--names-seed", type=int, default=99)
    parser.add_argument("--extra", action="store_true", help="also other hardening options")
    args = parser.parse_args()
    data = generate(n_persons=args.persons, seed=args.seed)
    agency = max(data.agencies, key=lambda a: len(data.agencies[a]))
    rows = data.agencies[agency]
    with tempfile.TemporaryDirectory() as folder:
        names_path = Path(folder) / "names.csv"
        write_name_list(names_path, args.names_persons, args.names_seed)
        names = read_name_list(names_path, default_schema())
        listed = sum(len(v[0]) for v in names.by_field.values())
    print(
        f"persons={args.persons} seed={args.seed} agency={agency} records={len(rows)} "
        f"name list: {listed} names from {args.names_persons} persons (seed {args.names_seed})"
    )
    print()
    print(
        "| schema | attack | records claimed | records re-identified | "
        "q-grams re-identified (distinct) | q-gram occurrences re-identified | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, change in SCHEMAS + (EXTRA if args.extra else []):
        schema = schema_variant(change)
        batch = encode(rows, secret=SECRET, agency=agency, schema=schema, workers=1)
        columns = {s.column: [r[s.column] for r in rows] for s in schema.fields}
        truth = truth_from_columns(columns, schema)
        started = time.perf_counter()
        report = audit_batch(batch, names, schema, truth=truth)
        seconds = time.perf_counter() - started
        for outcome in report.attacks:
            qgrams = (
                "-"
                if outcome.qgram_rate is None
                else f"{outcome.qgram_rate:.1%} ({outcome.qgrams_reidentified} of "
                f"{outcome.qgrams_in_data}; {outcome.qgrams_claimed} claimed)"
            )
            print(
                f"| {label} | {outcome.attack} | {outcome.claim_rate:.1%} | "
                f"{_pct(outcome.record_rate)} ({outcome.records_reidentified}) | {qgrams} | "
                f"{_pct(outcome.qgram_occurrence_rate)} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
