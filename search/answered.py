"""Whether a search was answered: a logistic model over scale-free features, calibrated on data.

Scores are not probabilities (e5 gives ~0.75 cosine to unrelated text, BM25 grows with the corpus), so
the decision uses features that mean the same in any knowledge base:
  dense_top   - cosine of the best article's best point (title or chunk) to the query;
  dense_gap   - how far the best article stands above the second (a clear winner is more often right);
  coverage    - share of the query's analysed terms found in the best article's matched chunks.
The weights come from `benchmarks/calibrate_answered.py`, which fits a logistic regression on labelled
searches from three public sets (CLINC150 with held-out intents and out-of-scope queries as unanswered;
stackfaq and xquad_r_ru with each query's relevant document removed as unanswered, kept as answered) and
writes `answered_model.json` beside this file with the data, date and measured precision/recall.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb import analysis
from search.retrieval import ArticleHit
from search.snippets import matched_terms

log = logging.getLogger(__name__)
MODEL_FILE = Path(__file__).with_name("answered_model.json")
FEATURES = ("dense_top", "dense_gap", "coverage")


def features(query: str, hits: list[ArticleHit], lang: str | None = None) -> dict[str, float]:
    if not hits:
        return {"dense_top": 0.0, "dense_gap": 0.0, "coverage": 0.0}
    dense = sorted((h.dense_score for h in hits if h.dense_score is not None), reverse=True)
    top = hits[0]
    q_terms = set(analysis.terms(query, lang))
    found: set[str] = set()
    for chunk in top.chunks[:3]:
        found |= matched_terms(chunk.get("title", "") + "\n" + chunk.get("text", ""), q_terms, chunk.get("locale"))
    return {
        "dense_top": top.dense_score if top.dense_score is not None else (dense[0] if dense else 0.0),
        "dense_gap": (dense[0] - dense[1]) if len(dense) > 1 else 0.0,
        "coverage": len(q_terms & found) / len(q_terms) if q_terms else 0.0,
    }


@dataclass(frozen=True)
class AnsweredModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.5
    model: str = ""

    def probability(self, f: dict[str, float]) -> float:
        z = self.bias + sum(w * f[name] for w, name in zip(self.weights, FEATURES))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def answered(self, f: dict[str, float]) -> bool:
        return self.probability(f) >= self.threshold


@lru_cache
def load_model(embedder_name: str) -> AnsweredModel:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    if data["model"] != embedder_name:
        log.warning("the answered decision was calibrated for %s, not %s: re-run benchmarks/calibrate_answered.py",
                    data["model"], embedder_name)
    return AnsweredModel(tuple(data["weights"]), data["bias"], data["threshold"], data["model"])
