"""Hybrid retrieval: dense and sparse candidates from the store, fused per article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from kb import analysis
from kb.embedder import Embedder
from kb.store import Hit, QueryVectors, SearchFilter, SparseVec, VectorStore
from kb.store.base import TITLE_INDEX

Mode = Literal["hybrid", "dense", "sparse"]

# Chunks fetched per side before fusing: enough to hold every chunk of the ~20 best articles.
CANDIDATES = 100
# Share of the dense side in the fused score. Chosen with `kb eval` on stackfaq (en) and xquad_r_ru (ru):
# nDCG@10 at 0.6 / 0.7 / 0.8 = 0.954 / 0.960 / 0.957 and 0.978 / 0.977 / 0.972; 0.7 is best on their mean.
# Dense carries the cross-language matches that the sparse side can never make, so it leads.
DENSE_SHARE = 0.7


@dataclass
class ArticleHit:
    """One article in a result list, with the chunk that represents it."""

    id: str
    title: str
    locale: str
    category: str
    visibility: str
    score: float
    section: str
    anchor: str
    text: str  # the representative chunk's text, for the snippet
    payload: dict
    dense_score: float | None = None  # best raw cosine of the article's chunks (title point included)
    sparse_score: float | None = None  # best raw BM25 score of the article's chunks
    chunks: list[dict] = field(default_factory=list, repr=False)  # the article's matched chunks, best first

    @property
    def url(self) -> str:
        return f"/articles/{self.id}" + (f"#{self.anchor}" if self.anchor else "")


def _newest_generations(*lists: Sequence[Hit]) -> dict[str, int]:
    newest: dict[str, int] = {}
    for hits in lists:
        for h in hits:
            aid, gen = h.payload.get("article_id"), h.payload.get("generation", 0)
            if aid is not None and gen > newest.get(aid, -1):
                newest[aid] = gen
    return newest


def _best_per_article(hits: Sequence[Hit], newest: dict[str, int]) -> dict[str, list[Hit]]:
    """Hits of each article's newest generation, best first; older generations are dropped.

    While an article is being replaced its old and new chunks both exist for a moment; keeping only
    the newest generation seen means a result is always wholly the old or wholly the new version.
    RRF-style exact ties come back from the store in no fixed order, so ties break by article id.
    """
    out: dict[str, list[Hit]] = {}
    for h in sorted(hits, key=lambda h: (-round(h.score, 9), h.payload.get("article_id", ""))):
        aid = h.payload.get("article_id")
        if aid is not None and h.payload.get("generation", 0) == newest[aid]:
            out.setdefault(aid, []).append(h)
    return out


def _normalise(best: dict[str, float]) -> dict[str, float]:
    """Min-max over the candidates, so cosines (~0.7–0.9) and BM25 scores (0–30) can be mixed."""
    if not best:
        return {}
    lo, hi = min(best.values()), max(best.values())
    if hi - lo < 1e-9:
        return {a: 1.0 for a in best}
    return {a: (v - lo) / (hi - lo) for a, v in best.items()}


def _article_hit(aid: str, score: float, dense: list[Hit], sparse: list[Hit]) -> ArticleHit:
    # The snippet comes from the chunk that matched the query's words, else the best meaning match;
    # the title point only stands in when nothing else of the article was found.
    body_dense = [h for h in dense if h.payload.get("chunk_index") != TITLE_INDEX]
    rep = (sparse or body_dense or dense)[0]
    p = rep.payload
    return ArticleHit(
        id=aid, title=p.get("title", ""), locale=p.get("locale", ""), category=p.get("category", ""),
        visibility=p.get("visibility", ""), score=score, section=p.get("section", ""), anchor=p.get("anchor", ""),
        text=p.get("text", ""), payload=p,
        dense_score=dense[0].score if dense else None, sparse_score=sparse[0].score if sparse else None,
        chunks=[h.payload for h in sorted(dense + sparse, key=lambda h: -h.score)],
    )


def fuse(dense: Sequence[Hit], sparse: Sequence[Hit], limit: int, dense_share: float = DENSE_SHARE) -> list[ArticleHit]:
    """One entry per article: a convex mix of each side's best chunk score, normalised per query."""
    newest = _newest_generations(dense, sparse)
    d, s = _best_per_article(dense, newest), _best_per_article(sparse, newest)
    dn = _normalise({a: hs[0].score for a, hs in d.items()})
    sn = _normalise({a: hs[0].score for a, hs in s.items()})
    share = dense_share if sn else 1.0
    scores = {a: share * dn.get(a, 0.0) + (1 - share) * sn.get(a, 0.0) for a in set(dn) | set(sn)}
    ranked = sorted(scores, key=lambda a: (-scores[a], a))[:limit]
    return [_article_hit(a, scores[a], d.get(a, []), s.get(a, [])) for a in ranked]


def group_by_article(hits: Sequence[Hit], limit: int) -> list[ArticleHit]:
    """One entry per article from a single ranked list (dense-only or sparse-only search)."""
    per = _best_per_article(hits, _newest_generations(hits))
    ranked = sorted(per, key=lambda a: (-per[a][0].score, a))[:limit]
    return [_article_hit(a, per[a][0].score, per[a], []) for a in ranked]


class Retriever:
    """Embeds and analyses a query, asks the store for each side's candidates, fuses them per article."""

    def __init__(self, store: VectorStore, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def vectors(self, query: str, lang: str | None = None, mode: Mode = "hybrid",
                sparse_text: str | None = None) -> QueryVectors:
        dense = self.embedder.embed_queries([query])[0].tolist() if mode != "sparse" else None
        sparse = SparseVec(*analysis.sparse_query_vector(sparse_text or query, lang)) if mode != "dense" else None
        return QueryVectors(dense, sparse)

    def vectors_many(self, queries: Sequence[str]) -> list[QueryVectors]:
        """Hybrid vectors of several queries, embedded in one batch (a ticket's questions, say)."""
        dense = self.embedder.embed_queries(list(queries)) if queries else []
        return [QueryVectors(d.tolist(), SparseVec(*analysis.sparse_query_vector(q, None))) for q, d in zip(queries, dense)]

    def search(self, query: str, limit: int = 10, *, locales: list[str] | None = None,
               categories: list[str] | None = None, visibilities: Sequence[str] = ("public",),
               mode: Mode = "hybrid", lang: str | None = None, exclude: Sequence[str] = (),
               sparse_text: str | None = None, types: Sequence[str] = ("article",),
               vectors: QueryVectors | None = None) -> list[ArticleHit]:
        """`sparse_text`, when given, is what the sparse side analyses instead of `query` (a spelling fix:
        the dense model copes with typos itself and should see what the customer wrote). `vectors`, when
        given, are the query's vectors already computed by `vectors()`."""
        flt = SearchFilter(locales=locales, categories=categories, visibilities=list(visibilities),
                           exclude_article_ids=list(exclude), types=list(types))
        vectors = vectors or self.vectors(query, lang, mode, sparse_text)
        dense = self.store.query(vectors, flt, CANDIDATES, mode="dense") if mode != "sparse" else []
        sparse = self.store.query(vectors, flt, CANDIDATES, mode="sparse") if mode != "dense" and vectors.sparse else []
        if mode == "hybrid":
            return fuse(dense, sparse, limit)
        return group_by_article(dense or sparse, limit)
