"""Which features separate answerable from unanswerable searches: the label-fitted ceiling of each feature set.

The protocol of `kb eval SET --answered` (a seeded 30% of documents removed, 400 sampled queries). For every
search the current features and candidate new ones are computed; then, per feature set, a logistic model is
fitted ON THE LABELS (an upper bound of what any KB-fitted model over those features can reach) and the share of
answerable searches answered is read where 15% of unanswerable ones are. Both in-sample and 5-fold
cross-validated. Never used to pick a shipped constant: only to decide which features are worth shipping.

    .venv/bin/python benchmarks/answered_features.py ../shared/data/stackfaq ../shared/data/xquad_r_ru \
        ../shared/data/xquad_r_en_ru [--seed 0] [--cache /tmp/kb-answered-study]

The shard, query vectors and token states are cached under --cache, so a rerun only refits.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from app.runtime import open_runtime
from kb import analysis
from kb.analysis.stopwords import EN_STOP, stop_sets
from kb.chunks import header
from kb.indexer import Indexer
from kb.settings import Settings
from kb.store import SearchFilter
from kb.store.base import TITLE_INDEX
from kb.store.edge import EdgeStore
from search.answered import evidence
from search.background import Background
from search.calibration import _read_kb
from search.evaluation import load_beir, write_articles
from search.retrieval import Retriever, group_by_article
from search.service import SearchService
from search.spelling import SpellCorrector

TOP_LI = 3  # articles whose best chunk gets the late-interaction score
RANDOM_CHUNKS = 24  # chunks the late-interaction score is normalised against


def protocol(dataset: Path, seed: int) -> tuple[list[dict], set[str], list[tuple[str, bool]]]:
    """Exactly what search.evaluation.evaluate_answered keeps and asks."""
    corpus, queries, qrels = load_beir(dataset)
    rng = random.Random(seed)
    removed = set(rng.sample([str(d["_id"]) for d in corpus], int(0.3 * len(corpus))))
    kept = [d for d in corpus if str(d["_id"]) not in removed]
    judged = sorted(q for q in queries if q in qrels)
    sample = rng.sample(judged, min(400, len(judged)))
    return kept, removed, [(queries[q], bool(qrels[q] - removed)) for q in sample]


def open_shard(kept: list[dict], folder: Path, embedder, chunk_tokens: int) -> EdgeStore:
    done = folder / "indexed.ok"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            write_articles(kept, Path(tmp))
            store = EdgeStore(folder / "shard")
            report = Indexer(store, embedder, chunk_tokens).run(Path(tmp))
            if report.errors:
                raise SystemExit(f"{folder}: {report.errors[0]}")
            done.write_text("ok")
            return store
    return EdgeStore(folder / "shard")


class TokenStates:
    """e5's last hidden states, one L2-normalised vector per token (prompt and special tokens dropped)."""

    def __init__(self, embedder, cache: Path):
        self.e, self.path = embedder, cache
        self.memo: dict[str, np.ndarray] = {}
        if cache.exists():
            with np.load(cache, allow_pickle=False) as z:
                self.memo = {k: z[k] for k in z.files}
        self.dirty = False

    def get(self, text: str, prompt: str) -> np.ndarray:
        key = f"{prompt}{len(text)}:{hash_text(text)}"
        if key not in self.memo:
            tok = self.e._tokenizer
            enc = tok.encode(prompt + text, add_special_tokens=True)
            n_prompt = len(tok.encode(prompt, add_special_tokens=False).ids)
            ids = np.array([enc.ids], dtype=np.int64)
            hidden = self.e._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
            # No <s>, prompt, </s>. The prompt's own encoding ends in a lone "▁" the text does not have, so this
            # also drops the text's first token: the table in docs/answered.md was measured so.
            h = hidden[1 + n_prompt : -1].astype(np.float32)
            h /= np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-9)
            self.memo[key] = h.astype(np.float16)
            self.dirty = True
        return self.memo[key].astype(np.float32)

    def save(self) -> None:
        if self.dirty:
            np.savez(self.path, **self.memo)


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def chunk_text(p: dict) -> str:
    return header(p.get("title", ""), p.get("heading_path") or []) + "\n" + (p.get("text") or "")


def maxsim(q: np.ndarray, d: np.ndarray) -> float:
    return float((q @ d.T).max(axis=1).mean()) if len(q) and len(d) else 0.0


def strip_question(text: str, lang: str) -> str:
    """The query without its function words (how, what, do, I, ...)."""
    words, lemmas = stop_sets(lang) if lang in ("ru", "uk") else (EN_STOP, frozenset())
    extra = {"how", "what", "why", "when", "where", "which", "who", "do", "does", "did", "can", "i", "my", "you"}
    kept = [w for w in text.split() if analysis.normalize(w).strip("?,.!") not in (words | lemmas | extra)]
    return " ".join(kept) or text


def features(dataset: Path, seed: int, cache: Path, embedder, chunk_tokens: int) -> tuple[list[dict], list[int]]:
    kept, _removed, asked = protocol(dataset, seed)
    folder = cache / f"{dataset.name}-s{seed}"
    store = open_shard(kept, folder, embedder, chunk_tokens)
    try:
        arts, vectors = _read_kb(store)
        bg = Background.build(vectors, (a.terms for a in arts.values()), seed=0)
        retriever = Retriever(store, embedder)
        service = SearchService(store, retriever, speller=SpellCorrector.from_store(store), calibrate=False)
        vec_file = folder / "queries.npz"
        memo: dict[str, np.ndarray] = {}
        if vec_file.exists():
            with np.load(vec_file, allow_pickle=False) as z:
                memo = {k: z[k] for k in z.files}
        tokens = TokenStates(embedder, folder / "tokens.npz")

        def vec(text: str, passage: bool = False) -> np.ndarray:
            key = ("p:" if passage else "q:") + hash_text(text)
            if key not in memo:
                f = embedder.embed_passages if passage else embedder.embed_queries
                memo[key] = f([text])[0]
            return memo[key]

        # The late-interaction background: a fixed random set of the KB's chunks.
        recs = [
            r
            for r in store.scan_vectors(
                SearchFilter(visibilities=["public"]), ["chunk_index", "title", "heading_path", "text"]
            )
            if r.payload.get("chunk_index") != TITLE_INDEX
        ]
        rnd = random.Random(1).sample(recs, min(RANDOM_CHUNKS, len(recs)))
        rnd_tokens = [tokens.get(chunk_text(r.payload), embedder.passage_prompt) for r in rnd]
        flt = SearchFilter(visibilities=["public"], types=["article"])
        rows, labels = [], []
        for n, (text, answerable) in enumerate(asked):
            q = service.analyse(text)
            v = vec(q.text)
            qv = retriever.query_vectors(q, v)
            hits = retriever.search(q.text, 20, query_lang=q.lang, vectors=qv)
            ev = evidence(q, v, hits, bg)
            if ev is None:
                continue
            top = hits[0]
            mean, sd = bg.stats(v, top.locale)

            def z(c: float | None, m: float = mean, s: float = sd) -> float:
                return (c - m) / s if c is not None else -3.0

            dense = group_by_article(store.query(qv, flt, 100, mode="dense"), 20)
            sparse = group_by_article(store.query(qv, flt, 100, mode="sparse"), 20) if qv.sparse else []
            dz = [z(h.dense_score) for h in dense[:5]]
            dz += [dz[-1] if dz else -3.0] * (5 - len(dz))
            body = [c for c, p in top.passages if p.get("chunk_index") != TITLE_INDEX]
            title = [c for c, p in top.passages if p.get("chunk_index") == TITLE_INDEX]
            sparse_ids = [h.id for h in sparse]
            # Rank stability: the query embedded as a passage, and without its question words.
            vp = vec(q.text, passage=True)
            mp, sp = bg.stats(vp, top.locale)
            dp = group_by_article(store.query(type(qv)(vp.tolist(), None), flt, 100, mode="dense"), 5)
            stripped = strip_question(q.text, q.lang)
            vs = vec(stripped)
            ds = group_by_article(store.query(type(qv)(vs.tolist(), None), flt, 100, mode="dense"), 5)
            # Late interaction over the best chunk of each of the first TOP_LI articles.
            qt = tokens.get(q.text, embedder.query_prompt)
            rnd_ms = np.array([maxsim(qt, d) for d in rnd_tokens])
            li = []
            for h in hits[:TOP_LI]:
                best = next((p for _, p in h.passages if p.get("chunk_index") != TITLE_INDEX), None)
                li.append(maxsim(qt, tokens.get(chunk_text(best), embedder.passage_prompt)) if best else 0.0)
            li_z = [(x - rnd_ms.mean()) / max(rnd_ms.std(), 1e-6) for x in li]
            rows.append(
                {
                    "z_top": ev.z_top,
                    "z_gap": ev.z_gap,
                    "coverage": ev.coverage,
                    "cross": float(ev.cross),
                    # passage-level evidence
                    "z_body": z(max(body) if body else None),
                    "title_minus_body": (max(title) - max(body)) / sd if title and body else 0.0,
                    "z_body2": z(sorted(body)[-2] if len(body) > 1 else None),
                    # agreement of the sides
                    "dense_agree": float(bool(dense) and dense[0].id == top.id),
                    "sparse_agree": float(bool(sparse) and sparse[0].id == top.id),
                    "sparse_rank": 1.0 / (1 + sparse_ids.index(top.id)) if top.id in sparse_ids else 0.0,
                    "sparse_share": (top.sparse_score or 0.0) / sparse[0].sparse_score
                    if sparse and sparse[0].sparse_score
                    else 0.0,
                    # rank stability
                    "stable_passage": float(bool(dp) and dp[0].id == top.id),
                    "z_top_passage": (dp[0].dense_score - mp) / sp if dp else -3.0,
                    "stable_stripped": float(bool(ds) and ds[0].id == top.id),
                    # specificity
                    "bg_mean": mean,
                    "bg_sd": sd,
                    "centroid": float(v @ bg.pooled.mean),
                    # curve shape
                    "slope5": float(np.polyfit(np.arange(5), dz, 1)[0]),
                    "z2": dz[1],
                    "z5": dz[4],
                    # late interaction
                    "li_top": li_z[0],
                    "li_gap": li_z[0] - max(li_z[1:], default=li_z[0]),
                    "li_raw": li[0],
                    "li_centred": li[0] - float(rnd_ms.mean()),
                    "li_gap_raw": li[0] - max(li[1:], default=li[0]),
                }
            )
            labels.append(int(answerable))
            if n % 50 == 0:
                print(f"  {dataset.name}: {n}/{len(asked)}", file=sys.stderr, flush=True)
        np.savez(vec_file, **memo)
        tokens.save()
        return rows, labels
    finally:
        store.close()


FEATURE_SETS = {
    "today (z_top, z_gap, coverage)": ["z_top", "z_gap", "coverage"],
    "+ passage (z_body, title-body, z_body2)": ["z_top", "z_gap", "coverage", "z_body", "title_minus_body", "z_body2"],
    "+ side agreement": ["z_top", "z_gap", "coverage", "dense_agree", "sparse_agree", "sparse_rank", "sparse_share"],
    "+ rank stability": ["z_top", "z_gap", "coverage", "stable_passage", "z_top_passage", "stable_stripped"],
    "+ specificity (bg mean, sd, centroid)": ["z_top", "z_gap", "coverage", "bg_mean", "bg_sd", "centroid"],
    "+ curve (slope5, z2, z5)": ["z_top", "z_gap", "coverage", "slope5", "z2", "z5"],
    "+ late interaction (li_top, li_gap)": ["z_top", "z_gap", "coverage", "li_top", "li_gap"],
    "+ late interaction raw": ["z_top", "z_gap", "coverage", "li_raw"],
    "+ late interaction centred": ["z_top", "z_gap", "coverage", "li_centred"],
    "+ late interaction raw, raw gap": ["z_top", "z_gap", "coverage", "li_raw", "li_gap_raw"],
    "late interaction raw alone": ["li_raw"],
    "+ li_raw + specificity": ["z_top", "z_gap", "coverage", "li_raw", "bg_mean", "bg_sd", "centroid"],
    "+ li_raw + passage": ["z_top", "z_gap", "coverage", "li_raw", "z_body", "title_minus_body", "z_body2"],
    "+ li_raw + bg_mean": ["z_top", "z_gap", "coverage", "li_raw", "bg_mean"],
    "+ li_raw + li_centred": ["z_top", "z_gap", "coverage", "li_raw", "li_centred"],
}


def ceiling(x: np.ndarray, y: np.ndarray, folds: int = 5, at: float = 0.15) -> tuple[float, float, float]:
    """Answerable share answered at `at` of unanswerable answered: in-sample, cross-validated; and CV AUC."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))

    def rate(s: np.ndarray) -> float:
        t = np.quantile(s[y == 0], 1 - at)
        return float((s[y == 1] > t).mean())

    inside = model().fit(x, y).decision_function(x)
    cv = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        cv[test] = model().fit(x[train], y[train]).decision_function(x[test])
    return rate(inside), rate(cv), float(roc_auc_score(y, cv))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kb-answered-study"))
    ap.add_argument("--json", type=Path, help="also write every search's features here")
    args = ap.parse_args()
    settings = Settings()
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    dump = {}
    with open_runtime(settings) as rt:
        for ds in args.datasets:
            rows, labels = features(ds, args.seed, args.cache, rt.embedder, settings.chunk_tokens)
            dump[ds.name] = {"rows": rows, "labels": labels}
            y = np.array(labels)
            results[ds.name] = {
                name: ceiling(np.array([[r[f] for f in cols] for r in rows]), y) for name, cols in FEATURE_SETS.items()
            }
            all_cols = sorted({c for cols in FEATURE_SETS.values() for c in cols})
            results[ds.name]["all of them"] = ceiling(np.array([[r[f] for f in all_cols] for r in rows]), y)
    if args.json:
        args.json.write_text(json.dumps(dump))
    names = list(results[args.datasets[0].name])
    sets = [d.name for d in args.datasets]
    print("answerable answered at 15% of unanswerable answered, label-fitted: in-sample / 5-fold CV (CV AUC)")
    print("| features | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    for name in names:
        cells = [f"{results[s][name][0]:.3f} / {results[s][name][1]:.3f} ({results[s][name][2]:.3f})" for s in sets]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
