"""Search latency at 1k, 10k and 100k chunks, in-process and over HTTP, next to bare query embedding. Prints numbers.

    python benchmarks/search_bench.py [--sizes 1000,10000,100000] [--queries 200] [--clients 1,8]

For each size a synthetic KB is built from real text (../shared/data corpora, sentences recombined) with a
hashing embedder of the real model's width (embedding 100k chunks with the model would take hours and
says nothing about search cost); queries are then embedded by the real model, so every timing below
includes real query embedding. Per size it prints:
- bare query embedding p50/p95 (the model alone, same queries, same run);
- in-process SearchService.search p50/p95 (analysis, embedding, two store queries, fusion, snippets);
- over HTTP (uvicorn on 127.0.0.1, the real app) p50/p95 with 1 client, and requests/s with N concurrent clients;
- the shard is optimised after the build, as `kb index` does;
- the goal check: HTTP p95 <= 1.5 x bare embedding p95 + 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from index_bench import HashingEmbedder, synthetic_kb  # noqa: E402

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.retrieval import Retriever  # noqa: E402
from search.service import SearchService  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))]


def real_queries(n: int) -> list[str]:
    qs = []
    for name in ("stackfaq", "xquad_r_ru"):
        path = SHARED / name / "queries.jsonl"
        if path.exists():
            qs += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(7).shuffle(qs)
    return qs[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_run(port: int, queries: list[str], clients: int, seconds: float) -> tuple[list[float], float]:
    """Latencies (ms) and requests/s from `clients` threads, each looping over the queries, bounded in time."""
    import httpx

    lat: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    done = [0]

    def worker(offset: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            i = offset
            while time.monotonic() < stop:
                q = queries[i % len(queries)]
                t = time.perf_counter()
                r = c.get("/api/search", params={"q": q, "limit": 10})
                dt = (time.perf_counter() - t) * 1000
                r.raise_for_status()
                with lock:
                    lat.append(dt)
                    done[0] += 1
                i += clients

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, done[0] / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--seconds", type=float, default=15.0, help="per concurrent HTTP run")
    args = ap.parse_args()
    settings = Settings()
    emb = load_embedder(settings)
    queries = real_queries(args.queries)
    emb.embed_queries(queries[:8])  # warm up
    fake = HashingEmbedder(emb.name, emb.dim, emb.max_tokens)
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            root = Path(d) / "articles"
            synthetic_kb(root, max(1, size * 10 // 44))  # the generator makes ~4.4 chunks per article
            data = Path(d) / "data"
            store = EdgeStore(data / "shard")
            t = time.perf_counter()
            report = Indexer(store, fake, settings.chunk_tokens).run(root, optimize=True)  # as `kb index` does
            build = time.perf_counter() - t
            service = SearchService(store, Retriever(store, emb))
            bare, inproc = [], []
            for q in queries:
                t = time.perf_counter()
                emb.embed_queries([q])
                bare.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                service.search(q, log=False)
                inproc.append((time.perf_counter() - t) * 1000)
            store.close()
            print(
                f"{report.chunks:>7} chunks (built in {build:.0f}s): bare embedding p50 {pct(bare, 50):.1f} p95 "
                f"{pct(bare, 95):.1f} ms | in-process search p50 {pct(inproc, 50):.1f} p95 {pct(inproc, 95):.1f} ms"
            )
            port = free_port()
            env = {
                **os.environ,
                "KB_DATA_DIR": str(data),
                "KB_ARTICLES_DIR": str(root),
                "KB_PORT": str(port),
                "KB_ENV": "development",
            }
            server = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "serve", "--no-index"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                import httpx

                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.5)
                else:
                    raise SystemExit("the server did not become ready: " + server.stderr.read1(4000).decode())
                for clients in [int(c) for c in args.clients.split(",")]:
                    lat, rps = http_run(port, queries, clients, args.seconds)
                    goal = 1.5 * pct(bare, 95) + 10
                    print(
                        f"        HTTP {clients:>2} client(s): p50 {pct(lat, 50):.1f} p95 {pct(lat, 95):.1f} ms, "
                        f"{rps:.1f} req/s"
                        + (
                            f"  (goal p95 <= {goal:.1f} ms: {'met' if pct(lat, 95) <= goal else 'NOT met'})"
                            if clients == 1
                            else ""
                        )
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
        sys.stdout.flush()
    print(f"(median of bare embedding across all queries: {statistics.median(bare):.1f} ms)")


if __name__ == "__main__":
    main()
