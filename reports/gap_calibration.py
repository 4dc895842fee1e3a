"""Thresholds fitted on the knowledge base itself, with the evidence they were fitted on."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Used only when the KB is too small to fit a threshold on (fewer than two articles or ten units):
# the value the equal-error rule gives on CLINC150 (0.475–0.501 over seven held-out draws).
DEFAULT_THRESHOLD = 0.49
# Distance cut for topic clustering when there is too little data to fit it (what the rule gives on CLINC150).
DEFAULT_CLUSTER_DISTANCE = 0.675
CLUSTER_GRID = tuple(round(x, 3) for x in np.arange(0.05, 1.0001, 0.025))
CALIBRATION_SAMPLE = 3000  # pseudo-labelled points used to fit the clustering cut (average linkage is O(n²))


def equal_error(
    answered: np.ndarray, unanswered: np.ndarray, minimum: int = 10
) -> tuple[float, float, float, float] | None:
    """(threshold, answered mean, unanswered mean, equal error rate), or None with under `minimum` of either."""
    if len(answered) < minimum or len(unanswered) < minimum:
        return None
    grid = np.linspace(-1.0, 1.0, 4001)
    miss = np.searchsorted(np.sort(answered), grid, side="left") / len(answered)  # answered called unanswered
    false = 1.0 - np.searchsorted(np.sort(unanswered), grid, side="left") / len(unanswered)  # the reverse
    gap = np.abs(miss - false)
    ties = np.flatnonzero(gap <= gap.min() + 1e-9)
    i = int(ties[len(ties) // 2])  # separable data: the middle of the gap, not its edge
    return float(grid[i]), float(answered.mean()), float(unanswered.mean()), float((miss[i] + false[i]) / 2)


def logistic_fit(answered: np.ndarray, unanswered: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of P(unanswered | score): a logistic over the pseudo-queries, classes weighted equally."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([answered, unanswered]).astype(np.float64)
    y = np.r_[np.zeros(len(answered)), np.ones(len(unanswered))]
    # Fitted on standardised scores, so the default L2 penalty is mild on any scale and still bounds the slope
    # when the pseudo-queries separate perfectly (a small, clean KB).
    mean, std = float(x.mean()), float(x.std()) or 1.0
    model = LogisticRegression(class_weight="balanced").fit(((x - mean) / std)[:, None], y)
    slope = float(model.coef_[0, 0]) / std
    return slope, float(model.intercept_[0]) - slope * mean


@dataclass
class GapCalibration:
    """The thresholds and the evidence they were fitted on (shown in the report, so nobody has to trust a constant)."""

    threshold: float
    cluster_distance: float
    answered_mean: float = float("nan")  # LOO pseudo-queries with their article present
    unanswered_mean: float = float("nan")  # the same with their article removed
    equal_error_rate: float = float("nan")
    pseudo_queries: str = ""  # "all lines" or "titles and headings": whichever separated better
    units: int = 0
    fitted: bool = False
    cluster_fitted: bool = False
    cluster_v_measure: float = float("nan")
    # Two texts in different languages are one need up to this distance (translated titles of the KB's articles).
    cross_language_distance: float = float("nan")
    translated_titles: int = 0
    # P(no article answers | best score), fitted on the same pseudo-queries as the threshold (NaN: not fitted).
    unanswered_slope: float = float("nan")
    unanswered_intercept: float = float("nan")

    def unanswered_probability(self, scores: np.ndarray) -> np.ndarray:
        """How likely each query with these best scores has no article, by the KB's own pseudo-queries (1 unfitted)."""
        if math.isnan(self.unanswered_slope):
            return np.ones_like(np.asarray(scores, np.float64))
        return 1.0 / (1.0 + np.exp(-self.unanswered_log_odds(scores)))

    def unanswered_log_odds(self, scores: np.ndarray) -> np.ndarray:
        """log P(no article) / P(article) for each best score, by the same fit (1, one search's worth, unfitted)."""
        scores = np.asarray(scores, np.float64)
        if math.isnan(self.unanswered_slope):
            return np.ones_like(scores)
        return self.unanswered_slope * scores + self.unanswered_intercept

    def as_dict(self) -> dict:
        """Plain JSON values: floats rounded, not-fitted ones (NaN) as None."""
        return {
            k: (None if math.isnan(v) else round(float(v), 4)) if isinstance(v, float) else v
            for k, v in self.__dict__.items()
        }
