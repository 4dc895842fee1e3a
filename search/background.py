"""What an unrelated match looks like in this knowledge base: per-language similarity background, term rarity.

A cosine means nothing on its own (e5 gives ~0.75 to unrelated text, less across languages, more for long
queries). Measured against the query's own similarity to the KB's chunks of the article's language, mean
`q·μ` and spread `sqrt(qᵀΣq)`, it becomes a z-score that means the same in any KB, language and query style.
Term rarity (document frequency per analysed term) weighs which of the query's words an article contains.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kb import analysis

RANK = 64  # eigenvectors kept of each language's covariance; the rest is one isotropic residual
MAX_SAMPLE = 5000  # chunk vectors per language the background is estimated from
MAX_TERMS = 200_000  # terms whose document frequency is kept; rarer ones count as seen once


def _pack(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def _unpack(s: str, dtype: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    a = np.frombuffer(base64.b64decode(s), dtype=dtype).astype(np.float64 if dtype == "float16" else dtype)
    return a.reshape(shape) if shape else a


@dataclass
class LanguageBackground:
    """Mean and low-rank covariance of one language's chunk vectors."""

    mean: np.ndarray  # (dim,)
    basis: np.ndarray  # (k, dim) principal directions
    variances: np.ndarray  # (k,) variance along each
    residual: float  # mean variance of the remaining directions

    @classmethod
    def fit(cls, vectors: np.ndarray) -> LanguageBackground:
        x = np.asarray(vectors, dtype=np.float64)
        mean = x.mean(axis=0)
        cov = np.cov(x.T) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
        values, vecs = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        k = min(RANK, len(order))
        keep, rest = order[:k], order[k:]
        residual = float(values[rest].clip(min=0).mean()) if len(rest) else 0.0
        return cls(mean, vecs[:, keep].T, values[keep].clip(min=0), residual)

    def stats(self, q: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of the cosine of q to this language's chunks."""
        proj = self.basis @ q
        var = float(self.variances @ proj**2) + self.residual * max(float(q @ q - proj @ proj), 0.0)
        return float(self.mean @ q), max(var, 1e-12) ** 0.5

    def as_json(self) -> dict:
        return {
            "dim": int(self.mean.shape[0]),
            "k": int(self.basis.shape[0]),
            "mean": _pack(self.mean, "float32"),
            "basis": _pack(self.basis, "float16"),
            "variances": _pack(self.variances, "float32"),
            "residual": self.residual,
        }

    @classmethod
    def from_json(cls, d: dict) -> LanguageBackground:
        dim, k = d["dim"], d["k"]
        return cls(
            _unpack(d["mean"], "float32"),
            _unpack(d["basis"], "float16", (k, dim)),
            _unpack(d["variances"], "float32"),
            float(d["residual"]),
        )


@dataclass
class Background:
    """Per-language similarity backgrounds (and all languages pooled), term document frequencies."""

    languages: dict[str, LanguageBackground]
    pooled: LanguageBackground
    articles: int  # articles the document frequencies count
    df: dict[int, int]  # term id → number of articles containing it

    def stats(self, q: np.ndarray, locale: str | None) -> tuple[float, float]:
        return self.languages.get(locale or "", self.pooled).stats(q)

    def z(self, q: np.ndarray, cosine: float, locale: str | None) -> float:
        mean, sd = self.stats(q, locale)
        return (cosine - mean) / sd

    def idf(self, term: str) -> float:
        n = self.df.get(analysis.term_id(term), 0)
        return float(np.log((self.articles - n + 0.5) / (n + 0.5) + 1.0))

    def common(self, term: str) -> bool:
        """Whether most of the KB's articles contain the term (it tells no article apart)."""
        return self.df.get(analysis.term_id(term), 0) * 2 > self.articles

    def known(self, term: str) -> bool:
        return analysis.term_id(term) in self.df

    def coverage(self, terms: Iterable[str], found: set[str]) -> float:
        """The rarity-weighted share of the query's terms this KB uses that an article contains.

        Terms the KB never uses are left out: they cannot be matched by any article, and across languages
        they are most of the query.
        """
        known = [t for t in set(terms) if self.known(t)]
        total = sum(self.idf(t) for t in known)
        return sum(self.idf(t) for t in known if t in found) / total if total else 0.0

    @classmethod
    def build(
        cls, vectors: Sequence[tuple[str, np.ndarray]], article_terms: Iterable[Iterable[int]], seed: int = 0
    ) -> Background:
        """From (locale, vector) of the KB's public chunks and each public article's set of term ids."""
        rng = np.random.default_rng(seed)
        by_lang: dict[str, list[np.ndarray]] = {}
        for locale, vec in vectors:
            by_lang.setdefault(locale or "", []).append(vec)

        def sample(vs: list[np.ndarray]) -> np.ndarray:
            x = np.stack(vs)
            return x[rng.choice(len(x), MAX_SAMPLE, replace=False)] if len(x) > MAX_SAMPLE else x

        # A language with too few chunks for a covariance borrows the pooled one.
        pooled = LanguageBackground.fit(sample([v for vs in by_lang.values() for v in vs]))
        langs = {lang: LanguageBackground.fit(sample(vs)) for lang, vs in by_lang.items() if len(vs) >= 20}
        df: Counter[int] = Counter()
        articles = 0
        for ids in article_terms:
            df.update(set(ids))
            articles += 1
        if len(df) > MAX_TERMS:
            df = Counter(dict(df.most_common(MAX_TERMS)))
        return cls(langs, pooled, articles, dict(df))

    def as_json(self) -> dict:
        ids = np.array(sorted(self.df), dtype=np.uint32)
        return {
            "languages": {k: v.as_json() for k, v in self.languages.items()},
            "pooled": self.pooled.as_json(),
            "articles": self.articles,
            "term_ids": _pack(ids, "uint32"),
            "term_df": _pack(np.array([self.df[int(i)] for i in ids], dtype=np.uint32), "uint32"),
        }

    @classmethod
    def from_json(cls, d: dict) -> Background:
        ids, counts = _unpack(d["term_ids"], "uint32"), _unpack(d["term_df"], "uint32")
        return cls(
            {k: LanguageBackground.from_json(v) for k, v in d["languages"].items()},
            LanguageBackground.from_json(d["pooled"]),
            int(d["articles"]),
            dict(zip(ids.tolist(), counts.tolist())),
        )
