"""Retrieval evaluation on BEIR-layout sets: a throwaway KB, every query through the same search code."""

from __future__ import annotations

import json
import math
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.articles import ID_RE
from kb.embedder import Embedder
from kb.indexer import Indexer
from kb.store.edge import EdgeStore
from search.rerank import Reranker
from search.retrieval import Mode, Retriever
from search.service import SearchService
from search.spelling import SpellCorrector


@dataclass
class EvalReport:
    dataset: str
    mode: str
    queries: int
    documents: int
    ndcg_at_10: float
    recall_at_10: float
    mrr_at_10: float
    latency_ms_p50: float
    latency_ms_p95: float
    latency_ms_p99: float
    index_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def load_beir(root: Path) -> tuple[list[dict], dict[str, str], dict[str, set[str]]]:
    """Corpus, queries and relevant documents per query from `corpus.jsonl`, `queries.jsonl`, `qrels.tsv`."""
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (root / name).is_file():
            raise FileNotFoundError(
                f"{root / name} is missing: a BEIR-layout folder has corpus.jsonl, queries.jsonl, qrels.tsv"
            )
    corpus = [
        json.loads(line) for line in (root / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    queries = {}
    for line in (root / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            queries[str(q["_id"])] = q["text"]
    qrels: dict[str, set[str]] = defaultdict(set)
    for n, line in enumerate((root / "qrels.tsv").read_text(encoding="utf-8").splitlines()):
        parts = line.split("\t")
        if n == 0 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header
        if len(parts) >= 3 and int(parts[2]) > 0:
            qrels[parts[0]].add(parts[1])
    return corpus, queries, dict(qrels)


def write_articles(corpus: list[dict], root: Path) -> dict[str, str]:
    """One Markdown article per corpus document; returns article id → corpus id."""
    ids: dict[str, str] = {}
    for n, doc in enumerate(corpus):
        did = str(doc["_id"])
        aid = did if ID_RE.match(did) else f"doc-{n}"
        ids[aid] = did
        title = (doc.get("title") or "").replace("_", " ").strip() or did
        # The title goes into YAML as JSON (a valid YAML string), so quotes and colons are safe.
        front = f"---\nid: {aid}\ntitle: {json.dumps(title, ensure_ascii=False)}\ncategory: eval\n---\n"
        (root / f"{aid.replace('/', '_')}.md").write_text(front + f"{doc.get('text', '')}\n", encoding="utf-8")
    return ids


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal if ideal else 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)  # nearest-rank: the smallest value with at least p% of values at or below it
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def evaluate(
    dataset: Path,
    embedder: Embedder,
    modes: list[Mode],
    chunk_tokens: int = 256,
    progress: bool = False,
    reranker: Reranker | None = None,
) -> list[EvalReport]:
    corpus, queries, qrels = load_beir(dataset)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        articles = Path(tmp) / "articles"
        articles.mkdir()
        id_map = write_articles(corpus, articles)
        store = EdgeStore(Path(tmp) / "shard")
        try:
            t0 = time.perf_counter()
            report = Indexer(store, embedder, chunk_tokens, progress=progress).run(articles)
            index_seconds = time.perf_counter() - t0
            if report.errors:
                raise ValueError(f"{len(report.errors)} documents failed to load, first: {report.errors[0]}")
            # The same code customers go through: corrections, fusion, grouping (logging off).
            service = SearchService(
                store, Retriever(store, embedder, reranker=reranker), speller=SpellCorrector.from_store(store)
            )
            service.calibrations.get()  # fitted on the new KB before the timed searches
            return [
                _run(dataset.name, mode, service, queries, qrels, id_map, len(corpus), index_seconds) for mode in modes
            ]
        finally:
            store.close()


def _run(
    name: str,
    mode: Mode,
    service: SearchService,
    queries: dict[str, str],
    qrels: dict[str, set[str]],
    id_map: dict[str, str],
    n_docs: int,
    index_seconds: float,
) -> EvalReport:
    ndcg = recall = mrr = 0.0
    latencies: list[float] = []
    judged = [q for q in queries if q in qrels]
    for qid in judged:
        t = time.perf_counter()
        hits = service.search(queries[qid], limit=10, mode=mode, log=False).results
        latencies.append((time.perf_counter() - t) * 1000)
        ranked = [id_map.get(h.id, h.id) for h in hits]
        relevant = qrels[qid]
        ndcg += ndcg_at_10(ranked, relevant)
        recall += len(set(ranked[:10]) & relevant) / len(relevant)
        mrr += next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    n = max(len(judged), 1)
    return EvalReport(
        name,
        mode,
        len(judged),
        n_docs,
        round(ndcg / n, 4),
        round(recall / n, 4),
        round(mrr / n, 4),
        round(percentile(latencies, 50), 2),
        round(percentile(latencies, 95), 2),
        round(percentile(latencies, 99), 2),
        round(index_seconds, 1),
    )


@dataclass
class AnsweredReport:
    """The answered protocol: a seeded share of documents removed, sampled queries, the answered flag read."""

    dataset: str
    seed: int
    removed_share: float
    documents_kept: int
    answerable: int
    unanswerable: int
    answered_when_answerable: float
    answered_when_unanswerable: float
    unanswered_precision: float
    unanswered_recall: float
    unanswered_f1: float
    calibration: dict
    # The answer card (a passage shown on top when a search is answered with high confidence): how many searches
    # showed one, and how many of those cards came from a relevant document still in the KB.
    answer_cards: int = 0
    answer_cards_right: int = 0

    @property
    def answer_card_precision(self) -> float:
        return round(self.answer_cards_right / self.answer_cards, 4) if self.answer_cards else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "answer_card_precision": self.answer_card_precision}


def evaluate_answered(
    dataset: Path,
    embedder: Embedder,
    *,
    removed_share: float = 0.3,
    queries_n: int = 400,
    seed: int = 0,
    chunk_tokens: int = 256,
    progress: bool = False,
    reranker: Reranker | None = None,
) -> AnsweredReport:
    """Index the set without a seeded `removed_share` of its documents and ask `queries_n` sampled queries: a
    query is answerable when one of its relevant documents is still there."""
    corpus, queries, qrels = load_beir(dataset)
    rng = random.Random(seed)
    removed = set(rng.sample([str(d["_id"]) for d in corpus], int(removed_share * len(corpus))))
    kept = [d for d in corpus if str(d["_id"]) not in removed]
    judged = sorted(q for q in queries if q in qrels)
    sample = rng.sample(judged, min(queries_n, len(judged)))
    with tempfile.TemporaryDirectory(prefix="kb-eval-answered-") as tmp:
        articles = Path(tmp) / "articles"
        articles.mkdir()
        doc_of = write_articles(kept, articles)
        store = EdgeStore(Path(tmp) / "shard")
        try:
            report = Indexer(store, embedder, chunk_tokens, progress=progress).run(articles)
            if report.errors:
                raise ValueError(f"{len(report.errors)} documents failed to load, first: {report.errors[0]}")
            service = SearchService(
                store, Retriever(store, embedder, reranker=reranker), speller=SpellCorrector.from_store(store)
            )
            cal = service.calibrations.get()
            flags: dict[bool, list[bool]] = {True: [], False: []}
            cards = cards_right = 0
            for qid in sample:
                answerable = bool(qrels[qid] - removed)
                response = service.search(queries[qid], limit=10, log=False)
                flags[answerable].append(response.answered)
                if response.answer is not None:
                    cards += 1
                    cards_right += doc_of.get(response.answer.article_id) in qrels[qid]
        finally:
            store.close()
    pos, neg = flags[True], flags[False]
    tp = sum(1 for a in neg if not a)  # unanswerable and said so
    fp = sum(1 for a in pos if not a)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / len(neg) if neg else 0.0
    return AnsweredReport(
        dataset=dataset.name,
        seed=seed,
        removed_share=removed_share,
        documents_kept=len(kept),
        answerable=len(pos),
        unanswerable=len(neg),
        answered_when_answerable=round(sum(pos) / len(pos), 4) if pos else 0.0,
        answered_when_unanswerable=round(sum(neg) / len(neg), 4) if neg else 0.0,
        unanswered_precision=round(p, 4),
        unanswered_recall=round(r, 4),
        unanswered_f1=round(2 * p * r / (p + r), 4) if p + r else 0.0,
        calibration=cal.stats if cal is not None else {},
        answer_cards=cards,
        answer_cards_right=cards_right,
    )
