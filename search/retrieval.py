"""Hybrid retrieval: dense and sparse candidates from the store, fused per article."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from kb import analysis
from kb.embedder import Embedder
from kb.store import Hit, QueryVectors, SearchFilter, SparseVec, VectorStore
from kb.store.base import TITLE_INDEX
from search.query import Query
from search.rerank import DEPTH, Reranker, rerank
from search.rules import Rules
from search.rules_file import RulesCache

Mode = Literal["hybrid", "dense", "sparse"]

# Chunks fetched per side before fusing: enough to hold every chunk of the ~20 best articles.
CANDIDATES = 100
# Share of the dense side in the fused score of an article in the query's language (docs/fusion.md).
# Articles in another language are ranked by the dense side alone: keywords cannot match across languages,
# so a missing sparse score there is no evidence against them.
DENSE_SHARE = 0.7
CYRILLIC_LOCALES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"})


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
    passages: list[tuple[float, dict]] = field(default_factory=list, repr=False)  # (cosine, chunk) best first
    pinned: bool = False  # put first by a search rule (search/rules.py), not by its score
    rerank_score: float | None = None  # the reranker's logit for this query (search/rerank.py), when one is configured

    @property
    def url(self) -> str:
        return f"/articles/{self.id}" + (f"#{self.anchor}" if self.anchor else "")


def same_language(query_lang: str | None, locale: str | None) -> bool:
    """Whether an article in `locale` can share words with a query in `query_lang` (unknown: assume it can).

    Query detection tells only en, ru and uk apart, so for other locales the script decides.
    """
    if not query_lang or not locale:
        return True
    if locale in analysis.SUPPORTED:
        return locale == query_lang
    return (query_lang in CYRILLIC_LOCALES) == (locale in CYRILLIC_LOCALES)


def _unique_titles(dense: Sequence[Hit]) -> list[Hit]:
    """Drop title points whose title several articles share: it matches them all alike and tells none apart
    (Wikipedia paragraphs under one page title; the title is still in every chunk's header)."""
    seen: dict[str, set[str]] = {}
    for h in dense:
        if h.payload.get("chunk_index") == TITLE_INDEX:
            seen.setdefault(analysis.normalize(h.payload.get("title", "")), set()).add(h.payload.get("article_id", ""))
    shared = {t for t, ids in seen.items() if len(ids) > 1}
    if not shared:
        return list(dense)
    return [
        h
        for h in dense
        if h.payload.get("chunk_index") != TITLE_INDEX or analysis.normalize(h.payload.get("title", "")) not in shared
    ]


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
        id=aid,
        title=p.get("title", ""),
        locale=p.get("locale", ""),
        category=p.get("category", ""),
        visibility=p.get("visibility", ""),
        score=score,
        section=p.get("section", ""),
        anchor=p.get("anchor", ""),
        text=p.get("text", ""),
        payload=p,
        dense_score=dense[0].score if dense else None,
        sparse_score=sparse[0].score if sparse else None,
        chunks=[h.payload for h in sorted(dense + sparse, key=lambda h: -h.score)],
        passages=[(h.score, h.payload) for h in dense],
    )


def fuse(
    dense: Sequence[Hit],
    sparse: Sequence[Hit],
    limit: int,
    dense_share: float = DENSE_SHARE,
    query_lang: str | None = None,
) -> list[ArticleHit]:
    """One entry per article: a convex mix of each side's best chunk score, normalised per query, for articles
    in the query's language; the dense score alone for the others."""
    dense = _unique_titles(dense)
    newest = _newest_generations(dense, sparse)
    d, s = _best_per_article(dense, newest), _best_per_article(sparse, newest)
    locale = {a: hs[0].payload.get("locale") for side in (d, s) for a, hs in side.items()}
    mixed = {a for a in locale if same_language(query_lang, locale[a])}
    dn = _normalise({a: hs[0].score for a, hs in d.items()})
    sn = _normalise({a: hs[0].score for a, hs in s.items() if a in mixed})
    share = dense_share if sn else 1.0
    scores = {
        a: (share * dn.get(a, 0.0) + (1 - share) * sn.get(a, 0.0)) if a in mixed else dn.get(a, 0.0)
        for a in set(dn) | set(sn)
    }
    ranked = sorted(scores, key=lambda a: (-scores[a], a))[:limit]
    return [_article_hit(a, scores[a], d.get(a, []), s.get(a, [])) for a in ranked]


def group_by_article(hits: Sequence[Hit], limit: int) -> list[ArticleHit]:
    """One entry per article from a single ranked list (dense-only or sparse-only search)."""
    hits = _unique_titles(hits)
    per = _best_per_article(hits, _newest_generations(hits))
    ranked = sorted(per, key=lambda a: (-per[a][0].score, a))[:limit]
    return [_article_hit(a, per[a][0].score, per[a], []) for a in ranked]


class Retriever:
    """Embeds and analyses a query, asks the store for each side's candidates, fuses them per article."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        rules: Callable[[], Rules | None] | None = None,
        reranker: Reranker | None = None,
    ):
        """`rules`: the search rules in force (default: those published to the store, re-read every few seconds);
        `reranker`: re-orders the first results (search/rerank.py)."""
        self.store = store
        self.embedder = embedder
        self.rules = rules if rules is not None else RulesCache(store)
        self.reranker = reranker

    def vectors(
        self, query: str, lang: str | None = None, mode: Mode = "hybrid", sparse_text: str | None = None
    ) -> QueryVectors:
        dense = self.embedder.embed_queries([query])[0].tolist() if mode != "sparse" else None
        sparse = SparseVec(*analysis.sparse_query_vector(sparse_text or query, lang)) if mode != "dense" else None
        return QueryVectors(dense, sparse)

    def query_vectors(self, query: Query, dense: np.ndarray | None = None, mode: Mode = "hybrid") -> QueryVectors:
        """An analysed query's vectors: the model embeds its text (unless `dense` is given), keywords its terms."""
        if mode != "sparse" and dense is None:
            dense = self.embedder.embed_queries([query.text])[0]
        ids = sorted({analysis.term_id(t) for t in query.terms}) if mode != "dense" else []
        return QueryVectors(
            dense.tolist() if mode != "sparse" and dense is not None else None,
            SparseVec(ids, [1.0] * len(ids)) if ids else None,
        )

    def vectors_many(self, queries: Sequence[str]) -> list[QueryVectors]:
        """Hybrid vectors of several queries, embedded in one batch (a ticket's questions, say)."""
        if not queries:
            return []
        dense = self.embedder.embed_queries(list(queries))
        return [
            QueryVectors(d.tolist(), SparseVec(*analysis.sparse_query_vector(q, None))) for q, d in zip(queries, dense)
        ]

    def search(
        self,
        query: str,
        limit: int = 10,
        *,
        locales: list[str] | None = None,
        categories: list[str] | None = None,
        visibilities: Sequence[str] = ("public",),
        mode: Mode = "hybrid",
        lang: str | None = None,
        exclude: Sequence[str] = (),
        sparse_text: str | None = None,
        types: Sequence[str] = ("article",),
        vectors: QueryVectors | None = None,
        query_lang: str | None = None,
        reranked: bool = True,
    ) -> list[ArticleHit]:
        """`sparse_text`, when given, is what the sparse side analyses instead of `query` (a spelling fix:
        the dense model copes with typos itself and should see what the customer wrote). `vectors`, when
        given, are the query's vectors already computed by `vectors()`. `query_lang` is the query's detected
        language (kb.analysis.detect_language of the text; computed here when not given). `reranked=False`
        keeps the fused order even with a reranker (a search whose vector is not its text's, in the fit)."""
        flt = SearchFilter(
            locales=locales,
            categories=categories,
            visibilities=list(visibilities),
            exclude_article_ids=list(exclude),
            types=list(types),
        )
        vectors = vectors or self.vectors(query, lang, mode, sparse_text)
        rules = self.rules()
        query_lang = query_lang or analysis.detect_language(sparse_text or query)
        if rules and vectors.sparse:
            vectors = QueryVectors(vectors.dense, rules.expand(vectors.sparse, query_lang))
        dense = self._dense(vectors, flt) if mode != "sparse" else []
        sparse = self.store.query(vectors, flt, CANDIDATES, mode="sparse") if mode != "dense" and vectors.sparse else []
        reranker = self.reranker if reranked else None
        depth = max(limit, DEPTH) if reranker else limit
        if mode == "hybrid":
            hits = fuse(dense, sparse, depth, query_lang=query_lang)
        else:
            hits = group_by_article(dense or sparse, depth)
        if reranker and hits:
            hits = rerank(reranker, query, hits)[:limit]
        pins = rules.pinned([query, sparse_text]) if rules else []
        return self._pin(hits, pins, vectors, flt, limit) if pins else hits

    def _dense(self, vectors: QueryVectors, flt: SearchFilter) -> list[Hit]:
        """The dense candidates, with title points that several articles share left out.

        Such a title (Wikipedia paragraphs under one page title) tells none of its articles apart, and a long
        or chatty query is closer to short titles than to any body: "Who won Super Bowl XLIX? I'm writing from
        my phone, so sorry for any typos." drew 100 title points of a KB of Russian paragraphs and, with those
        dropped, found nothing at all. The body chunks are then asked for on their own.
        """
        dense = self.store.query(vectors, flt, CANDIDATES, mode="dense")
        kept = _unique_titles(dense)
        if len(kept) == len(dense):
            return dense
        titles = [h for h in kept if h.payload.get("chunk_index") == TITLE_INDEX]
        body = self.store.query(vectors, replace(flt, title_points=False), CANDIDATES, mode="dense")
        return sorted(titles + body, key=lambda h: -h.score)

    def _pin(
        self, hits: list[ArticleHit], pins: list[str], vectors: QueryVectors, flt: SearchFilter, limit: int
    ) -> list[ArticleHit]:
        """The pinned articles (with their translations) first, in the rules' order; only those this search may
        show: they are looked up with its own filter, so a customer never gets an internal or draft one."""
        heads = self.store.records(replace(flt, article_ids=pins, title_points=True), ["article_id", "group_id"], 64)
        group_of = {r.payload["article_id"]: r.payload.get("group_id") or r.payload["article_id"] for r in heads}
        groups = list(dict.fromkeys(group_of[a] for a in pins if a in group_of))
        if not groups:
            return hits
        # The pinned groups' own chunks ranked for this query: the snippet shows the part that matches it.
        in_groups = replace(flt, group_ids=groups)
        dense = self.store.query(vectors, in_groups, CANDIDATES, mode="dense") if vectors.dense else []
        found = group_by_article(dense, 64) or [
            _article_hit(a, 0.0, [], [h]) for a, h in self._title_points(in_groups).items()
        ]
        top = max((h.score for h in hits), default=1.0)
        order = {g: i for i, g in enumerate(groups)}
        first = sorted(found, key=lambda h: order[h.payload.get("group_id") or h.id])
        for i, h in enumerate(first):  # above every unpinned hit, in the rules' order
            h.score, h.pinned = top + 1.0 + (len(first) - i) * 1e-3, True
        pinned_ids = {h.id for h in first}
        return (first + [h for h in hits if h.id not in pinned_ids])[: max(limit, len(groups))]

    def _title_points(self, flt: SearchFilter) -> dict[str, Hit]:
        recs = self.store.records(replace(flt, title_points=True), None, 64)
        return {r.payload["article_id"]: Hit(r.id, 0.0, r.payload) for r in recs}
