"""Fits the `answered` decision (search/answered.py) on labelled searches and writes answered_model.json.

    python benchmarks/calibrate_answered.py [--data ../shared/data] [--out search/answered_model.json]

Labelled searches, each run through the product's own hybrid search:
- clinc150: 20% of intents held out (seeded); one article per kept intent from its first 8 training
  utterances; validation utterances of kept intents are answered when their intent's article is in the top 3,
  held-out intents and out-of-scope utterances are unanswered.
- stackfaq, xquad_r_ru: half the queries (seeded) search with their relevant documents removed, so they are
  unanswered; the others are answered when a relevant document is in the top 3.
Each set weighs the same in the fit, so no single set decides the threshold. Prints precision/recall of
the unanswered class per set, for the fitted model and for the best single cosine threshold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.answered import FEATURES, features  # noqa: E402
from search.evaluation import load_beir, write_articles  # noqa: E402
from search.retrieval import Retriever  # noqa: E402

TOP = 3


def clinc_articles(data: dict, root: Path, held_out: set[str]) -> None:
    by_intent: dict[str, list[str]] = {}
    for text, intent in data["train"]:
        by_intent.setdefault(intent, []).append(text)
    for intent, texts in by_intent.items():
        if intent in held_out:
            continue
        title = intent.replace("_", " ").capitalize()
        body = "\n".join(f"- {t}" for t in texts[:8])
        (root / f"{intent.replace('_', '-')}.md").write_text(
            f"---\nid: {json.dumps(intent.replace('_', '-'))}\ntitle: {json.dumps(title)}\nlocale: en\ncategory: eval\n---\n{body}\n",
            encoding="utf-8")


def run_clinc(path: Path, embedder, settings, rng) -> list[tuple[dict, int]]:
    data = json.loads((path / "data_full.json").read_text(encoding="utf-8"))
    intents = sorted({i for _, i in data["train"]})
    held_out = set(rng.sample(intents, len(intents) // 5))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        arts = Path(tmp) / "articles"
        arts.mkdir()
        clinc_articles(data, arts, held_out)
        store = EdgeStore(Path(tmp) / "shard")
        Indexer(store, embedder, settings.chunk_tokens).run(arts)
        retriever = Retriever(store, embedder)
        queries = [(t, i) for t, i in data["val"]] + [(t, None) for t, _ in data["oos_val"]]
        for text, intent in queries:
            hits = retriever.search(text, 10)
            ok = intent is not None and intent not in held_out and intent.replace("_", "-") in [h.id for h in hits[:TOP]]
            rows.append((features(text, hits), int(ok)))
        store.close()
    return rows


def run_beir(path: Path, embedder, settings, rng) -> list[tuple[dict, int]]:
    corpus, queries, qrels = load_beir(path)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        arts = Path(tmp) / "articles"
        arts.mkdir()
        id_map = write_articles(corpus, arts)
        back = {v: k for k, v in id_map.items()}
        store = EdgeStore(Path(tmp) / "shard")
        Indexer(store, embedder, settings.chunk_tokens).run(arts)
        retriever = Retriever(store, embedder)
        for qid, text in queries.items():
            if qid not in qrels:
                continue
            gold = {back[d] for d in qrels[qid] if d in back}
            remove = rng.random() < 0.5
            hits = retriever.search(text, 10, exclude=sorted(gold) if remove else ())
            ok = not remove and bool(gold & {h.id for h in hits[:TOP]})
            rows.append((features(text, hits), int(ok)))
        store.close()
    return rows


def pr_unanswered(pred_answered: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    flagged, truth = ~pred_answered, y == 0
    tp = float((flagged & truth).sum())
    p = tp / max(flagged.sum(), 1)
    r = tp / max(truth.sum(), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "search" / "answered_model.json")
    args = ap.parse_args()
    settings = Settings()
    embedder = load_embedder(settings)
    rng = random.Random(20261123)
    sets = {
        "clinc150": run_clinc(args.data / "clinc150", embedder, settings, rng),
        "stackfaq": run_beir(args.data / "stackfaq", embedder, settings, rng),
        "xquad_r_ru": run_beir(args.data / "xquad_r_ru", embedder, settings, rng),
    }
    X = np.array([[f[n] for n in FEATURES] for rows in sets.values() for f, _ in rows])
    y = np.array([label for rows in sets.values() for _, label in rows])
    w = np.concatenate([np.full(len(rows), 1.0 / len(rows)) for rows in sets.values()])
    clf = LogisticRegression(C=10.0, max_iter=1000).fit(X, y, sample_weight=w * len(y))
    prob = clf.predict_proba(X)[:, 1]
    # The threshold that maximises the mean F1 of the unanswered class across the sets.
    best_t, best = 0.5, -1.0
    offsets = np.cumsum([0] + [len(r) for r in sets.values()])
    for t in np.linspace(0.05, 0.95, 91):
        f1s = [pr_unanswered(prob[a:b] >= t, y[a:b])[2] for a, b in zip(offsets[:-1], offsets[1:])]
        if np.mean(f1s) > best:
            best_t, best = float(t), float(np.mean(f1s))
    report = {}
    for (name, rows), a, b in zip(sets.items(), offsets[:-1], offsets[1:]):
        p, r, f = pr_unanswered(prob[a:b] >= best_t, y[a:b])
        report[name] = {"searches": len(rows), "unanswered_share": round(float((y[a:b] == 0).mean()), 3),
                        "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}
        # For comparison: the best single cosine threshold on this set alone (what a by-eye constant tries to be).
        dense = X[a:b, 0]
        cos_best = max(pr_unanswered(dense >= t, y[a:b])[2] for t in np.linspace(0.7, 0.95, 101))
        print(f"{name:<12} searches {len(rows):5}  unanswered {report[name]['unanswered_share']:.2f}  "
              f"model P/R/F1 {p:.3f}/{r:.3f}/{f:.3f}   best cosine-only F1 on this set {cos_best:.3f}")
    out = {"model": embedder.name, "features": list(FEATURES), "weights": [round(float(v), 6) for v in clf.coef_[0]],
           "bias": round(float(clf.intercept_[0]), 6), "threshold": round(best_t, 3),
           "fitted": dt.date.today().isoformat(), "top_k_for_answered": TOP, "sets": report}
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"threshold {best_t:.2f}; wrote {args.out}")


if __name__ == "__main__":
    main()
