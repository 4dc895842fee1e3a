"""Retrieval quality and speed of kb.analysis sparse vectors, scored as Qdrant does (dot product, IDF modifier)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb import analysis  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {"stackfaq": "en", "xquad_r_ru": "ru"}
BASELINE_NDCG = {"stackfaq": 0.842, "xquad_r_ru": 0.953}  # bm25s + PyStemmer, from the shared baselines


def load(name: str):
    root = DATA / name
    corpus = [json.loads(line) for line in (root / "corpus.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (root / "queries.jsonl").open(encoding="utf-8")]
    qrels: dict[str, set[str]] = {}
    with (root / "qrels.tsv").open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(did)
    return corpus, [q for q in queries if q["_id"] in qrels], qrels


def doc_text(doc: dict) -> str:
    return f"{doc.get('title') or ''}\n{doc.get('text') or ''}"


def qdrant_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Qdrant's Modifier.IDF: ln((N - n + 0.5) / (n + 0.5) + 1)."""
    return np.log((n_docs - df + 0.5) / (df + 0.5) + 1.0)


def bm25_tf(tf: np.ndarray, length: np.ndarray, k1: float, b: float, avglen: float) -> np.ndarray:
    return tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * length / avglen))


class Index:
    """Raw term counts per document, so that k1/b/avglen can be swept without re-analysing."""

    def __init__(self, texts: list[str], lang: str):
        self.columns: dict[int, int] = {}
        rows, cols, vals, lengths = [], [], [], []
        for row, text in enumerate(texts):
            groups = analysis.analyze(text, lang)
            lengths.append(len(groups))
            for tid, count in Counter(analysis.term_id(t) for g in groups for t in g).items():
                rows.append(row)
                cols.append(self.columns.setdefault(tid, len(self.columns)))
                vals.append(count)
        shape = (len(texts), len(self.columns))
        self.tf = sparse.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=shape)
        self.lengths = np.array(lengths, dtype=np.float64)
        self.idf = qdrant_idf(np.diff(self.tf.tocsc().indptr).astype(np.float64), len(texts))

    def weighted(self, k1: float, b: float, avglen: float) -> sparse.csr_matrix:
        m = self.tf.tocoo()
        data = bm25_tf(m.data, self.lengths[m.row], k1, b, avglen)
        return sparse.csr_matrix((data, (m.row, m.col)), shape=m.shape)

    def query_matrix(self, vectors: list[tuple[list[int], list[float]]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for row, (indices, values) in enumerate(vectors):
            for i, v in zip(indices, values):
                col = self.columns.get(i)
                if col is not None:  # a term no document has scores 0 in Qdrant too
                    rows.append(row)
                    cols.append(col)
                    vals.append(v * self.idf[col])
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(vectors), len(self.columns)))


def evaluate(scores: np.ndarray, doc_ids: list[str], queries: list[dict], qrels: dict[str, set[str]], k: int = 10):
    ndcg = recall = mrr = 0.0
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    for qi, q in enumerate(queries):
        relevant = qrels[q["_id"]]
        hits = [doc_ids[d] in relevant and scores[qi, d] > 0 for d in top[qi]]
        dcg = sum(1.0 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
        ndcg += dcg / ideal
        recall += sum(hits) / len(relevant)
        mrr += next((1.0 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    n = len(queries)
    return ndcg / n, recall / n, mrr / n


def throughput(texts: list[str], lang: str) -> tuple[float, float, int]:
    """(cold terms/s with empty caches, warm terms/s, terms) for sparse_doc_vector over texts."""
    analysis.terms(texts[0], lang)  # loads the dictionaries outside the timing
    n_terms = sum(len(analysis.terms(t, lang)) for t in texts)
    analysis.token_terms.cache_clear()
    analysis.term_id.cache_clear()
    t0 = time.perf_counter()
    for t in texts:
        analysis.sparse_doc_vector(t, lang)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        analysis.sparse_doc_vector(t, lang)
    warm = time.perf_counter() - t0
    return n_terms / cold, n_terms / warm, n_terms


def check_against_qdrant(corpus, queries, lang, n_queries: int = 40) -> str:
    """Rank a few queries in qdrant-client's local mode with Modifier.IDF and compare with ours."""
    from qdrant_client import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection(
        "bench",
        vectors_config={},
        sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    points = []
    for i, doc in enumerate(corpus):
        idx, val = analysis.sparse_doc_vector(doc_text(doc), lang)
        points.append(models.PointStruct(id=i, vector={"bm25": models.SparseVector(indices=idx, values=val)}))
    client.upsert("bench", points)
    index = Index([doc_text(d) for d in corpus], lang)
    docs = index.weighted(analysis.K1, analysis.B, analysis.AVGLEN)
    worst = 0.0
    for q in queries[:n_queries]:
        idx, val = analysis.sparse_query_vector(q["text"], None)
        if not idx:
            continue
        query = models.SparseVector(indices=idx, values=val)
        hits = client.query_points("bench", query=query, using="bm25", limit=5).points
        ours = (docs @ index.query_matrix([(idx, val)]).T).toarray().ravel()
        for h in hits:
            worst = max(worst, abs(h.score - ours[h.id]) / max(abs(h.score), 1e-9))
    return f"max relative score difference vs qdrant-client local mode over {n_queries} queries: {worst:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--sweep", action="store_true", help="also sweep k1, b and avglen")
    parser.add_argument("--check-qdrant", action="store_true", help="cross-check scores with qdrant-client local mode")
    args = parser.parse_args()

    print(f"k1={analysis.K1} b={analysis.B} avglen={analysis.AVGLEN} (fixed)")
    for name in args.sets:
        lang = SETS[name]
        corpus, queries, qrels = load(name)
        texts = [doc_text(d) for d in corpus]
        doc_ids = [d["_id"] for d in corpus]
        cold, warm, n_terms = throughput(texts, lang)
        index = Index(texts, lang)
        docs = index.weighted(analysis.K1, analysis.B, analysis.AVGLEN)
        print(
            f"\n{name} ({lang}): {len(corpus)} docs, {len(queries)} queries, "
            f"mean doc length {index.lengths.mean():.0f} analysed tokens; "
            f"baseline bm25 nDCG@10 {BASELINE_NDCG.get(name, float('nan')):.3f}"
        )
        print(f"  analyzer: {n_terms} terms, cold caches {cold:,.0f} terms/s, warm {warm:,.0f} terms/s")
        qvecs = {}
        for qlang in (lang, None):
            t0 = time.perf_counter()
            qvecs[qlang] = [analysis.sparse_query_vector(q["text"], qlang) for q in queries]
            qtime = (time.perf_counter() - t0) / len(queries) * 1e6
            scores = (docs @ index.query_matrix(qvecs[qlang]).T).T.toarray()
            ndcg, recall, mrr = evaluate(scores, doc_ids, queries, qrels)
            label = f"lang={qlang!r}"
            print(f"  {label:12} nDCG@10 {ndcg:.3f}  Recall@10 {recall:.3f}  MRR@10 {mrr:.3f}  ({qtime:.0f} us/query)")
        if args.sweep:
            qm = index.query_matrix(qvecs[lang])
            avglens = (50.0, 100.0, 150.0, 250.0, float(index.lengths.mean()))
            print("  sweep of nDCG@10 with lang given (last avglen column = corpus mean)")
            print("    avglen        " + " ".join(f"{a:>6.0f}" for a in avglens))
            for k1 in (0.9, 1.2, 1.5):
                for b in (0.5, 0.75, 0.9):
                    cells = []
                    for avglen in avglens:
                        s = (index.weighted(k1, b, avglen) @ qm.T).T.toarray()
                        cells.append(f"{evaluate(s, doc_ids, queries, qrels)[0]:6.3f}")
                    print(f"    k1={k1:<3} b={b:<4} " + " ".join(cells))
        if args.check_qdrant:
            print("  " + check_against_qdrant(corpus, queries, lang))


if __name__ == "__main__":
    main()
