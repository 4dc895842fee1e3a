"""torch vs ONNX Runtime fp32 vs int8, in one run: bare embedding, cosine to torch, and HTTP search under load.

    python benchmarks/backend_bench.py [--backends torch,onnx,onnx-int8] [--seconds 12] [--concurrency 1,8,32]
                                       [--passages 96] [--rounds 3] [--json]

1. Servers: for each backend, the shipped articles are copied and indexed with that backend and `kb serve --no-index`
   starts on loopback (load_bench.Server). They sit idle until part 4.
2. Query embedding, bare: one thread per call, as in the server; the ~200 load_bench queries one at a time, the
   backends taking turns query by query so that other load on the machine falls on all of them alike.
3. Passages/s, bare: every core, as `kb index` runs; the first --passages chunk texts of the shipped articles,
   embedded in one call per backend, backends in turn, --rounds times (best round counts). Cosine of each backend's
   vectors to torch's, queries and passages.
4. HTTP: GET /api/search at each concurrency (wrk when installed, else httpx), the backends in turn at each level.

Ends with the issue's two goals: ONNX req/s at 8 clients over torch's, and ONNX's whole HTTP search p95 at one client
against torch's bare query-embedding p95 of the same run. Run it on a quiet machine; say when it was not.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import httpx
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load_bench import Server, httpx_load, pct, queries, search_paths, wrk_load  # noqa: E402

from kb.articles import load_articles  # noqa: E402
from kb.chunks import chunk_article  # noqa: E402
from kb.embedder import load_embedder  # noqa: E402
from kb.embedding.onnx_backend import usable_cores  # noqa: E402
from kb.indexer import title_chunk  # noqa: E402
from kb.settings import Settings  # noqa: E402


def say(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


def passages(n: int, emb) -> list[str]:
    """The first n texts `kb index` embeds for the shipped articles (chunks and title points)."""
    texts: list[str] = []
    for a in load_articles(ROOT / "articles").articles:
        chunks = chunk_article(a, min(Settings().chunk_tokens, emb.max_tokens), emb.count_tokens)
        texts += [c.embed_text for c in [title_chunk(a, chunks)] + chunks]
        if len(texts) >= n:
            break
    return texts[:n]


def bare_queries(embs: dict, qs: list[str]) -> dict:
    times: dict[str, list[float]] = {b: [] for b in embs}
    for e in embs.values():  # warm-up: first calls allocate arenas
        e.embed_queries(qs[:5])
    for q in qs:
        for b, e in embs.items():
            t = time.perf_counter()
            e.embed_queries([q])
            times[b].append((time.perf_counter() - t) * 1000)
    return {b: {"p50_ms": round(pct(v, 50), 1), "p95_ms": round(pct(v, 95), 1)} for b, v in times.items()}


def bare_passages(embs: dict, texts: list[str], rounds: int) -> tuple[dict, dict]:
    best: dict[str, float] = {b: 0.0 for b in embs}
    vectors = {}
    for _ in range(rounds):
        for b, e in embs.items():
            t = time.perf_counter()
            vectors[b] = e.embed_passages(texts)
            best[b] = max(best[b], len(texts) / (time.perf_counter() - t))
    return {b: round(v, 1) for b, v in best.items()}, vectors


def cosines(a: np.ndarray, b: np.ndarray) -> dict:
    c = np.sum(a * b, axis=1)
    return {"min": round(float(c.min()), 4), "mean": round(float(c.mean()), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    ap.add_argument("--seconds", type=float, default=12.0, help="HTTP window per backend and concurrency")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--passages", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    qs = queries()
    client = "wrk" if shutil.which("wrk") else "httpx"

    servers: dict[str, Server] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))  # runs atexit: the servers go too
    for b in backends:
        say(f"{b}: indexing the shipped articles and starting kb serve ...")
        servers[b] = Server(ROOT / "articles", None, backend=b)
        atexit.register(servers[b].stop)
        servers[b].start()

    say("bare query embedding, one thread per call ...")
    single = {b: load_embedder(Settings(embed_backend=b, embed_threads=1)) for b in backends}
    query_ms = bare_queries(single, qs)
    query_vecs = {b: e.embed_queries(qs) for b, e in single.items()}
    del single
    say("passages/s, every core ...")
    batch = {b: load_embedder(Settings(embed_backend=b, embed_threads=usable_cores())) for b in backends}
    texts = passages(args.passages, next(iter(batch.values())))
    per_s, passage_vecs = bare_passages(batch, texts, args.rounds)
    del batch
    ref = backends[0]
    agreement = {
        b: {"queries": cosines(query_vecs[b], query_vecs[ref]), "passages": cosines(passage_vecs[b], passage_vecs[ref])}
        for b in backends
    }

    http: dict[str, dict[int, dict]] = {b: {} for b in backends}
    for server in servers.values():
        with httpx.Client(base_url=server.url, timeout=120) as c:
            for p in search_paths(qs)[:20]:
                c.get(p)
    for conc in levels:
        for b, server in servers.items():
            say(f"HTTP {b}, {conc} clients, {args.seconds:g} s ...")
            paths = search_paths(qs)
            http[b][conc] = (
                wrk_load(server.url, paths, conc, args.seconds, server.tmp)
                if client == "wrk"
                else httpx_load(server.url, paths, conc, args.seconds)
            )

    result = {
        "cores": usable_cores(),
        "client": client,
        "queries": len(qs),
        "passages": len(texts),
        "loadavg_at_end": os.getloadavg(),
        "query_ms": query_ms,
        "passages_per_s": per_s,
        "cosine_to": ref,
        "agreement": agreement,
        "http": {b: {str(c): r for c, r in v.items()} for b, v in http.items()},
    }
    if "torch" in backends and "onnx" in backends and 8 in levels and 1 in levels:
        result["goals"] = {
            "rps_at_8_onnx_over_torch": round(http["onnx"][8]["rps"] / http["torch"][8]["rps"], 2),
            "onnx_http_p95_at_1_ms": http["onnx"][1]["p95_ms"],
            "torch_bare_query_p95_ms": query_ms["torch"]["p95_ms"],
        }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    head = "".join(f"{'req/s@' + str(c):>10}{'p95@' + str(c):>9}" for c in levels)
    print(f"{'backend':<11}{'query p50':>10}{'p95 ms':>8}{'passages/s':>11}{'cos q min':>10}{'cos p min':>10}{head}")
    for b in backends:
        cells = "".join(f"{http[b][c]['rps']:>10.1f}{http[b][c]['p95_ms']:>9.1f}" for c in levels)
        print(
            f"{b:<11}{query_ms[b]['p50_ms']:>10.1f}{query_ms[b]['p95_ms']:>8.1f}{per_s[b]:>11.1f}"
            f"{agreement[b]['queries']['min']:>10.4f}{agreement[b]['passages']['min']:>10.4f}{cells}"
        )
    if "goals" in result:
        g = result["goals"]
        print(f"goal 1: HTTP req/s at 8 clients, onnx / torch = {g['rps_at_8_onnx_over_torch']:.2f} (goal >= 1.5)")
        print(
            f"goal 2: onnx HTTP search p95 at 1 client {g['onnx_http_p95_at_1_ms']:.1f} ms vs torch bare query "
            f"embedding p95 {g['torch_bare_query_p95_ms']:.1f} ms (goal <=)"
        )
    print(
        f"({result['cores']} cores, client {client}, {len(qs)} queries, {len(texts)} passages, cosine to {ref}, "
        f"load average at end {result['loadavg_at_end'][0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
