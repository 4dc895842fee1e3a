"""What an optional reranker (KB_RERANKER) costs a search: its (query, passage) pairs against bare query embedding.

    OMP_NUM_THREADS=1 python benchmarks/rerank_bench.py [--layers 6] [--hidden 384] [--queries 30]

No pinned package ships a cross-encoder, so this times one of the shape of the common MiniLM rerankers (6 layers,
384 wide, XLM-R's vocabulary as the multilingual ones have, random weights: the cost of a forward pass does not
depend on what the weights learnt) over the shipped help center's own chunks, the first results of real
searches. Prints p50 / p95 of the reranker's call and of the e5 query embedding in the same run, so the ratio holds
on a noisy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.evaluation import percentile  # noqa: E402
from search.rerank import DEPTH, Reranker, passage_text  # noqa: E402
from search.retrieval import Retriever  # noqa: E402

QUERIES = [
    "forgot my password",
    "how do I export a report to csv",
    "add a VAT ID to invoices",
    "как поменять тариф",
    "не приходят уведомления на телефон",
    "як підключити гугл календар",
    "connect slack",
    "two factor authentication lost phone",
    "cancel subscription refund",
    "offline mode sync conflicts",
]


def cross_encoder(folder: Path, tokenizer_from: Path, layers: int, hidden: int) -> Reranker:
    """A random XLM-R-style cross-encoder (the multilingual rerankers' vocabulary, so Cyrillic costs what it would)."""
    import shutil

    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tokenizer_from / name).exists():
            shutil.copyfile(tokenizer_from / name, folder / name)
    config = XLMRobertaConfig(
        vocab_size=250037,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 32),
        intermediate_size=4 * hidden,
        max_position_embeddings=514,
        num_labels=1,
    )
    XLMRobertaForSequenceClassification(config).save_pretrained(folder)
    return Reranker(str(folder), threads=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--queries", type=int, default=30, help="searches timed (the list above, repeated)")
    ap.add_argument("--depth", type=int, default=DEPTH, help="passages per search (default: what search reads)")
    args = ap.parse_args()
    settings = Settings()
    embedder = load_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="kb-rerank-bench-") as tmp:
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, embedder, settings.chunk_tokens).run(ROOT / "articles")
            retriever = Retriever(store, embedder)
            folder = Path(tmp) / "cross-encoder"
            folder.mkdir()
            e5 = [
                p
                for p in sorted(settings.cache_dir.glob("multilingual-e5-small-*"))
                if (p / "tokenizer.json").is_file()
            ]
            # Its tokenizer, so each passage is as many tokens as a multilingual reranker would read.
            reranker = cross_encoder(folder, e5[0], args.layers, args.hidden)
            work = [(q, [passage_text(h) for h in retriever.search(q, args.depth)]) for q in QUERIES]
            reranker.scores(*work[0])  # first call: allocations, not steady state
            embedder.embed_queries([QUERIES[0]])
            rerank_ms, embed_ms = [], []
            for i in range(args.queries):
                q, passages = work[i % len(work)]
                t = time.perf_counter()
                embedder.embed_queries([q])
                embed_ms.append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                reranker.scores(q, passages)
                rerank_ms.append(1000 * (time.perf_counter() - t))
        finally:
            store.close()
    e50, e95 = percentile(embed_ms, 50), percentile(embed_ms, 95)
    r50, r95 = percentile(rerank_ms, 50), percentile(rerank_ms, 95)
    print(f"cross-encoder {args.layers} layers x {args.hidden}, {args.depth} passages a search, {args.queries} runs")
    print(f"e5 query embedding      p50 {e50:7.1f} ms  p95 {e95:7.1f} ms")
    ratio = r50 / e50
    print(f"reranker, {args.depth:2} passages  p50 {r50:7.1f} ms  p95 {r95:7.1f} ms  ({ratio:.0f}x embedding, p50)")


if __name__ == "__main__":
    main()
