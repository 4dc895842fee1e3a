"""Does the draft quote the section that answers? The section choice of suggest/draft.py on public data.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/section_bench.py [--sets xquad_r_ru xquad_r_en_ru]

XQuAD-R's paragraphs come five per Wikipedia article (corpus ids p<article>_<paragraph>, the article's title
on each): every article becomes one help-center article with its paragraphs as sections (headings "1".."5",
which say nothing), and each question is labelled with the section of its relevant paragraph. Every question
is searched over that KB; when its article is among the hits, Drafter.answering_chunk picks the section, and
the share that is the labelled one is printed, with each section's own cosine alone and with the mean of it
and its best sentence's (suggest/sentences.py). xquad_r_en_ru asks the same Russian articles in English.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.calibration import CalibrationCache  # noqa: E402
from search.evaluation import load_beir  # noqa: E402
from search.retrieval import ArticleHit, Retriever  # noqa: E402
from suggest.draft import Drafter  # noqa: E402
from suggest.searched import Searched  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CORPUS = {"xquad_r_ru": "xquad_r_ru", "xquad_r_en_ru": "xquad_r_ru"}  # where each set's paragraphs are


class _OwnCosine:
    """A section scored by its own cosine alone (the draft before suggest/sentences.py)."""

    def rescored(self, hit: ArticleHit, vector: np.ndarray) -> ArticleHit:
        return hit


def write_sectioned(corpus: list[dict], root: Path) -> dict[str, tuple[str, str]]:
    """One article per Wikipedia title, its paragraphs as sections; corpus id → (article id, anchor)."""
    articles: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for doc in corpus:
        article, paragraph = str(doc["_id"])[1:].split("_")
        articles[f"a{article}"].append((int(paragraph), doc))
    where = {}
    for aid, paragraphs in articles.items():
        paragraphs.sort(key=lambda x: x[0])
        title = paragraphs[0][1].get("title", "").replace("_", " ") or aid
        body = []
        for n, doc in paragraphs:
            body.append(f"## {n + 1}\n\n{doc['text']}\n")
            where[str(doc["_id"])] = (aid, str(n + 1))
        front = f"---\nid: {aid}\ntitle: {json.dumps(title, ensure_ascii=False)}\ncategory: eval\n---\n"
        (root / f"{aid}.md").write_text(front + "\n".join(body), encoding="utf-8")
    return where


def run(name: str, emb, settings) -> dict:
    corpus, _, _ = load_beir(DATA / CORPUS[name])
    _, queries, qrels = load_beir(DATA / name)
    with tempfile.TemporaryDirectory(prefix="kb-section-bench-") as tmp:
        (Path(tmp) / "articles").mkdir()
        where = write_sectioned(corpus, Path(tmp) / "articles")
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, emb, settings.chunk_tokens).run(Path(tmp) / "articles")
            retriever = Retriever(store, emb)
            calibrations = CalibrationCache(store, emb)
            background = calibrations.get().background
            drafter = Drafter(retriever, calibrations)
            own = Drafter(retriever, calibrations)
            own.sentences = _OwnCosine()  # type: ignore[assignment]
            asked = [(qid, text) for qid, text in queries.items() if any(d in where for d in qrels.get(qid, {}))]
            found = right = right_own = 0
            for (qid, text), vectors in zip(asked, retriever.vectors_many([t for _, t in asked])):
                aid, anchor = next(where[d] for d in qrels[qid] if d in where)
                hits = retriever.search(text, 10, vectors=vectors)
                if not any(h.id == aid for h in hits):
                    continue
                dense = np.asarray(vectors.dense, dtype=np.float32)
                _, sd = background.stats(dense, hits[0].locale)
                s = Searched(text, "latest customer message", 1.0, dense, hits, 0.0, vectors, None, sd)
                found += 1
                right += (drafter.answering_chunk(aid, s, [s]) or {}).get("anchor") == anchor
                right_own += (own.answering_chunk(aid, s, [s]) or {}).get("anchor") == anchor
            return {
                "questions": len(asked),
                "article found": found,
                "section right, own cosine": round(right_own / found, 3) if found else None,
                "section right, with best sentence": round(right / found, 3) if found else None,
            }
        finally:
            store.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(CORPUS))
    args = ap.parse_args(argv)
    settings = Settings()
    emb = load_embedder(settings)
    for name in args.sets:
        print(name, run(name, emb, settings))


if __name__ == "__main__":
    main()
