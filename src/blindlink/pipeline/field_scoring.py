"""Field-aware scoring in a linkage run: from the schema's layout and the candidates to scored
links, a threshold and a scorer for the solver (``link(..., scoring="fields")``).

The coordinator is given the linkage schema (public; every agency encoded with it) and checks
that its fingerprint is the one in the encoded files. ``schema.layout`` turns it into the
segments of the field-level filters; ``linkage.fields`` compares candidates segment by
segment and fits the Fellegi–Sunter model. When the schema has no usable layout (a ``clk`` or
``rbf`` encoding, or hardening that mixes segments), or EM ends in a degenerate model, the run
falls back to record-level scoring and says why in ``stats.json`` (``linkage.scoring``); the
CLI repeats the reason on standard error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from blindlink.errors import IncompatibleFilesError, InputError
from blindlink.kernels.segment_dice import segment_dice
from blindlink.linkage.fields import (
    CONFIDENT,
    LEVEL_EDGES,
    FieldModel,
    FieldScorer,
    comparison_levels,
    estimate_u,
    expected_f1_threshold,
    fit_field_model,
)
from blindlink.linkage.probability import fit_score_mixture
from blindlink.linkage.scoring import DensityAdjustment, ScoredLinks
from blindlink.schema.layout import FieldLayout, NoFieldLayout, field_layout
from blindlink.schema.model import LinkageSchema
from blindlink.types import CandidatePairs, EncodedBatch

Scoring = Literal["record", "fields"]
#: Record-level Dice from which pairs are candidates for field scoring. Lower than the
#: record-level floor, so that a pair whose record Dice a missing field pulls down is still
#: compared field by field: at 2,767 generated records 0.5 keeps 99.8 % of the true pairs
#: (83,000 candidates), 0.55 98.5 % (docs/quality.md).
FIELD_CANDIDATE_FLOOR = 0.5
#: Match probability at which two records are linked by default under field scoring.
FIELD_THRESHOLD = 0.5
#: Without a record-level score model, candidates from this record Dice start EM as matches.
_INITIAL_DICE = 0.8


def candidate_search(floor: float = FIELD_CANDIDATE_FLOOR) -> tuple[float, DensityAdjustment]:
    """The (threshold, adjustment) that make the record-level candidate search return every
    pair with raw Dice at least ``floor``, unadjusted (weight 0: field scores replace the
    density adjustment)."""
    return floor, DensityAdjustment(weight=0.0, floor=floor)


def check_schema(
    schema: LinkageSchema, batches: Sequence[EncodedBatch], names: Sequence[str]
) -> None:
    """Refuse, in one line, a schema that is not the one the encoded files were made with."""
    for batch, name in zip(batches, names, strict=True):
        if batch.schema_fingerprint != schema.fingerprint:
            raise IncompatibleFilesError(
                f"{name}: encoded with schema fingerprint {batch.schema_fingerprint[:12]}, but "
                f"the schema given ({schema.name!r}) has fingerprint {schema.fingerprint[:12]}; "
                "give the linkage schema the agencies encoded with"
            )


def plan(
    scoring: Scoring,
    schema: LinkageSchema | None,
    batches: Sequence[EncodedBatch],
    names: Sequence[str],
) -> tuple[FieldLayout | None, str | None]:
    """The layout to score by fields with, or None and why not (None, None: not asked for)."""
    if scoring not in ("record", "fields"):
        raise InputError(f"scoring must be 'record' or 'fields', not {scoring!r}")
    if schema is not None:
        check_schema(schema, batches, names)
    if scoring == "record":
        return None, None
    if schema is None:
        raise InputError("field scoring needs the linkage schema the files were encoded with "
                         "(--schema FILE)")  # fmt: skip
    try:
        return field_layout(schema), None
    except NoFieldLayout as exc:
        return None, str(exc)


@dataclass(frozen=True)
class FieldScoring:
    """Candidates scored by match probability, the threshold, and the solver's scorer."""

    scored: ScoredLinks
    threshold: float
    scorer: FieldScorer
    summary: dict[str, Any]

    @property
    def model(self) -> FieldModel:
        return self.scorer.model


def _initial_matches(dice: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Where EM starts: the record-level score mixture's confident matches."""
    mixture = fit_score_mixture(dice)
    if mixture is None:
        return (dice >= _INITIAL_DICE).astype(np.float64)
    confident = (mixture.probability(dice) >= CONFIDENT) & (dice >= mixture.floor)
    return confident.astype(np.float64)


def score_by_fields(
    filters: npt.NDArray[np.uint8],
    layout: FieldLayout,
    candidates: ScoredLinks,
    requested: float | Literal["auto", "default"],
    *,
    edges: Sequence[float] = LEVEL_EDGES,
    u_from: Literal["candidate pairs", "random pairs"] = "candidate pairs",
) -> FieldScoring:
    """Fit the field model on the ``candidates`` (raw record Dice, from ``candidate_search``)
    and score them; raises ``DegenerateModel`` when EM fails.

    ``u_from``: fit the u-probabilities on the candidates with m (the default), or estimate
    them from random record pairs and hold them fixed (Splink's way; measured worse on the
    generator, see ``linkage.fields``).

    Links come back ordered by match probability, then by record Dice, both descending: many
    links share a probability (comparison levels are coarse), and the solver takes links in a
    stable order, so record Dice breaks those ties.
    """
    bounds = np.array([(s.start, s.stop) for s in layout.segments], dtype=np.int64)
    pairs = candidates.pairs
    n = filters.shape[0]
    levels = comparison_levels(segment_dice(filters, pairs.rows_a, pairs.rows_b, bounds), edges)
    model = fit_field_model(
        levels,
        _initial_matches(pairs.scores),
        u=estimate_u(filters, bounds, edges=edges) if u_from == "random pairs" else None,
        all_pairs=max(n * (n - 1) // 2, 1),
        names=layout.names,
        edges=edges,
    )
    probability = model.probability(levels)
    if requested == "auto":
        threshold = expected_f1_threshold(probability)
    elif requested == "default":
        threshold = FIELD_THRESHOLD
    else:
        threshold = float(requested)
    order = np.lexsort((-pairs.scores, -probability))
    scored = ScoredLinks(
        CandidatePairs(probability[order], pairs.rows_a[order], pairs.rows_b[order]),
        np.zeros(n),
    )
    accepted = probability[probability >= threshold]
    expected = float(probability.sum())
    summary: dict[str, Any] = {
        "used": "fields",
        "candidate_floor": FIELD_CANDIDATE_FLOOR,
        "candidates": int(pairs.scores.shape[0]),
        "model": model.summary(),
        "expected_matching_pairs": round(expected, 1),
        "estimated_precision": round(float(accepted.mean()), 4) if accepted.size else 1.0,
        "estimated_recall": round(float(accepted.sum()) / expected, 4) if expected else 0.0,
    }
    scorer = FieldScorer(filters, bounds, model)
    return FieldScoring(scored, threshold, scorer, summary)
