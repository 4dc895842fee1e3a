"""What the help center shows besides search results: article pages, translations, related, listings, autocomplete."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from kb import analysis
from kb.store import QueryVectors, Record, SearchFilter, VectorStore
from search.retrieval import Retriever, group_by_article
from search.service import AUDIENCES

_SUMMARY_FIELDS = ["article_id", "title", "locale", "category", "updated", "generation", "group_id"]
_REFRESH_SECONDS = 5.0


@dataclass
class ArticleSummary:
    id: str
    title: str
    locale: str
    category: str
    url: str
    updated: str | None = None


@dataclass
class ArticlePage:
    id: str
    title: str
    locale: str
    category: str
    tags: list[str]
    updated: str | None
    body: str
    visibility: str
    translations: list[ArticleSummary] = field(default_factory=list)
    related: list[ArticleSummary] = field(default_factory=list)


def _summary(p: dict) -> ArticleSummary:
    return ArticleSummary(
        p["article_id"],
        p.get("title", ""),
        p.get("locale", ""),
        p.get("category", ""),
        f"/articles/{p['article_id']}",
        p.get("updated"),
    )


def _newest(records: list[Record]) -> dict[str, Record]:
    """One record per article id: the newest generation (two exist for a moment while it is replaced)."""
    best: dict[str, Record] = {}
    for r in records:
        aid = r.payload["article_id"]
        if aid not in best or r.payload.get("generation", 0) > best[aid].payload.get("generation", 0):
            best[aid] = r
    return best


def hidden_only_terms(public_texts: Iterable[str], hidden_texts: Iterable[str]) -> frozenset[str]:
    """The analysed terms (kb.analysis.terms, any language) of the hidden texts that no public text has."""
    public = {t for text in public_texts for t in analysis.terms(text, None)}
    return frozenset({t for text in hidden_texts for t in analysis.terms(text, None)} - public)


def has_any_term(text: str, terms: frozenset[str]) -> bool:
    return any(t in terms for t in analysis.terms(text, None))


class Catalog:
    """Reads the index for pages; the list of public articles is cached until the index changes."""

    def __init__(self, store: VectorStore, retriever: Retriever, events=None, *, min_visitors: int = 3):
        self.store = store
        self.retriever = retriever
        self.events = events
        self.min_visitors = min_visitors  # kb.settings.Settings.autocomplete_min_visitors
        self._lock = threading.Lock()
        self._public: list[ArticleSummary] = []
        # The terms only hidden articles have, and the index stamp they were read at: made on first need, since
        # reading every chunk's text is the one slow step (pages that never autocomplete never wait for it).
        self._hidden_lock = threading.Lock()
        self._hidden: tuple[object, frozenset[str]] | None = None
        self._stamp: object = None
        self._checked = 0.0

    def _public_summaries(self) -> list[ArticleSummary]:
        now = time.monotonic()
        if now - self._checked < _REFRESH_SECONDS and self._stamp is not None:
            return self._public
        with self._lock:
            meta = self.store.get_meta() or {}
            stamp = meta.get("indexed_at")
            if stamp != self._stamp or self._stamp is None:
                recs = self.store.records(
                    SearchFilter(visibilities=["public"], title_points=True), _SUMMARY_FIELDS, limit=1_000_000
                )
                self._public = sorted(
                    (_summary(r.payload) for r in _newest(recs).values()), key=lambda s: (s.locale, s.title)
                )
                self._stamp = stamp if stamp is not None else now
            self._checked = now
        return self._public

    def _terms_only_hidden_articles_have(self) -> frozenset[str]:
        def texts(visibilities: list[str]) -> Iterator[str]:
            recs = self.store.records(SearchFilter(visibilities=visibilities), ["title", "text"], limit=10_000_000)
            return (f"{r.payload.get('title', '')}\n{r.payload.get('text', '')}" for r in recs)

        return hidden_only_terms(texts(["public"]), texts(["internal", "draft"]))

    def shows_hidden_text(self, text: str) -> bool:
        """Whether text has a term of an internal or draft article that no public article has."""
        self._public_summaries()  # notices an index change
        with self._hidden_lock:
            if self._hidden is None or self._hidden[0] != self._stamp:
                self._hidden = (self._stamp, self._terms_only_hidden_articles_have())
            terms = self._hidden[1]
        return has_any_term(text, terms)

    def article(self, article_id: str, audience: str = "customer") -> ArticlePage | None:
        visible = list(AUDIENCES[audience])
        recs = self.store.records(SearchFilter(article_ids=[article_id], visibilities=visible, title_points=True))
        if not recs:
            return None
        rec = _newest(recs)[article_id]
        p = rec.payload
        group = p.get("group_id") or article_id
        others = self.store.records(
            SearchFilter(group_ids=[group], visibilities=visible, title_points=True, exclude_article_ids=[article_id]),
            _SUMMARY_FIELDS,
        )
        translations = sorted((_summary(o.payload) for o in _newest(others).values()), key=lambda s: s.locale)
        return ArticlePage(
            id=article_id,
            title=p.get("title", ""),
            locale=p.get("locale", ""),
            category=p.get("category", ""),
            tags=list(p.get("tags") or []),
            updated=p.get("updated"),
            body=p.get("body", ""),
            visibility=p.get("visibility", ""),
            translations=translations,
            related=self.related(
                rec.id, audience, locale=p.get("locale"), exclude=[article_id] + [t.id for t in translations]
            ),
        )

    def related(
        self, record_id: str, audience: str = "customer", *, locale: str | None, exclude: list[str], limit: int = 5
    ) -> list[ArticleSummary]:
        """Articles nearest in meaning to a title point (`record_id`), in its language, `exclude` left out.

        The article and its visible translations are excluded by id; invisible ones the filter drops anyway.
        """
        vec = self.store.dense_vectors([record_id]).get(record_id)
        if vec is None:
            return []
        flt = SearchFilter(
            visibilities=list(AUDIENCES[audience]),
            locales=[locale] if locale else None,
            exclude_article_ids=sorted(set(exclude)),
        )
        hits = self.store.query(QueryVectors(vec, None), flt, limit * 6, mode="dense")
        return [
            ArticleSummary(h.id, h.title, h.locale, h.category, f"/articles/{h.id}", h.payload.get("updated"))
            for h in group_by_article(hits, limit)
        ]

    def categories(self, locale: str | None) -> list[tuple[str, int]]:
        counts = Counter(s.category for s in self.listing(locale))
        return sorted(counts.items())

    def listing(self, locale: str | None = None, category: str | None = None) -> list[ArticleSummary]:
        items = self._public_summaries()
        if locale and any(s.locale == locale for s in items):
            items = [s for s in items if s.locale == locale]
        return [s for s in items if category is None or s.category == category]

    def popular(self, locale: str | None, limit: int = 6) -> list[ArticleSummary]:
        """Most clicked public articles in the reader's locale; the most recently updated fill the rest."""
        mine = {s.id: s for s in self.listing(locale)}
        chosen: list[ArticleSummary] = []
        if self.events is not None:
            chosen = [mine[a] for a, _ in self.events.popular_articles(limit=limit * 5) if a in mine][:limit]
        for s in sorted(mine.values(), key=lambda s: s.updated or "", reverse=True):
            if len(chosen) >= limit:
                break
            if s not in chosen:
                chosen.append(s)
        return chosen

    def autocomplete(self, prefix: str, locale: str | None = None, limit: int = 8) -> list[dict]:
        """Titles containing the typed words (the last one as a prefix), then queries enough visitors searched
        successfully (EventReads.popular_queries), none with a word only internal or draft articles have."""
        norm = analysis.normalize(prefix)
        words = norm.split()
        if len(norm) < 2 or not words:
            return []
        *done, last = words
        out: list[dict] = []
        ranked = []
        for s in self._public_summaries():
            title_words = analysis.normalize(s.title).split()
            if all(w in title_words for w in done) and any(t.startswith(last) for t in title_words):
                starts = analysis.normalize(s.title).startswith(norm)
                ranked.append((not starts, s.locale != locale, len(s.title), s))
        for *_, s in sorted(ranked, key=lambda r: r[:3])[:limit]:
            out.append({"kind": "article", "text": s.title, "url": s.url})
        if self.events is not None and len(out) < limit:
            # A few more than needed, since the filter below may drop some.
            popular = self.events.popular_queries(
                locale=locale, prefix=norm, limit=2 * limit, min_count=self.min_visitors
            )
            for text, _ in popular:
                # An agent may have typed an internal article's words into the public search box.
                if len(out) < limit and not self.shows_hidden_text(text):
                    out.append({"kind": "query", "text": text, "url": None})
        return out

    def sitemap(self) -> list[ArticleSummary]:
        return list(self._public_summaries())
