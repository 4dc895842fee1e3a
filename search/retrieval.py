"""Hybrid retrieval: chunks from the store, grouped into one result per article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb import analysis
from kb.embedder import Embedder
from kb.store import Hit, QueryVectors, SearchFilter, SparseVec, VectorStore
from kb.store.base import Mode


@dataclass
class ArticleHit:
    """One article in a result list, with the chunk that matched best."""

    id: str
    title: str
    locale: str
    category: str
    visibility: str
    score: float
    section: str
    anchor: str
    text: str  # the best chunk's text, for the snippet
    payload: dict

    @property
    def url(self) -> str:
        return f"/articles/{self.id}" + (f"#{self.anchor}" if self.anchor else "")


def group_by_article(hits: Sequence[Hit], limit: int) -> list[ArticleHit]:
    """One entry per article, best first; chunks of an older generation of an article are dropped.

    While an article is being replaced, its old and new chunks both exist for a moment; keeping only
    the newest generation seen means a result is always wholly the old or wholly the new version.
    """
    newest: dict[str, int] = {}
    for h in hits:
        aid, gen = h.payload.get("article_id"), h.payload.get("generation", 0)
        if aid is not None and gen > newest.get(aid, -1):
            newest[aid] = gen
    out: dict[str, ArticleHit] = {}
    # RRF gives exact ties (ranks 1 and 2 swapped between the lists); the store returns those in no
    # fixed order, so break them by article id to give the same answer every time.
    for h in sorted(hits, key=lambda h: (-round(h.score, 9), h.payload.get("article_id", ""))):
        p = h.payload
        aid = p.get("article_id")
        if aid is None or aid in out or p.get("generation", 0) != newest[aid]:
            continue
        out[aid] = ArticleHit(
            id=aid, title=p.get("title", ""), locale=p.get("locale", ""), category=p.get("category", ""),
            visibility=p.get("visibility", ""), score=h.score, section=p.get("section", ""),
            anchor=p.get("anchor", ""), text=p.get("text", ""), payload=p,
        )
        if len(out) >= limit:
            break
    return list(out.values())


class Retriever:
    """Embeds and analyses a query, asks the store, groups the chunks by article."""

    def __init__(self, store: VectorStore, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def vectors(self, query: str, lang: str | None = None, mode: Mode = "hybrid") -> QueryVectors:
        dense = self.embedder.embed_queries([query])[0].tolist() if mode != "sparse" else None
        sparse = SparseVec(*analysis.sparse_query_vector(query, lang)) if mode != "dense" else None
        return QueryVectors(dense, sparse)

    def search(self, query: str, limit: int = 10, *, locales: list[str] | None = None,
               categories: list[str] | None = None, visibilities: Sequence[str] = ("public",),
               mode: Mode = "hybrid", lang: str | None = None) -> list[ArticleHit]:
        flt = SearchFilter(locales=locales, categories=categories, visibilities=list(visibilities))
        # Several chunks of one article can fill the top: fetch more chunks than articles asked for.
        hits = self.store.query(self.vectors(query, lang, mode), flt, limit=max(limit * 5, 50), mode=mode)
        return group_by_article(hits, limit)
