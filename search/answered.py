"""Whether a search was answered: a logistic model over features that mean the same in any KB and language.

  z_top     - the top article's best cosine as a z-score against the query's similarity background in that
              article's language (search/background.py);
  z_gap     - how far it stands above the best article of another translation group, in the same units;
  coverage  - the rarity-weighted share of the query's terms (those the KB uses) found in the top article;
  rerank    - with a reranker configured (search/rerank.py), its logit for the top result.
Coverage is zero by construction when the article is in another language than the query, so such searches
are decided by a second model over the two dense features alone. Both are fitted per knowledge base on its
own pseudo-queries (search/calibration.py), never on a labelled benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from search.background import Background
from search.query import Query
from search.retrieval import ArticleHit, same_language
from search.snippets import matched_terms

ANSWERED_THRESHOLD = 0.5  # the fit weighs both classes equally, so even odds is the decision
SAME_FEATURES = ("z_top", "z_gap", "coverage")
CROSS_FEATURES = ("z_top", "z_gap")
RERANK = "rerank"


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float
    # What each weight multiplies (Evidence's fields); empty: the first len(weights) of SAME_FEATURES, as fitted
    # before features were named.
    features: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.features or SAME_FEATURES[: len(self.weights)]

    def probability(self, x: list[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def of(self, e: Evidence) -> float:
        """The probability for one search's evidence, reading the features this model was fitted on."""
        return self.probability(e.values(self.inputs))

    def as_json(self) -> dict:
        named = {"features": list(self.features)} if self.features else {}
        return {"weights": [round(w, 6) for w in self.weights], "bias": round(self.bias, 6), **named}

    @classmethod
    def from_json(cls, d: dict) -> Logistic:
        return cls(tuple(float(w) for w in d["weights"]), float(d["bias"]), tuple(d.get("features", ())))


@dataclass(frozen=True)
class Evidence:
    """The features of one search and which model decides it."""

    z_top: float
    z_gap: float
    coverage: float
    cross: bool  # the top article is in another language than the query
    lang: str = ""  # the query's language
    rerank: float | None = None  # the reranker's logit for the top result (None: no reranker)

    def values(self, names: tuple[str, ...]) -> list[float]:
        """The named features, in that order (a missing reranker score reads as 0)."""
        return [float(getattr(self, n) or 0.0) for n in names]

    def as_dict(self) -> dict:
        return {
            "z_top": round(self.z_top, 4),
            "z_gap": round(self.z_gap, 4),
            "coverage": round(self.coverage, 4),
            "cross_language": self.cross,
            **({"rerank": round(self.rerank, 4)} if self.rerank is not None else {}),
        }


def evidence(
    query: Query, vector: np.ndarray | None, hits: list[ArticleHit], background: Background
) -> Evidence | None:
    """Features of a ranked list for a query (None when there is nothing to judge)."""
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
    return Evidence(
        z_top=(d1 - mean) / sd,
        z_gap=max(d1 - d2, 0.0) / sd,
        coverage=background.coverage(query.terms, found),
        cross=not same_language(query.lang, top.locale),
        lang=query.lang,
        rerank=top.rerank_score,
    )


@dataclass(frozen=True)
class AnsweredModel:
    """The fitted decision: P(the KB holds the answer) ≥ threshold means answered."""

    same: Logistic
    cross: Logistic
    threshold: float = ANSWERED_THRESHOLD
    # Cross-language models per query language, where the KB had no translations to pool them on: a Russian query
    # over English articles and a Ukrainian one do not look alike to the model (search/calibration.py).
    cross_by_lang: dict[str, Logistic] = field(default_factory=dict)

    def probability(self, e: Evidence | None) -> float:
        if e is None:
            return 0.0
        if e.cross:
            return self.cross_by_lang.get(e.lang, self.cross).of(e)
        return self.same.of(e)

    def answered(self, e: Evidence | None) -> bool:
        return e is not None and self.probability(e) >= self.threshold
