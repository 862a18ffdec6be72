"""Match probabilities without labels: a two-component mixture of link scores fitted by EM.

Above a floor, the scores of non-matching pairs fall off exponentially (each step up in
similarity is rarer by a constant factor: measured on the generator over five decades), while
matching pairs form a bump near the top. Fitting that mixture to the observed scores gives each
link a posterior match probability, an estimate of how many true matches there are, and from
those the expected precision and recall at any threshold. These are model estimates: the
measured bias on the synthetic generator is documented in docs/quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

#: Scores below this are not modelled (and links below it are never made).
MODEL_FLOOR = 0.6


@dataclass(frozen=True)
class ScoreMixture:
    """Truncated exponential (non-matches) plus truncated normal (matches) on [floor, 1]."""

    floor: float
    match_share: float
    decay: float
    match_mean: float
    match_sd: float
    n_scores: int

    def _densities(
        self, scores: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        span = 1.0 - self.floor
        non_match = (
            self.decay
            * np.exp(-self.decay * (scores - self.floor))
            / (-np.expm1(-self.decay * span))
        )
        mass = norm.cdf(1.0, self.match_mean, self.match_sd) - norm.cdf(
            self.floor, self.match_mean, self.match_sd
        )
        match = norm.pdf(scores, self.match_mean, self.match_sd) / max(float(mass), 1e-12)
        return non_match, match

    def probability(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Posterior probability that a link with this score is a true match."""
        clipped = np.clip(scores, self.floor, 1.0)
        non_match, match = self._densities(clipped)
        weighted = self.match_share * match
        return weighted / (weighted + (1.0 - self.match_share) * non_match + 1e-300)

    @property
    def expected_matches(self) -> float:
        """Expected number of matching pairs scoring at least the floor."""
        return self.match_share * self.n_scores


#: Scores are binned this finely for fitting: EM then costs O(bins), not O(links).
_BINS = 2000


def fit_score_mixture(
    scores: npt.NDArray[np.float64], *, floor: float = MODEL_FLOOR, iterations: int = 200
) -> ScoreMixture | None:
    """Fit the mixture by EM to the scores at or above ``floor``; None when too few scores.

    The fit runs on a fine histogram of the scores (bin width 1/2000 of the range), which
    changes the estimates by far less than their statistical error and makes the cost
    independent of the number of links.
    """
    x = scores[scores >= floor]
    if x.shape[0] < 20 or float(x.max() - x.min()) < 1e-6:
        return None
    counts, edges = np.histogram(np.minimum(x, 1.0), bins=_BINS, range=(floor, 1.0))
    used = counts > 0
    centres = ((edges[:-1] + edges[1:]) / 2)[used]
    weights = counts[used].astype(np.float64)
    total = float(weights.sum())
    span = 1.0 - floor
    model = ScoreMixture(floor, 0.1, 20.0, float(np.quantile(x, 0.99)), 0.05, int(x.shape[0]))
    for _ in range(iterations):
        posterior = model.probability(centres) * weights
        matched = float(posterior.sum())
        share = float(np.clip(matched / total, 1e-6, 1 - 1e-6))
        mean = float((posterior * centres).sum() / matched)
        sd = float(max(np.sqrt((posterior * (centres - mean) ** 2).sum() / matched), 0.005))
        rest = weights - posterior
        excess = float((rest * (centres - floor)).sum() / rest.sum())
        decay = _truncated_exponential_rate(excess, span, model.decay)
        model = ScoreMixture(floor, share, decay, mean, sd, int(x.shape[0]))
    return model


def _truncated_exponential_rate(mean_excess: float, span: float, start: float) -> float:
    """Rate of an exponential truncated to [0, span] whose mean is ``mean_excess`` (Newton)."""
    rate = start
    for _ in range(30):
        tail = np.exp(-rate * span)
        gradient = 1 / rate - span * tail / (1 - tail) - mean_excess
        slope = -1 / rate**2 + span**2 * tail / (1 - tail) ** 2
        rate = max(rate - gradient / slope, 1e-3)
    return float(rate)


def expected_quality(
    model: ScoreMixture, accepted_scores: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """Estimated (precision, recall) of accepting links with these scores."""
    if accepted_scores.shape[0] == 0:
        return 1.0, 0.0
    expected_true = float(model.probability(accepted_scores).sum())
    precision = expected_true / accepted_scores.shape[0]
    recall = min(1.0, expected_true / max(model.expected_matches, 1e-12))
    return precision, recall


def automatic_threshold(model: ScoreMixture, scores: npt.NDArray[np.float64]) -> float:
    """The threshold that maximises the expected F1 of accepting every score above it.

    Evaluated at the edges of the fitting histogram's bins (steps of (1 - floor) / 2000).
    """
    x = scores[scores >= model.floor]
    if x.shape[0] == 0:
        return 1.0
    counts, edges = np.histogram(np.minimum(x, 1.0), bins=_BINS, range=(model.floor, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    expected_true = np.cumsum((counts * model.probability(centres))[::-1])[::-1]
    accepted = np.cumsum(counts[::-1])[::-1]
    f1 = 2 * expected_true / (accepted + model.expected_matches)
    return float(edges[int(np.argmax(f1))])
