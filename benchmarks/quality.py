"""Linkage quality of the default pipeline on the synthetic generator, against its truth.

Prints pairwise precision / recall / F1 (all pairs, within agencies, across agencies), the
error of the unique-person count, and precision, recall and F1 per corruption kind (over the
pairs involving a record with that corruption), so weak spots show.

    python benchmarks/quality.py --persons 2000 --seeds 1 2 3 [--threshold 0.8]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from statistics import median

from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import Threshold, link
from blindlink.stats.quality import PairwiseQuality, pairwise_quality
from blindlink.synth import generate

SECRET = b"benchmark-secret-0123456789abcdef"


def evaluate(persons: int, agencies: int, seed: int, threshold: Threshold) -> dict[str, object]:
    data = generate(n_persons=persons, n_agencies=agencies, seed=seed)
    batches = [encode(rows, secret=SECRET, agency=name) for name, rows in data.agencies.items()]
    start = time.perf_counter()
    result = link(batches, threshold=threshold, seed=seed)
    link_seconds = time.perf_counter() - start
    keys = [(agency, rid) for _, agency, rid in result.rows()]
    predicted = [entity for entity, _, _ in result.rows()]
    truth = [data.truth[k] for k in keys]
    overall = pairwise_quality(predicted, truth)
    # within / across agencies: count pairs by whether both records share an agency
    tp: Counter[str] = Counter()
    pred: Counter[str] = Counter()
    true: Counter[str] = Counter()
    by_entity: dict[str, list[int]] = defaultdict(list)
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, (entity, person) in enumerate(zip(predicted, truth, strict=True)):
        by_entity[entity].append(i)
        by_person[person].append(i)
    missed_by_kind: Counter[str] = Counter()
    true_by_kind: Counter[str] = Counter()
    predicted_by_kind: Counter[str] = Counter()
    for groups, counter in ((by_entity, pred), (by_person, true)):
        for members in groups.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    i, j = members[x], members[y]
                    scope = "within" if keys[i][0] == keys[j][0] else "across"
                    counter[scope] += 1
                    kinds = set(data.corruptions.get(keys[i], ())) | set(
                        data.corruptions.get(keys[j], ())
                    )
                    if counter is pred:
                        tp[scope] += truth[i] == truth[j]
                        for kind in kinds or {"none"}:
                            predicted_by_kind[kind] += 1
                    if counter is true:
                        found = predicted[i] == predicted[j]
                        for kind in kinds or {"none"}:
                            true_by_kind[kind] += 1
                            missed_by_kind[kind] += not found
    scopes = {s: PairwiseQuality(tp[s], pred[s], true[s]) for s in ("within", "across")}
    true_persons = len(set(truth))
    return {
        "records": len(keys),
        "overall": overall,
        "scopes": scopes,
        "persons_found": len(set(predicted)),
        "persons_true": true_persons,
        "link_seconds": link_seconds,
        "estimated": result.statistics["linkage"],
        "used_threshold": result.threshold,
        "by_kind": {
            k: PairwiseQuality(
                true_by_kind[k] - missed_by_kind[k], predicted_by_kind[k], true_by_kind[k]
            )
            for k in sorted(true_by_kind)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--threshold",
        type=lambda text: text if text in ("auto", "default") else float(text),
        default="default",
        help="a number, 'auto' or 'default' (by caseload size)",
    )
    args = parser.parse_args()
    rows = [evaluate(args.persons, args.agencies, s, args.threshold) for s in args.seeds]
    print(f"persons={args.persons} agencies={args.agencies} threshold={args.threshold}")
    print("seed  records   P      R      F1    | within F1 across F1 | persons found/true (err)")
    for seed, r in zip(args.seeds, rows, strict=True):
        q = r["overall"]
        s = r["scopes"]
        err = (r["persons_found"] - r["persons_true"]) / r["persons_true"]
        print(
            f"{seed:<5} {r['records']:<8} {q.precision:.3f}  {q.recall:.3f}  {q.f1:.3f} | "
            f"{s['within'].f1:.3f}     {s['across'].f1:.3f}    | "
            f"{r['persons_found']}/{r['persons_true']} ({err:+.1%})  link {r['link_seconds']:.1f}s"
        )
        est = r["estimated"]
        if "estimated_precision" in est:
            print(
                f"      threshold used {r['used_threshold']:.3f}; estimated without labels: "
                f"P {est['estimated_precision']:.3f} R {est['estimated_recall']:.3f}"
            )
    print(f"median F1 {median(r['overall'].f1 for r in rows):.3f}")
    print("pairs involving a record with each corruption kind (first seed):")
    print("| kind | true pairs | precision | recall | F1 |")
    print("|---|---|---|---|---|")
    for kind, quality in rows[0]["by_kind"].items():
        print(
            f"| {kind} | {quality.true_pairs} | {quality.precision:.3f} | "
            f"{quality.recall:.3f} | {quality.f1:.3f} |"
        )


if __name__ == "__main__":
    main()
