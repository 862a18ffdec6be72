"""Coordinator use case: encoded batches in, persons (clusters), per-agency link IDs and
aggregate statistics out. Nothing here needs, or can reach, the linkage secret."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.errors import IncompatibleFilesError, InputError
from blindlink.io.atomic import atomic_directory
from blindlink.io.blk import read_blk
from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.cluster import ClusteringRule, cluster_records
from blindlink.stats.aggregates import linkage_statistics
from blindlink.types import CandidatePairs, EncodedBatch

#: Dice threshold for "same person", chosen on the synthetic generator (see docs/quality.md).
DEFAULT_THRESHOLD = 0.7
#: How much more similar two records of one agency must be to be called the same person.
SAME_AGENCY_MARGIN = 0.05
#: Names a results folder may hold; a previous result is replaced, anything else is refused.
RESULT_NAMES = frozenset({"clusters.csv", "stats.json", "agencies"})


@dataclass(frozen=True)
class LinkResult:
    """Persons found by a linkage run.

    ``labels[i]`` is the person of record ``i`` in the concatenation of the batches (in the
    order given); ``entity_ids[label]`` is that person's random, content-free identifier.
    """

    agencies: tuple[str, ...]
    record_ids: tuple[tuple[str, ...], ...]
    labels: npt.NDArray[np.int64]
    entity_ids: tuple[str, ...]
    threshold: float
    statistics: dict[str, Any]

    def rows(self) -> Iterator[tuple[str, str, str]]:
        """(entity_id, agency, record_id) for every record, in input order."""
        position = 0
        for agency, ids in zip(self.agencies, self.record_ids, strict=True):
            for record_id in ids:
                yield self.entity_ids[self.labels[position]], agency, record_id
                position += 1

    def agency_rows(self, agency: str) -> Iterator[tuple[str, str]]:
        """(record_id, entity_id) for one agency's records only."""
        for entity_id, owner, record_id in self.rows():
            if owner == agency:
                yield record_id, entity_id


def _check_compatible(batches: Sequence[EncodedBatch], names: Sequence[str]) -> None:
    if not batches:
        raise InputError("nothing to link: give at least one encoded file")
    seen: dict[str, str] = {}
    for batch, name in zip(batches, names, strict=True):
        key = batch.agency.casefold()  # agency names become file names: A.csv and a.csv collide
        if key in seen:
            raise IncompatibleFilesError(
                f"{seen[key]} and {name}: both are from agency {batch.agency!r} (agency names "
                "are compared ignoring case); each agency must send one file"
            )
        seen[key] = name
    first, first_name = batches[0], names[0]
    for batch, name in zip(batches[1:], names[1:], strict=True):
        if batch.schema_fingerprint != first.schema_fingerprint:
            raise IncompatibleFilesError(
                f"{first_name} and {name}: made with different linkage schemas "
                "(fingerprints differ); all agencies must encode with the same schema"
            )
        if batch.key_check != first.key_check:
            raise IncompatibleFilesError(
                f"{first_name} and {name}: made with different secrets (key check values "
                "differ); all agencies must encode with the same shared secret"
            )
        if batch.filter_bits != first.filter_bits:
            raise IncompatibleFilesError(f"{first_name} and {name}: filter lengths differ")


def _entity_ids(count: int, seed: int | None) -> tuple[str, ...]:
    """Random identifiers, unrelated to any record's content or position."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.update(int(v) for v in rng.integers(0, 1 << 60, size=count - len(chosen)))
    values = list(chosen)
    rng.shuffle(values)
    return tuple(f"P{v:015x}" for v in values)


def link(
    batches: Sequence[EncodedBatch],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    same_agency_threshold: float | None = None,
    seed: int | None = None,
    names: Sequence[str] | None = None,
) -> LinkResult:
    """Find the persons behind the records of one or more agencies' encoded batches.

    Duplicates within an agency and matches across agencies are found in one run. Records
    are persons' when their Dice similarity is at least ``threshold``; clusters merge by
    average linkage, and two records of one agency join only at ``same_agency_threshold``
    (default: ``threshold + SAME_AGENCY_MARGIN``: an agency rarely registers one person
    twice). ``seed`` makes the random entity IDs reproducible.
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    names = names if names is not None else [b.agency for b in batches]
    _check_compatible(batches, names)
    filters = np.concatenate([b.filters for b in batches])
    agency_of = np.repeat(np.arange(len(batches)), [len(b) for b in batches]).astype(np.int64)
    scores, rows_a, rows_b = candidate_pairs(filters, None, threshold)
    rule = ClusteringRule(
        threshold=threshold,
        same_agency_threshold=(
            min(1.0, threshold + SAME_AGENCY_MARGIN)
            if same_agency_threshold is None
            else same_agency_threshold
        ),
    )
    labels = cluster_records(CandidatePairs(scores, rows_a, rows_b), filters, agency_of, rule)
    agencies = tuple(b.agency for b in batches)
    statistics = {
        "format": "blindlink-stats",
        "version": 1,
        "threshold": threshold,
        **linkage_statistics(agencies, agency_of, labels),
    }
    n_persons = int(labels.max()) + 1 if labels.size else 0
    return LinkResult(
        agencies=agencies,
        record_ids=tuple(b.record_ids for b in batches),
        labels=labels,
        entity_ids=_entity_ids(n_persons, seed),
        threshold=threshold,
        statistics=statistics,
    )


def _csv_bytes(header: Sequence[str], rows: Iterator[Sequence[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def write_results(result: LinkResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write clusters.csv, agencies/<agency>.csv and stats.json; all or nothing."""
    with atomic_directory(out_dir, replaceable=RESULT_NAMES) as staging:
        (staging / "clusters.csv").write_bytes(
            _csv_bytes(("entity_id", "agency", "record_id"), result.rows())
        )
        (staging / "agencies").mkdir()
        for agency in result.agencies:
            (staging / "agencies" / f"{agency}.csv").write_bytes(
                _csv_bytes(("record_id", "entity_id"), result.agency_rows(agency))
            )
        (staging / "stats.json").write_text(
            json.dumps(result.statistics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return Path(out_dir)


def link_files(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    same_agency_threshold: float | None = None,
    seed: int | None = None,
) -> LinkResult:
    """Read .blk files, link them and write the results folder."""
    batches = [read_blk(p) for p in paths]
    result = link(
        batches,
        threshold=threshold,
        same_agency_threshold=same_agency_threshold,
        seed=seed,
        names=[str(p) for p in paths],
    )
    write_results(result, out_dir)
    return result
