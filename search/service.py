"""Customer search as the help center and the API use it: one call in, a response ready to show and log."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from kb import analysis
from kb.store import SearchFilter, VectorStore
from search.answered import AnsweredModel, features, load_model
from search.layout import fix_layout
from search.retrieval import ArticleHit, Mode, Retriever
from search.snippets import highlight, snippet
from search.spelling import SpellCorrector

MAX_QUERY_CHARS = 500
AUDIENCES = {"customer": ("public",), "agent": ("public", "internal")}


@dataclass
class Translation:
    id: str
    title: str
    locale: str
    url: str


@dataclass
class Result:
    """One article in a response; `snippet` and `title_html` are escaped HTML with <mark> on matching words."""

    id: str
    title: str
    url: str
    locale: str
    snippet: str
    section: str
    score: float
    category: str
    title_html: str = ""
    other_language: bool = False  # not in the reader's locale (the matched version is shown, marked)
    translation: Translation | None = None  # the same article in the reader's locale, when one exists
    visibility: str = "public"


@dataclass
class SearchResponse:
    query: str
    normalized: str
    answered: bool
    search_id: str
    results: list[Result]
    locale: str | None = None  # the reader's locale the results were arranged for
    corrected: str | None = None  # the query actually searched, when it was corrected
    correction: str | None = None  # why: "spelling", or the keyboard layouts ("en->ru", "ru->en", …)
    latency_ms: float = 0.0
    answered_probability: float = 0.0
    features: dict = field(default_factory=dict)

    def as_api(self) -> dict:
        """The public JSON contract of GET /api/search."""
        return {
            "query": self.query, "answered": self.answered, "search_id": self.search_id,
            "corrected": self.corrected, "locale": self.locale,
            "results": [{"id": r.id, "title": r.title, "title_html": r.title_html, "url": r.url, "locale": r.locale,
                         "snippet": r.snippet,
                         "section": r.section, "score": round(r.score, 4), "category": r.category,
                         "other_language": r.other_language,
                         "translation": asdict(r.translation) if r.translation else None} for r in self.results],
        }


class SearchService:
    """Query analysis, retrieval, locale arrangement, snippets, the answered decision and logging."""

    def __init__(self, store: VectorStore, retriever: Retriever, events=None, answered: AnsweredModel | None = None,
                 speller: SpellCorrector | None = None):
        self.store = store
        self.retriever = retriever
        self.events = events
        self.answered_model = answered or load_model(retriever.embedder.name)
        self.speller = speller

    def search(self, query: str, *, limit: int = 10, locale: str | None = None, category: str | None = None,
               audience: str = "customer", session: str | None = None, ip: str | None = None,
               log: bool = True, mode: Mode = "hybrid", types: Sequence[str] = ("article",)) -> SearchResponse:
        t0 = time.perf_counter()
        raw = query
        query = re.sub(r"\s+", " ", query).strip()[:MAX_QUERY_CHARS]
        # A wrong keyboard layout is unreadable to every part of search: the fixed text replaces the query.
        # A spelling fix only feeds the sparse side and the highlights: the dense model reads typos fine.
        fix = fix_layout(query)
        dense_text, correction = (fix.text, fix.source) if fix else (query, None)
        searched = dense_text
        if self.speller is not None and not fix:
            spelled = self.speller.correct(dense_text)
            if spelled:
                searched, correction = spelled, "spelling"
        visibilities = AUDIENCES[audience]
        hits = self.retriever.search(dense_text, limit * 2, categories=[category] if category else None,
                                     visibilities=visibilities, sparse_text=searched, mode=mode,
                                     types=types) if searched else []
        f = features(searched, hits)
        prob = self.answered_model.probability(f) if hits else 0.0
        results = self._arrange(hits, searched, locale, visibilities, limit)
        search_id = uuid.uuid4().hex
        latency = (time.perf_counter() - t0) * 1000
        response = SearchResponse(
            query=raw, normalized=analysis.normalize(searched), answered=bool(hits) and prob >= self.answered_model.threshold,
            search_id=search_id, results=results, locale=locale, corrected=searched if correction else None,
            correction=correction, latency_ms=round(latency, 2), answered_probability=round(prob, 4),
            features=f)
        if log and self.events is not None and searched:
            response.search_id = self.events.log_search(
                query=raw[:MAX_QUERY_CHARS], normalized=response.normalized, locale=locale, answered=response.answered,
                results=[{"id": r.id, "score": r.score, "rank": i + 1} for i, r in enumerate(results)],
                latency_ms=latency, corrected=response.corrected, session=session, ip=ip, audience=audience,
                category=category)
        return response

    def _arrange(self, hits: list[ArticleHit], query: str, locale: str | None,
                 visibilities: Sequence[str], limit: int) -> list[Result]:
        """One result per translation group: the reader's locale when the group has it, else marked as other language."""
        q_terms = analysis.highlight_terms(query, None)
        groups: dict[str, ArticleHit] = {}
        for h in hits:
            g = h.payload.get("group_id") or h.id
            if g not in groups or (locale and h.locale == locale and groups[g].locale != locale):
                # Keep the group's best score, but show the reader's own language version when it matched.
                if g in groups:
                    h.score = max(h.score, groups[g].score)
                groups[g] = h
        shown = sorted(groups.items(), key=lambda kv: -kv[1].score)[:limit]
        missing = [g for g, h in shown if locale and h.locale != locale]
        translations = self._translations(missing, locale, visibilities) if missing else {}
        results = []
        for g, h in shown:
            lang = h.locale or None
            results.append(Result(
                id=h.id, title=h.title, url=h.url, locale=h.locale, snippet=snippet(h.text, q_terms, lang),
                section=h.section, score=h.score, category=h.category, title_html=highlight(h.title, q_terms, lang),
                other_language=bool(locale) and h.locale != locale,
                translation=translations.get(g), visibility=h.visibility))
        return results

    def _translations(self, group_ids: list[str], locale: str | None, visibilities: Sequence[str]) -> dict[str, Translation]:
        recs = self.store.records(SearchFilter(group_ids=group_ids, locales=[locale] if locale else None,
                                               visibilities=list(visibilities), title_points=True),
                                  ["article_id", "title", "locale", "group_id"], limit=len(group_ids) * 4)
        return {r.payload["group_id"]: Translation(r.payload["article_id"], r.payload["title"], r.payload["locale"],
                                                   f"/articles/{r.payload['article_id']}") for r in recs}
