"""Multiple systems estimation (MSE): how many victims has no agency found?

After linkage the coordinator knows, for every person, which agencies registered them (their
capture history). Poisson log-linear models fitted to the counts of the 2^k - 1 observable
histories extrapolate to the one history nobody can observe: "on no list". The estimated
population is ``observed + exp(intercept)``.

The methods follow the published analyses of modern slavery data closely enough to reproduce
their numbers (see ``docs/estimation.md`` and ``/work/shared/mse-reference``):

* ``main-effects``: lists independent given the person (Silverman 2020);
* ``stepwise-aic``: forward selection of two-list interactions by AIC, stopping when AIC stops
  falling or the new term's Wald p-value exceeds 0.05 (Bales, Hesketh & Silverman 2015; the
  R package modslavmse, ``MSEfit``);
* ``stepwise-pvalue``: forward selection by the one-sided Poisson p-value of each pair's
  overlap, threshold 0.02, refusing terms whose MLE would not exist or not be identifiable
  (Chan, Silverman & Vincent 2021; R package SparseMSE, ``stepwisefit``);
* ``bic``: the lowest BIC over all hierarchical models with interactions up to ``max_order``
  lists (Silverman, Chan & Vincent 2024; Rcapture ``closedpMS.t``).

Subtleties that change the answer, all handled here: unlisted histories are observed zeros; an
interaction between lists that share no case has MLE -inf, so its column and the cells it
covers are dropped but the parameter is still counted in AIC/BIC (SparseMSE ``modelfit``); the
MLE may fail to exist for other reasons, which the Fienberg-Rinaldo linear programme detects;
and two interval conventions are in use, the log-normal Wald interval
``n + exp(b0 +/- 1.96 se)`` and Rcapture's multinomial profile-likelihood interval with
Cormack's (1992) correction.

Everything here is pure computation: no printing, no files except ``read_capture_csv``.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats

from blindlink.errors import InputError

__all__ = [
    "METHODS",
    "MAX_LISTS",
    "CaptureHistories",
    "Method",
    "ModelFit",
    "MseResult",
    "check_existence",
    "drop_uninformative_lists",
    "estimate",
    "fit_model",
    "from_stats",
    "profile_interval",
    "read_capture_csv",
    "wald_interval",
]

Method = Literal["main-effects", "stepwise-aic", "stepwise-pvalue", "bic"]
METHODS: tuple[Method, ...] = ("main-effects", "stepwise-aic", "stepwise-pvalue", "bic")

#: More lists than this make 2^k - 1 cells and the model searches impractical; agencies in one
#: linkage are far fewer in practice.
MAX_LISTS = 12

Term = tuple[int, ...]
FloatArray = npt.NDArray[np.float64]

_Z95 = float(stats.norm.ppf(0.975))
_CHI2_95 = float(stats.chi2.ppf(0.95, 1))


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureHistories:
    """Counts of persons per capture history.

    ``counts[mask]`` is the number of persons seen on exactly the lists whose bits are set in
    ``mask`` (bit i = ``lists[i]``). Every mask 1 .. 2^k - 1 is present, zeros included,
    because an unlisted history is an observed zero and the model must see it.
    """

    lists: tuple[str, ...]
    counts: Mapping[int, int]

    def __post_init__(self) -> None:
        k = len(self.lists)
        if k < 1 or k > MAX_LISTS:
            raise InputError(f"capture histories need 1 to {MAX_LISTS} lists, got {k}")
        if len(set(self.lists)) != k:
            raise InputError("capture histories have duplicate list names")
        full = {mask: 0 for mask in range(1, 1 << k)}
        for mask, count in self.counts.items():
            if not 0 < mask < 1 << k:
                raise InputError(f"capture history mask {mask} is out of range for {k} lists")
            if count < 0:
                raise InputError("capture history counts must be non-negative")
            full[mask] = int(count)
        object.__setattr__(self, "counts", full)

    @property
    def k(self) -> int:
        """Number of lists."""
        return len(self.lists)

    @property
    def observed(self) -> int:
        """Persons seen on at least one list."""
        return sum(self.counts.values())

    def overlap(self, lists: Iterable[int]) -> int:
        """Persons seen on all the given lists (whatever else they are on)."""
        want = _mask(lists)
        return sum(c for mask, c in self.counts.items() if mask & want == want)

    def to_rows(self) -> list[tuple[tuple[int, ...], int]]:
        """(0/1 history, count) per non-zero cell, in mask order: for tables and reports."""
        return [
            (tuple((mask >> i) & 1 for i in range(self.k)), c)
            for mask, c in sorted(self.counts.items())
            if c
        ]


def _mask(lists: Iterable[int]) -> int:
    m = 0
    for i in lists:
        m |= 1 << i
    return m


def read_capture_csv(path: str | Path) -> CaptureHistories:
    """Read a capture-history CSV: one 0/1 column per list, then ``count``.

    Histories not listed are zeros. Errors name the file, line and column, never a value
    beyond what is needed, so they are safe for logs.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read as UTF-8 text ({type(exc).__name__})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(f"{p}: empty file, expected a header with list columns and 'count'")
    header = [h.strip() for h in rows[0]]
    if "count" not in header:
        raise InputError(f"{p}, line 1: no 'count' column")
    if header[-1] != "count" or header.count("count") != 1:
        raise InputError(f"{p}, line 1: 'count' must be the last column, and only once")
    names = header[:-1]
    if not names:
        raise InputError(f"{p}, line 1: no list columns before 'count'")
    if len(names) > MAX_LISTS:
        raise InputError(f"{p}, line 1: {len(names)} lists, at most {MAX_LISTS} are supported")
    for j, name in enumerate(names, start=1):
        if not name:
            raise InputError(f"{p}, line 1, column {j}: empty list name")
    if len(set(names)) != len(names):
        raise InputError(f"{p}, line 1: duplicate list names")
    counts: dict[int, int] = {}
    seen_at: dict[int, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{p}, line {lineno}: {len(row)} fields, expected {len(header)} like the header"
            )
        mask = 0
        for j, (name, cell) in enumerate(zip(names, row, strict=False)):
            value = cell.strip()
            if value not in ("0", "1"):
                raise InputError(
                    f"{p}, line {lineno}, column {j + 1} ({name}): list membership must be 0 or 1"
                )
            if value == "1":
                mask |= 1 << j
        raw = row[-1].strip()
        try:
            count = int(raw)
        except ValueError:
            raise InputError(
                f"{p}, line {lineno}, column {len(header)} (count): not a whole number"
            ) from None
        if count < 0:
            raise InputError(f"{p}, line {lineno}, column {len(header)} (count): negative")
        if mask == 0:
            raise InputError(
                f"{p}, line {lineno}: a history on no list cannot be observed; "
                "that count is what is being estimated"
            )
        if mask in seen_at:
            raise InputError(
                f"{p}, line {lineno}: the same capture history as line {seen_at[mask]}"
            )
        seen_at[mask] = lineno
        counts[mask] = count
    if not counts:
        raise InputError(f"{p}: no capture histories after the header")
    return CaptureHistories(tuple(names), counts)


def from_stats(stats_json: Mapping[str, Any]) -> CaptureHistories:
    """Capture histories from a linkage run's ``stats.json`` (see ``stats.aggregates``).

    List order is the order of ``records.per_agency``, i.e. the agencies' order in the run.
    Estimation needs the exact counts: a run's ``public.json`` (withheld or noisy counts) is
    refused; estimate from ``stats.json`` and publish the estimate.
    """
    if isinstance(stats_json, Mapping) and stats_json.get("format") == "blindlink-public-stats":
        raise InputError(
            "stats: this is public.json, whose small counts are withheld (or noisy); estimate "
            "from the run's stats.json, which stays with the coordinator, and publish the estimate"
        )
    try:
        per_agency = stats_json["records"]["per_agency"]
        combos = stats_json["persons_by_agency_combination"]
    except (KeyError, TypeError):
        raise InputError(
            "stats: expected 'records.per_agency' and 'persons_by_agency_combination'"
        ) from None
    names = [str(a) for a in per_agency]
    if not names:
        raise InputError("stats: no agencies in 'records.per_agency'")
    if len(names) > MAX_LISTS:
        raise InputError(f"stats: {len(names)} agencies, at most {MAX_LISTS} are supported")
    index = {name: i for i, name in enumerate(names)}
    counts: dict[int, int] = {}
    for n, row in enumerate(combos):
        try:
            agencies = list(row["agencies"])
            persons = row["persons"]
        except (KeyError, TypeError):
            raise InputError(
                f"stats: persons_by_agency_combination[{n}] needs 'agencies' and 'persons'"
            ) from None
        unknown = [a for a in agencies if a not in index]
        if unknown:
            raise InputError(
                f"stats: persons_by_agency_combination[{n}] names an agency "
                "not in records.per_agency"
            )
        if isinstance(persons, bool) or not isinstance(persons, int) or persons < 0:
            raise InputError(
                f"stats: persons_by_agency_combination[{n}].persons must be a whole number >= 0"
            )
        mask = _mask(index[a] for a in agencies)
        if mask == 0:
            raise InputError(f"stats: persons_by_agency_combination[{n}] lists no agency")
        if mask in counts:
            raise InputError(f"stats: persons_by_agency_combination[{n}] repeats a combination")
        counts[mask] = persons
    return CaptureHistories(tuple(names), counts)


# --------------------------------------------------------------------------------------------
# Model fitting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFit:
    """One Poisson log-linear model fitted to the observable cells.

    ``terms`` are the interactions asked for (tuples of list indices); ``dropped`` are those
    whose lists share no case, whose MLE is -inf: their column and every cell they cover are
    removed (the fitted count there is 0), but they still count in ``n_params``.
    """

    terms: tuple[Term, ...]
    dropped: tuple[Term, ...]
    columns: tuple[Term, ...]  # (), main effects (i,), then the kept interactions
    cells: npt.NDArray[np.int64]  # masks of the cells kept in the fit
    y: FloatArray
    design: FloatArray
    coef: FloatArray
    cov: FloatArray
    fitted: FloatArray
    loglik: float
    deviance: float
    n_params: int
    n_observed: int
    converged: bool
    identifiable: bool

    @property
    def unobserved(self) -> float:
        """Estimated persons on no list: exp(intercept)."""
        return _exp(float(self.coef[0]))

    @property
    def estimate(self) -> float:
        return self.n_observed + self.unobserved

    @property
    def se_intercept(self) -> float:
        return math.sqrt(max(float(self.cov[0, 0]), 0.0))

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.n_params * math.log(self.n_observed)

    @property
    def df(self) -> int:
        """Residual degrees of freedom of the fit: kept cells minus kept parameters (R's
        ``df.residual``); cells and parameters of -inf terms cancel out."""
        return int(len(self.cells) - len(self.columns))

    def wald_p(self, term: Term) -> float:
        """Two-sided Wald p-value of a term (1 for a dropped, -inf term: it cannot be tested)."""
        if term in self.dropped or term not in self.columns:
            return 1.0
        j = self.columns.index(term)
        se = math.sqrt(max(float(self.cov[j, j]), 0.0))
        if se == 0.0 or not math.isfinite(se):
            return 1.0
        return float(2.0 * stats.norm.sf(abs(float(self.coef[j])) / se))


def _cells_and_bits(k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    masks = np.arange(1, 1 << k, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(k, dtype=np.int64)[None, :]) & 1
    return masks, bits


def _normalise_terms(terms: Iterable[Sequence[int]], k: int) -> tuple[Term, ...]:
    out: list[Term] = []
    for t in terms:
        term = tuple(sorted({int(i) for i in t}))
        if len(term) < 2 or term[0] < 0 or term[-1] >= k:
            raise ValueError(f"interaction {tuple(t)} must name at least two of the {k} lists")
        if term not in out:
            out.append(term)
    return tuple(out)


def _design(
    histories: CaptureHistories, terms: tuple[Term, ...]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64], tuple[Term, ...], tuple[Term, ...]]:
    """Design matrix on the kept cells, after dropping terms whose lists share no case."""
    k = histories.k
    masks, bits = _cells_and_bits(k)
    y = np.array([histories.counts[int(m)] for m in masks], dtype=np.float64)
    dropped = tuple(t for t in terms if histories.overlap(t) == 0)
    keep = np.ones(len(masks), dtype=bool)
    for t in dropped:
        tm = _mask(t)
        keep &= (masks & tm) != tm
    kept_terms = tuple(t for t in terms if t not in dropped)
    cols = [np.ones(len(masks))] + [bits[:, i].astype(np.float64) for i in range(k)]
    cols += [np.prod(bits[:, list(t)], axis=1).astype(np.float64) for t in kept_terms]
    x = np.column_stack(cols)[keep]
    columns: tuple[Term, ...] = ((), *((i,) for i in range(k)), *kept_terms)
    return x, y[keep], masks[keep], columns, dropped


def _irls(
    x: FloatArray,
    y: FloatArray,
    start: FloatArray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[FloatArray, FloatArray, float, bool]:
    """Poisson log-link MLE by Newton/IRLS with step halving.

    Returns (coefficients, fitted values, deviance, converged). Convergence is R's ``glm``
    rule (relative deviance change) with a tighter tolerance, so well-posed fits agree with R
    to many digits and ill-posed ones (MLE at infinity) drift the way R's do.
    """
    if start is None:
        eta = np.log(y + 0.1)
        w = np.exp(eta)
        z = eta + (y - w) / w
        xtw = x.T * w
        beta = np.linalg.lstsq(xtw @ x, xtw @ z, rcond=None)[0]
    else:
        beta = start.copy()
    eta = np.clip(x @ beta, -700.0, 700.0)
    mu = np.exp(eta)
    dev = _deviance(y, mu)
    converged = False
    for _ in range(max_iter):
        xtw = x.T * mu
        info = xtw @ x
        score = x.T @ (y - mu)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        for _halve in range(30):
            new_beta = beta + step
            new_mu = np.exp(np.clip(x @ new_beta, -700.0, 700.0))
            new_dev = _deviance(y, new_mu)
            if math.isfinite(new_dev) and new_dev <= dev + 1e-9 * (abs(dev) + 1.0):
                break
            step = step / 2.0
        beta, mu = new_beta, new_mu
        if abs(new_dev - dev) / (abs(new_dev) + 0.1) < tol:
            dev = new_dev
            converged = True
            break
        dev = new_dev
    return np.asarray(beta, dtype=np.float64), np.asarray(mu, dtype=np.float64), dev, converged


def _deviance(y: FloatArray, mu: FloatArray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(2.0 * np.sum(term - (y - mu)))


def fit_model(
    histories: CaptureHistories,
    terms: Iterable[Sequence[int]] = (),
    *,
    start: FloatArray | None = None,
) -> ModelFit:
    """Fit main effects plus the given interactions (tuples of list indices).

    Why hand-rolled IRLS: the model is tiny (at most 2^12 - 1 cells) and model searches fit
    thousands of them, so numpy Newton steps are fast and keep the dependency list short.
    """
    k = histories.k
    terms_t = _normalise_terms(terms, k)
    x, y, cells, columns, dropped = _design(histories, terms_t)
    rank = int(np.linalg.matrix_rank(x)) if len(x) else 0
    identifiable = bool(rank == int(x.shape[1]))
    beta, mu, dev, converged = _irls(
        x, y, start if start is not None and len(start) == x.shape[1] else None
    )
    info = (x.T * mu) @ x
    try:
        cov = np.linalg.inv(info) if identifiable else np.linalg.pinv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    loglik = float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1.0)))
    return ModelFit(
        terms=terms_t,
        dropped=dropped,
        columns=columns,
        cells=cells,
        y=y,
        design=x,
        coef=beta,
        cov=np.asarray(cov, dtype=np.float64),
        fitted=mu,
        loglik=loglik,
        deviance=dev,
        n_params=1 + k + len(terms_t),
        n_observed=histories.observed,
        converged=converged,
        identifiable=identifiable,
    )


# --------------------------------------------------------------------------------------------
# Existence of the MLE (Fienberg & Rinaldo 2012)
# --------------------------------------------------------------------------------------------


def check_existence(histories: CaptureHistories, terms: Iterable[Sequence[int]] = ()) -> bool:
    """Whether the (extended) MLE of the model exists, by the Fienberg-Rinaldo linear programme.

    The MLE exists iff the sufficient statistics t = A'y lie in the relative interior of the
    marginal cone, i.e. iff some x > 0 (strictly, in every kept cell) has A'x = t. The LP
    maximises s subject to A'x = t, x_i >= s, x >= 0; the optimum is 0 exactly when the MLE
    does not exist. Terms whose lists share no case are first dropped with their cells, as in
    the fit (Chan, Silverman & Vincent 2021; SparseMSE ``checkident``).
    """
    terms_t = _normalise_terms(terms, histories.k)
    x, y, _cells, _cols, _dropped = _design(histories, terms_t)
    n_cells, n_par = x.shape
    total = float(y.sum())
    if total <= 0:
        return False
    t = x.T @ (y / total)  # scaled so that the cell values sum to 1
    c = np.zeros(n_cells + 1)
    c[-1] = -1.0
    a_eq = np.hstack([x.T, np.zeros((n_par, 1))])
    a_ub = np.hstack([-np.eye(n_cells), np.ones((n_cells, 1))])
    res = optimize.linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(n_cells),
        A_eq=a_eq,
        b_eq=t,
        bounds=[(0.0, None)] * (n_cells + 1),
        method="highs",
    )
    if res.status != 0:
        return False
    return bool(-res.fun > 1e-9 / n_cells)


# --------------------------------------------------------------------------------------------
# Confidence intervals
# --------------------------------------------------------------------------------------------


def wald_interval(fit: ModelFit, z: float = _Z95) -> tuple[float, float]:
    """Log-normal Wald interval n + exp(b0 -/+ z se), as SparseMSE ``estimatepopulation.0``."""
    b0, se = float(fit.coef[0]), fit.se_intercept
    n = fit.n_observed
    return (n + _exp(b0 - z * se), n + _exp(b0 + z * se))


def _exp(v: float) -> float:
    """exp that saturates at inf: a fit whose MLE does not exist can have a huge intercept."""
    return math.exp(v) if v < 709.0 else math.inf


def _cormack(n0: float, total: float) -> float:
    """log( n0^n0 N! / (N^N n0!) ): turns the Poisson deviance with the unobserved cell set to
    n0 = N - n into the multinomial profile log-likelihood of N (Cormack 1992). Rcapture uses
    Stirling's form above N = 100; so do we, to reproduce its intervals."""
    if total > 100:
        if n0 <= 1.0 and n0 in (0.0, 1.0):
            return -total + 0.5 * math.log(2 * math.pi * total)
        return n0 - total - 0.5 * math.log(n0 / total)
    return float(
        special.xlogy(n0, n0)
        + special.gammaln(total + 1)
        - special.xlogy(total, total)
        - special.gammaln(n0 + 1)
    )


def profile_interval(
    fit: ModelFit, level: float = 0.95, max_factor: float = 3.0
) -> tuple[float, float, float]:
    """Multinomial profile-likelihood interval for N (Rcapture ``closedpCI.t``).

    For each candidate N the unobserved cell is appended with count N - n and the same model
    is refitted (the new cell has only the intercept); the profile log-likelihood is
    ``-(deviance - 2 * Cormack correction) / 2``. Returns (N at the profile maximum, lower,
    upper). The lower end is n when the likelihood never falls far enough below n's side; the
    upper end is searched up to ``max_factor`` times the point estimate and then further out,
    and is ``inf`` when the likelihood is too flat to bound it.
    """
    n = float(fit.n_observed)
    x_aug = np.vstack([fit.design, np.zeros((1, fit.design.shape[1]))])
    x_aug[-1, 0] = 1.0

    def loglik(big_n: float) -> float:
        # always start from the model's own fit, so that the profile is a deterministic
        # function of N and the root finders see a smooth curve
        n0 = max(big_n - n, 0.0)
        y_aug = np.append(fit.y, n0)
        _beta, _mu, dev, _ = _irls(x_aug, y_aug, fit.coef, tol=1e-12)
        return -dev / 2.0 + _cormack(n0, float(y_aug.sum()))

    n_hat = fit.estimate
    hi = max(max_factor * n_hat, n + 1.0)
    opt = optimize.minimize_scalar(
        lambda v: -loglik(v), bounds=(n, hi), method="bounded", options={"xatol": 1e-6}
    )
    n_max = float(opt.x)
    l_max = -float(opt.fun)
    cut = l_max - float(stats.chi2.ppf(level, 1)) / 2.0

    def g(v: float) -> float:
        return loglik(v) - cut

    lower = n
    if g(n) < 0 < g(n_max):
        lower = float(optimize.brentq(g, n, n_max, xtol=1e-8))
    upper = math.inf
    bound = hi
    for _ in range(6):
        if g(bound) < 0 < g(n_max):
            upper = float(optimize.brentq(g, n_max, bound, xtol=1e-8))
            break
        bound *= 4.0
    return n_max, lower, upper


# --------------------------------------------------------------------------------------------
# Model selection
# --------------------------------------------------------------------------------------------


def _pairs(k: int) -> list[Term]:
    return list(itertools.combinations(range(k), 2))


def _stepwise_aic(h: CaptureHistories, p_stop: float) -> tuple[ModelFit, list[str]]:
    """Bales, Hesketh & Silverman (2015), as modslavmse ``MSEfit``: add the pair that lowers
    AIC most; stop when none does, or when the added pair's Wald p-value exceeds p_stop."""
    fit = fit_model(h)
    notes: list[str] = []
    chosen: list[Term] = []
    remaining = _pairs(h.k)
    while remaining:
        trials = [(fit_model(h, [*chosen, pair]), pair) for pair in remaining]
        best, pair = min(trials, key=lambda fp: fp[0].aic)  # first minimum, like R's min()
        if best.aic >= fit.aic:
            break
        p = best.wald_p(pair)
        if p > p_stop:
            what = "an interaction of lists sharing no case, MLE -inf" if p == 1.0 else ""
            notes.append(
                f"stepwise AIC stopped: the best next term {':'.join(h.lists[i] for i in pair)} "
                f"has Wald p = {p:.3g} > {p_stop}" + (f" ({what})" if what else "")
            )
            break
        fit = best
        chosen.append(pair)
        remaining.remove(pair)
    return fit, notes


def _poisson_p(observed: int, expected: float) -> float:
    """Smaller tail of a Poisson(expected) at the observed overlap, as SparseMSE."""
    lower = float(stats.poisson.cdf(observed, expected))
    upper = float(stats.poisson.sf(observed - 1, expected))
    return min(lower, upper)


def _stepwise_pvalue(h: CaptureHistories, threshold: float) -> tuple[ModelFit, list[str]]:
    """Chan, Silverman & Vincent (2021), as SparseMSE ``stepwisefit``: add the pair whose
    overlap is least compatible (Poisson p-value) with the current model, if below the
    threshold and if the enlarged model's MLE exists and is identifiable."""
    fit = fit_model(h)
    notes: list[str] = []
    chosen: list[Term] = []
    remaining = _pairs(h.k)
    observed = {pair: h.overlap(pair) for pair in remaining}
    while remaining:
        best_p, best_pair = 1.0, None
        for pair in remaining:
            tm = _mask(pair)
            expected = float(fit.fitted[(fit.cells & tm) == tm].sum())
            p = _poisson_p(observed[pair], expected)
            if p < best_p:  # strict: ties keep the first pair, like R's min(which(...))
                candidate = [*chosen, pair]
                if not check_existence(h, candidate) or not _identifiable(h, candidate):
                    continue
                best_p, best_pair = p, pair
        if best_pair is None or best_p >= threshold:
            break
        chosen.append(best_pair)
        remaining.remove(best_pair)
        fit = fit_model(h, chosen)
    return fit, notes


def _identifiable(h: CaptureHistories, terms: Sequence[Term]) -> bool:
    x, *_ = _design(h, _normalise_terms(terms, h.k))
    return bool(int(np.linalg.matrix_rank(x)) == int(x.shape[1]))


def _hierarchical_models(k: int, max_order: int) -> list[tuple[Term, ...]]:
    """All hierarchical sets of interactions of order 2..max_order (main effects always in):
    a term may be present only if every sub-term of one order lower is."""
    by_order = [list(itertools.combinations(range(k), r)) for r in range(2, max_order + 1)]
    models: list[tuple[Term, ...]] = [()]
    for level in by_order:
        grown: list[tuple[Term, ...]] = []
        for base in models:
            present = set(base)
            allowed = [
                t
                for t in level
                if len(t) == 2 or all(s in present for s in itertools.combinations(t, len(t) - 1))
            ]
            for r in range(len(allowed) + 1):
                for extra in itertools.combinations(allowed, r):
                    grown.append(base + extra)
        models = grown
    return models


def _best_bic(
    h: CaptureHistories, max_order: int, require_existence: bool
) -> tuple[ModelFit, list[str]]:
    """Lowest BIC = npar log(n) - 2 loglik over hierarchical models (Rcapture ``closedpMS.t``).

    Non-identifiable models are skipped. With ``require_existence`` a model whose MLE does
    not exist (its fit has drifted towards infinity, so its BIC and estimate mean nothing) is
    passed over for the next best; the LP is only run down the BIC ranking until a model
    passes, so the check costs a handful of LPs rather than one per model.
    """
    max_order = max(1, min(max_order, h.k - 1))
    fits: list[ModelFit] = []
    unidentifiable = 0
    for terms in _hierarchical_models(h.k, max_order):
        fit = fit_model(h, terms)
        if fit.identifiable:
            fits.append(fit)
        else:
            unidentifiable += 1
    fits.sort(key=lambda f: f.bic)  # stable: ties keep enumeration order
    notes: list[str] = []
    if unidentifiable:
        notes.append(f"BIC search: {unidentifiable} non-identifiable model(s) skipped")
    passed_over: list[str] = []
    for fit in fits:
        if not require_existence or not fit.terms or check_existence(h, fit.terms):
            if passed_over:
                notes.append(
                    "BIC search: passed over lower-BIC model(s) whose MLE does not exist: "
                    + "; ".join(passed_over)
                )
            return fit, notes
        passed_over.append(
            " + ".join(":".join(h.lists[i] for i in t) for t in fit.terms) or "main effects"
        )
    return fit_model(h), notes


# --------------------------------------------------------------------------------------------
# Result and entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MseResult:
    """An MSE estimate with both interval conventions and the chosen model.

    ``estimate`` is the Poisson point estimate n + exp(b0); ``estimate_profile`` is the
    maximum of the multinomial profile likelihood (what modslavmse tables report), a little
    lower. ``ci95`` is the profile interval when it is bounded, else the Wald interval.
    """

    estimate: float
    ci95_wald: tuple[float, float]
    ci95_profile: tuple[float, float] | None
    estimate_profile: float | None
    observed: int
    unobserved: float
    method: str
    lists: tuple[str, ...]
    interactions: list[tuple[str, ...]]
    dropped_interactions: list[tuple[str, ...]]
    deviance: float
    df: int
    aic: float
    bic: float
    n_params: int
    mle_exists: bool
    identifiable: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def ci95(self) -> tuple[float, float]:
        if self.ci95_profile is not None and math.isfinite(self.ci95_profile[1]):
            return self.ci95_profile
        return self.ci95_wald

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers as floats, infinite bounds as None, pairs as 'A:B' strings."""

        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        def pair(v: tuple[float, float] | None) -> list[float | None] | None:
            return None if v is None else [num(v[0]), num(v[1])]

        return {
            "estimate": num(self.estimate),
            "ci95": pair(self.ci95),
            "ci95_wald": pair(self.ci95_wald),
            "ci95_profile": pair(self.ci95_profile),
            "estimate_profile": self.estimate_profile,
            "observed": self.observed,
            "unobserved": num(self.unobserved),
            "method": self.method,
            "lists": list(self.lists),
            "interactions": [":".join(t) for t in self.interactions],
            "dropped_interactions": [":".join(t) for t in self.dropped_interactions],
            "deviance": self.deviance,
            "df": self.df,
            "aic": self.aic,
            "bic": self.bic,
            "n_params": self.n_params,
            "mle_exists": self.mle_exists,
            "identifiable": self.identifiable,
            "warnings": list(self.warnings),
        }


def drop_uninformative_lists(h: CaptureHistories) -> tuple[CaptureHistories, list[str]]:
    """Leave out lists with no case (main effect -inf) or with every observed case (nobody
    can be unseen by them, so the estimate collapses to n): neither says anything about the
    unseen, and both break the fit. Mirrors SparseMSE ``removenoninformativelists``."""
    n = h.observed
    keep = [i for i in range(h.k) if 0 < h.overlap((i,)) < n]
    if len(keep) == h.k:
        return h, []
    removed = [h.lists[i] for i in range(h.k) if i not in keep]
    if not keep:
        raise InputError("no informative lists: every list is empty or holds every case")
    counts: dict[int, int] = {}
    for mask, c in h.counts.items():
        new = _mask(j for j, i in enumerate(keep) if mask >> i & 1)
        if new:
            counts[new] = counts.get(new, 0) + c
    return CaptureHistories(tuple(h.lists[i] for i in keep), counts), removed


def estimate(
    histories: CaptureHistories,
    method: Method | str = "main-effects",
    *,
    interactions: Iterable[Sequence[str]] | None = None,
    p_stop: float = 0.05,
    p_threshold: float = 0.02,
    max_order: int = 2,
    bic_require_existence: bool = True,
    profile: bool = True,
) -> MseResult:
    """Estimate the population size N (observed + never observed) from capture histories.

    ``method`` picks the model (see module docstring); ``interactions`` instead fixes the
    interactions (as tuples of list names) and skips selection. ``p_stop`` is the Wald stop of
    ``stepwise-aic``; ``p_threshold`` the Poisson threshold of ``stepwise-pvalue``;
    ``max_order`` the largest interaction order searched by ``bic``. ``profile=False`` skips
    the profile-likelihood interval (it refits the model a few dozen times).
    """
    warnings: list[str] = []
    h = histories
    if h.observed == 0:
        raise InputError("no persons observed: nothing to estimate from")
    h, removed = drop_uninformative_lists(h)
    if removed:
        warnings.append(
            "lists with no case, or with every case, carry no information and were left out: "
            + ", ".join(removed)
        )
    if h.k < 2:
        raise InputError("MSE needs at least two informative lists")
    if interactions is not None:
        index = {name: i for i, name in enumerate(h.lists)}
        try:
            terms = [tuple(index[name] for name in t) for t in interactions]
        except KeyError as exc:
            raise ValueError(f"unknown list in interactions: {exc.args[0]}") from None
        fit = fit_model(h, terms)
        method_name = "fixed"
    elif method == "main-effects":
        fit, method_name = fit_model(h), "main-effects"
    elif method == "stepwise-aic":
        fit, notes = _stepwise_aic(h, p_stop)
        warnings += notes
        method_name = "stepwise-aic"
    elif method == "stepwise-pvalue":
        fit, notes = _stepwise_pvalue(h, p_threshold)
        warnings += notes
        method_name = "stepwise-pvalue"
    elif method == "bic":
        fit, notes = _best_bic(h, max_order, bic_require_existence)
        warnings += notes
        method_name = "bic"
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")

    exists = check_existence(h, fit.terms)
    if not exists:
        warnings.append(
            "the MLE does not exist for this model (Fienberg-Rinaldo LP): "
            "some parameter is infinite and the estimate is not reliable"
        )
    if not fit.identifiable:
        warnings.append("the model is not identifiable on these data")
    if not fit.converged:
        warnings.append("the Poisson fit did not converge")
    if fit.dropped:
        warnings.append(
            "interactions between lists sharing no case were set to -inf: "
            + ", ".join(":".join(h.lists[i] for i in t) for t in fit.dropped)
        )
    prof: tuple[float, float] | None = None
    n_prof: float | None = None
    if profile and not (exists and fit.identifiable and math.isfinite(fit.estimate)):
        warnings.append("no profile-likelihood interval: the model's MLE is not usable")
    elif profile:
        n_prof, lo, hi = profile_interval(fit)
        prof = (lo, hi)
        if not math.isfinite(hi):
            warnings.append("the profile-likelihood interval has no finite upper end")

    def names(t: Term) -> tuple[str, ...]:
        return tuple(h.lists[i] for i in t)

    return MseResult(
        estimate=fit.estimate,
        ci95_wald=wald_interval(fit),
        ci95_profile=prof,
        estimate_profile=n_prof,
        observed=h.observed,
        unobserved=fit.unobserved,
        method=method_name,
        lists=h.lists,
        interactions=[names(t) for t in fit.terms],
        dropped_interactions=[names(t) for t in fit.dropped],
        deviance=fit.deviance,
        df=fit.df,
        aic=fit.aic,
        bic=fit.bic,
        n_params=fit.n_params,
        mle_exists=exists,
        identifiable=fit.identifiable,
        warnings=warnings,
    )
