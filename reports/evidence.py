"""What the knowledge base can answer, as vectors: article units, prototypes, and thresholds fitted on the KB itself.

An article is represented by its *units*: the title and every line or sentence of its chunks (articles often
contain the very phrasings customers use). Units and queries are embedded alike (e5's `query: ` prompt on both
sides: a symmetric, paraphrase-style comparison) and then *centred*: e5 puts every text within ~0.75–0.95 cosine
of every other, so the mean vector of the data is subtracted and the rest re-normalised before comparing. On
CLINC150 that alone lifts the best reachable unanswered-F1 of a one-score rule from 0.72 to 0.76.

An article's *prototype* is the normalised sum of its centred units; a query's answered score is its cosine to
the nearest prototype. The threshold is fitted on the KB, never on labelled searches: every unit is a
pseudo-query, once with its own article present (minus the unit itself: "answered") and once with its article
removed (the nearest other article: "unanswered", exactly the case of an article nobody wrote). The threshold
is where the two error rates are equal, which does not depend on how much of the traffic is unanswered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kb.embedder import Embedder
from kb.store import SearchFilter, VectorStore
from kb.store.base import TITLE_INDEX

MAX_UNITS_PER_ARTICLE = 64  # a long article is still described well by 64 of its lines
MIN_UNIT_CHARS = 3
# Used only when the KB is too small to fit a threshold on (fewer than two articles or ten units):
# the value the rule below gives on CLINC150 (0.475–0.501 over seven held-out draws).
DEFAULT_THRESHOLD = 0.49
# Distance cut for topic clustering when there is too little data to fit it (what the rule gives on CLINC150).
DEFAULT_CLUSTER_DISTANCE = 0.675
CLUSTER_GRID = tuple(round(x, 3) for x in np.arange(0.05, 1.0001, 0.025))
CALIBRATION_SAMPLE = 3000  # pseudo-labelled points used to fit the clustering cut (average linkage is O(n²))

_SPLIT = re.compile(r"(?<=[.!?…;])\s+|\n+")
_MARKUP = re.compile(r"^\s*(?:[-*+>]|\d+[.)]|#+)\s*")


def split_units(text: str) -> list[str]:
    """Lines and sentences of a chunk, without list or heading markers."""
    out = []
    for part in _SPLIT.split(text or ""):
        part = _MARKUP.sub("", part).strip()
        if len(part) >= MIN_UNIT_CHARS:
            out.append(part)
    return out


def normalise_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


@dataclass
class ArticleInfo:
    id: str
    title: str
    group: str  # translations share a group: one is never an "other article" for another
    locale: str = ""


@dataclass
class Calibration:
    """The thresholds and the evidence they were fitted on (shown in the report, so nobody has to trust a constant)."""

    threshold: float
    cluster_distance: float
    answered_mean: float = float("nan")  # LOO pseudo-queries with their article present
    unanswered_mean: float = float("nan")  # the same with their article removed
    equal_error_rate: float = float("nan")
    units: int = 0
    fitted: bool = False
    cluster_fitted: bool = False
    cluster_v_measure: float = float("nan")

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class KnowledgeEvidence:
    """Units, prototypes and the centring of one KB; `score` says how well the KB covers query vectors."""

    articles: list[ArticleInfo]
    unit_texts: list[str]
    unit_article: np.ndarray  # index into articles per unit
    unit_vectors: np.ndarray  # raw (not centred) e5 query-prompt vectors
    centre: np.ndarray = field(default=None)  # type: ignore[assignment]
    prototypes: np.ndarray = field(default=None)  # type: ignore[assignment]

    @classmethod
    def from_store(cls, store: VectorStore, embedder: Embedder,
                   visibilities: Sequence[str] | None = None) -> KnowledgeEvidence:
        recs = store.records(SearchFilter(visibilities=list(visibilities) if visibilities else None),
                             ["article_id", "group_id", "generation", "chunk_index", "title", "text", "locale"],
                             limit=10_000_000)
        newest: dict[str, int] = {}
        for r in recs:
            aid, gen = r.payload.get("article_id"), int(r.payload.get("generation", 0))
            if aid and gen > newest.get(aid, -1):
                newest[aid] = gen
        infos: dict[str, ArticleInfo] = {}
        units: dict[str, list[str]] = {}
        for r in sorted(recs, key=lambda r: (r.payload.get("article_id", ""), r.payload.get("chunk_index", 0))):
            p = r.payload
            aid = p.get("article_id")
            if not aid or int(p.get("generation", 0)) != newest[aid]:
                continue
            if aid not in infos:
                infos[aid] = ArticleInfo(aid, p.get("title", ""), p.get("group_id") or aid, p.get("locale", ""))
                units[aid] = [p.get("title", "")] if p.get("title") else []
            if p.get("chunk_index") != TITLE_INDEX:
                units[aid].extend(split_units(p.get("text", "")))
        articles, texts, owner = [], [], []
        for aid in sorted(infos):
            seen: set[str] = set()
            kept = [u for u in units[aid] if not (u.lower() in seen or seen.add(u.lower()))][:MAX_UNITS_PER_ARTICLE]
            if not kept:
                continue
            texts.extend(kept)
            owner.extend([len(articles)] * len(kept))
            articles.append(infos[aid])
        vectors = embedder.embed_queries(texts) if texts else np.zeros((0, embedder.dim), np.float32)
        return cls(articles, texts, np.asarray(owner, dtype=np.int64), np.asarray(vectors, dtype=np.float32))

    # -- the centred space ------------------------------------------------------------------------

    def fit_space(self, query_vectors: np.ndarray) -> None:
        """Centre on the mean of units and queries together; prototypes in that space."""
        parts = [v for v in (self.unit_vectors, query_vectors) if len(v)]
        # Not shrunk toward zero for small data: tried (n / (n + 25…200)), it split the en/ru/uk paraphrases of
        # one need in a five-article KB, which full centring keeps together.
        self.centre = np.concatenate(parts).mean(0) if parts else np.zeros(self.unit_vectors.shape[1], np.float32)
        units = self.centred(self.unit_vectors)
        sums = np.zeros((len(self.articles), units.shape[1]), np.float32)
        np.add.at(sums, self.unit_article, units)
        self._sums, self._units = sums, units
        self.prototypes = normalise_rows(sums)

    def centred(self, vectors: np.ndarray) -> np.ndarray:
        return normalise_rows(np.asarray(vectors, np.float32) - self.centre)

    def similarities(self, centred_vectors: np.ndarray) -> np.ndarray:
        """Cosine of each (centred) vector to every article prototype."""
        if not len(self.articles):
            return np.zeros((len(centred_vectors), 0), np.float32)
        return centred_vectors @ self.prototypes.T

    # -- calibration on the KB itself ---------------------------------------------------------------

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """(answered, unanswered) scores of every unit used as a pseudo-query."""
        units, owner, sums = self._units, self.unit_article, self._sums
        sizes = np.bincount(owner, minlength=len(self.articles))
        ok = sizes[owner] >= 2
        own = normalise_rows(sums[owner] - units)
        answered = (units * own).sum(1)[ok]
        sims = units @ self.prototypes.T
        groups = np.array([a.group for a in self.articles])
        same_group = groups[None, :] == groups[owner][:, None]
        unanswered = np.where(same_group, -np.inf, sims).max(1)
        return answered, unanswered[np.isfinite(unanswered)]

    def calibrate_threshold(self) -> Calibration:
        answered, unanswered = self.leave_one_out() if len(self.articles) >= 2 else (np.array([]), np.array([]))
        if len(self.articles) < 2 or len(answered) < 10 or len(unanswered) < 10:
            return Calibration(DEFAULT_THRESHOLD, DEFAULT_CLUSTER_DISTANCE, units=len(self.unit_texts))
        grid = np.linspace(-1.0, 1.0, 4001)
        miss = np.searchsorted(np.sort(answered), grid, side="left") / len(answered)  # answered called unanswered
        false = 1.0 - np.searchsorted(np.sort(unanswered), grid, side="left") / len(unanswered)  # the reverse
        gap = np.abs(miss - false)
        ties = np.flatnonzero(gap <= gap.min() + 1e-9)
        i = int(ties[len(ties) // 2])  # separable data: the middle of the gap, not its edge
        return Calibration(float(grid[i]), DEFAULT_CLUSTER_DISTANCE, float(answered.mean()), float(unanswered.mean()),
                           float((miss[i] + false[i]) / 2), len(self.unit_texts), True)

    def calibrate_cluster_distance(self, cal: Calibration, answered_vectors: np.ndarray,
                                   answered_article: np.ndarray, seed: int = 0) -> Calibration:
        """The cut at which average-linkage clustering best recovers articles as topics.

        The points are the KB's units labelled by their article plus the searches the KB answers labelled by
        their nearest article (real customer phrasing, which is looser than an article's own lines): a topic
        found in unanswered traffic should be as broad as what one article answers. V-measure against those
        labels picks the cut from CLUSTER_GRID; translations count as one article.
        """
        from scipy.cluster.hierarchy import fcluster, linkage
        from sklearn.metrics import v_measure_score

        groups = {g: i for i, g in enumerate(sorted({a.group for a in self.articles}))}
        art_group = np.array([groups[a.group] for a in self.articles], dtype=np.int64)
        X = np.concatenate([self._units, answered_vectors]) if len(answered_vectors) else self._units
        y = np.concatenate([art_group[self.unit_article], art_group[answered_article]]) if len(answered_vectors) \
            else art_group[self.unit_article]
        if len(X) > CALIBRATION_SAMPLE:
            pick = np.random.default_rng(seed).choice(len(X), CALIBRATION_SAMPLE, replace=False)
            X, y = X[pick], y[pick]
        if len(set(y.tolist())) < 2 or len(X) < 20:
            return cal
        tree = linkage(X.astype(np.float64), method="average", metric="cosine")
        scores = [v_measure_score(y, fcluster(tree, d, "distance")) for d in CLUSTER_GRID]
        ties = np.flatnonzero(np.asarray(scores) >= max(scores) - 1e-9)
        best = int(ties[len(ties) // 2])  # a plateau of equally good cuts: its middle
        cal.cluster_distance, cal.cluster_fitted, cal.cluster_v_measure = CLUSTER_GRID[best], True, float(scores[best])
        return cal
