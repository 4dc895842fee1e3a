"""One search of a ticket's query, kept with what the suggestions and the draft read from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.store import QueryVectors
from search.answered import Evidence
from search.retrieval import ArticleHit
from suggest.models import SuggestedArticle


@dataclass
class Searched:
    query: str
    source: str
    weight: float
    vector: np.ndarray
    hits: list[ArticleHit]
    confidence: float
    vectors: QueryVectors | None = None  # dense and sparse, to search other article types without embedding again
    evidence: Evidence | None = None  # the answered model's features of this query's hits
    sd: float = 1.0  # the spread of the query's similarity to the KB (search/background.py)


def quotable(suggestions: list[SuggestedArticle], locale: str | None) -> SuggestedArticle | None:
    """The best suggestion a draft may quote: public, with a passage, and in `locale` unless it is None (the
    draft is written in the ticket's language; an article in another one stays a suggestion for the agent)."""
    return next(
        (a for a in suggestions if a.visibility == "public" and a.passages and locale in (None, a.locale)), None
    )
