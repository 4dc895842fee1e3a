"""The answered decision fitted on the knowledge base itself, after every index change.

Pseudo-queries are drawn from the KB's public articles: titles and section headings that only one article
has, and lines of 4-25 words. Each is searched through the real retrieval twice, with its article present and
with its whole translation group removed; the first is an answerable search, the second one whose answer is
missing. Where the KB has translations, a title or heading is also searched with only its translations left,
which is a cross-language answerable search; where it has none, each pseudo-query is also searched moved into
another language (fit's comment says how). Two logistic models are fitted on these searches (search/answered.py):
one for searches whose top article is in the query's language, one for the rest. The result is kept in the
store beside the index it was fitted on, so every process that serves this index uses it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kb.embedder import Embedder
from kb.store import SearchFilter, VectorStore
from kb.store.base import TITLE_INDEX
from search.answered import CROSS_FEATURES, RERANK, SAME_FEATURES, AnsweredModel, Evidence, Logistic, evidence
from search.background import Background
from search.query import analyse
from search.rerank import Reranker
from search.retrieval import Retriever

log = logging.getLogger(__name__)

META_NAME = "answered"
VERSION = 2  # 2: a KB without translations fits its cross-language model on shifted pseudo-queries
PER_KIND = 200  # pseudo-queries per kind (title, heading, line), at most
MIN_SAMPLES = 20  # searches a model needs to be fitted; fewer and the fallback decides
MAX_OUTCOMES = 2000  # logged searches searched again per fit, the most recent first
# Without translations in the KB, its own pseudo-queries are moved into another language by the embedding model's
# language offset (the mean difference between parallel phrases, PARALLEL), then searched like the rest. For a KB
# in a language PARALLEL does not have, the cross-language model is the same-language model over the dense
# features divided by how much a cross-language match shrinks them for e5: measured on the shipped help center's
# translations by benchmarks/cross_shrink.py.
CROSS_SHRINK = (0.93, 0.48)
PARALLEL = Path(__file__).with_name("parallel_phrases.json")  # the interface's own strings, in en, ru and uk
_LINE_WORDS = (4, 25)
_MARKUP = re.compile(r"[*_`#>|]+|\[([^\]]*)\]\([^)]*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class Calibration:
    """The fitted answered model, the background it needs, and what it was fitted on."""

    model: AnsweredModel
    background: Background
    indexed_at: float | None
    embedder: str
    stats: dict = field(default_factory=dict)
    reranker: str = ""  # the reranker the searches it was fitted on went through ("" : none)

    def as_json(self) -> dict:
        return {
            "version": VERSION,
            "indexed_at": self.indexed_at,
            "embedder": self.embedder,
            "reranker": self.reranker,
            "same": self.model.same.as_json(),
            "cross": self.model.cross.as_json(),
            "cross_by_lang": {lang: m.as_json() for lang, m in self.model.cross_by_lang.items()},
            "threshold": self.model.threshold,
            "background": self.background.as_json(),
            "stats": self.stats,
        }

    @classmethod
    def from_json(cls, d: dict) -> Calibration:
        model = AnsweredModel(
            Logistic.from_json(d["same"]),
            Logistic.from_json(d["cross"]),
            float(d["threshold"]),
            {lang: Logistic.from_json(m) for lang, m in d.get("cross_by_lang", {}).items()},
        )
        return cls(
            model,
            Background.from_json(d["background"]),
            d.get("indexed_at"),
            d.get("embedder", ""),
            d.get("stats", {}),
            d.get("reranker", ""),
        )


def load(store: VectorStore) -> Calibration | None:
    """The calibration kept in the store, if it was made by this version."""
    d = store.get_meta(META_NAME)
    if not d or d.get("version") != VERSION:
        return None
    try:
        return Calibration.from_json(d)
    except (KeyError, ValueError, TypeError) as e:  # a damaged document: fit again rather than fail searches
        log.warning("ignoring the stored answered calibration: %s", e)
        return None


def current(store: VectorStore, embedder: Embedder, reranker: Reranker | None = None) -> Calibration | None:
    """The stored calibration when it was fitted on the index as it is now, with these models."""
    cal = load(store)
    meta = store.get_meta() or {}
    if (
        cal is None
        or cal.indexed_at != meta.get("indexed_at")
        or cal.embedder != embedder.name
        or cal.reranker != (reranker.name if reranker else "")
    ):
        return None
    return cal


def ensure(
    store: VectorStore,
    embedder: Embedder,
    outcomes: Callable[[], Sequence[tuple[str, bool]]] | None = None,
    reranker: Reranker | None = None,
) -> Calibration | None:
    """The current calibration, fitted and stored first when the index changed since (None: empty index).

    `outcomes` gives the logged searches to fit on as well (see fit), read only when a fit is needed.
    """
    cal = current(store, embedder, reranker)
    if cal is None:
        cal = fit(store, embedder, outcomes=outcomes() if outcomes else (), reranker=reranker)
        if cal is not None:
            store.set_meta(cal.as_json(), META_NAME)
    return cal


@dataclass
class _Article:
    id: str
    group: str
    locale: str
    title: str
    headings: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    terms: set[int] = field(default_factory=set)


def _read_kb(store: VectorStore) -> tuple[dict[str, _Article], list[tuple[str, np.ndarray]]]:
    """Public articles (newest generation) with their headings, lines and term ids; every chunk's vector."""
    fields = ["article_id", "group_id", "generation", "chunk_index", "title", "locale", "section", "text"]
    recs = list(store.scan_vectors(SearchFilter(visibilities=["public"]), fields))
    newest: dict[str, int] = {}
    for r in recs:
        aid = r.payload.get("article_id", "")
        newest[aid] = max(newest.get(aid, -1), int(r.payload.get("generation", 0)))
    arts: dict[str, _Article] = {}
    vectors: list[tuple[str, np.ndarray]] = []
    for r in recs:
        p = r.payload
        aid = p.get("article_id", "")
        if int(p.get("generation", 0)) != newest[aid]:
            continue
        a = arts.setdefault(aid, _Article(aid, p.get("group_id") or aid, p.get("locale", ""), p.get("title", "")))
        if r.dense is not None:
            vectors.append((a.locale, np.asarray(r.dense, dtype=np.float32)))
        if r.sparse is not None:
            a.terms.update(r.sparse.indices)
        if p.get("chunk_index") == TITLE_INDEX:
            continue
        if p.get("section"):
            a.headings.add(p["section"].strip())
        for line in _SENTENCE.split(p.get("text") or ""):
            line = _MARKUP.sub(lambda m: m.group(1) or " ", line).strip(" -*+•:;").strip()
            line = re.sub(r"^\d+[.)]\s*", "", re.sub(r"\s+", " ", line))
            if _LINE_WORDS[0] <= len(line.split()) <= _LINE_WORDS[1]:
                a.lines.append(line)
    return arts, vectors


def _pseudo_queries(arts: dict[str, _Article], rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, text, article id): titles and headings unique to one article, and lines; balanced per article."""

    def key(t: str) -> str:
        return re.sub(r"\W+", " ", t.casefold()).strip()

    titles = Counter(key(a.title) for a in arts.values())
    headings = Counter(key(h) for a in arts.values() for h in a.headings)
    pools: dict[str, list[tuple[str, str]]] = {"title": [], "heading": [], "line": []}
    order = sorted(arts)
    rng.shuffle(order)
    for aid in order:
        a = arts[aid]
        if a.title and titles[key(a.title)] == 1:
            pools["title"].append((a.title, aid))
        for h in sorted(a.headings):
            if headings[key(h)] == 1 and key(h) != key(a.title) and len(key(h)) > 2:
                pools["heading"].append((h, aid))
        for line in rng.sample(a.lines, min(2, len(a.lines))):
            pools["line"].append((line, aid))
    out = []
    for kind, items in pools.items():
        # Round-robin over articles, so a long article does not fill the pool alone.
        seen: Counter[str] = Counter()
        items = sorted(items, key=lambda it: (seen.update([it[1]]) or seen[it[1]], rng.random()))
        out += [(kind, text, aid) for text, aid in items[:PER_KIND]]
    return out


def language_offsets(embedder: Embedder) -> dict[str, np.ndarray]:
    """Per language, the mean query vector of the parallel phrases: a query moves from language a to b by
    adding offsets[b] - offsets[a] (what a translation changes in the model's space, on average)."""
    phrases = json.loads(PARALLEL.read_text(encoding="utf-8"))
    langs = sorted(phrases[0])
    vecs = embedder.embed_queries([p[lang] for lang in langs for p in phrases])
    return {lang: vecs[i * len(phrases) : (i + 1) * len(phrases)].mean(0) for i, lang in enumerate(langs)}


def shifted(vector: np.ndarray, offsets: dict[str, np.ndarray], source: str, target: str) -> np.ndarray:
    moved = vector + offsets[target] - offsets[source]
    return moved / (np.linalg.norm(moved) or 1.0)


def fit_logistic(
    rows: list[tuple[list[float], int]],
    balanced: bool = True,
    features: tuple[str, ...] = (),
    standardised: bool = False,
) -> Logistic | None:
    """A logistic model over (features, 0|1) rows, both classes weighed alike unless not `balanced` (then the
    rows' own class shares are the prior); None when too few rows. `standardised` fits on z-scored features and
    folds the scale back into the weights, so the L2 penalty weighs features of different scales alike."""
    ys = [y for _, y in rows]
    if len(rows) < MIN_SAMPLES or len(set(ys)) < 2:
        return None
    from sklearn.linear_model import LogisticRegression  # only the fit needs it, never a search

    # Each class weighs the same, so the decision at 0.5 is where an answerable and an unanswerable search
    # are equally likely, whatever share of pseudo-queries each condition gave.
    clf = LogisticRegression(C=1.0, class_weight="balanced" if balanced else None, max_iter=1000)
    x = np.array([x for x, _ in rows], dtype=np.float64)
    mu, sd = (x.mean(0), x.std(0) + 1e-9) if standardised else (np.zeros(x.shape[1]), np.ones(x.shape[1]))
    clf.fit((x - mu) / sd, np.array(ys))
    w = clf.coef_[0] / sd
    return Logistic(tuple(float(v) for v in w), float(clf.intercept_[0] - (w * mu).sum()), features)


def _rates(model: Logistic, rows: list[tuple[list[float], int]]) -> dict:
    pos = [model.probability(x) >= 0.5 for x, y in rows if y]
    neg = [model.probability(x) >= 0.5 for x, y in rows if not y]
    return {
        "searches": len(rows),
        "answered_when_present": round(float(np.mean(pos)), 3) if pos else None,
        "answered_when_missing": round(float(np.mean(neg)), 3) if neg else None,
    }


def fit(
    store: VectorStore,
    embedder: Embedder,
    seed: int = 0,
    outcomes: Sequence[tuple[str, bool]] = (),
    reranker: Reranker | None = None,
) -> Calibration | None:
    """Fit the answered decision on this KB's pseudo-queries (None when it has no public article).

    `outcomes` are logged customer searches with what their searchers did (True: a result was clicked and not
    voted unhelpful; False: the article they reached was voted unhelpful): searched again now, they join the
    pseudo-queries as real answerable and unanswerable searches. With a `reranker`, searches go through it as at
    run time and its score of the top result is one more feature of both models.
    """
    t0 = time.perf_counter()
    arts, vectors = _read_kb(store)
    if not arts or not vectors:
        return None
    background = Background.build(vectors, (a.terms for a in arts.values()), seed=seed)
    rng = random.Random(seed)
    pseudo = _pseudo_queries(arts, rng)
    by_group: dict[str, list[str]] = {}
    for a in arts.values():
        by_group.setdefault(a.group, []).append(a.id)
    # Cross-language answerable searches: a title or heading of an article whose translations remain.
    cross = [(kind, text, aid) for kind, text, aid in pseudo if kind != "line" and len(by_group[arts[aid].group]) > 1]
    outcomes = list(outcomes)[:MAX_OUTCOMES]
    texts = [text for _, text, _ in pseudo] + [text for text, _ in outcomes]
    vecs = embedder.embed_queries(texts) if texts else np.zeros((0, 0))
    vec_of = dict(zip(texts, vecs))
    retriever = Retriever(store, embedder, reranker=reranker)
    extra = (RERANK,) if reranker else ()
    same_names, cross_names = SAME_FEATURES + extra, CROSS_FEATURES + extra
    same_rows: list[tuple[list[float], int]] = []
    cross_rows: list[tuple[list[float], int]] = []

    def add(e: Evidence | None, label: int) -> None:
        if e is None:
            return
        if e.cross:
            cross_rows.append((e.values(cross_names), label))
        else:
            same_rows.append((e.values(same_names), label))

    def run(text: str, exclude: list[str], into: tuple[str, np.ndarray] | None = None) -> Evidence | None:
        q = analyse(text)
        vec = vec_of[text]
        if into is not None:  # the same query as if written in another language: keywords then match nothing
            q, vec = replace(q, lang=into[0]), into[1]
        hits = retriever.search(
            q.text,
            10,
            sparse_text=q.searched,
            exclude=exclude,
            query_lang=q.lang,
            vectors=retriever.query_vectors(q, vec),
            reranked=into is None,  # a moved vector has no text of its own for the reranker to read
        )
        return evidence(q, vec, hits, background)

    for _, text, aid in pseudo:
        add(run(text, []), 1)
        add(run(text, sorted(by_group[arts[aid].group])), 0)
    for _, text, aid in cross:
        add(run(text, [x for x in by_group[arts[aid].group] if arts[x].locale == arts[aid].locale]), 1)
    cross_source = "translations"
    moved: dict[str, list[tuple[list[float], int]]] = {}
    if sum(y for _, y in cross_rows) < MIN_SAMPLES // 2:
        cross_names = CROSS_FEATURES
        cross_rows = [(x[: len(CROSS_FEATURES)], y) for x, y in cross_rows]
        # No translations to fit on: each pseudo-query is searched again moved into each other language the
        # offsets know, with and without its article. What a cross-language match looks like (similarities
        # lower and narrower, a gap that shrinks; more so from Ukrainian than from Russian into English) then
        # comes from this KB, one model per query language, not from a constant.
        offsets = language_offsets(embedder)
        for _, text, aid in pseudo:
            source = arts[aid].locale
            for target in sorted(set(offsets) - {source}) if source in offsets else ():
                into = (target, shifted(vec_of[text], offsets, source, target))
                for exclude, label in (([], 1), (sorted(by_group[arts[aid].group]), 0)):
                    e = run(text, exclude, into)
                    # Only searches that went across languages: where the KB has some articles in the target
                    # language, a moved query can land on one, and the cross model never decides those.
                    if e is not None and e.cross:
                        moved.setdefault(target, []).append((e.values(CROSS_FEATURES), label))
        cross_rows += [row for rows in moved.values() for row in rows]
        cross_source = "pseudo-queries moved into another language"
    for text, answered in outcomes:
        add(run(text, []), int(answered))
    # The reranker's logit has its own scale (tens, against z-scores near 1): standardised, the penalty weighs it
    # like the rest. Without one the fit stays as measured (standardising alone moved nothing: docs/answered.md).
    scaled = bool(extra)
    same = fit_logistic(same_rows, features=same_names, standardised=scaled)
    if same is None:  # too small a KB to fit: answered when clearly above background
        same = Logistic((1.0, 1.0, 1.0), -4.0, SAME_FEATURES)
    cross_model = (
        fit_logistic(cross_rows, features=cross_names, standardised=scaled and cross_names != CROSS_FEATURES)
        if sum(y for _, y in cross_rows) >= MIN_SAMPLES // 2
        else None
    )
    fitted = {lang: fit_logistic(rows, features=CROSS_FEATURES) for lang, rows in moved.items()}
    by_lang = {lang: m for lang, m in fitted.items() if m is not None}
    if cross_model is None:
        dense_only = fit_logistic([(x[:2], y) for x, y in same_rows]) or Logistic((1.0, 1.0), -4.0)
        cross_model = Logistic(
            tuple(w / s for w, s in zip(dense_only.weights, CROSS_SHRINK)), dense_only.bias, CROSS_FEATURES
        )
        cross_source = "same-language pseudo-queries, shrink prior"
    meta = store.get_meta() or {}
    stats = {
        "pseudo_queries": dict(Counter(k for k, _, _ in pseudo)),
        "cross_queries": len(cross),
        "logged_searches": {
            "answered": sum(1 for _, a in outcomes if a),
            "unanswered": sum(1 for _, a in outcomes if not a),
        },
        "same": _rates(same, same_rows),
        "cross": {**_rates(cross_model, cross_rows), "fitted_on": cross_source},
        "cross_by_lang": {lang: _rates(m, moved[lang]) for lang, m in by_lang.items()},
        "features": {"same": list(same.inputs), "cross": list(cross_model.inputs)},
        "seconds": round(time.perf_counter() - t0, 1),
        "fitted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    log.info("answered decision fitted on %d pseudo-queries in %.1fs", len(pseudo), stats["seconds"])
    return Calibration(
        AnsweredModel(same, cross_model, cross_by_lang=by_lang),
        background,
        meta.get("indexed_at"),
        embedder.name,
        stats,
        reranker.name if reranker else "",
    )


class CalibrationCache:
    """The calibration of the index as it is now, checked against the store every few seconds."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        fit: bool = True,
        refresh_seconds: float = 5.0,
        outcomes: Callable[[], Sequence[tuple[str, bool]]] | None = None,
        reranker: Reranker | None = None,
    ):
        self.store, self.embedder, self.fit, self.refresh = store, embedder, fit, refresh_seconds
        self.outcomes, self.reranker = outcomes, reranker
        self._lock = threading.Lock()
        self._cal: Calibration | None = None
        self._stamp: object = object()
        self._checked = -1e18

    def get(self) -> Calibration | None:
        now = time.monotonic()
        if now - self._checked < self.refresh:
            return self._cal
        with self._lock:
            if now - self._checked < self.refresh:
                return self._cal
            stamp = (self.store.get_meta() or {}).get("indexed_at")
            if stamp != self._stamp or self._cal is None:
                # Fitting takes seconds; the index's owner does it right after indexing, so a request only
                # pays for it when the index was changed by something that did not (tests, an old index).
                cal = (
                    ensure(self.store, self.embedder, self.outcomes, self.reranker)
                    if self.fit
                    else current(self.store, self.embedder, self.reranker)
                )
                self._cal = cal if cal is not None else load(self.store)
                self._stamp = stamp
            self._checked = now
        return self._cal

    def invalidate(self) -> None:
        self._checked = -1e18
