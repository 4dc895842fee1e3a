"""What the knowledge base can answer, as vectors: its units, centred per language, and their article prototypes.

KnowledgeEvidence holds the raw units; fit_space returns the CentredEvidence the scores, and the calibrations
(reports.gap_calibration), are computed in, so nothing can be asked of a space before it is fitted. Why it is built
this way: docs/gap-detection.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kb.analysis import SUPPORTED, detect_language
from kb.embedder import Embedder
from kb.store import VectorStore
from reports import kb_view
from reports.gap_calibration import (
    CALIBRATION_SAMPLE,
    CLUSTER_GRID,
    DEFAULT_CLUSTER_DISTANCE,
    DEFAULT_THRESHOLD,
    GapCalibration,
    equal_error,
    logistic_fit,
)

# A language's own mean counts as n / (n + LANGUAGE_PRIOR) of its centre, the global mean as the rest: the mean of
# a few texts is mostly their topic, which centring must not remove (one need asked in a language nobody else uses).
LANGUAGE_PRIOR = 50


def languages(texts: Sequence[str]) -> np.ndarray:
    """The language of each text (en, ru or uk), for per-language centring."""
    return np.array([detect_language(t) for t in texts], dtype=object)


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
class KnowledgeEvidence:
    """The KB's units (titles, headings, lines) with their raw vectors; fit_space centres them for comparing."""

    articles: list[ArticleInfo]
    unit_texts: list[str]
    unit_article: np.ndarray  # index into articles per unit
    unit_vectors: np.ndarray  # raw (not centred) e5 query-prompt vectors
    unit_langs: np.ndarray = field(default=None)  # type: ignore[arg-type]  # language per unit
    unit_heading: np.ndarray = field(default=None)  # type: ignore[arg-type]  # a title or section heading?

    @classmethod
    def from_store(
        cls, store: VectorStore, embedder: Embedder, visibilities: Sequence[str] | None = None
    ) -> KnowledgeEvidence:
        """Every indexed article's units with their vectors, as kept in the store (reports/kb_view.py)."""
        return cls.from_units(kb_view.load(store, embedder, list(visibilities) if visibilities else None), embedder.dim)

    @classmethod
    def from_units(cls, arts: Sequence[kb_view.ArticleUnits], dim: int) -> KnowledgeEvidence:
        """The evidence of these articles' units (sorted by article id)."""
        articles: list[ArticleInfo] = []
        texts: list[str] = []
        owner: list[int] = []
        langs: list[str] = []
        heading: list[bool] = []
        vectors: list[np.ndarray] = []
        for a in arts:
            texts.extend(a.texts)
            heading.extend(a.heading)
            owner.extend([len(articles)] * len(a.texts))
            # The article's locale says the language of its lines better than detection on a short line does.
            langs.extend([a.locale] * len(a.texts) if a.locale in SUPPORTED else languages(a.texts).tolist())
            vectors.append(a.vectors)
            articles.append(ArticleInfo(a.id, a.title, a.group, a.locale))
        return cls(
            articles,
            texts,
            np.asarray(owner, dtype=np.int64),
            np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32),
            np.array(langs, dtype=object),
            np.array(heading, dtype=bool),
        )

    # -- the centred space ------------------------------------------------------------------------

    def fit_space(
        self, query_vectors: np.ndarray, query_langs: Sequence[str] | np.ndarray | None = None
    ) -> CentredEvidence:
        """Centre on the means of units and queries together, per language; prototypes in that space.

        `query_langs`: the language of each query (`languages(texts)`); None counts them all as the KB's
        commonest language.
        """
        query_vectors = np.asarray(query_vectors, np.float32).reshape(-1, self.unit_vectors.shape[1])
        unit_langs = self.unit_languages()
        query_langs = self.query_languages(query_langs, len(query_vectors))
        parts = [v for v in (self.unit_vectors, query_vectors) if len(v)]
        # Not shrunk toward zero for small data: tried (n / (n + 25…200)), it split the en/ru/uk paraphrases of
        # one need in a five-article KB, which full centring keeps together.
        centre = np.concatenate(parts).mean(0) if parts else np.zeros(self.unit_vectors.shape[1], np.float32)
        vectors = np.concatenate([self.unit_vectors, query_vectors])
        langs = np.concatenate([unit_langs, query_langs])
        centres = {}
        for lang in sorted(set(langs.tolist())):
            mine = vectors[langs == lang]
            w = len(mine) / (len(mine) + LANGUAGE_PRIOR)
            centres[lang] = (w * mine.mean(0) + (1 - w) * centre).astype(np.float32)
        space = CentredEvidence(self, centre, centres)
        units = space.centred(self.unit_vectors, unit_langs)
        sums = np.zeros((len(self.articles), units.shape[1]), np.float32)
        np.add.at(sums, self.unit_article, units)
        space.units, space.sums, space.prototypes = units, sums, normalise_rows(sums)
        return space

    def unit_languages(self) -> np.ndarray:
        """The language of each unit (detected once when from_store did not know it)."""
        if self.unit_langs is None or len(self.unit_langs) != len(self.unit_texts):
            self.unit_langs = languages(self.unit_texts)
        return self.unit_langs

    def query_languages(self, langs: Sequence[str] | np.ndarray | None, n: int) -> np.ndarray:
        """`langs` checked against n vectors; None: all in the KB's commonest language."""
        if langs is None:
            counts = {lang: int((self.unit_languages() == lang).sum()) for lang in set(self.unit_languages().tolist())}
            commonest = max(sorted(counts), key=lambda lang: counts[lang]) if counts else "en"
            return np.array([commonest] * n, dtype=object)
        if len(langs) != n:
            raise ValueError(f"{n} vectors but {len(langs)} languages")
        return np.asarray(langs, dtype=object)


@dataclass
class CentredEvidence:
    """The KB's units in the centred space fitted on them and the queries at hand: prototypes, scores, calibrations."""

    evidence: KnowledgeEvidence
    centre: np.ndarray  # the global mean
    centres: dict[str, np.ndarray]  # language → its centre
    units: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]  # set by fit_space
    sums: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]
    prototypes: np.ndarray = field(default=None, repr=False)  # type: ignore[arg-type]

    @property
    def articles(self) -> list[ArticleInfo]:
        return self.evidence.articles

    def centred(self, vectors: np.ndarray, langs: Sequence[str] | np.ndarray | None = None) -> np.ndarray:
        """Vectors minus their language's centre, re-normalised (`langs` None: the KB's commonest language)."""
        vectors = np.asarray(vectors, np.float32)
        langs = self.evidence.query_languages(langs, len(vectors))
        centres = np.stack([self.centres.get(lang, self.centre) for lang in langs]) if len(vectors) else self.centre
        return normalise_rows(vectors - centres)

    def similarities(self, centred_vectors: np.ndarray) -> np.ndarray:
        """Cosine of each (centred) vector to every article prototype."""
        if not len(self.evidence.articles):
            return np.zeros((len(centred_vectors), 0), np.float32)
        return centred_vectors @ self.prototypes.T

    # -- calibration on the KB itself ---------------------------------------------------------------

    def leave_one_out(self, pool: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(answered, unanswered) scores of the units used as pseudo-queries (`pool`: a mask, default all)."""
        ev = self.evidence
        units, owner, sums = self.units, ev.unit_article, self.sums
        sizes = np.bincount(owner, minlength=len(ev.articles))
        pool = np.ones(len(units), bool) if pool is None else pool
        ok = (sizes[owner] >= 2) & pool
        own = normalise_rows(sums[owner] - units)
        answered = (units * own).sum(1)[ok]
        sims = units[pool] @ self.prototypes.T
        groups = np.array([a.group for a in ev.articles])
        same_group = groups[None, :] == groups[owner[pool]][:, None]
        unanswered = np.where(same_group, -np.inf, sims).max(1)
        return answered, unanswered[np.isfinite(unanswered)]

    def calibrate_threshold(self) -> GapCalibration:
        """The answered threshold at the equal-error point of the units as pseudo-queries, on the better pool."""
        ev = self.evidence
        fits = []
        if len(ev.articles) >= 2:
            headings = ev.unit_heading if ev.unit_heading is not None else np.zeros(len(ev.unit_texts), bool)
            for name, pool in (("all lines", None), ("titles and headings", headings)):
                if pool is not None and (pool.all() or not pool.any()):
                    continue  # the same pool as all lines, or none
                scores = self.leave_one_out(pool)
                fit = equal_error(*scores)
                if fit:
                    fits.append((fit, name, scores))
        if not fits:
            return GapCalibration(DEFAULT_THRESHOLD, DEFAULT_CLUSTER_DISTANCE, units=len(ev.unit_texts))
        (threshold, answered, unanswered, eer), name, scores = min(fits, key=lambda f: f[0][3])
        slope, intercept = logistic_fit(*scores)
        return GapCalibration(
            threshold,
            DEFAULT_CLUSTER_DISTANCE,
            answered,
            unanswered,
            eer,
            name,
            len(ev.unit_texts),
            True,
            unanswered_slope=slope,
            unanswered_intercept=intercept,
        )

    def calibrate_cross_language(self, cal: GapCalibration) -> GapCalibration:
        """How far apart one need can be in two languages: fitted on the KB's titles and their translations.

        A title and its translation are one need said twice; a title and the nearest title of another article
        in another language are two needs. The distance is the equal-error point between the two (on the
        shipped articles: translations 0.07–0.54 apart, other articles 0.56+, so 0.55), and never below the
        within-language cut. Short texts across languages sit farther apart than paraphrases in one language
        (en and ru wordings of one need ~0.5, en paraphrases ~0.35): one cut for both splits every need by language.
        """
        ev = self.evidence
        cal.cross_language_distance = cal.cluster_distance
        title_of = {}
        for k, (a, text) in enumerate(zip(ev.unit_article.tolist(), ev.unit_texts)):
            if a not in title_of and text == ev.articles[a].title:
                title_of[a] = k
        arts = sorted(title_of)
        if len(arts) < 3:
            return cal
        vectors = self.units[[title_of[a] for a in arts]]
        groups = np.array([ev.articles[a].group for a in arts])
        langs = ev.unit_languages()[[title_of[a] for a in arts]]
        sims = vectors @ vectors.T
        same_group = groups[:, None] == groups[None, :]
        other_lang = langs[:, None] != langs[None, :]
        translations = sims[np.triu(same_group & other_lang, 1)]
        nearest_other = np.where(~same_group & other_lang, sims, -np.inf).max(1)
        fit = equal_error(translations, nearest_other[np.isfinite(nearest_other)], minimum=3)
        if fit:
            cal.cross_language_distance = max(cal.cluster_distance, 1.0 - fit[0])
            cal.translated_titles = len(translations)
        return cal

    def calibrate_cluster_distance(
        self, cal: GapCalibration, answered_vectors: np.ndarray, answered_article: np.ndarray, seed: int = 0
    ) -> GapCalibration:
        """The cut at which average-linkage clustering best recovers articles as topics.

        The points are the KB's units labelled by their article plus the searches the KB answers labelled by
        their nearest article (real customer phrasing, which is looser than an article's own lines): a topic
        found in unanswered traffic should be as broad as what one article answers. V-measure against those
        labels picks the cut from CLUSTER_GRID; translations count as one article.
        """
        ev = self.evidence
        from scipy.cluster.hierarchy import fcluster, linkage
        from sklearn.metrics import v_measure_score

        groups = {g: i for i, g in enumerate(sorted({a.group for a in ev.articles}))}
        art_group = np.array([groups[a.group] for a in ev.articles], dtype=np.int64)
        X = np.concatenate([self.units, answered_vectors]) if len(answered_vectors) else self.units
        y = (
            np.concatenate([art_group[ev.unit_article], art_group[answered_article]])
            if len(answered_vectors)
            else art_group[ev.unit_article]
        )
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
