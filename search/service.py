"""Customer search as the help center and the API use it: one call in, a response ready to show and log."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from kb.store import SearchFilter, VectorStore
from search.answer import Answer, answer_card
from search.answered import AnsweredModel, evidence
from search.calibration import CalibrationCache
from search.query import MAX_QUERY_CHARS, Query, analyse
from search.retrieval import ArticleHit, Mode, Retriever
from search.snippets import highlight, snippet
from search.spelling import SpellCorrector

__all__ = ["AUDIENCES", "MAX_QUERY_CHARS", "Result", "SearchResponse", "SearchService", "Translation", "reader_locale"]

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
    query_lang: str | None = None  # the language the query was written in
    answer: Answer | None = None  # the passage that answers, when the search is answered with high confidence

    def as_api(self) -> dict:
        """The public JSON contract of GET /api/search."""
        return {
            "query": self.query,
            "answered": self.answered,
            "search_id": self.search_id,
            "corrected": self.corrected,
            "locale": self.locale,
            "answer": self.answer.as_api() if self.answer else None,
            "results": [
                {
                    "id": r.id,
                    "title": r.title,
                    "title_html": r.title_html,
                    "url": r.url,
                    "locale": r.locale,
                    "snippet": r.snippet,
                    "section": r.section,
                    "score": round(r.score, 4),
                    "category": r.category,
                    "other_language": r.other_language,
                    "translation": asdict(r.translation) if r.translation else None,
                }
                for r in self.results
            ],
        }


_TELLING = {"ru": re.compile("[ыэёъ]"), "uk": re.compile("[іїєґ]")}


def reader_locale(query: Query, interface: str | None) -> str | None:
    """The locale results are arranged for: the interface's, unless the query is clearly in Russian or Ukrainian;
    without an interface (an API client that sends no locale), the query's own language.

    Any Cyrillic query is clearly not English; between Russian and Ukrainian only a letter the other language
    lacks is clear enough ("пароль" is both).
    """
    if query and not interface:
        # Else each group shows whichever translation scored best, and an English question got Ukrainian pages.
        return query.lang or None
    if not query or query.lang not in _TELLING or query.lang == interface:
        return interface
    if interface in _TELLING and not _TELLING[query.lang].search(query.searched.casefold()):
        return interface
    return query.lang


class SearchService:
    """Query analysis, retrieval, locale arrangement, snippets, the answered decision and logging."""

    def __init__(
        self,
        store: VectorStore,
        retriever: Retriever,
        events=None,
        answered: AnsweredModel | None = None,
        speller: SpellCorrector | None = None,
        calibrate: bool = True,
    ):
        """`answered` replaces the fitted decision (tests); `calibrate=False` never fits one on a request."""
        self.store = store
        self.retriever = retriever
        self.events = events
        self.fixed_model = answered
        self.speller = speller
        # What customers did after earlier searches (clicks, "not helpful" votes) joins the fit when logged.
        outcomes = events.search_outcomes if events is not None and hasattr(events, "search_outcomes") else None
        self.calibrations = CalibrationCache(
            store, retriever.embedder, fit=calibrate, outcomes=outcomes, reranker=retriever.reranker
        )

    def analyse(self, query: str) -> Query:
        return analyse(query, self.speller)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        locale: str | None = None,
        category: str | None = None,
        audience: str = "customer",
        session: str | None = None,
        ip: str | None = None,
        log: bool = True,
        mode: Mode = "hybrid",
        types: Sequence[str] = ("article",),
    ) -> SearchResponse:
        t0 = time.perf_counter()
        q = self.analyse(query)
        visibilities = AUDIENCES[audience]
        hits: list[ArticleHit] = []
        vector = None
        if q:
            vector = self.retriever.embedder.embed_queries([q.text])[0] if mode != "sparse" else None
            hits = self.retriever.search(
                q.text,
                limit * 2,
                categories=[category] if category else None,
                visibilities=visibilities,
                mode=mode,
                types=types,
                query_lang=q.lang,
                vectors=self.retriever.query_vectors(q, vector, mode),
            )
        cal = self.calibrations.get()
        ev = evidence(q, vector, hits, cal.background) if cal is not None else None
        model = self.fixed_model or (cal.model if cal is not None else None)
        prob = model.probability(ev) if model is not None else 0.0
        answered = model is not None and model.answered(ev)
        pinned = bool(hits) and hits[0].pinned  # the admin's rule says this article answers these queries
        answered = answered or pinned
        reader = reader_locale(q, locale)
        results = self._arrange(hits, q, reader, visibilities, limit)
        card = None
        if answered and not pinned and results and cal is not None and vector is not None:
            top = next(h for h in hits if h.id == results[0].id)
            card = answer_card(q, top, prob, cal.background.stats(vector, top.locale)[1])
        latency = (time.perf_counter() - t0) * 1000
        response = SearchResponse(
            query=q.raw,
            normalized=q.normalized,
            answered=answered,
            search_id=uuid.uuid4().hex,
            results=results,
            locale=reader,
            corrected=q.corrected,
            correction=q.correction,
            latency_ms=round(latency, 2),
            answered_probability=round(prob, 4),
            features=ev.as_dict() if ev else {},
            query_lang=q.lang,
            answer=card,
        )
        if log and self.events is not None and q:
            response.search_id = self.events.log_search(
                query=q.raw,
                normalized=q.normalized,
                locale=locale,
                answered=response.answered,
                results=[{"id": r.id, "score": r.score, "rank": i + 1} for i, r in enumerate(results)],
                latency_ms=latency,
                corrected=q.corrected,
                session=session,
                ip=ip,
                audience=audience,
                category=category,
                query_lang=q.lang,
            )
        return response

    def _arrange(
        self, hits: list[ArticleHit], query: Query, locale: str | None, visibilities: Sequence[str], limit: int
    ) -> list[Result]:
        """One result per translation group: the reader's locale when the group has it, else marked."""
        q_terms = set(query.terms)
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
            results.append(
                Result(
                    id=h.id,
                    title=h.title,
                    url=h.url,
                    locale=h.locale,
                    snippet=snippet(h.text, q_terms, lang),
                    section=h.section,
                    score=h.score,
                    category=h.category,
                    title_html=highlight(h.title, q_terms, lang),
                    other_language=bool(locale) and h.locale != locale,
                    translation=translations.get(g),
                    visibility=h.visibility,
                )
            )
        return results

    def _translations(
        self, group_ids: list[str], locale: str | None, visibilities: Sequence[str]
    ) -> dict[str, Translation]:
        recs = self.store.records(
            SearchFilter(
                group_ids=group_ids,
                locales=[locale] if locale else None,
                visibilities=list(visibilities),
                title_points=True,
            ),
            ["article_id", "title", "locale", "group_id"],
            limit=len(group_ids) * 4,
        )
        return {
            r.payload["group_id"]: Translation(
                r.payload["article_id"], r.payload["title"], r.payload["locale"], f"/articles/{r.payload['article_id']}"
            )
            for r in recs
        }
