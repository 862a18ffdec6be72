"""Coordinator use case: encoded batches in, persons (clusters), per-agency link IDs and
aggregate statistics out. Nothing here needs, or can reach, the linkage secret."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from blindlink.backends import Backend, TiledSearch, opening_backend
from blindlink.errors import IncompatibleFilesError, InputError
from blindlink.io.atomic import atomic_directory
from blindlink.io.identity import PrivateIdentity
from blindlink.kernels.dice import candidate_pairs
from blindlink.linkage.blocking import LshPlanError, lsh_candidate_pairs
from blindlink.linkage.candidates import PairSearch, one_pass, select_scored, two_pass
from blindlink.linkage.cluster import ClusteringRule
from blindlink.linkage.fields import DegenerateModel
from blindlink.linkage.keyed_blocking import KeyedBlocker, gather_blocking_keys
from blindlink.linkage.probability import (
    MODEL_FLOOR,
    ScoreMixture,
    automatic_threshold,
    expected_quality,
    fit_score_mixture,
)
from blindlink.linkage.scoring import DensityAdjustment, ScoredLinks, record_offsets
from blindlink.linkage.sensitivity import (
    ThresholdRun,
    recluster,
    score_histogram,
    threshold_grid,
)
from blindlink.linkage.solvers import LinkageProblem, solver_named
from blindlink.pipeline import field_scoring
from blindlink.pipeline.exchange import (
    AgencyFile,
    AgencyKeys,
    agency_result_sealer,
    read_encoded,
)
from blindlink.pipeline.field_scoring import Scoring
from blindlink.schema import LinkageSchema
from blindlink.stats.aggregates import linkage_statistics
from blindlink.stats.attributes import attribute_statistics
from blindlink.stats.disclosure import (
    DisclosureSettings,
    check_privacy_available,
    public_statistics,
)
from blindlink.types import CandidatePairs, EncodedBatch

#: Link-score threshold for "same person", at every caseload size: with competitor densities
#: (``linkage.scoring``) the threshold that finds the right number of persons on the synthetic
#: generator stays at 0.63-0.65 from ~3,000 to ~160,000 records (docs/quality.md).
DEFAULT_THRESHOLD = 0.64
#: How much more similar two records of one agency must be to be called the same person.
SAME_AGENCY_MARGIN = 0.1
#: Names a results folder may hold; a previous result is replaced, anything else is refused.
RESULT_NAMES = frozenset(
    {"clusters.csv", "links.csv", "stats.json", "public.json", "agencies", "report.html"}
)

#: A number, ``"auto"`` (fitted to the score distribution) or ``"default"`` (by caseload size).
Threshold = float | Literal["auto", "default"]
Blocking = Literal["auto", "exact", "bounded", "lsh", "keys"]
#: Up to this many records, ``blocking="auto"`` compares all pairs in one pass (fastest: ~163,000
#: records in ~10 s and 1.8 GiB on 2 cores, but memory grows with n²); above it, in two bounded
#: passes (``linkage.candidates``; same answers). LSH is never chosen automatically: at the
#: candidate floor it was slower than the exact search at every size measured (docs/scale.md).
EXACT_LIMIT = 200_000
#: Scored links are kept from this far below the threshold (or from the score model's floor, if
#: lower): enough to fit the score model and to re-cluster at nearby thresholds, and no more.
KEPT_BELOW_THRESHOLD = 0.06
#: Told the name of each stage of a run as it starts (the CLI shows it as a status line).
Stage = Callable[[str], None]


def parse_threshold(text: str) -> Threshold:
    """A threshold as written by a user: a number, ``auto`` or ``default`` (any case)."""
    word = text.strip().lower()
    if word == "auto" or word == "default":
        return "auto" if word == "auto" else "default"
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"--threshold must be a number between 0 and 1, 'auto' or 'default', not {text!r}"
        ) from None


def default_threshold(n_records: int) -> float:
    """The default link-score threshold for a linkage of ``n_records`` records: one value.

    The old densities (mean of the 10 best partners) corrected for only part of the crowd of
    look-alikes, so the threshold had to rise with log(records) beyond 60,000; competitor
    densities leave each record's best partner per agency out and grow with the crowd, and
    the threshold that finds the right number of persons no longer drifts with the caseload.
    """
    del n_records  # kept in the signature: the default may depend on the caseload again
    return DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Links:
    """The links the solver kept inside persons: record rows, scores, match probabilities."""

    rows_a: npt.NDArray[np.int64]
    rows_b: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    probabilities: npt.NDArray[np.float64]


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
    links: Links

    def _record_keys(self) -> list[tuple[str, str]]:
        return [(agency, rid) for agency, ids in zip(self.agencies, self.record_ids, strict=True)
                for rid in ids]  # fmt: skip

    def rows(self) -> Iterator[tuple[str, str, str]]:
        """(entity_id, agency, record_id) for every record, in input order."""
        for position, (agency, record_id) in enumerate(self._record_keys()):
            yield self.entity_ids[self.labels[position]], agency, record_id

    def agency_rows(
        self, agency: str, *, name_other_agencies: bool = False
    ) -> Iterator[tuple[str, ...]]:
        """One agency's records only: (record_id, entity_id, known_elsewhere[, other_agencies]).

        ``known_elsewhere`` is 1 when another agency registered the same person. Which other
        agencies is told only with ``name_other_agencies`` (a coordinator's decision, off by
        default: an agency learning that a victim is known to the police can put them at risk).
        """
        index = self.agencies.index(agency)
        start = sum(len(ids) for ids in self.record_ids[:index])
        labels = self.labels[start : start + len(self.record_ids[index])]
        masks = self._agency_masks()
        for record_id, label in zip(self.record_ids[index], labels.tolist(), strict=True):
            others = [
                a for bit, a in enumerate(self.agencies) if bit != index and masks[label] >> bit & 1
            ]
            row: tuple[str, ...] = (record_id, self.entity_ids[label], "1" if others else "0")
            if name_other_agencies:
                row = (*row, ";".join(others))
            yield row

    def _agency_masks(self) -> list[int]:
        """For each person, a bit mask of the agencies that registered them (any number)."""
        masks = [0] * len(self.entity_ids)
        labels = iter(self.labels.tolist())
        for bit, ids in enumerate(self.record_ids):
            for _ in ids:
                masks[next(labels)] |= 1 << bit
        return masks

    def link_rows(self) -> Iterator[tuple[str, str, str, str, str, str, str]]:
        """(agency_a, record_id_a, agency_b, record_id_b, entity_id, score, probability)."""
        keys = self._record_keys()
        for a, b, score, probability in zip(
            self.links.rows_a, self.links.rows_b, self.links.scores, self.links.probabilities,
            strict=True,
        ):  # fmt: skip
            yield (
                *keys[a], *keys[b], self.entity_ids[self.labels[a]],
                f"{score:.4f}", f"{probability:.4f}",
            )  # fmt: skip


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
            # one schema fixes one filter length, so only a hand-made file or two converted
            # from anonlink JSON (whose fingerprint is the "unknown" marker) get here
            raise IncompatibleFilesError(
                f"{first_name} and {name}: filter lengths differ ({first.filter_bits} and "
                f"{batch.filter_bits} bits) under the same schema fingerprint (a converted or "
                "hand-made file?); all agencies must encode with the same schema"
            )


def _entity_ids(count: int, seed: int | None) -> tuple[str, ...]:
    """Random identifiers, unrelated to any record's content or position."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.update(int(v) for v in rng.integers(0, 1 << 60, size=count - len(chosen)))
    values = list(chosen)
    rng.shuffle(values)
    return tuple(f"P{v:015x}" for v in values)


@opening_backend
def link(
    batches: Sequence[EncodedBatch],
    *,
    threshold: Threshold = "default",
    same_agency_margin: float = SAME_AGENCY_MARGIN,
    solver: str = "multiparty",
    adjustment: DensityAdjustment | None = None,
    blocking: Blocking = "auto",
    seed: int | None = None,
    names: Sequence[str] | None = None,
    progress: Stage | None = None,
    scoring: Scoring = "record",
    schema: LinkageSchema | None = None,
    backend: Backend | str | None = None,
) -> LinkResult:
    """Find the persons behind the records of one or more agencies' encoded batches.

    Duplicates within an agency and matches across agencies are found in one run. A link's
    score is its Dice coefficient adjusted for how crowded the two records' neighbourhoods
    are (``linkage.scoring``); links scoring at least ``threshold`` (a number, or ``"auto"``
    for the expected-F1-optimal threshold of a mixture model fitted to the scores) are handed
    to the ``solver`` (``multiparty``, ``greedy`` or ``optimal``). Two records of one agency
    need ``threshold + same_agency_margin``. ``seed`` makes the random entity IDs reproducible.
    ``blocking`` chooses how candidates are found: ``exact`` compares every pair, ``lsh``
    only pairs that agree on some band of sampled bits (``linkage.blocking``; target recall
    0.99 for pairs at the candidate floor), ``keys`` only pairs of records that share a
    value of a blocking key the agencies computed (``linkage.keyed_blocking``; every batch
    must carry blocking keys), ``auto`` is exact up to ``EXACT_LIMIT`` records.
    ``progress``, if given, is told the name of each stage as it starts.
    ``backend`` runs the exact and bounded candidate searches tile by tile: ``"local"``,
    ``"dask"`` (a ``LocalCluster`` for this call) or a ``blindlink.backends.Backend`` (e.g.
    ``DaskBackend("tcp://host:8786")``, which the caller closes). Any backend gives the same
    result as none; LSH and keyed blocking always run here.

    ``scoring="fields"`` scores links field by field instead (``pipeline.field_scoring``):
    per-segment Dice of a field-level encoding combined by a Fellegi–Sunter model fitted by
    EM, the score a match probability (``threshold`` then a probability: ``"default"`` is
    ``FIELD_THRESHOLD``). It needs the linkage ``schema`` (its fingerprint must be the files'),
    and falls back to record scoring, saying why in the statistics, when the schema's filters
    have no field segments.
    """
    report = progress or (lambda stage: None)
    if threshold not in ("auto", "default") and not (
        isinstance(threshold, float | int) and 0 < threshold <= 1
    ):
        raise InputError(
            f"threshold must be 'auto', 'default' or a number in (0, 1], got {threshold!r}"
        )
    adjustment = adjustment or DensityAdjustment()
    names = names if names is not None else [b.agency for b in batches]
    _check_compatible(batches, names)
    layout, no_fields = field_scoring.plan(scoring, schema, batches, names)
    chosen_solver = solver_named(solver)
    filters = np.concatenate([b.filters for b in batches])
    requested = threshold
    if threshold == "default":
        threshold = default_threshold(filters.shape[0])
    agency_of = np.repeat(np.arange(len(batches)), [len(b) for b in batches]).astype(np.int64)
    if blocking not in ("auto", "exact", "bounded", "lsh", "keys"):
        raise InputError(
            f"blocking must be 'auto', 'exact', 'bounded', 'lsh' or 'keys', not {blocking!r}"
        )
    keyed = (
        KeyedBlocker(
            gather_blocking_keys(
                [b.blocking_keys for b in batches], [len(b) for b in batches], names
            )  # fmt: skip
        )
        if blocking == "keys"
        else None
    )
    if blocking == "auto":
        blocking = "exact" if filters.shape[0] <= EXACT_LIMIT else "bounded"
    report(f"comparing {filters.shape[0]:,} records ({_SEARCH_NAMES[blocking]})")
    pairs = TiledSearch(backend) if isinstance(backend, Backend) else None
    fields = None
    if layout is not None:
        floor, unadjusted = field_scoring.candidate_search()
        candidates = _scored_candidates(
            filters, floor, unadjusted, blocking, pairs, keyed, agency_of
        )
        report("fitting the field model")
        try:
            fields = field_scoring.score_by_fields(filters, layout, candidates, requested)
        except DegenerateModel as exc:
            no_fields = str(exc)
    if no_fields is not None:
        report(f"scoring whole records: {no_fields}")
    if fields is None:
        scored = _scored_candidates(
            filters, threshold, adjustment, blocking, pairs, keyed, agency_of
        )
        report("fitting the score model")
        model = fit_score_mixture(scored.pairs.scores)
        if threshold == "auto":
            value = automatic_threshold(model, scored.pairs.scores) if model else DEFAULT_THRESHOLD
        else:
            value = float(threshold)
    else:
        scored, value, model = fields.scored, fields.threshold, None
    keep = scored.pairs.scores >= value
    kept = CandidatePairs(
        scored.pairs.scores[keep], scored.pairs.rows_a[keep], scored.pairs.rows_b[keep]
    )
    rule = ClusteringRule(threshold=value, same_agency_threshold=value + same_agency_margin)
    report(f"clustering with the {chosen_solver.name} solver")
    scorer = fields.scorer.block if fields is not None else None
    labels = chosen_solver.solve(
        LinkageProblem(filters, agency_of, kept, scored.offsets, rule, scorer)
    )
    inside = labels[kept.rows_a] == labels[kept.rows_b]
    link_scores = kept.scores[inside]
    links = Links(
        rows_a=kept.rows_a[inside],
        rows_b=kept.rows_b[inside],
        scores=link_scores,
        probabilities=(
            link_scores
            if fields is not None
            else model.probability(link_scores)
            if model
            else np.ones_like(link_scores)
        ),
    )
    agencies = tuple(b.agency for b in batches)
    statistics = {
        "format": "blindlink-stats",
        "version": 1,
        **linkage_statistics(agencies, agency_of, labels),
        **attribute_statistics([b.attributes for b in batches], [len(b) for b in batches], labels),
        "linkage": {
            **_linkage_summary(requested, value, chosen_solver.name, model, links),
            "candidates": _SEARCH_NAMES[blocking],
            "scoring": _scoring_summary(scoring, fields, no_fields),
        },
    }
    if keyed is not None and keyed.report is not None:
        statistics["linkage"]["keyed_blocking"] = keyed.report.summary()
    # linkage uncertainty for the estimate: the same candidates, re-clustered nearby
    complete_from = (
        _scores_complete_from(threshold, adjustment) if fields is None else 0.0
    )  # field scores (probabilities) of non-candidates are not bounded: take the grid as is
    report("re-clustering at nearby thresholds")
    others = [t for t in threshold_grid(value, complete_from) if abs(t - value) > 1e-6]
    problem = LinkageProblem(filters, agency_of, kept, scored.offsets, rule, scorer)
    runs = recluster(chosen_solver, problem, scored.pairs, others, same_agency_margin)
    statistics["threshold_sensitivity"] = _threshold_sensitivity(
        agencies, agency_of, model, [*runs, ThresholdRun(value, labels, link_scores)], value
    )
    statistics["linkage"]["score_histogram"] = score_histogram(
        scored.pairs.scores, min(MODEL_FLOOR, complete_from), complete_from
    )
    n_persons = int(labels.max()) + 1 if labels.size else 0
    return LinkResult(
        agencies=agencies,
        record_ids=tuple(b.record_ids for b in batches),
        labels=labels,
        entity_ids=_entity_ids(n_persons, seed),
        threshold=value,
        statistics=statistics,
        links=links,
    )


_SEARCH_NAMES = {
    "exact": "all pairs",
    "bounded": "all pairs, two bounded passes",
    "lsh": "LSH blocking",
    "keys": "keyed blocking (the agencies' blocking keys)",
}


def _scored_candidates(
    filters: npt.NDArray[np.uint8],
    threshold: float | Literal["auto"],
    adjustment: DensityAdjustment,
    search: Blocking,
    pairs: PairSearch | None = None,
    keyed: KeyedBlocker | None = None,
    agency_of: npt.NDArray[np.int64] | None = None,
) -> ScoredLinks:
    """Candidate links with density-adjusted scores, down to what the run can use.

    ``agency_of`` (each record's agency index) is what the densities leave a best partner of
    per agency out by (``linkage.scoring``).

    The floors come from ``candidate_floors``.
    """
    raw_floor, keep_from = candidate_floors(threshold, adjustment)
    kernel = pairs or candidate_pairs  # a backend's tiled search gives the kernel's answers
    if search == "exact":
        return one_pass(
            filters, raw_floor, keep_from, adjustment, search=kernel, agency_of=agency_of
        )
    if search == "bounded":
        return two_pass(
            filters, raw_floor, keep_from, adjustment, search=kernel, agency_of=agency_of
        )
    if search == "keys" and keyed is not None:
        # densities from the pairs within groups only: a record's best partners outside its
        # groups are missed, so crowded records look a little less crowded (docs/blocking.md)
        raw = keyed(filters, min(raw_floor, adjustment.floor))
    else:
        try:
            raw = lsh_candidate_pairs(filters, min(raw_floor, adjustment.floor))
        except LshPlanError as exc:
            raise InputError(
                f"LSH blocking cannot serve {filters.shape[0]:,} records at this threshold "
                f"({exc}); link fewer records at a time, or pass a higher --threshold"
            ) from None
    offsets = record_offsets(raw, filters.shape[0], adjustment, agency_of)
    return select_scored(raw, offsets, raw_floor, keep_from)


def _scores_complete_from(
    threshold: float | Literal["auto"], adjustment: DensityAdjustment
) -> float:
    """The lowest adjusted score from which every pair is among the scored candidates (the
    raw Dice floor plus the most the adjustment can add, and no lower than what is kept;
    see ``_scored_candidates``)."""
    raw_floor, keep_from = candidate_floors(threshold, adjustment)
    return max(keep_from, raw_floor + adjustment.max_offset)


def candidate_floors(
    threshold: float | Literal["auto"], adjustment: DensityAdjustment
) -> tuple[float, float]:
    """(raw Dice floor, adjusted-score floor) of the candidate search at ``threshold``.

    The raw floor is the lowest Dice a pair can have and still reach the threshold (the score
    model's floor, for ``auto``) after adjustment; scored links are kept from
    ``KEPT_BELOW_THRESHOLD`` under the threshold, or from the model's floor if that is lower.
    """
    lowest = MODEL_FLOOR if threshold == "auto" else float(threshold)
    return adjustment.candidate_floor(lowest), min(MODEL_FLOOR, lowest - KEPT_BELOW_THRESHOLD)


def _threshold_sensitivity(
    agencies: Sequence[str],
    agency_of: npt.NDArray[np.int64],
    model: ScoreMixture | None,
    runs: Sequence[ThresholdRun],
    chosen: float,
) -> list[dict[str, Any]]:
    """Per threshold (ascending): persons, links and their capture histories (stats.json)."""
    entries: list[dict[str, Any]] = []
    for run in sorted(runs, key=lambda r: r.threshold):
        counts = linkage_statistics(agencies, agency_of, run.labels)
        entry: dict[str, Any] = {
            "threshold": round(run.threshold, 6),
            "chosen": run.threshold == chosen,
            "unique_persons": counts["unique_persons"],
            "links": int(run.link_scores.shape[0]),
        }
        if model is not None:
            precision, recall = expected_quality(model, run.link_scores)
            entry["estimated_precision"] = round(precision, 4)
            entry["estimated_recall"] = round(recall, 4)
        entry["duplicates_within_agency"] = counts["duplicates_within_agency"]
        entry["persons_by_agency_combination"] = counts["persons_by_agency_combination"]
        entries.append(entry)
    return entries


def _scoring_summary(
    requested: Scoring, fields: field_scoring.FieldScoring | None, no_fields: str | None
) -> dict[str, Any]:
    """How links were scored: field by field (with the model), or by whole records and why."""
    if fields is not None:
        return {"requested": requested, **fields.summary}
    summary: dict[str, Any] = {"requested": requested, "used": "record"}
    if no_fields is not None:
        summary["fallback_reason"] = no_fields
    return summary


def _linkage_summary(
    requested: Threshold, value: float, solver: str, model: ScoreMixture | None, links: Links
) -> dict[str, Any]:
    """How the links were made and how good they are expected to be (model estimates)."""
    summary: dict[str, Any] = {
        "threshold": round(value, 6),
        "threshold_source": {"auto": "automatic", "default": "default for the caseload"}.get(
            str(requested), "given"
        ),
        "solver": solver,
        "links": int(links.scores.shape[0]),
    }
    if model is not None:
        precision, recall = expected_quality(model, links.scores)
        summary["estimated_precision"] = round(precision, 4)
        summary["estimated_recall"] = round(recall, 4)
        summary["score_model"] = {
            "kind": "exponential non-matches + normal matches, fitted by EM",
            "floor": model.floor,
            "match_share": round(model.match_share, 6),
            "expected_matching_pairs": round(model.expected_matches, 1),
            "non_match_decay": round(model.decay, 6),
            "match_mean": round(model.match_mean, 6),
            "match_sd": round(model.match_sd, 6),
            "scores": model.n_scores,
        }
    return summary


def _csv_bytes(header: Sequence[str], rows: Iterator[Sequence[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def _plain_agency_file(agency: str, data: bytes) -> tuple[str, bytes]:
    return f"{agency}.csv", data


def write_results(
    result: LinkResult,
    out_dir: str | os.PathLike[str],
    *,
    name_other_agencies: bool = False,
    agency_file: AgencyFile | None = None,
    disclosure: DisclosureSettings | None = None,
) -> Path:
    """Write clusters.csv, links.csv, agencies/<agency>.csv, stats.json and public.json; all
    or nothing.

    links.csv names records of several agencies: it is for the coordinator, not for sharing;
    nor is stats.json (exact counts). public.json holds the publishable tables, protected by
    ``disclosure`` (default: counts below 10 withheld, no noise; ``stats.disclosure``).
    ``agency_file``, if given, turns each agency's CSV into the file to write instead
    (``pipeline.exchange.agency_result_sealer``: sealed for that agency).
    """
    public = public_statistics(result.statistics, disclosure)
    with atomic_directory(out_dir, replaceable=RESULT_NAMES) as staging:
        (staging / "clusters.csv").write_bytes(
            _csv_bytes(("entity_id", "agency", "record_id"), result.rows())
        )
        (staging / "agencies").mkdir()
        for agency in result.agencies:
            agency_csv = _csv_bytes(
                ("record_id", "entity_id", "known_elsewhere")
                + (("other_agencies",) if name_other_agencies else ()),
                result.agency_rows(agency, name_other_agencies=name_other_agencies),
            )
            name, data = (agency_file or _plain_agency_file)(agency, agency_csv)
            (staging / "agencies" / name).write_bytes(data)
        (staging / "links.csv").write_bytes(
            _csv_bytes(
                (
                    "agency_a",
                    "record_id_a",
                    "agency_b",
                    "record_id_b",
                    "entity_id",
                    "score",
                    "match_probability",
                ),
                result.link_rows(),
            )  # fmt: skip
        )
        (staging / "stats.json").write_text(
            json.dumps(result.statistics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (staging / "public.json").write_text(
            json.dumps(public, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return Path(out_dir)


def link_files(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    threshold: Threshold = "default",
    same_agency_margin: float = SAME_AGENCY_MARGIN,
    solver: str = "multiparty",
    blocking: Blocking = "auto",
    seed: int | None = None,
    progress: Stage | None = None,
    name_other_agencies: bool = False,
    key: PrivateIdentity | None = None,
    agency_keys: AgencyKeys | None = None,
    encrypt_results: bool = False,
    disclosure: DisclosureSettings | None = None,
    backend: Backend | str | None = None,
    scoring: Scoring = "record",
    schema: LinkageSchema | None = None,
) -> LinkResult:
    """Read .blk files, link them and write the results folder.

    ``scoring`` and ``schema``: see :func:`link` (field-aware scoring needs the schema).

    ``backend``: where the candidate search runs (see :func:`link`).

    ``disclosure`` protects the counts of public.json (see :func:`write_results`).

    Sealed files (``protocols/exchange.md``) are opened with the coordinator's ``key``; with
    ``agency_keys`` every file must be sealed and signed by the registered key of the agency
    it names. ``encrypt_results`` seals each agency's results for its registered key (signed
    with ``key`` if given), so only that agency can read them.
    """
    report = progress or (lambda stage: None)
    if disclosure is not None and disclosure.epsilon is not None:
        check_privacy_available()  # before the linkage, not after it
    if encrypt_results and agency_keys is None:
        raise InputError("encrypting results needs the agencies' public keys (--agency-keys)")
    batches = []
    for path in paths:
        report(f"reading {path}")
        batches.append(read_encoded(path, key=key, agency_keys=agency_keys))
    result = link(
        batches,
        threshold=threshold,
        same_agency_margin=same_agency_margin,
        solver=solver,
        blocking=blocking,
        seed=seed,
        names=[str(p) for p in paths],
        progress=progress,
        backend=backend,
        scoring=scoring,
        schema=schema,
    )
    report(f"writing {out_dir}")
    sealer = (
        agency_result_sealer(agency_keys, key)
        if agency_keys is not None and encrypt_results
        else None
    )
    write_results(
        result,
        out_dir,
        name_other_agencies=name_other_agencies,
        agency_file=sealer,
        disclosure=disclosure,
    )
    return result
