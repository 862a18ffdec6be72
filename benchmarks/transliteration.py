"""anyascii or unidecode for names in non-Latin scripts: cross-script match rates with each.

Runs the cross-script measurement of ``scripts.py`` twice on the same generated data, once
with blindlink's transliterator (anyascii) and once with unidecode substituted for it, and
prints, per origin, the share of true native-vs-romanised pairs whose Dice reaches the
default threshold. Needs ``pip install unidecode`` (not a blindlink dependency: GPL).

    python benchmarks/transliteration.py --persons 3000 --seeds 1 2
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripts import match_rates  # noqa: E402  (a sibling benchmark script)

import blindlink.encoding.normalise as normalise  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    from unidecode import unidecode

    transliterators = {"anyascii": normalise.anyascii, "unidecode": unidecode}
    results: dict[str, Counter[str]] = {}
    pairs: Counter[str] = Counter()
    for name, function in transliterators.items():
        normalise.anyascii = function
        above: Counter[str] = Counter()
        for seed in args.seeds:
            for (kind, origin), (count, hits, _) in match_rates(args.persons, seed).items():
                if kind == "native vs romanised":
                    above[origin] += hits
                    if name == "anyascii":
                        pairs[origin] += count
        results[name] = above
    normalise.anyascii = transliterators["anyascii"]
    print(f"persons={args.persons} seeds={args.seeds}: native-script vs romanised true pairs")
    print("| origin | pairs | Dice >= t, anyascii | Dice >= t, unidecode |")
    print("|---|---|---|---|")
    for origin in sorted(pairs):
        shares = [results[name][origin] / pairs[origin] for name in transliterators]
        print(f"| {origin} | {pairs[origin]} | {shares[0]:.3f} | {shares[1]:.3f} |")


if __name__ == "__main__":
    main()
