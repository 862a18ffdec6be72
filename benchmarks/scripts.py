"""Cross-script and cross-romanisation match rates of the default encoding.

For true pairs (two records of one person, from the synthetic generator) where exactly one
record is in native script, and for pairs where one record carries a variant romanisation,
prints the share whose raw Dice reaches the default threshold and the share the full pipeline
(density-adjusted scores + clustering) puts in one person, per origin.

    python benchmarks/scripts.py --persons 3000 --seed 1
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import DEFAULT_THRESHOLD, link
from blindlink.synth import generate

SECRET = b"benchmark-secret-0123456789abcdef"


Tallies = dict[tuple[str, str], list[int]]


def match_rates(persons: int, seed: int) -> Tallies:
    """(pair kind, origin) -> [true pairs, pairs with Dice >= threshold, pairs linked]."""
    data = generate(n_persons=persons, seed=seed)
    batches = [encode(rows, secret=SECRET, agency=name) for name, rows in data.agencies.items()]
    result = link(batches, seed=0)
    filters = np.concatenate([b.filters for b in batches])
    keys = [(b.agency, rid) for b in batches for rid in b.record_ids]
    popcount = np.bitwise_count(filters).sum(axis=1)
    by_person: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        by_person[data.truth[key]].append(index)
    origin = {pid: person.get("origin", "?") for pid, person in data.persons.items()}
    tallies: Tallies = defaultdict(lambda: [0, 0, 0])
    for person, members in by_person.items():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                kinds_i = set(data.corruptions.get(keys[i], ()))
                kinds_j = set(data.corruptions.get(keys[j], ()))
                if ("native_script" in kinds_i) != ("native_script" in kinds_j):
                    kind = "native vs romanised"
                elif "romanisation_variant" in kinds_i | kinds_j:
                    kind = "variant romanisation"
                else:
                    continue
                inter = int(np.bitwise_count(filters[i] & filters[j]).sum())
                dice = 2 * inter / max(int(popcount[i] + popcount[j]), 1)
                for group in (origin.get(person, "?"), "all"):
                    tally = tallies[(kind, group)]
                    tally[0] += 1
                    tally[1] += dice >= DEFAULT_THRESHOLD
                    tally[2] += bool(result.labels[i] == result.labels[j])
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tallies = match_rates(args.persons, args.seed)
    print(f"persons={args.persons} seed={args.seed} threshold={DEFAULT_THRESHOLD}")
    print(f"{'pair kind':<22} {'origin':<22} {'pairs':>6} {'Dice>=t':>8} {'linked':>7}")
    for (kind, group), (count, above, linked) in sorted(tallies.items()):
        print(f"{kind:<22} {group:<22} {count:>6} {above / count:>8.3f} {linked / count:>7.3f}")


if __name__ == "__main__":
    main()
