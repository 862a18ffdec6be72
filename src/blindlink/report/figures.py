"""The report's figures, drawn with matplotlib (the ``report`` extra) into PNG bytes.

matplotlib is imported only when a figure is drawn, and only its object-oriented API is used
(``Figure`` with an Agg canvas): no pyplot, no global backend switch, nothing left open.
Every label that comes from a file (agency names) is drawn with ``parse_math=False``, so that
matplotlib never reads a ``$`` in it as the start of mathematics.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from scipy.stats import norm

from blindlink.errors import BlindlinkError

INSTALL_HINT = (
    "the report needs matplotlib, which is not installed: pip install 'blindlink[report]'"
)
#: Pixels per inch of the PNGs (figures are ~900 px wide).
DPI = 100
#: An UpSet chart shows at most this many combinations of agencies (the largest).
MAX_COMBINATIONS = 30

_BLUE = "#3465a4"
_ORANGE = "#ce5c00"
_GREY = "#888a85"


def _matplotlib() -> tuple[Any, Any]:
    """(Figure, FigureCanvasAgg), or a one-line error with the install hint."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise BlindlinkError(INSTALL_HINT) from None
    return Figure, FigureCanvasAgg


def matplotlib_available() -> bool:
    """Whether figures can be drawn here."""
    try:
        _matplotlib()
    except BlindlinkError:
        return False
    return True


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    """Agency names in scripts the bundled font lacks draw as boxes; say nothing about it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph .* missing from", category=Warning)
        yield


def _png(figure: Any, canvas_class: Any) -> bytes:
    canvas = canvas_class(figure)
    buffer = io.BytesIO()
    with _quiet_fonts():
        canvas.print_png(buffer)
    return buffer.getvalue()


def score_figure(
    histogram: Mapping[str, Any],
    threshold: float,
    grid: Sequence[float],
    model: Mapping[str, Any] | None,
) -> bytes:
    """Histogram of candidate-pair scores (log scale), the fitted mixture, and the thresholds."""
    figure_class, canvas_class = _matplotlib()
    counts = np.asarray(histogram["counts"], dtype=np.float64)
    lower, upper = float(histogram["lower"]), float(histogram["upper"])
    edges = np.linspace(lower, upper, counts.shape[0] + 1)
    width = (upper - lower) / counts.shape[0]
    complete_from = float(histogram.get("complete_from", lower))
    figure = figure_class(figsize=(9, 4), dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    ax.bar(
        edges[:-1],
        counts,
        width=width,
        align="edge",
        color=_BLUE,
        alpha=0.75,
        label="candidate pairs",
    )
    if complete_from > lower:
        ax.axvspan(
            lower,
            complete_from,
            color=_GREY,
            alpha=0.2,
            label="partial: not every pair here was a candidate",
        )
    if model is not None:
        expected = _mixture_counts(model, edges, width)
        if expected is not None:
            non_match, match = expected
            centres = (edges[:-1] + edges[1:]) / 2
            ax.plot(centres, non_match, color=_GREY, lw=1.5, label="model: different persons")
            ax.plot(centres, match, color=_ORANGE, lw=1.5, label="model: same person")
    for point in grid:
        if abs(point - threshold) > 1e-9:
            ax.axvline(point, color="black", lw=0.8, ls=":", alpha=0.7)
    ax.axvline(threshold, color="black", lw=1.8, label=f"threshold {threshold:.3f}")
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5)
    ax.set_xlim(lower, upper)
    ax.set_xlabel("link score (Dice, adjusted for look-alikes)")
    ax.set_ylabel("pairs per bin (log scale)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return _png(figure, canvas_class)


def _mixture_counts(
    model: Mapping[str, Any], edges: np.ndarray[Any, Any], width: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """Expected pairs per bin of each mixture component (``linkage.probability``'s model)."""
    try:
        floor = float(model["floor"])
        share = float(model["match_share"])
        decay = float(model["non_match_decay"])
        mean = float(model["match_mean"])
        sd = float(model["match_sd"])
        total = float(model["scores"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (floor, share, decay, mean, sd, total)) or sd <= 0:
        return None
    x = np.clip((edges[:-1] + edges[1:]) / 2, floor, 1.0)
    span = 1.0 - floor
    non_match = decay * np.exp(-decay * (x - floor)) / (-np.expm1(-decay * span))
    mass = float(norm.cdf(1.0, mean, sd) - norm.cdf(floor, mean, sd))
    match = norm.pdf(x, mean, sd) / max(mass, 1e-12)
    visible = (edges[:-1] + edges[1:]) / 2 >= floor
    scale = total * width
    return (
        np.where(visible, (1 - share) * non_match * scale, np.nan),
        np.where(visible, share * match * scale, np.nan),
    )


def overlap_figure(
    agencies: Sequence[str],
    combinations: Sequence[tuple[Sequence[str], int]],
    persons_per_agency: Mapping[str, int],
) -> bytes:
    """UpSet-style chart: persons per combination of agencies (bars over a dot matrix) and
    persons per agency (bars at the side)."""
    figure_class, canvas_class = _matplotlib()
    shown = sorted(combinations, key=lambda c: (-c[1], len(c[0])))[:MAX_COMBINATIONS]
    n_cols, n_rows = max(len(shown), 1), max(len(agencies), 1)
    figure = figure_class(
        figsize=(max(6.0, 2.5 + 0.32 * n_cols), 3.2 + 0.32 * n_rows), dpi=DPI, layout="constrained"
    )
    grid = figure.add_gridspec(2, 2, width_ratios=(1, 4), height_ratios=(3, max(1, n_rows) * 0.45))
    bars = figure.add_subplot(grid[0, 1])
    matrix = figure.add_subplot(grid[1, 1], sharex=bars)
    sizes = figure.add_subplot(grid[1, 0], sharey=matrix)
    positions = list(range(len(shown)))
    heights = [count for _, count in shown]
    bars.bar(positions, heights, color=_BLUE, width=0.6)
    for x, height in zip(positions, heights, strict=True):
        bars.text(x, height, f"{height:,}", ha="center", va="bottom", fontsize=7)
    bars.set_ylabel("persons")
    bars.tick_params(axis="x", bottom=False, labelbottom=False)
    bars.spines[["top", "right"]].set_visible(False)
    title = "persons by the combination of agencies that registered them"
    if len(combinations) > len(shown):
        title += f" (largest {len(shown)} of {len(combinations)})"
    bars.set_title(title, fontsize=10)
    rows = {name: i for i, name in enumerate(agencies)}
    for x, (members, _) in enumerate(shown):
        ys = sorted(rows[m] for m in members if m in rows)
        matrix.scatter([x] * n_rows, range(n_rows), color="#d3d7cf", s=40, zorder=1)
        matrix.scatter([x] * len(ys), ys, color="black", s=40, zorder=2)
        if len(ys) > 1:
            matrix.plot([x, x], [ys[0], ys[-1]], color="black", lw=1.5, zorder=2)
    matrix.set_yticks(range(n_rows), list(agencies), parse_math=False)
    matrix.set_ylim(n_rows - 0.5, -0.5)
    matrix.set_xlim(-0.6, n_cols - 0.4)
    matrix.tick_params(axis="x", bottom=False, labelbottom=False)
    matrix.tick_params(axis="y", left=False, labelleft=False)
    for side in ("top", "right", "bottom", "left"):
        matrix.spines[side].set_visible(False)
    totals = [int(persons_per_agency.get(a, 0)) for a in agencies]
    sizes.barh(range(n_rows), totals, color=_GREY, height=0.6)
    sizes.invert_xaxis()
    sizes.set_yticks(range(n_rows), list(agencies), parse_math=False)
    sizes.yaxis.tick_right()
    sizes.tick_params(axis="y", right=False, labelsize=8)
    sizes.set_xlabel("persons per agency", fontsize=8)
    sizes.spines[["top", "left"]].set_visible(False)
    return _png(figure, canvas_class)


def duplicates_figure(
    agencies: Sequence[str], duplicates: Mapping[str, int], records: Mapping[str, int]
) -> bytes:
    """Records registered more than once within each agency, with their share of its records."""
    figure_class, canvas_class = _matplotlib()
    values = [int(duplicates.get(a, 0)) for a in agencies]
    figure = figure_class(
        figsize=(8, 1.2 + 0.4 * max(len(agencies), 1)), dpi=DPI, layout="constrained"
    )
    ax = figure.add_subplot()
    ax.barh(range(len(agencies)), values, color=_ORANGE, height=0.6)
    for y, (agency, value) in enumerate(zip(agencies, values, strict=True)):
        total = int(records.get(agency, 0))
        share = f" ({100 * value / total:.1f}% of {total:,} records)" if total else ""
        ax.text(value, y, f" {value:,}{share}", va="center", fontsize=8)
    ax.set_yticks(range(len(agencies)), list(agencies), parse_math=False)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*values, 1]) * 1.6)
    ax.set_xlabel("duplicate records within the agency (records beyond a person's first)")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(figure, canvas_class)


def sensitivity_figure(
    points: Sequence[tuple[float, float | None, tuple[float, float] | None, int, bool]],
) -> bytes:
    """Estimate with its 95% interval, and persons observed, at each link threshold.

    ``points``: (threshold, estimate, ci95, observed, chosen) per threshold.
    """
    figure_class, canvas_class = _matplotlib()
    figure = figure_class(figsize=(8, 3.8), dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    xs = [p[0] for p in points]
    ax.plot(
        xs, [p[3] for p in points], color=_GREY, marker="s", lw=1, label="persons observed (linked)"
    )
    for threshold, estimate, ci, _, chosen in points:
        if estimate is None or not math.isfinite(estimate):
            continue
        low, high = ci if ci is not None else (estimate, estimate)
        high = high if math.isfinite(high) else estimate
        ax.errorbar(
            [threshold],
            [estimate],
            yerr=[[estimate - low], [high - estimate]],
            color=_ORANGE if chosen else _BLUE,
            marker="o",
            capsize=4,
            lw=1.5,
        )
    ax.plot([], [], color=_BLUE, marker="o", label="estimated total, 95% interval")
    ax.plot([], [], color=_ORANGE, marker="o", label="at the chosen threshold")
    ax.set_xlabel("link threshold (lower: more records merged into one person)")
    ax.set_ylabel("persons")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(figure, canvas_class)
