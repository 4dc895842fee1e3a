"""Whether a search was answered: a logistic model over features that mean the same in any KB and language.

  z_top     - the top article's best cosine as a z-score against the query's similarity background in that
              article's language (search/background.py);
  z_gap     - how far it stands above the best article of another translation group, in the same units;
  coverage  - the rarity-weighted share of the query's terms (those the KB uses) found in the top article;
  late      - late interaction: how well each query token is matched in the top article's best passage, with
              e5's token states (search/late.py).
Coverage is zero by construction when the article is in another language than the query, so such searches
are decided by a second model over the two dense features alone. Both are fitted per knowledge base on its
own pseudo-queries (search/calibration.py), never on a labelled benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kb.store.base import TITLE_INDEX
from search.background import Background
from search.late import LateInteraction
from search.query import Query
from search.retrieval import ArticleHit, same_language
from search.snippets import matched_terms

ANSWERED_THRESHOLD = 0.5  # the fit weighs both classes equally, so even odds is the decision
SAME_FEATURES = ("z_top", "z_gap", "coverage", "late")
CROSS_FEATURES = ("z_top", "z_gap", "late")


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float

    def probability(self, x: list[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def as_json(self) -> dict:
        return {"weights": [round(w, 6) for w in self.weights], "bias": round(self.bias, 6)}

    @classmethod
    def from_json(cls, d: dict) -> Logistic:
        return cls(tuple(float(w) for w in d["weights"]), float(d["bias"]))


@dataclass(frozen=True)
class Evidence:
    """The features of one search and which model decides it."""

    z_top: float
    z_gap: float
    coverage: float
    cross: bool  # the top article is in another language than the query
    late: float | None = None  # None: not computed (the agent's suggestions decide without it)

    def same_features(self) -> list[float]:
        return [self.z_top, self.z_gap, self.coverage, self._late()]

    def cross_features(self) -> list[float]:
        return [self.z_top, self.z_gap, self._late()]

    def _late(self) -> float:
        if self.late is None:
            raise ValueError("the answered decision needs the late-interaction score (evidence(..., late=...))")
        return self.late

    def as_dict(self) -> dict:
        return {
            "z_top": round(self.z_top, 4),
            "z_gap": round(self.z_gap, 4),
            "coverage": round(self.coverage, 4),
            "cross_language": self.cross,
            **({"late": round(self.late, 4)} if self.late is not None else {}),
        }


def evidence(
    query: Query,
    vector: np.ndarray | None,
    hits: list[ArticleHit],
    background: Background,
    late: LateInteraction | None = None,
) -> Evidence | None:
    """Features of a ranked list for a query (None when there is nothing to judge); `late` scores the top
    article's best passage (without it, Evidence.late stays None)."""
    if not hits or vector is None:
        return None
    top = hits[0]
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    floor = min(dense) if dense else 0.0
    d1 = top.dense_score if top.dense_score is not None else floor  # found by keywords alone: at most the floor
    group = top.payload.get("group_id") or top.id
    others = [
        h.dense_score for h in hits[1:] if h.dense_score is not None and (h.payload.get("group_id") or h.id) != group
    ]
    d2 = max(others) if others else floor
    mean, sd = background.stats(vector, top.locale)
    found: set[str] = set()
    for chunk in top.chunks[:3]:
        found |= matched_terms(
            chunk.get("title", "") + "\n" + chunk.get("text", ""), set(query.terms), chunk.get("locale")
        )
    best = next((p for _, p in top.passages if p.get("chunk_index") != TITLE_INDEX), None) or top.payload
    return Evidence(
        z_top=(d1 - mean) / sd,
        z_gap=max(d1 - d2, 0.0) / sd,
        coverage=background.coverage(query.terms, found),
        cross=not same_language(query.lang, top.locale),
        late=late.score(query.text, best) if late is not None else None,
    )


@dataclass(frozen=True)
class AnsweredModel:
    """The fitted decision: P(the KB holds the answer) ≥ threshold means answered."""

    same: Logistic
    cross: Logistic
    threshold: float = ANSWERED_THRESHOLD

    def probability(self, e: Evidence | None) -> float:
        if e is None:
            return 0.0
        if e.cross:
            return self.cross.probability(e.cross_features())
        return self.same.probability(e.same_features())

    def answered(self, e: Evidence | None) -> bool:
        return e is not None and self.probability(e) >= self.threshold
