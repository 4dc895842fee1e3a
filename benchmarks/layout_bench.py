"""Questions typed in the wrong keyboard layout: do they find what the intended query finds? Prints numbers.

    python benchmarks/layout_bench.py [../shared/data/xquad_r_ru ...] [--queries 300] [--seed 0]

For each set (BEIR layout, Cyrillic questions) a KB is built from its corpus, then a seeded sample of its
questions is searched twice through the product's SearchService: as written, and re-typed key for key on the
English (QWERTY) layout, as a customer who forgot to switch layouts would (Latin words and digits stay as they
are; Cyrillic punctuation goes to its key: "?" → "&", "," → "?", "." → "/"). Per set it prints how often the
layout was detected, how often the re-typed query's top article is the intended query's, and nDCG@10 of both.
Goal: top article agreement >= 0.95, nDCG@10 within 0.02.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.evaluation import load_beir, ndcg_at_10, write_articles  # noqa: E402
from search.retrieval import Retriever  # noqa: E402
from search.service import SearchService  # noqa: E402
from search.spelling import SpellCorrector  # noqa: E402

_RU = "йцукенгшщзхъфывапролджэячсмитьбюё"
_UK = "йцукенгшщзхїфівапролджєячсмитьбюґ"
_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_UK_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.\\"
_PUNCT = {"?": "&", ",": "?", ".": "/", ";": "$", ":": "^", '"': "@", "№": "#"}
_SHIFTED = dict(zip("[];',.`\\", '{}:"<>~|'))  # capital Х Ъ Ж Э Б Ю Ё Ґ are on shifted punctuation keys


def retype(text: str) -> str:
    """The text as typed on QWERTY by someone who meant the Russian (or Ukrainian) layout."""
    table: dict[str, str] = {}
    for cyr, keys in ((_UK, _UK_KEYS), (_RU, _KEYS)):  # ru last: it wins where both layouts have a letter
        for c, k in zip(cyr, keys):
            table[c] = k
            table[c.upper()] = k.upper() if k.isalpha() else _SHIFTED[k]
    table.update(_PUNCT)
    return "".join(table.get(ch, ch) for ch in text)


def run(dataset: Path, embedder, n: int, seed: int) -> dict:
    corpus, queries, qrels = load_beir(dataset)
    with tempfile.TemporaryDirectory(prefix="kb-layout-") as tmp:
        arts = Path(tmp) / "articles"
        arts.mkdir()
        ids = write_articles(corpus, arts)
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, embedder, Settings().chunk_tokens).run(arts)
            svc = SearchService(store, Retriever(store, embedder), speller=SpellCorrector.from_store(store))
            judged = sorted(q for q in queries if q in qrels)
            sample = random.Random(seed).sample(judged, min(n, len(judged)))
            detected = agree = 0
            nd_plain = nd_typed = 0.0
            for qid in sample:
                plain = svc.search(queries[qid], log=False)
                typed = svc.search(retype(queries[qid]), log=False)
                detected += typed.correction is not None and typed.correction.startswith("en->")
                top = lambda r: r.results[0].id if r.results else None  # noqa: E731
                agree += top(plain) == top(typed)
                nd_plain += ndcg_at_10([ids.get(r.id, r.id) for r in plain.results], qrels[qid])
                nd_typed += ndcg_at_10([ids.get(r.id, r.id) for r in typed.results], qrels[qid])
        finally:
            store.close()
    k = len(sample)
    return {
        "set": dataset.name,
        "queries": k,
        "layout_detected": round(detected / k, 3),
        "top_article_agreement": round(agree / k, 3),
        "ndcg_at_10_as_written": round(nd_plain / k, 4),
        "ndcg_at_10_retyped": round(nd_typed / k, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", type=Path, default=[ROOT.parent / "shared" / "data" / "xquad_r_ru"])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    embedder = load_embedder(Settings())
    for s in args.sets:
        r = run(s, embedder, args.queries, args.seed)
        print(
            f"{r['set']}: {r['queries']} questions; layout detected {r['layout_detected']:.3f}; top article as "
            f"intended {r['top_article_agreement']:.3f}; nDCG@10 {r['ndcg_at_10_as_written']:.4f} as written, "
            f"{r['ndcg_at_10_retyped']:.4f} re-typed",
            flush=True,
        )


if __name__ == "__main__":
    main()
