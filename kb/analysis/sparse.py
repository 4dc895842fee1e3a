"""BM25-style sparse vectors of documents and queries, over stable term ids (Qdrant applies the IDF)."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import lru_cache

from kb.analysis.terms import analyze

# Bump whenever the same text would get different terms or weights (tokenizer, stop words, lemma choice, k1, b,
# avglen, term ids): stored sparse vectors are then stale and the index must be rebuilt.
ANALYZER_VERSION = 1

# BM25 saturation/length parameters baked into stored document vectors (Qdrant adds only the IDF).
K1 = 1.2
B = 0.75
# A fixed average length (analysed tokens) instead of the corpus mean, so a stored vector never changes when other
# documents are added; why 100: docs/bm25-average-length.md.
AVGLEN = 100.0


@lru_cache(maxsize=1 << 18)
def term_id(term: str) -> int:
    """Stable 31-bit id of a term (blake2b of its UTF-8), the same in every process and on every machine."""
    digest = hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def _sorted_vector(weights: dict[int, float]) -> tuple[list[int], list[float]]:
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def sparse_doc_vector(text: str, lang: str) -> tuple[list[int], list[float]]:
    """BM25 term-frequency part (k1, b, fixed avglen) per term id; Qdrant's IDF modifier adds the rest."""
    groups = analyze(text, lang)
    if not groups:
        return [], []
    tf: Counter[int] = Counter()
    for group in groups:
        for t in group:
            tf[term_id(t)] += 1
    # Length counts tokens, not terms, so a token that yields two lemmas does not make its document "longer".
    norm = K1 * (1.0 - B + B * len(groups) / AVGLEN)
    return _sorted_vector({i: f * (K1 + 1.0) / (f + norm) for i, f in tf.items()})


def sparse_query_vector(text: str, lang: str | None = None) -> tuple[list[int], list[float]]:
    """Weight 1 per distinct query term (IDF is applied by Qdrant); lang None adds ru and uk lemmas."""
    weights: dict[int, float] = {}
    for group in analyze(text, lang):
        for t in group:
            # A ru and a uk lemma of one token both get the full weight: a document matches at most one of
            # them in practice, and halving would make such words count less than words whose lemmas agree
            # (xquad_r_ru with lang None: 0.959 full weight, 0.958 halved).
            weights[term_id(t)] = 1.0
    return _sorted_vector(weights)
