"""The report page from a run's statistics: what is in it and in what order.

Input is the parsed ``stats.json`` (the coordinator's exact counts) and, if there is one, the
parsed ``public.json`` (disclosure-controlled tables, rendered whatever their shape). The
population estimate and its sensitivity to the link threshold are computed here
(``stats.mse``, ``stats.sensitivity``); figures come from ``report.figures``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from blindlink import __version__
from blindlink.errors import InputError
from blindlink.report import figures
from blindlink.report.html import (
    figure,
    number,
    page,
    paragraph,
    render_json,
    section,
    table,
    text,
)
from blindlink.stats.mse import MseResult, estimate, from_stats
from blindlink.stats.sensitivity import ThresholdEstimate, envelope, threshold_sensitivity

#: The ids of the figures a complete report holds (tests and docs refer to them).
FIGURE_IDS = ("fig-scores", "fig-overlap", "fig-duplicates", "fig-sensitivity")
#: The ids of its sections, in order.
SECTION_IDS = (
    "summary",
    "scores",
    "quality",
    "overlap",
    "duplicates",
    "estimate",
    "public-tables",
)

NOT_AVAILABLE = "not available"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count_map(value: Any) -> dict[str, int]:
    return {
        str(k): int(v)
        for k, v in _mapping(value).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _combinations(stats: Mapping[str, Any]) -> list[tuple[list[str], int]]:
    rows = stats.get("persons_by_agency_combination")
    out: list[tuple[list[str], int]] = []
    for row in rows if isinstance(rows, list) else []:
        row = _mapping(row)
        agencies, persons = row.get("agencies"), row.get("persons")
        if (
            isinstance(agencies, list)
            and isinstance(persons, int)
            and not isinstance(persons, bool)
        ):
            out.append(([str(a) for a in agencies], persons))
    return out


def _unavailable(what: str) -> str:
    return paragraph(f"{text(what)}: {NOT_AVAILABLE}.", "muted")


def build_report(
    stats: Mapping[str, Any],
    public: Mapping[str, Any] | list[Any] | None,
    *,
    method: str = "stepwise-aic",
    source: str = "stats.json",
) -> str:
    """The whole report as an HTML document (a string)."""
    records = _mapping(stats.get("records"))
    per_agency = _count_map(records.get("per_agency"))
    if not per_agency:
        raise InputError(f"{source}: expected 'records.per_agency' with a count per agency")
    agencies = list(per_agency)
    linkage = _mapping(stats.get("linkage"))
    threshold = linkage.get("threshold")
    threshold = float(threshold) if isinstance(threshold, int | float) else None
    result, estimate_note = _estimate(stats, method)
    try:
        points = threshold_sensitivity(stats, method)
    except InputError as exc:
        points, estimate_note = [], estimate_note or str(exc)
    sections = [
        section(
            "summary",
            "Summary",
            _who_may_see() + _summary(stats, agencies, per_agency, linkage, threshold, result),
        ),
        section("scores", "Link scores and the threshold", _scores(linkage, threshold, stats)),
        section("quality", "Estimated linkage quality", _quality(linkage, stats)),
        section("overlap", "Overlap between agencies", _overlap(stats, agencies)),
        section(
            "duplicates", "Duplicates within agencies", _duplicates(stats, agencies, per_agency)
        ),
        section("estimate", "Population estimate", _estimate_html(result, estimate_note, points)),
        section(
            "public-tables", "Tables for publication (after disclosure control)", _public(public)
        ),
    ]
    inputs = "stats.json" + (" and public.json" if public is not None else "")
    return page(
        "blindlink linkage report",
        f"Made by blindlink {text(__version__)} from {text(inputs)}; no network resources, "
        "everything is in this file.",
        sections,
    )


def _estimate(stats: Mapping[str, Any], method: str) -> tuple[MseResult | None, str | None]:
    try:
        return estimate(from_stats(stats), method), None
    except InputError as exc:
        return None, str(exc)


def _who_may_see() -> str:
    return paragraph(
        "<strong>For the coordinator.</strong> Apart from the last section, this page shows "
        "exact counts from stats.json, small ones included, which can identify people: do not "
        "publish or forward it. Only the section <em>Tables for publication</em>, taken from "
        "public.json after disclosure control, may be published.",
        "note",
    )


def _summary(
    stats: Mapping[str, Any],
    agencies: Sequence[str],
    per_agency: Mapping[str, int],
    linkage: Mapping[str, Any],
    threshold: float | None,
    result: MseResult | None,
) -> str:
    persons = _count_map(stats.get("persons_per_agency"))
    duplicates = _count_map(stats.get("duplicates_within_agency"))
    unique = stats.get("unique_persons")
    facts = [
        ["records", number(sum(per_agency.values()))],
        ["agencies", number(len(agencies))],
        ["unique persons found", number(unique) if isinstance(unique, int) else NOT_AVAILABLE],
        ["link threshold", number(threshold, 3) if threshold is not None else NOT_AVAILABLE],
        ["threshold chosen by", text(linkage.get("threshold_source", NOT_AVAILABLE))],
        ["solver", text(linkage.get("solver", NOT_AVAILABLE))],
    ]
    if result is not None:
        low, high = result.ci95
        facts.append(
            [
                "estimated total population",
                f"{number(result.estimate)} (95% CI {number(low)} to {number(high)})",
            ]
        )
    rows = [
        [
            text(a),
            number(per_agency.get(a, 0)),
            number(persons.get(a, 0)),
            number(duplicates.get(a, 0)),
        ]
        for a in agencies
    ]
    return table(["", "value"], facts, table_id="summary-table") + table(
        ["agency", "records", "persons", "duplicate records"],
        rows,
        numeric=[False, True, True, True],
        table_id="agency-table",
    )


def _grid(stats: Mapping[str, Any]) -> list[float]:
    entries = stats.get("threshold_sensitivity")
    return [
        float(e["threshold"])
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping) and isinstance(e.get("threshold"), int | float)
    ]


def _scores(linkage: Mapping[str, Any], threshold: float | None, stats: Mapping[str, Any]) -> str:
    histogram = _mapping(linkage.get("score_histogram"))
    counts = histogram.get("counts")
    if (
        threshold is None
        or not isinstance(counts, list)
        or not counts
        or not all(isinstance(c, int) for c in counts)
        or not isinstance(histogram.get("lower"), int | float)
        or not isinstance(histogram.get("upper"), int | float)
    ):
        return _unavailable("score histogram (stats.json from an older blindlink: link again)")
    model = linkage.get("score_model")
    png = figures.score_figure(
        histogram, threshold, _grid(stats), model if isinstance(model, Mapping) else None
    )
    caption = (
        "Scores of candidate pairs of records (log scale). Pairs of the same person pile up "
        "near the top, pairs of different people fall off from the left; the solid line is the "
        "threshold, dotted lines the other thresholds tried below. Curves: the two-part model "
        "fitted to these scores (it gives the estimated quality). In the grey band, not every "
        "pair was a candidate."
    )
    return figure("fig-scores", png, "histogram of link scores with the threshold", caption)


def _quality(linkage: Mapping[str, Any], stats: Mapping[str, Any]) -> str:
    precision, recall = linkage.get("estimated_precision"), linkage.get("estimated_recall")
    if not isinstance(precision, int | float) or not isinstance(recall, int | float):
        return _unavailable("estimated precision and recall (too few scores to fit the model)")
    body = paragraph(
        f"Estimated precision <strong>{number(float(precision), 3)}</strong> (share of links "
        f"that join records of one person), recall <strong>{number(float(recall), 3)}</strong> "
        "(share of such pairs that were linked), from the score model alone, without any "
        "ground truth. On synthetic data they are pessimistic about precision and optimistic "
        "about recall (docs/quality.md): a warning light, not a measurement."
    )
    entries = [e for e in stats.get("threshold_sensitivity") or [] if isinstance(e, Mapping)]
    rows, classes = [], []
    for e in entries:
        if not isinstance(e.get("threshold"), int | float):
            continue
        rows.append(
            [
                number(float(e["threshold"]), 3),
                number(e.get("links", NOT_AVAILABLE)),
                number(e.get("unique_persons", NOT_AVAILABLE)),
                number(e.get("estimated_precision", NOT_AVAILABLE), 3),
                number(e.get("estimated_recall", NOT_AVAILABLE), 3),
            ]
        )
        classes.append("chosen" if e.get("chosen") else None)
    if rows:
        body += table(
            ["threshold", "links", "persons", "est. precision", "est. recall"],
            rows,
            numeric=[True] * 5,
            row_classes=classes,
            table_id="quality-table",
        )
    return body


def _overlap(stats: Mapping[str, Any], agencies: Sequence[str]) -> str:
    combinations = _combinations(stats)
    if not combinations:
        return _unavailable("persons by combination of agencies")
    png = figures.overlap_figure(
        agencies, combinations, _count_map(stats.get("persons_per_agency"))
    )
    caption = (
        "Each column is one combination of agencies (the dots below it) and its bar the number "
        "of persons registered by exactly those agencies; a single dot means known to one "
        "agency only. The bars on the left count each agency's persons. These capture "
        "histories are what the population estimate is made from."
    )
    return figure("fig-overlap", png, "UpSet chart of persons per combination of agencies", caption)


def _duplicates(
    stats: Mapping[str, Any], agencies: Sequence[str], per_agency: Mapping[str, int]
) -> str:
    duplicates = _count_map(stats.get("duplicates_within_agency"))
    if not duplicates:
        return _unavailable("duplicates within agencies")
    png = figures.duplicates_figure(agencies, duplicates, per_agency)
    caption = (
        "Records that an agency registered for a person it had already registered (found by "
        "the linkage, which asks more of a match within one agency than across agencies)."
    )
    return figure("fig-duplicates", png, "duplicate records per agency", caption)


def _estimate_html(
    result: MseResult | None, note: str | None, points: Sequence[ThresholdEstimate]
) -> str:
    if result is None:
        return _unavailable(f"population estimate ({note})" if note else "population estimate")
    low, high = result.ci95
    terms = ", ".join(":".join(t) for t in result.interactions) or "none"
    body = paragraph(
        f'<span class="big">{number(result.estimate)}</span> persons in all (95% CI '
        f"{number(low)} to {number(high)}), of whom {number(result.observed)} were registered "
        f"by at least one of the {number(len(result.lists))} agencies and an estimated "
        f"{number(result.unobserved)} by none."
    ) + paragraph(
        f"Multiple systems estimation, method {text(result.method)}; interactions: "
        f"{text(terms)}. It assumes a closed population, a model that captures how the "
        "agencies' caseloads depend on each other, and a correct linkage: missed links inflate "
        "the estimate, false links deflate it (docs/estimation.md).",
        "muted",
    )
    for warning in result.warnings:
        body += paragraph(f"Warning: {text(warning)}", "note")
    if not points:
        return body + _unavailable(
            "sensitivity to the link threshold (stats.json from an older blindlink: link again)"
        )
    png = figures.sensitivity_figure(
        [(p.threshold, p.estimate, p.ci95, p.observed, p.chosen) for p in points]
    )
    body += figure(
        "fig-sensitivity",
        png,
        "population estimate at each link threshold",
        "The same estimate from the persons found at other link thresholds. The spread of the "
        "points is the part of the uncertainty that comes from the linkage; each interval is "
        "the part from sampling and the model, given that linkage.",
    )
    rows, classes = [], []
    for p in points:
        ci = f"{number(p.ci95[0])} to {number(p.ci95[1])}" if p.ci95 else NOT_AVAILABLE
        rows.append(
            [
                number(p.threshold, 3) + (" (chosen)" if p.chosen else ""),
                number(p.observed),
                number(p.estimate) if p.estimate is not None else text(p.note or NOT_AVAILABLE),
                ci,
            ]
        )
        classes.append("chosen" if p.chosen else None)
    body += table(
        ["threshold", "persons observed", "estimate", "95% CI"],
        rows,
        numeric=[True, True, True, True],
        row_classes=classes,
        table_id="sensitivity-table",
    )
    estimates = [p.estimate for p in points if p.estimate is not None]
    joined = envelope(points)
    if estimates and joined:
        body += paragraph(
            f"Across thresholds {number(points[0].threshold, 3)} to "
            f"{number(points[-1].threshold, 3)} the estimate ranges from {number(min(estimates))} "
            f"to {number(max(estimates))}; the intervals together span {number(joined[0])} to "
            f"{number(joined[1])}, against {number(low)} to {number(high)} at the chosen "
            "threshold alone. Publish the estimate with this range, not with the interval alone."
        )
    return body


def _public(public: Mapping[str, Any] | list[Any] | None) -> str:
    if public is None:
        return _unavailable("disclosure-controlled tables (no public.json in this results folder)")
    return paragraph(
        "From public.json: counts after small-cell and secondary suppression. A dash marks a "
        "suppressed or empty cell. These tables, unlike the rest of this page, may be "
        "published.",
        "ok",
    ) + render_json(public)
