"""Gap topics: which logged queries the KB does not answer, grouped into the needs behind them.

A query is unanswered when it is far from every article prototype (reports/evidence.py) and the search-time
decision agreed; the unanswered ones are clustered by average linkage in the centred e5 space, across languages
too. Why so, with the numbers: docs/gap-detection.md.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from kb.embedder import Embedder
from kb.store import VectorStore
from reports.evidence import CentredEvidence, KnowledgeEvidence, languages, normalise_rows
from reports.gap_calibration import GapCalibration
from reports.queries import QueryStat

MAX_ANALYSED_QUERIES = 50_000
MAX_CLUSTER = 8_000  # average linkage holds n²/2 distances: 8k → 256 MB and well under a minute here
EMBED_BATCH = 256


@dataclass
class ArticleRef:
    id: str
    title: str
    score: float  # cosine of the topic centroid to the article prototype, centred space


@dataclass
class UncoveredTopic:
    """One need customers searched for and did not find."""

    id: str
    title: str  # suggested title: the most central of the most searched queries, cleaned
    queries: list[QueryStat]  # members, representative first (most searched, then most central)
    size: int  # searches
    distinct: int  # distinct queries
    locales: Counter
    centroid: list[float]  # raw e5 query space, L2-normalised (comparable with the index's vectors)
    nearest_articles: list[ArticleRef]
    # How likely no article answers these, by the KB's own pseudo-queries: the searches' P(unanswered | best score),
    # weighted by count. Every member was judged unanswered, so the topic is absent; near-misses score lower.
    confidence: float
    # The log-odds that no article answers these, summed over the searches (each one's best score a piece of
    # evidence, by the same fit): what topics are ranked by. Many near-misses add up to less than fewer searches
    # far from every article, where size × confidence let a big cluster of near-misses outrank them.
    evidence: float
    answered_share: float  # share of these searches the search-time decision had called answered
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    scores: dict[str, float] = field(default_factory=dict, repr=False)  # normalized → answered score

    @property
    def members(self) -> list[str]:
        """Normalized texts of the member queries: join with EventLog searches for trends over time."""
        return [q.normalized for q in self.queries]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "size": self.size,
            "distinct": self.distinct,
            "locales": dict(self.locales),
            "confidence": round(self.confidence, 3),
            "evidence": round(self.evidence, 2),
            "answered_share": round(self.answered_share, 3),
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "queries": [{"text": q.text, "normalized": q.normalized, "count": q.count} for q in self.queries],
            "nearest_articles": [
                {"id": a.id, "title": a.title, "score": round(a.score, 4)} for a in self.nearest_articles
            ],
        }


@dataclass
class GapAnalysis:
    topics: list[UncoveredTopic]  # the strongest evidence that no article answers them first (`evidence`)
    scores: dict[str, float]  # normalized → answered score, for every checked query
    unanswered: set[str]  # normalized texts judged unanswered
    calibration: GapCalibration
    checked: int  # distinct queries checked
    skipped: int  # distinct queries beyond max_queries (least searched)
    space: CentredEvidence = field(repr=False)  # where the scores were computed: compare other queries in it
    seconds: float = 0.0


def _clean_title(text: str) -> str:
    t = re.sub(r"\s+", " ", text).strip().rstrip("?!.,;: ")
    return t[:1].upper() + t[1:] if t else text


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    parts = [embedder.embed_queries(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)


def cluster_labels(
    vectors: np.ndarray,
    weights: np.ndarray,
    distance: float,
    max_cluster: int,
    seed: int,
    langs: np.ndarray | None = None,
    cross_distance: float | None = None,
) -> np.ndarray:
    """Cluster labels for centred vectors: agglomerative on up to max_cluster, nearest centroid for the rest.

    Average linkage on cosine distance, cut at `distance`; two texts in different languages (`langs`) count as
    close as two in one language when they are as close, relative to `cross_distance`, as a title and its
    translation are (their distance is scaled by distance / cross_distance).
    Past the cap, a sample weighted by search count is clustered; every other query joins the nearest centroid
    when it is within `distance` of it, and the queries that fit nowhere are clustered the same way in turn.
    """
    n = len(vectors)
    if n <= 1:
        return np.zeros(n, np.int64)
    langs = None if langs is None else np.asarray(langs)
    if n <= max_cluster:
        sample = np.arange(n)
    else:  # the most searched are the ones worth grouping exactly: weighted sampling without replacement
        sample = np.sort(np.random.default_rng(seed).choice(n, max_cluster, replace=False, p=weights / weights.sum()))
    scale = distance / cross_distance if langs is not None and cross_distance and cross_distance > distance else 1.0
    sub = _average_linkage(vectors[sample], distance, None if langs is None else langs[sample], scale)
    labels = np.full(n, -1, np.int64)
    labels[sample] = sub
    rest = np.setdiff1d(np.arange(n), sample)
    if len(rest):
        k = int(sub.max()) + 1
        sums = np.zeros((k, vectors.shape[1]), np.float64)
        np.add.at(sums, sub, vectors[sample])
        cents = normalise_rows(sums).astype(np.float32)
        for i in range(0, len(rest), 4096):
            part = rest[i : i + 4096]
            sims = vectors[part] @ cents.T
            best = sims.argmax(1)
            ok = 1.0 - sims[np.arange(len(part)), best] <= distance
            labels[part[ok]] = best[ok]
        left = np.flatnonzero(labels < 0)
        if len(left):
            labels[left] = k + cluster_labels(
                vectors[left],
                weights[left],
                distance,
                max_cluster,
                seed + 1,
                None if langs is None else langs[left],
                cross_distance,
            )
    return labels


def _average_linkage(vectors: np.ndarray, distance: float, langs: np.ndarray | None, scale: float) -> np.ndarray:
    """0-based flat clusters of average-linkage clustering cut at `distance` (cross-language distances scaled)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(vectors)
    if n == 1:
        return np.zeros(1, np.int64)
    v = np.asarray(vectors, np.float32)
    condensed = np.empty(n * (n - 1) // 2, np.float64)  # what linkage takes: row i holds pairs (i, j > i)
    pos = 0
    for start in range(0, n - 1, 256):  # blocks of rows: a full n × n matrix would double the memory
        block = 1.0 - v[start : start + 256] @ v.T
        for r, i in enumerate(range(start, min(start + 256, n - 1))):
            row = block[r, i + 1 :]
            if scale != 1.0 and langs is not None:  # scale differs from 1 only when languages are known
                row = np.where(langs[i + 1 :] != langs[i], row * scale, row)
            condensed[pos : pos + len(row)] = row
            pos += len(row)
    np.clip(condensed, 0.0, 2.0, out=condensed)
    return fcluster(linkage(condensed, method="average"), distance, criterion="distance").astype(np.int64) - 1


def analyse_gaps(
    queries: list[QueryStat],
    *,
    store: VectorStore,
    embedder: Embedder,
    visibilities: list[str] | None = None,
    max_queries: int = MAX_ANALYSED_QUERIES,
    max_cluster: int = MAX_CLUSTER,
    seed: int = 0,
    use_search_time: bool = True,
    evidence: KnowledgeEvidence | None = None,
) -> GapAnalysis:
    """Detect the unanswered queries among `queries` and cluster them into topics.

    `use_search_time`: a query counts as unanswered only when the search-time decision also called most of
    its searches unanswered (set False to judge by the offline check alone, e.g. after articles were added).
    """
    t0 = time.perf_counter()
    ordered = sorted(queries, key=lambda q: (-q.count, q.normalized))
    checked, skipped = ordered[:max_queries], max(0, len(ordered) - max_queries)
    ev = evidence or KnowledgeEvidence.from_store(store, embedder, visibilities)
    raw = _embed(embedder, [q.text for q in checked])
    langs = languages([q.text for q in checked])
    space = ev.fit_space(raw, langs)
    cal = space.calibrate_threshold()
    Q = space.centred(raw, langs)
    sims = space.similarities(Q)
    if sims.shape[1]:
        best = sims.max(1)
        nearest = sims.argmax(1)
    else:  # an empty KB answers nothing
        best = np.full(len(checked), -1.0, np.float32)
        nearest = np.zeros(len(checked), np.int64)
    flagged = best < cal.threshold
    if use_search_time:
        # Both must agree: the offline check and the search-time decision (majority of the query's searches).
        # On CLINC150 this takes unanswered-F1 from 0.731 / 0.749 to 0.753 / 0.763 (two held-out draws).
        flagged &= np.array([q.answered_share < 0.5 for q in checked], dtype=bool)
    if sims.shape[1]:
        cal = space.calibrate_cluster_distance(cal, Q[~flagged], nearest[~flagged], seed)
        cal = space.calibrate_cross_language(cal)
    scores = {q.normalized: float(s) for q, s in zip(checked, best)}
    idx = np.where(flagged)[0]
    weights = np.array([checked[i].count for i in idx], np.float64)
    labels = cluster_labels(
        Q[idx], weights, cal.cluster_distance, max_cluster, seed, langs[idx], cal.cross_language_distance
    )
    topics = []
    for c in np.unique(labels):
        members = idx[labels == c]
        topics.append(_topic(members, checked, raw, Q, space, cal, scores))
    # Ranked by the evidence that no article answers the topic: its searches' log-odds of P(no article | score),
    # summed (independent pieces of evidence, even prior odds as in the fit). A near-miss (a query just under the
    # threshold, often an article that exists but is worded differently) adds little, one far from all adds a lot.
    # On CLINC150 (docs/gap-eval-clinc150.md) topic_precision_at_n goes from 0.933 / 0.833 / 0.900 / 0.833 under
    # size × mean P(no article) to 0.933 / 0.900 / 0.933 / 0.900 (three draws and one without out-of-scope traffic).
    topics.sort(key=lambda t: (-t.evidence, -t.size, t.id))
    return GapAnalysis(
        topics,
        scores,
        {checked[i].normalized for i in idx},
        cal,
        len(checked),
        skipped,
        space,
        round(time.perf_counter() - t0, 2),
    )


def _topic(
    members: np.ndarray,
    checked: list[QueryStat],
    raw: np.ndarray,
    Q: np.ndarray,
    ev: CentredEvidence,
    cal: GapCalibration,
    scores: dict[str, float],
) -> UncoveredTopic:
    cen_c = normalise_rows(Q[members].mean(0, keepdims=True))[0]
    central = Q[members] @ cen_c
    stats = [checked[i] for i in members]
    # Representative first: the most searched, then the closest to the topic's centre.
    order = sorted(range(len(members)), key=lambda k: (-stats[k].count, -central[k], stats[k].normalized))
    stats = [stats[k] for k in order]
    # The title: the most central query among those searched at least half as often as the top one.
    top_count = stats[0].count
    frequent = [k for k in range(len(members)) if checked[members[k]].count * 2 >= top_count]
    title_q = checked[members[max(frequent, key=lambda k: (central[k], -k))]]
    sims = ev.similarities(cen_c[None, :])[0] if len(ev.articles) else np.zeros(0)
    near = np.argsort(-sims)[:3]
    refs = [ArticleRef(ev.articles[j].id, ev.articles[j].title, float(sims[j])) for j in near]
    size = sum(s.count for s in stats)
    member_scores = np.array([scores[s.normalized] for s in stats])
    counts = np.array([s.count for s in stats], np.float64)
    locales: Counter = Counter()
    for s in stats:
        locales.update(s.locales)
    firsts = [s.first_seen for s in stats if s.first_seen]
    lasts = [s.last_seen for s in stats if s.last_seen]
    return UncoveredTopic(
        id=hashlib.sha1(title_q.normalized.encode("utf-8")).hexdigest()[:12],
        title=_clean_title(title_q.text),
        queries=stats,
        size=size,
        distinct=len(stats),
        locales=locales,
        centroid=[float(x) for x in normalise_rows(raw[members].mean(0, keepdims=True))[0]],
        nearest_articles=refs,
        confidence=float(np.average(cal.unanswered_probability(member_scores), weights=counts)),
        evidence=float(np.dot(cal.unanswered_log_odds(member_scores), counts)),
        answered_share=sum(s.answered for s in stats) / size if size else 0.0,
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        scores={s.normalized: scores[s.normalized] for s in stats},
    )


def detect_and_cluster(
    queries: list[QueryStat], *, store: VectorStore, embedder: Embedder, **options
) -> list[UncoveredTopic]:
    """The topics of unanswered queries, strongest evidence of no article first (options: `analyse_gaps`)."""
    return analyse_gaps(queries, store=store, embedder=embedder, **options).topics


__all__ = ["cluster_labels", "ArticleRef", "GapAnalysis", "UncoveredTopic", "analyse_gaps", "detect_and_cluster"]
