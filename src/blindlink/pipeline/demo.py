"""The demo: every role acted out on built-in synthetic data, with quality against the truth.

Each agency encodes its own CSV with the shared secret; the coordinator links the encoded
files without it; only then is the result compared with the generator's ground truth.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blindlink.encoding.encoder import EncodeReport
from blindlink.errors import BlindlinkError
from blindlink.io.atomic import atomic_directory
from blindlink.io.secret_file import read_secret_file, write_secret_file
from blindlink.pipeline.encode import encode_file
from blindlink.pipeline.link import LinkResult, Threshold, link_files
from blindlink.stats.mse import MseResult, estimate, from_stats
from blindlink.stats.quality import PairwiseQuality, pairwise_quality
from blindlink.synth import generate, write_dataset

DEMO_NAMES = frozenset({"input", "encoded", "results", "secret.key", "truth.csv"})

Narrate = Callable[[str], None]


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo found and how good it was."""

    folder: Path
    result: LinkResult
    quality: PairwiseQuality
    true_persons_seen: int
    true_population: int
    population_estimate: MseResult | None


def _read_truth(path: Path) -> dict[tuple[str, str], str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r["agency"], r["record_id"]): r["person_id"] for r in csv.DictReader(handle)}


def run_demo(
    folder: str | os.PathLike[str],
    *,
    n_persons: int = 1500,
    n_agencies: int = 4,
    seed: int = 2024,
    threshold: Threshold = "default",
    narrate: Narrate = lambda message: None,
) -> DemoOutcome:
    """Generate data, encode per agency, link as the coordinator, score against the truth."""
    with atomic_directory(folder, replaceable=DEMO_NAMES) as staging:
        data = generate(n_persons=n_persons, n_agencies=n_agencies, seed=seed)
        (staging / "input").mkdir()
        paths = write_dataset(data, staging / "input")
        truth_path = paths.pop("truth")
        truth_path.rename(staging / "truth.csv")
        narrate(
            f"Synthetic case records: {sum(len(r) for r in data.agencies.values())} records "
            f"at {len(data.agencies)} agencies, drawn from a population of {data.n_persons}."
        )
        secret_path = write_secret_file(staging / "secret.key")
        narrate(
            "Agencies share a secret out of band (blindlink keygen); the coordinator never sees it."
        )
        (staging / "encoded").mkdir()
        encoded: list[Path] = []
        for agency, csv_path in paths.items():
            out = staging / "encoded" / f"{agency}.blk"
            report = EncodeReport()
            encode_file(
                csv_path, out, secret=read_secret_file(secret_path), agency=agency, report=report
            )
            encoded.append(out)
            narrate(f"  {agency}: encoded {report.records} records -> encoded/{out.name}")
        narrate("Coordinator links the encoded files (no secret needed) ...")
        result = link_files(encoded, staging / "results", threshold=threshold, seed=seed)
        truth = _read_truth(staging / "truth.csv")
        true_labels = [truth[(agency, rid)] for _, agency, rid in result.rows()]
        quality = pairwise_quality([entity for entity, _, _ in result.rows()], true_labels)
        outcome_persons = len(set(true_labels))
        narrate("Coordinator estimates the hidden total (multiple systems estimation) ...")
        try:
            population = estimate(from_stats(result.statistics), "stepwise-aic")
        except BlindlinkError as exc:  # too few lists or overlaps for a model: say so, go on
            narrate(f"  no estimate: {exc}")
            population = None
    return DemoOutcome(
        folder=Path(folder),
        result=result,
        quality=quality,
        true_persons_seen=outcome_persons,
        true_population=data.n_persons,
        population_estimate=population,
    )
