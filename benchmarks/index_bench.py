"""Indexing benchmark: throughput against bare encode of the same backend, and no-op re-index times. Prints numbers.

    python benchmarks/index_bench.py [--articles articles] [--synthetic 10000] [--backend torch|onnx|onnx-int8]

1. The sample KB is chunked; bare encode of those chunk texts (embed_passages of the same backend) and a full
   `kb index` into a fresh Edge shard run alternately, twice each, in this one process; the best of each
   gives chunks/s and the ratio index/bare (goal >= 0.9).
2. A no-op re-index of the sample KB: seconds and chunks embedded (goal: 0).
3. A synthetic KB of N articles built from real text (../shared/data corpora, sentences recombined).
   Its first build uses a hashing embedder of the same width (embedding 30k chunks with the real model
   would take most of an hour and says nothing about the no-op path); the no-op re-index that follows
   goes through exactly the code `kb index` runs. Goal: embeds nothing, under 5 s at 10,000 articles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.article_folder import load_articles  # noqa: E402
from kb.chunks import chunk_article  # noqa: E402
from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer, title_chunk  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


class HashingEmbedder:
    """Same interface and width as the real model, no model: used only to build the big KB quickly."""

    def __init__(self, name: str, dim: int, max_tokens: int):
        self.name, self.dim, self.max_tokens = name, dim, max_tokens

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embed_queries = embed_passages

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * 1.6) + 4


def real_sentences() -> list[str]:
    sents: list[str] = []
    for name in ("stackfaq", "xquad_r_ru"):
        path = SHARED / name / "corpus.jsonl"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            sents += [s.strip() for s in re.split(r"(?<=[.!?])\s+", doc.get("text", "")) if len(s.split()) >= 4]
    if not sents:
        sys.exit("no corpus under ../shared/data: the synthetic KB needs real text")
    return sents


def synthetic_kb(root: Path, n: int) -> None:
    rng = random.Random(42)
    sents = real_sentences()
    cats = ["account", "billing", "integrations", "troubleshooting", "policies", "mobile", "admin", "getting-started"]
    for i in range(n):
        locale = "ru" if i % 3 == 0 else "en"
        cat = cats[i % len(cats)]
        sections = []
        for s in range(rng.randint(1, 4)):
            body = " ".join(rng.choice(sents) for _ in range(rng.randint(3, 9)))
            sections.append(f"## Section {s + 1}\n{body}")
        title = " ".join(rng.choice(sents).split()[:8])
        path = root / locale / cat / f"a{i:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\nid: a{i:05d}\ntitle: {json.dumps(title, ensure_ascii=False)}\nlocale: {locale}\n"
            f"category: {cat}\n---\nIntro: {rng.choice(sents)}\n\n" + "\n\n".join(sections) + "\n",
            encoding="utf-8",
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=Path, default=ROOT / "articles")
    ap.add_argument("--synthetic", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--backend", default=None, help="KB_EMBED_BACKEND (default: the setting, else the model's default)")
    args = ap.parse_args()
    settings = Settings(**({"embed_backend": args.backend} if args.backend else {}))
    t = time.perf_counter()
    emb = load_embedder(settings)
    print(
        f"model {emb.name} on {getattr(emb, 'backend', 'torch')}: "
        f"loaded in {time.perf_counter() - t:.1f}s, dim {emb.dim}"
    )

    articles = load_articles(args.articles).articles
    tokens = min(settings.chunk_tokens, emb.max_tokens)
    # Exactly what the indexer embeds: every chunk, plus each article's title point.
    texts = []
    for a in articles:
        chunks = chunk_article(a, tokens, emb.count_tokens)
        texts += [c.embed_text for c in [title_chunk(a, chunks)] + chunks]
    print(f"sample KB: {len(articles)} articles, {len(texts)} texts to embed (chunks and title points)")

    bare, full = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        emb.embed_passages(texts)
        bare.append(len(texts) / (time.perf_counter() - t))
        with tempfile.TemporaryDirectory() as d:
            store = EdgeStore(Path(d) / "shard")
            t = time.perf_counter()
            report = Indexer(store, emb, settings.chunk_tokens).run(args.articles)
            full.append(report.chunks_embedded / (time.perf_counter() - t))
            store.close()
    print(
        f"bare encode: {max(bare):.1f} chunks/s   kb index: {max(full):.1f} chunks/s   "
        f"ratio {max(full) / max(bare):.3f}  "
        f"(rounds: bare {[round(x, 1) for x in bare]}, index {[round(x, 1) for x in full]})"
    )

    with tempfile.TemporaryDirectory() as d:
        store = EdgeStore(Path(d) / "shard")
        Indexer(store, emb, settings.chunk_tokens).run(args.articles)
        t = time.perf_counter()
        report = Indexer(store, emb, settings.chunk_tokens).run(args.articles)
        print(
            f"no-op re-index, sample KB: {time.perf_counter() - t:.3f}s, {report.chunks_embedded} chunks embedded, "
            f"{report.unchanged} unchanged"
        )
        store.close()

    if args.synthetic:
        fake = HashingEmbedder(emb.name, emb.dim, emb.max_tokens)
        with tempfile.TemporaryDirectory() as d:
            root = Path(d) / "articles"
            t = time.perf_counter()
            synthetic_kb(root, args.synthetic)
            print(f"synthetic KB: {args.synthetic} articles written in {time.perf_counter() - t:.1f}s")
            store = EdgeStore(Path(d) / "shard")
            t = time.perf_counter()
            first = Indexer(store, fake, settings.chunk_tokens).run(root)
            print(f"  first build (hashing embedder): {first.chunks} chunks in {time.perf_counter() - t:.1f}s")
            t = time.perf_counter()
            report = Indexer(store, fake, settings.chunk_tokens).run(root)
            print(
                f"  no-op re-index: {time.perf_counter() - t:.2f}s, {report.chunks_embedded} chunks embedded, "
                f"{report.unchanged} unchanged of {report.articles}"
            )
            store.close()


if __name__ == "__main__":
    main()
