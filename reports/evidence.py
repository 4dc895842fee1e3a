"""What the knowledge base can answer, as vectors: article units, prototypes, and thresholds fitted on the KB itself.

An article is represented by its *units*: the title and every line or sentence of its chunks (articles often
contain the very phrasings customers use). Units and queries are embedded alike (e5's `query: ` prompt on both
sides: a symmetric, paraphrase-style comparison) and then *centred*: e5 puts every text within ~0.75–0.95 cosine
of every other, so the mean vector of the data is subtracted and the rest re-normalised before comparing. On
CLINC150 that alone lifts the best reachable unanswered-F1 of a one-score rule from 0.72 to 0.76.

The mean is taken per language (en, ru, uk): e5 vectors carry a language component as large as the topic. With
one global mean, the shipped help center's translations of one article sat 0.45–1.13 apart (median 0.71, farther
than two different articles in one language, median 0.30) and the English wordings of a need 0.55–0.65 from the
Russian ones; with per-language means translations sit 0.10–0.36 apart (median 0.23) and different articles
0.29+ (median 0.53). A language with few texts is pulled toward the global mean (LANGUAGE_PRIOR).

An article's *prototype* is the normalised sum of its centred units; a query's answered score is its cosine to
the nearest prototype. The threshold is fitted on the KB, never on labelled searches: units are pseudo-queries,
once with their own article present (minus the unit itself: "answered") and once with their article removed
(the nearest other article: "unanswered", exactly the case of an article nobody wrote). The threshold is where
the two error rates are equal, which does not depend on how much of the traffic is unanswered.

Which units are the pseudo-queries is measured, not assumed: every line, or only titles and section headings.
In an FAQ-style KB (CLINC150: a title and eight customer wordings) every line is a question and all lines
separate best; in a help center's how-to articles the body lines are steps ("Open Settings → Security"), which
say nothing about what customers ask (shipped articles: equal error rate 0.49, chance), while titles and
headings are what they ask. The pool with the lower equal error rate is used, and the report shows which.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kb.analysis import SUPPORTED, detect_language
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
# A language's own mean counts as n / (n + LANGUAGE_PRIOR) of its centre, the global mean as the rest: the mean of
# a few texts is mostly their topic, which centring must not remove (one need asked in a language nobody else uses).
LANGUAGE_PRIOR = 50

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


def languages(texts: Sequence[str]) -> np.ndarray:
    """The language of each text (en, ru or uk), for per-language centring."""
    return np.array([detect_language(t) for t in texts], dtype=object)


def normalise_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def _equal_error(answered: np.ndarray, unanswered: np.ndarray,
                 minimum: int = 10) -> tuple[float, float, float, float] | None:
    """(threshold, answered mean, unanswered mean, equal error rate), or None with under `minimum` of either."""
    if len(answered) < minimum or len(unanswered) < minimum:
        return None
    grid = np.linspace(-1.0, 1.0, 4001)
    miss = np.searchsorted(np.sort(answered), grid, side="left") / len(answered)  # answered called unanswered
    false = 1.0 - np.searchsorted(np.sort(unanswered), grid, side="left") / len(unanswered)  # the reverse
    gap = np.abs(miss - false)
    ties = np.flatnonzero(gap <= gap.min() + 1e-9)
    i = int(ties[len(ties) // 2])  # separable data: the middle of the gap, not its edge
    return float(grid[i]), float(answered.mean()), float(unanswered.mean()), float((miss[i] + false[i]) / 2)


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
    pseudo_queries: str = ""  # "all lines" or "titles and headings": whichever separated better
    units: int = 0
    fitted: bool = False
    cluster_fitted: bool = False
    cluster_v_measure: float = float("nan")
    # Two texts in different languages are one need up to this distance (translated titles of the KB's articles).
    cross_language_distance: float = float("nan")
    translated_titles: int = 0

    def as_dict(self) -> dict:
        """Plain JSON values: floats rounded, not-fitted ones (NaN) as None."""
        return {k: (None if math.isnan(v) else round(float(v), 4)) if isinstance(v, float) else v
                for k, v in self.__dict__.items()}


@dataclass
class KnowledgeEvidence:
    """Units, prototypes and the centring of one KB; `score` says how well the KB covers query vectors."""

    articles: list[ArticleInfo]
    unit_texts: list[str]
    unit_article: np.ndarray  # index into articles per unit
    unit_vectors: np.ndarray  # raw (not centred) e5 query-prompt vectors
    unit_langs: np.ndarray = field(default=None)  # type: ignore[assignment]  # language per unit
    unit_heading: np.ndarray = field(default=None)  # type: ignore[assignment]  # a title or section heading?
    centre: np.ndarray = field(default=None)  # type: ignore[assignment]  # the global mean
    centres: dict = field(default_factory=dict)  # language → its centre
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
        headings: dict[str, set[str]] = {}
        for r in sorted(recs, key=lambda r: (r.payload.get("article_id", ""), r.payload.get("chunk_index", 0))):
            p = r.payload
            aid = p.get("article_id")
            if not aid or int(p.get("generation", 0)) != newest[aid]:
                continue
            if aid not in infos:
                infos[aid] = ArticleInfo(aid, p.get("title", ""), p.get("group_id") or aid, p.get("locale", ""))
                units[aid] = [p.get("title", "")] if p.get("title") else []
                headings[aid] = {p.get("title", "").lower()}
            if p.get("chunk_index") != TITLE_INDEX:
                section = (p.get("section") or "").strip()
                if len(section) >= MIN_UNIT_CHARS:
                    units[aid].append(section)
                    headings[aid].add(section.lower())
                units[aid].extend(split_units(p.get("text", "")))
        articles, texts, owner, langs, heading = [], [], [], [], []
        for aid in sorted(infos):
            seen: set[str] = set()
            kept = [u for u in units[aid] if not (u.lower() in seen or seen.add(u.lower()))][:MAX_UNITS_PER_ARTICLE]
            if not kept:
                continue
            texts.extend(kept)
            heading.extend(u.lower() in headings[aid] for u in kept)
            owner.extend([len(articles)] * len(kept))
            # The article's locale says the language of its lines better than detection on a short line does.
            locale = infos[aid].locale
            langs.extend([locale] * len(kept) if locale in SUPPORTED else languages(kept).tolist())
            articles.append(infos[aid])
        vectors = embedder.embed_queries(texts) if texts else np.zeros((0, embedder.dim), np.float32)
        return cls(articles, texts, np.asarray(owner, dtype=np.int64), np.asarray(vectors, dtype=np.float32),
                   np.array(langs, dtype=object), np.array(heading, dtype=bool))

    # -- the centred space ------------------------------------------------------------------------

    def fit_space(self, query_vectors: np.ndarray, query_langs: Sequence[str] | None = None) -> None:
        """Centre on the means of units and queries together, per language; prototypes in that space.

        `query_langs`: the language of each query (`languages(texts)`); None counts them all as the KB's
        commonest language.
        """
        query_vectors = np.asarray(query_vectors, np.float32).reshape(-1, self.unit_vectors.shape[1])
        unit_langs = self._unit_langs()
        query_langs = self._langs(query_langs, len(query_vectors))
        parts = [v for v in (self.unit_vectors, query_vectors) if len(v)]
        # Not shrunk toward zero for small data: tried (n / (n + 25…200)), it split the en/ru/uk paraphrases of
        # one need in a five-article KB, which full centring keeps together.
        self.centre = np.concatenate(parts).mean(0) if parts else np.zeros(self.unit_vectors.shape[1], np.float32)
        vectors = np.concatenate([self.unit_vectors, query_vectors])
        langs = np.concatenate([unit_langs, query_langs])
        self.centres = {}
        for lang in sorted(set(langs.tolist())):
            mine = vectors[langs == lang]
            w = len(mine) / (len(mine) + LANGUAGE_PRIOR)
            self.centres[lang] = (w * mine.mean(0) + (1 - w) * self.centre).astype(np.float32)
        units = self.centred(self.unit_vectors, unit_langs)
        sums = np.zeros((len(self.articles), units.shape[1]), np.float32)
        np.add.at(sums, self.unit_article, units)
        self._sums, self._units = sums, units
        self.prototypes = normalise_rows(sums)

    def centred(self, vectors: np.ndarray, langs: Sequence[str] | None = None) -> np.ndarray:
        """Vectors minus their language's centre, re-normalised (`langs` None: the KB's commonest language)."""
        vectors = np.asarray(vectors, np.float32)
        langs = self._langs(langs, len(vectors))
        centres = np.stack([self.centres.get(lang, self.centre) for lang in langs]) if len(vectors) else self.centre
        return normalise_rows(vectors - centres)

    def _unit_langs(self) -> np.ndarray:
        if self.unit_langs is None or len(self.unit_langs) != len(self.unit_texts):
            self.unit_langs = languages(self.unit_texts)
        return self.unit_langs

    def _langs(self, langs: Sequence[str] | None, n: int) -> np.ndarray:
        if langs is None:
            counts = {lang: int((self._unit_langs() == lang).sum()) for lang in set(self._unit_langs().tolist())}
            commonest = max(sorted(counts), key=counts.get) if counts else "en"
            return np.array([commonest] * n, dtype=object)
        if len(langs) != n:
            raise ValueError(f"{n} vectors but {len(langs)} languages")
        return np.asarray(langs, dtype=object)

    def similarities(self, centred_vectors: np.ndarray) -> np.ndarray:
        """Cosine of each (centred) vector to every article prototype."""
        if not len(self.articles):
            return np.zeros((len(centred_vectors), 0), np.float32)
        return centred_vectors @ self.prototypes.T

    # -- calibration on the KB itself ---------------------------------------------------------------

    def leave_one_out(self, pool: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(answered, unanswered) scores of the units used as pseudo-queries (`pool`: a mask, default all)."""
        units, owner, sums = self._units, self.unit_article, self._sums
        sizes = np.bincount(owner, minlength=len(self.articles))
        pool = np.ones(len(units), bool) if pool is None else pool
        ok = (sizes[owner] >= 2) & pool
        own = normalise_rows(sums[owner] - units)
        answered = (units * own).sum(1)[ok]
        sims = units[pool] @ self.prototypes.T
        groups = np.array([a.group for a in self.articles])
        same_group = groups[None, :] == groups[owner[pool]][:, None]
        unanswered = np.where(same_group, -np.inf, sims).max(1)
        return answered, unanswered[np.isfinite(unanswered)]

    def calibrate_threshold(self) -> Calibration:
        fits = []
        if len(self.articles) >= 2:
            headings = self.unit_heading if self.unit_heading is not None else np.zeros(len(self.unit_texts), bool)
            for name, pool in (("all lines", None), ("titles and headings", headings)):
                if pool is not None and (pool.all() or not pool.any()):
                    continue  # the same pool as all lines, or none
                fit = _equal_error(*self.leave_one_out(pool))
                if fit:
                    fits.append(fit + (name,))
        if not fits:
            return Calibration(DEFAULT_THRESHOLD, DEFAULT_CLUSTER_DISTANCE, units=len(self.unit_texts))
        threshold, answered, unanswered, eer, name = min(fits, key=lambda f: f[3])
        return Calibration(threshold, DEFAULT_CLUSTER_DISTANCE, answered, unanswered, eer, name,
                           len(self.unit_texts), True)

    def calibrate_cross_language(self, cal: Calibration) -> Calibration:
        """How far apart one need can be in two languages: fitted on the KB's titles and their translations.

        A title and its translation are one need said twice; a title and the nearest title of another article
        in another language are two needs. The distance is the equal-error point between the two (on the
        shipped articles: translations 0.07–0.54 apart, other articles 0.56+, so 0.55), and never below the
        within-language cut. Short texts across languages sit farther apart than paraphrases in one language
        (en and ru wordings of one need ~0.5, en paraphrases ~0.35): one cut for both splits every need by language.
        """
        cal.cross_language_distance = cal.cluster_distance
        title_of = {}
        for k, (a, text) in enumerate(zip(self.unit_article.tolist(), self.unit_texts)):
            if a not in title_of and text == self.articles[a].title:
                title_of[a] = k
        arts = sorted(title_of)
        if len(arts) < 3:
            return cal
        vectors = self._units[[title_of[a] for a in arts]]
        groups = np.array([self.articles[a].group for a in arts])
        langs = self._unit_langs()[[title_of[a] for a in arts]]
        sims = vectors @ vectors.T
        same_group = groups[:, None] == groups[None, :]
        other_lang = langs[:, None] != langs[None, :]
        translations = sims[np.triu(same_group & other_lang, 1)]
        nearest_other = np.where(~same_group & other_lang, sims, -np.inf).max(1)
        fit = _equal_error(translations, nearest_other[np.isfinite(nearest_other)], minimum=3)
        if fit:
            cal.cross_language_distance = max(cal.cluster_distance, 1.0 - fit[0])
            cal.translated_titles = len(translations)
        return cal

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
