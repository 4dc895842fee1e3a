"""Gap-detection variants on CLINC150, on cached vectors: what reports/ uses and what it was measured against.

    python benchmarks/gap_variants.py [--data ../shared/data/clinc150] [--cache /tmp/gapcache] [--seeds 5]

A fast stand-in for `kb eval-gaps`: the same articles and test stream and the report's own evidence and
clustering code, on vectors embedded once and cached; per held-out draw it prints the unanswered-F1 of each
detector (at the label-best threshold, a ceiling, and at the KB-fitted one) and the clustering scores. What it
measured, and the variants tried and dropped: docs/gap-variants.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports.evidence import ArticleInfo, KnowledgeEvidence  # noqa: E402
from reports.gap_eval import SEED, intent_title, split_intents  # noqa: E402
from reports.topics import cluster_labels  # noqa: E402


def embed_cached(cache: Path, name: str, texts: list[str], fn) -> np.ndarray:
    path = cache / f"{name}.npy"
    if path.exists():
        return np.load(path)
    v = fn(texts)
    np.save(path, v)
    return v


def prf(flag: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = float((flag & truth).sum())
    p, r = tp / max(flag.sum(), 1), tp / max(truth.sum(), 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def ceiling(score: np.ndarray, truth: np.ndarray) -> float:
    return max(prf(score < t, truth)[2] for t in np.quantile(score, np.linspace(0.01, 0.99, 300)))


def clustering(y: list[str], labels: np.ndarray) -> tuple[float, float, float]:
    from sklearn.metrics import adjusted_rand_score, v_measure_score
    from sklearn.metrics.cluster import contingency_matrix

    m = contingency_matrix(y, labels)
    return v_measure_score(y, labels), adjusted_rand_score(y, labels), m.max(axis=0).sum() / m.sum()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "clinc150")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/gapcache/bench"))
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    data = json.loads((args.data / "data_full.json").read_text(encoding="utf-8"))
    by: dict[str, list[str]] = {}
    for t, i in data["train"]:
        by.setdefault(i, []).append(t)
    intents = sorted(by)
    stream = [(t, i) for t, i in data["test"]] + [(t, None) for t, _ in data["oos_test"][:1000]]
    lazy: dict = {}

    def model():
        if "e" not in lazy:
            from kb.embedder import load_embedder
            from kb.settings import Settings

            lazy["e"] = load_embedder(Settings())
        return lazy["e"]

    titles = [intent_title(i) for i in intents]
    units = [(k, u) for k, i in enumerate(intents) for u in [titles[k]] + by[i][:8]]
    uq = embed_cached(args.cache, "units_q", [u for _, u in units], lambda x: model().embed_queries(x))
    art = embed_cached(
        args.cache,
        "articles_p",
        [titles[k] + "\n" + "\n".join(f"- {u}" for u in by[i][:8]) for k, i in enumerate(intents)],
        lambda x: model().embed_passages(x),
    )
    qv = embed_cached(args.cache, "stream_q", [t for t, _ in stream], lambda x: model().embed_queries(x))
    owner = np.array([k for k, _ in units])
    rows = []
    for s in range(args.seeds):
        seed = SEED + s
        held = split_intents(intents, seed)
        keep = np.array([i not in held for i in intents])
        truth = np.array([i is None or i in held for _, i in stream])
        ku = keep[owner]
        kept = np.flatnonzero(keep)
        ev = KnowledgeEvidence(
            [ArticleInfo(intents[k], titles[k], intents[k]) for k in kept],
            [u for (_, u), ok in zip(units, ku) if ok],
            np.searchsorted(kept, owner[ku]),
            uq[ku],
        )
        space = ev.fit_space(qv)
        cal = space.calibrate_threshold()
        Q = space.centred(qv)
        sims = space.similarities(Q)
        best = sims.max(1)
        flag = best < cal.threshold
        cal = space.calibrate_cluster_distance(cal, Q[~flag], sims.argmax(1)[~flag])
        idx = np.flatnonzero(flag)
        labels = cluster_labels(Q[idx], np.ones(len(idx)), cal.cluster_distance, 8000, 0)
        hm = [k for k, j in enumerate(idx) if stream[j][1] in held]
        y = [stream[idx[k]][1] for k in hm]
        v, ari, pur = clustering(y, labels[hm])
        best_cut = max(
            (
                clustering(y, cluster_labels(Q[idx], np.ones(len(idx)), d, 8000, 0)[hm]) + (d,)
                for d in np.arange(0.6, 0.86, 0.05)
            ),
            key=lambda r: r[0],
        )
        r = {
            "seed": seed,
            "article": ceiling((qv @ art[keep].T).max(1), truth),
            "unit-max": ceiling((qv @ uq[ku].T).max(1), truth),
            "centred": ceiling(best, truth),
            "centred@loo": prf(flag, truth)[2],
            "P": prf(flag, truth)[0],
            "R": prf(flag, truth)[1],
            "threshold": cal.threshold,
            "cut": cal.cluster_distance,
            "V": v,
            "ARI": ari,
            "purity": pur,
            "V@best-cut": best_cut[0],
            "best-cut": best_cut[3],
        }
        rows.append(r)
        print("  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()), flush=True)
    print("mean  " + "  ".join(f"{k} {np.mean([r[k] for r in rows]):.3f}" for k in rows[0] if k != "seed"))


if __name__ == "__main__":
    main()
