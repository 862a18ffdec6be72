"""Disclosure control: what of a linkage run's counts may be published (``public.json``).

``stats.json`` holds exact counts and stays with the coordinator. :func:`public_statistics`
turns it into ``public.json``: the same kinds of table -- persons per combination of agencies
(capture histories) with persons per agency and unique persons as their margins, persons
registered more than once by each agency, persons by each aggregate attribute and by sex and
age band -- with these rules, in this order:

1. **Differential privacy** (optional: ``epsilon``, and ``delta``): every published count that
   is not a sum of others gets noise from OpenDP's vetted samplers -- the discrete Laplace
   mechanism for pure epsilon-DP (``delta`` 0), the discrete Gaussian (zero-concentrated DP,
   converted to (epsilon, delta)) otherwise -- scaled to the most one person can change them
   all together (one cell of each table, and each agency's "registered more than once").
   Noisy counts below 0 become 0; totals and margins are then the sums of the noisy counts,
   so the tables add up (post-processing costs no privacy). Noise is never hand-rolled here.
2. **Primary suppression**: every count below ``min_cell`` (default 10) is withheld
   (``null``), zeros included -- a zero can be as telling as a one.
3. **Secondary suppression**, so that a withheld count cannot be worked out from the others:
   every published total with its parts is a line ``total = part + part + ...``. In each line,
   if exactly one number is withheld, the smallest published part (or else the total) is
   withheld too; if the withheld parts of a line with a published total add up to less than
   ``min_cell`` (say two zeros), another part is withheld, so the line does not pin them.
   Repeated until no line changes. Then an **audit** solves the published system exactly:
   a withheld count is recoverable when it is a linear combination of published numbers
   (its unit vector lies in the row space of the lines restricted to withheld cells). For
   every recoverable count, another number on one of its lines is withheld, until none is.

What it does not do: it does not prevent bounds (a withheld count is known to lie between 0
and its line's total), and the DP guarantee treats the linkage as fixed -- that a person's
records change who else is linked to whom is outside it. Counts are of persons, never of
records, so one person moves each table by at most one.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from blindlink.errors import InputError

__all__ = [
    "DEFAULT_MIN_CELL",
    "FORMAT_NAME",
    "MAX_COMBINATION_AGENCIES",
    "CountSystem",
    "DisclosureSettings",
    "PrivacyUnavailable",
    "check_privacy_available",
    "noisy_counts",
    "public_statistics",
    "recoverable_cells",
    "single_subtraction_recoverable",
    "suppress",
]

#: Counts below this are withheld unless the coordinator chooses otherwise.
DEFAULT_MIN_CELL = 10
#: Value of public.json's ``format`` key.
FORMAT_NAME = "blindlink-public-stats"
#: Capture histories are published (all 2^k - 1 combinations, zeros too) for at most this many
#: agencies; beyond it the table is left out of public.json (estimation stops at 12 lists too).
MAX_COMBINATION_AGENCIES = 12

_INSTALL_HINT = (
    "differential privacy needs the OpenDP library: pip install 'blindlink[dp]' (or: pip "
    "install opendp)"
)


class PrivacyUnavailable(InputError):
    """Differential privacy was asked for, but OpenDP is not installed."""


@dataclass(frozen=True)
class DisclosureSettings:
    """How counts are protected before publication.

    ``min_cell`` is the smallest count published (counts below it are withheld, with enough
    others that they cannot be recovered). ``epsilon`` (with ``delta``, default 0) adds
    differentially private noise first; ``None`` adds none.
    """

    min_cell: int = DEFAULT_MIN_CELL
    epsilon: float | None = None
    delta: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.min_cell, bool) or not isinstance(self.min_cell, int):
            raise InputError(f"min_cell must be a whole number, not {self.min_cell!r}")
        if self.min_cell < 1:
            raise InputError(f"min_cell must be at least 1, not {self.min_cell}")
        if self.epsilon is not None and not (
            math.isfinite(self.epsilon) and 0 < self.epsilon <= 100
        ):
            raise InputError(f"epsilon must be above 0 and at most 100, not {self.epsilon!r}")
        if not (math.isfinite(self.delta) and 0 <= self.delta < 1):
            raise InputError(f"delta must be at least 0 and below 1, not {self.delta!r}")
        if self.delta and self.epsilon is None:
            raise InputError("delta needs epsilon: give both, or neither")


# ----------------------------------------------------------------------- the linear system


@dataclass
class CountSystem:
    """Published numbers and the lines between them: ``values[total] = sum(values[parts])``.

    Cells that are no line's part or total (standalone counts) are only ever suppressed for
    being small.
    """

    values: list[int] = field(default_factory=list)
    lines: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)

    def cell(self, value: int) -> int:
        """Add a cell; return its index."""
        self.values.append(int(value))
        return len(self.values) - 1

    def total_of(self, parts: Sequence[int]) -> int:
        """Add a cell that is the sum of ``parts`` (and the line saying so)."""
        index = self.cell(sum(self.values[p] for p in parts))
        self.lines.append((index, tuple(parts)))
        return index

    def line(self, total: int, parts: Sequence[int]) -> None:
        """Say that an existing cell is the sum of ``parts``."""
        self.lines.append((total, tuple(parts)))


def recoverable_cells(system: CountSystem, suppressed: set[int]) -> set[int]:
    """Withheld cells whose value follows from the published ones by linear algebra.

    With the lines restricted to withheld cells as a matrix ``A`` (``A x = b``, ``b`` from the
    published cells), ``x_i`` is determined exactly when the unit vector ``e_i`` lies in the row
    space of ``A``: when its leverage, the squared norm of column ``i`` of an orthonormal basis
    of that row space, is 1.
    """
    hidden = sorted(suppressed)
    if not hidden:
        return set()
    column = {cell: j for j, cell in enumerate(hidden)}
    rows: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for total, parts in system.lines:
        row = np.zeros(len(hidden))
        for part in parts:
            if part in column:
                row[column[part]] += 1.0
        if total in column:
            row[column[total]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    _, singular, basis = np.linalg.svd(np.array(rows), full_matrices=False)
    rank = int(np.count_nonzero(singular > 1e-9 * max(1.0, float(singular[0]))))
    leverage = (basis[:rank] ** 2).sum(axis=0)
    return {hidden[j] for j in np.flatnonzero(leverage > 1.0 - 1e-8).tolist()}


def single_subtraction_recoverable(system: CountSystem, suppressed: set[int]) -> set[int]:
    """Withheld cells that are the only withheld number on some line (total minus the rest)."""
    found: set[int] = set()
    for total, parts in system.lines:
        hidden = [cell for cell in (total, *parts) if cell in suppressed]
        if len(hidden) == 1:
            found.add(hidden[0])
    return found


#: Secondary suppression weighs at most this many of the smallest published cells of a line.
_CANDIDATES = 24


class _Exposure:
    """Which lines leave a withheld count exposed, kept up to date cell by cell.

    A line is exposed when exactly one of its numbers is withheld, or when its total is
    published and its withheld parts add up to less than ``min_cell``.
    """

    def __init__(self, system: CountSystem, suppressed: set[int], min_cell: int) -> None:
        self.system = system
        self.min_cell = min_cell
        self.suppressed = suppressed
        self.lines_of: dict[int, list[tuple[int, bool]]] = {}
        for number, (total, parts) in enumerate(system.lines):
            self.lines_of.setdefault(total, []).append((number, True))
            for part in parts:
                self.lines_of.setdefault(part, []).append((number, False))
        n = len(system.lines)
        self.parts_hidden = [0] * n
        self.hidden_sum = [0] * n
        self.total_hidden = [False] * n
        for cell in suppressed:
            self._count(cell)

    def _count(self, cell: int) -> None:
        for number, is_total in self.lines_of.get(cell, ()):
            if is_total:
                self.total_hidden[number] = True
            else:
                self.parts_hidden[number] += 1
                self.hidden_sum[number] += self.system.values[cell]

    def _exposed(self, parts: int, total: bool, hidden_sum: int) -> bool:
        count = parts + total
        return count == 1 or (count > 0 and not total and hidden_sum < self.min_cell)

    def line_exposed(self, number: int) -> bool:
        return self._exposed(
            self.parts_hidden[number], self.total_hidden[number], self.hidden_sum[number]
        )

    def exposed_lines(self) -> list[int]:
        return [n for n in range(len(self.system.lines)) if self.line_exposed(n)]

    def change_if_withheld(self, cell: int) -> int:
        """How the number of exposed lines would change if ``cell`` were withheld too."""
        change = 0
        for number, is_total in self.lines_of.get(cell, ()):
            parts, total, hidden = (
                self.parts_hidden[number], self.total_hidden[number], self.hidden_sum[number]
            )  # fmt: skip
            before = self._exposed(parts, total, hidden)
            if is_total:
                after = self._exposed(parts, True, hidden)
            else:
                after = self._exposed(parts + 1, total, hidden + self.system.values[cell])
            change += int(after) - int(before)
        return change

    def withhold(self, cell: int) -> None:
        if cell not in self.suppressed:
            self.suppressed.add(cell)
            self._count(cell)

    def open_cells(self, numbers: Sequence[int]) -> list[int]:
        """Published cells of the given lines, parts before totals, smallest first (a few)."""
        values = self.system.values
        found: dict[int, None] = {}
        for number in numbers:
            total, parts = self.system.lines[number]
            found.update(dict.fromkeys(p for p in parts if p not in self.suppressed))
        if not found:
            for number in numbers:
                total = self.system.lines[number][0]
                if total not in self.suppressed:
                    found[total] = None
        return sorted(found, key=lambda c: (values[c], c))[:_CANDIDATES]


def suppress(system: CountSystem, min_cell: int) -> set[int]:
    """Indices of the cells to withhold: primary, secondary, then the exact audit.

    Secondary cells are chosen greedily: for an exposed line, the published cell of that line
    whose withholding leaves the fewest exposed lines, the smallest on a tie; for a count the
    audit finds recoverable, the published cell on its lines that leaves the fewest
    recoverable counts. Greedy is not minimal (that is NP-hard), only safe.
    """
    values = system.values
    state = _Exposure(system, {i for i, value in enumerate(values) if value < min_cell}, min_cell)
    stuck: set[int] = set()
    while True:
        exposed = [n for n in state.exposed_lines() if n not in stuck]
        if exposed:
            candidates = state.open_cells([exposed[0]])
            if not candidates:
                stuck.add(exposed[0])
                continue
            state.withhold(
                min(candidates, key=lambda c: (state.change_if_withheld(c), values[c], c))
            )
            continue
        recoverable = recoverable_cells(system, state.suppressed)
        if not recoverable:
            return state.suppressed
        cell = min(recoverable)
        lines = [number for number, _ in state.lines_of.get(cell, ())]
        candidates = state.open_cells(lines)
        if not candidates:  # every line of the cell is withheld already: nothing more to do
            return state.suppressed

        def left(candidate: int) -> tuple[int, int, int, int]:
            after = recoverable_cells(system, state.suppressed | {candidate})
            return (len(after), state.change_if_withheld(candidate), values[candidate], candidate)

        state.withhold(min(candidates, key=left))


# ---------------------------------------------------------------------------- DP noise


def check_privacy_available() -> None:
    """Raise :class:`PrivacyUnavailable` (with an install hint) if OpenDP is not installed."""
    _opendp()


def _opendp() -> Any:
    try:
        prelude = importlib.import_module("opendp.prelude")
    except ImportError as exc:
        raise PrivacyUnavailable(_INSTALL_HINT) from exc
    prelude.enable_features("contrib")
    return prelude


def noisy_counts(
    counts: Sequence[int], *, epsilon: float, delta: float, contributions: int
) -> tuple[list[int], dict[str, Any]]:
    """``counts`` with differentially private noise from OpenDP, and how it was made.

    One person changes at most ``contributions`` of the counts, each by at most 1 (L1
    sensitivity ``contributions``, L2 ``sqrt(contributions)``). ``delta`` 0: discrete Laplace,
    pure ``epsilon``-DP; else discrete Gaussian, (``epsilon``, ``delta``)-DP. The noise scale
    is the smallest OpenDP certifies for the budget (its binary search).
    """
    dp = _opendp()
    data = [int(c) for c in counts]
    if delta == 0:
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)

        def laplace(scale: float) -> Any:
            return dp.m.make_laplace(*space, scale=scale)

        scale = dp.binary_search_param(laplace, d_in=contributions, d_out=epsilon)
        measurement = laplace(scale)
        mechanism = "discrete Laplace (OpenDP make_laplace), pure epsilon-DP"
    else:
        space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=float)

        def gaussian(scale: float) -> Any:
            zcdp = dp.m.make_gaussian(*space, scale=scale)
            return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(zcdp), delta=delta)

        scale = dp.binary_search_param(
            gaussian, d_in=math.sqrt(contributions), d_out=(epsilon, delta)
        )
        measurement = gaussian(scale)
        mechanism = "discrete Gaussian (OpenDP make_gaussian, zCDP converted to approximate DP)"
    noisy = [int(v) for v in measurement(data)] if data else []
    info = {
        "epsilon": epsilon,
        "delta": delta,
        "mechanism": mechanism,
        "noise_scale": round(float(scale), 6),
        "person_contributes_to_at_most": contributions,
        "library": f"opendp {_library_version()}",
    }
    return noisy, info


def _library_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("opendp")
    except importlib.metadata.PackageNotFoundError:
        return "(unknown version)"


# --------------------------------------------------------------------------- the tables


@dataclass
class _Table:
    """Where a published table's numbers are in the system, to write them out afterwards."""

    cells: dict[str, int]
    total: int | None = None


@dataclass
class _Plan:
    """The published tables as cells of one system, built from a stats.json document."""

    system: CountSystem = field(default_factory=CountSystem)
    #: cells that get noise (base counts; everything else is a sum of them)
    base: list[int] = field(default_factory=list)
    #: sum of the base tables' per-person contributions (L1 sensitivity of the base counts)
    contributions: int = 0
    tables: dict[str, Any] = field(default_factory=dict)


def _agencies(stats: Mapping[str, Any]) -> list[str]:
    try:
        return list(stats["records"]["per_agency"])
    except (KeyError, TypeError) as exc:
        raise InputError(
            "stats: expected 'records.per_agency' (a linkage run's stats.json)"
        ) from exc


def _base_cells(plan: _Plan, counts: Sequence[int]) -> list[int]:
    cells = [plan.system.cell(n) for n in counts]
    plan.base += cells
    plan.contributions += 1
    return cells


def _combination_table(plan: _Plan, stats: Mapping[str, Any], agencies: list[str]) -> None:
    observed: dict[frozenset[str], int] = {}
    for row in stats.get("persons_by_agency_combination", []):
        observed[frozenset(row["agencies"])] = int(row["persons"])
    combos = [
        combo for size in range(1, len(agencies) + 1) for combo in combinations(agencies, size)
    ]
    cells = _base_cells(plan, [observed.get(frozenset(c), 0) for c in combos])
    plan.tables["combinations"] = (combos, cells)
    per_agency = {
        a: plan.system.total_of([cell for c, cell in zip(combos, cells, strict=True) if a in c])
        for a in agencies
    }
    plan.tables["persons_per_agency"] = per_agency
    plan.tables["unique_persons"] = plan.system.total_of(cells)


def _registered_again_table(plan: _Plan, stats: Mapping[str, Any], agencies: list[str]) -> None:
    counts = stats.get("persons_registered_more_than_once")
    if not isinstance(counts, Mapping):
        return
    cells = [plan.system.cell(int(counts.get(a, 0))) for a in agencies]
    plan.base += cells
    plan.contributions += len(agencies)  # a person may be registered twice by every agency
    plan.tables["registered_again"] = dict(zip(agencies, cells, strict=True))


def _attribute_tables(plan: _Plan, stats: Mapping[str, Any]) -> None:
    attributes = stats.get("attributes")
    if not isinstance(attributes, Mapping):
        return
    tables: Mapping[str, Any] = attributes.get("tables", {})
    crossed: Mapping[str, Any] = attributes.get("cross_tabulations", {})
    one_way: dict[str, _Table] = {}
    two_way: dict[str, tuple[str, str, dict[str, dict[str, int]], int]] = {}
    for key, table in crossed.items():
        rows, columns = table["rows"], table["columns"]
        if rows in one_way or columns in one_way:
            continue  # each attribute is counted in at most one base table
        grid: dict[str, dict[str, int]] = table["persons"]
        row_labels = list(grid)
        column_labels = list(next(iter(grid.values()), {}))
        cells = {
            (r, c): cell
            for (r, c), cell in zip(
                [(r, c) for r in row_labels for c in column_labels],
                _base_cells(plan, [grid[r][c] for r in row_labels for c in column_labels]),
                strict=True,
            )
        }
        row_totals = {
            r: plan.system.total_of([cells[r, c] for c in column_labels]) for r in row_labels
        }
        column_totals = {
            c: plan.system.total_of([cells[r, c] for r in row_labels]) for c in column_labels
        }
        total = plan.system.total_of(list(row_totals.values()))
        plan.system.line(total, list(column_totals.values()))
        one_way[rows] = _Table(row_totals, total)
        one_way[columns] = _Table(column_totals, total)
        two_way[key] = (rows, columns, {r: {c: cells[r, c] for c in column_labels}
                                        for r in row_labels}, total)  # fmt: skip
    for name, table in tables.items():
        if name in one_way:
            continue
        labels = list(table["persons"])
        cells_list = _base_cells(plan, [table["persons"][label] for label in labels])
        one_way[name] = _Table(
            dict(zip(labels, cells_list, strict=True)), plan.system.total_of(cells_list)
        )
    plan.tables["attributes"] = {name: one_way[name] for name in tables if name in one_way}
    plan.tables["cross_tabulations"] = two_way
    plan.tables["attribute_rules"] = attributes.get("rules", {})


def _share_totals(plan: _Plan) -> None:
    """Without noise every table's total is the number of unique persons: one cell for all of
    them, so that withholding it in one table withholds it everywhere."""
    totals = [plan.tables["unique_persons"]] if "unique_persons" in plan.tables else []
    totals += [t.total for t in plan.tables.get("attributes", {}).values() if t.total is not None]
    if len(totals) < 2:
        return
    keep = totals[0]
    alias = dict.fromkeys(totals[1:], keep)
    plan.system.lines = [
        (alias.get(total, total), tuple(alias.get(p, p) for p in parts))
        for total, parts in plan.system.lines
    ]
    for table in plan.tables.get("attributes", {}).values():
        table.total = alias.get(table.total, table.total)
    plan.tables["cross_tabulations"] = {
        key: (rows, columns, grid, alias.get(total, total))
        for key, (rows, columns, grid, total) in plan.tables.get("cross_tabulations", {}).items()
    }


def _recompute_sums(system: CountSystem, base: Sequence[int]) -> None:
    """Totals as the sums of their parts (after noise), in the order they were defined."""
    fixed = set(base)
    for total, parts in system.lines:
        if total not in fixed:
            system.values[total] = sum(system.values[p] for p in parts)
            fixed.add(total)


def public_statistics(
    stats: Mapping[str, Any], settings: DisclosureSettings | None = None
) -> dict[str, Any]:
    """``public.json``: the publishable tables of a run's ``stats.json``, disclosure-controlled.

    Counts are persons. A withheld count is ``null``. See the module documentation for the
    rules; they are also written into the result, with the settings.
    """
    settings = settings or DisclosureSettings()
    if stats.get("format") == FORMAT_NAME:
        raise InputError("stats: this is public.json already; give the run's stats.json")
    agencies = _agencies(stats)
    plan = _Plan()
    omitted: list[str] = []
    if len(agencies) <= MAX_COMBINATION_AGENCIES:
        _combination_table(plan, stats, agencies)
    else:
        omitted.append(
            f"persons by combination of agencies: more than {MAX_COMBINATION_AGENCIES} agencies"
        )
    _registered_again_table(plan, stats, agencies)
    _attribute_tables(plan, stats)
    privacy: dict[str, Any] | None = None
    if settings.epsilon is not None:
        noisy, privacy = noisy_counts(
            [plan.system.values[i] for i in plan.base],
            epsilon=settings.epsilon,
            delta=settings.delta,
            contributions=max(1, plan.contributions),
        )
        for cell, value in zip(plan.base, noisy, strict=True):
            plan.system.values[cell] = max(0, value)
        _recompute_sums(plan.system, plan.base)
    else:
        _share_totals(plan)
    suppressed = suppress(plan.system, settings.min_cell)
    return _document(plan, suppressed, settings, privacy, agencies, omitted, stats)


def _document(
    plan: _Plan,
    suppressed: set[int],
    settings: DisclosureSettings,
    privacy: dict[str, Any] | None,
    agencies: list[str],
    omitted: list[str],
    stats: Mapping[str, Any],
) -> dict[str, Any]:
    values = plan.system.values

    def shown(cell: int | None) -> int | None:
        return None if cell is None or cell in suppressed else values[cell]

    used = {cell for line in plan.system.lines for cell in (line[0], *line[1])} | set(plan.base)
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": 1,
        "disclosure_control": {
            "min_cell": settings.min_cell,
            "withheld_counts_are": None,
            "rules": _rules(settings, privacy),
            "differential_privacy": privacy,
            "counts_withheld": len(suppressed & used),
            "counts_published": len(used - suppressed),
        },
        "agencies": agencies,
    }
    if "unique_persons" in plan.tables:
        combos, cells = plan.tables["combinations"]
        document["unique_persons"] = shown(plan.tables["unique_persons"])
        document["persons_per_agency"] = {
            a: shown(cell) for a, cell in plan.tables["persons_per_agency"].items()
        }
        document["persons_by_agency_combination"] = [
            {"agencies": list(combo), "persons": shown(cell)}
            for combo, cell in zip(combos, cells, strict=True)
        ]
    if "registered_again" in plan.tables:
        document["persons_registered_more_than_once"] = {
            a: shown(cell) for a, cell in plan.tables["registered_again"].items()
        }
    if plan.tables.get("attributes"):
        document["attributes"] = {
            "rules": dict(plan.tables["attribute_rules"]),
            "tables": {
                name: {
                    "total": shown(table.total),
                    "persons": {label: shown(cell) for label, cell in table.cells.items()},
                    **_reference_dates(stats, name),
                }
                for name, table in plan.tables["attributes"].items()
            },
            "cross_tabulations": {
                key: {
                    "rows": rows,
                    "columns": columns,
                    "total": shown(total),
                    "persons": {
                        r: {c: shown(cell) for c, cell in row.items()} for r, row in grid.items()
                    },
                }
                for key, (rows, columns, grid, total) in plan.tables["cross_tabulations"].items()
            },
        }
    linkage = stats.get("linkage")
    if isinstance(linkage, Mapping):
        document["linkage"] = {
            key: linkage[key] for key in ("threshold", "solver") if key in linkage
        }
    if omitted:
        document["omitted"] = omitted
    return document


def _reference_dates(stats: Mapping[str, Any], name: str) -> dict[str, Any]:
    table = stats.get("attributes", {}).get("tables", {}).get(name, {})
    dates = table.get("reference_dates") if isinstance(table, Mapping) else None
    return {"reference_dates": list(dates)} if dates else {}


def _rules(settings: DisclosureSettings, privacy: dict[str, Any] | None) -> list[str]:
    rules = [
        "counts are of persons (linked records of one person count once), never of records",
    ]
    if privacy is not None:
        rules.append(
            "differential privacy: every count that is not a total got noise from OpenDP "
            f"({privacy['mechanism']}; epsilon {privacy['epsilon']}, delta {privacy['delta']}, "
            f"one person changes at most {privacy['person_contributes_to_at_most']} counts by "
            "1); noisy counts below 0 are 0; totals and margins are sums of the noisy counts"
        )
    rules += [
        f"primary suppression: every count below {settings.min_cell}, zeros included, is "
        "withheld (null)",
        "secondary suppression: on every line 'total = sum of parts' no withheld count is "
        "alone, and withheld parts of a published total add up to at least "
        f"{settings.min_cell}; more counts are withheld until that holds",
        "audit: no withheld count is a linear combination of published counts",
    ]
    return rules
