"""Load on a real `kb serve`: GET /api/search at several concurrencies, steady and with re-indexes running.

    python benchmarks/load_bench.py [--seconds 15] [--concurrency 1,8,32] [--client auto|httpx|wrk] [--backend B]
                                    [--json]

Copies the articles folder (default: the shipped `articles/`) to a temporary folder, runs `kb index` there
(default model: the e5 one, as shipped), creates an admin API token, and starts `kb serve --no-index` on
loopback with the search rate limit raised out of the way. Then for each concurrency it measures, over --seconds:

- steady: requests/s, p50/p95/p99 latency in ms and errors, searching a rotation of ~200 real queries (help-center
  questions in en/ru/uk written for these articles, and the first stackfaq and xquad_r_ru queries from
  ../shared/data), limit 10;
- reindex: the same while a loop keeps re-indexing in place: it appends a line to 10 articles and calls
  POST /api/admin/reindex, again and again until the window ends; it reports how many re-indexes completed
  in the window and how long they took.

Clients: `wrk` (with a Lua script rotating the queries) when it is installed (`apt-get install wrk`), else an
asyncio httpx client in this process. Run it on a quiet machine: client and server share the CPU.
The server is killed when the benchmark ends, however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PER_DATASET = 70  # first queries taken from each shared dataset
REINDEX_ARTICLES = 10
START_TIMEOUT = 900  # seconds for `kb serve --no-index` to load the model and answer /healthz

# Questions customers of this help center ask: the articles' topics, worded as people type them.
HELP_QUERIES = {
    "en": [
        "how do I reset my password",
        "forgot password",
        "can't log in",
        "two-factor authentication lost phone",
        "enable 2fa",
        "change my email address",
        "delete my account",
        "export workspace data to csv",
        "transfer workspace ownership",
        "set up sso with okta",
        "scim provisioning azure ad",
        "invite teammates",
        "remove a member from the workspace",
        "change billing plan",
        "download invoice",
        "refund request",
        "update credit card",
        "cancel subscription",
        "vat number on invoice",
        "mobile app notifications not working",
        "sync is not working on iphone",
        "offline mode android",
        "import tasks from trello",
        "import from jira",
        "api rate limit",
        "create an api token",
        "webhooks not firing",
        "slack integration",
        "google calendar sync",
        "recurring tasks",
        "time tracking report",
        "custom fields",
        "archive a project",
        "restore deleted project",
        "guest access permissions",
        "dark mode",
        "keyboard shortcuts",
        "storage limit attachments",
        "change language of the interface",
        "data retention policy gdpr",
    ],
    "ru": [
        "как сбросить пароль",
        "забыл пароль",
        "не могу войти в аккаунт",
        "потерял телефон с двухфакторной",
        "как включить двухфакторную аутентификацию",
        "сменить адрес почты",
        "удалить аккаунт",
        "экспорт данных в csv",
        "передать права владельца",
        "настроить sso",
        "скачать счет",
        "вернуть деньги за подписку",
        "поменять тариф",
        "отменить подписку",
        "не приходят уведомления в приложении",
        "импорт задач из trello",
        "интеграция со slack",
        "повторяющиеся задачи",
        "отчет по учету времени",
        "восстановить удаленный проект",
        "гостевой доступ",
        "лимит хранилища",
        "ghjkm pf,sk",
    ],
    "uk": [
        "як скинути пароль",
        "забув пароль",
        "не можу увійти",
        "двофакторна автентифікація",
        "змінити електронну пошту",
        "видалити обліковий запис",
        "експорт даних",
        "завантажити рахунок",
        "скасувати підписку",
        "повернення коштів",
        "сповіщення не працюють",
        "імпорт задач",
        "відновити проєкт",
        "запросити колег",
    ],
}


def queries() -> list[str]:
    """~200 queries: the help-center questions, then the first of each shared dataset, shuffled once."""
    qs = [q for lang in HELP_QUERIES.values() for q in lang]
    for name in ("stackfaq", "xquad_r_ru"):
        path = SHARED / name / "queries.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as f:
                for n, line in enumerate(f):
                    if n >= PER_DATASET:
                        break
                    text = " ".join(json.loads(line)["text"].split())[:500]
                    if text:
                        qs.append(text)
    random.Random(7).shuffle(qs)
    return qs


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server ----------------------------------------------------------------------------------------------------


class Server:
    """A temporary knowledge base: articles copied, indexed, an admin token, `kb serve --no-index` started."""

    def __init__(self, articles: Path, model: str | None, keep: bool = False, backend: str | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="kb-load-"))
        self.keep = keep
        self.articles = self.tmp / "articles"
        shutil.copytree(articles, self.articles)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
        self.env.update(
            KB_ARTICLES_DIR=str(self.articles),
            KB_DATA_DIR=str(self.tmp / "data"),
            KB_RATE_LIMIT_SEARCH="1000000",
            KB_RATE_LIMIT_FEEDBACK="1000000",
            KB_PORT=str(self.port),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )
        if model:
            self.env["KB_MODEL"] = model
        if backend:
            self.env["KB_EMBED_BACKEND"] = backend
        self.proc: subprocess.Popen | None = None
        self.token = ""
        self.index_report: dict = {}

    def _kb(self, *args: str, stdin: str | None = None, timeout: float = 3600) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=self.env,
            cwd=self.tmp,
            input=stdin,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if r.returncode != 0:
            raise RuntimeError(f"kb {' '.join(args)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        return r.stdout

    def start(self) -> None:
        t0 = time.perf_counter()
        self.index_report = json.loads(self._kb("index", "--json"))
        self.index_report["wall_seconds"] = round(time.perf_counter() - t0, 1)
        self._kb("users", "add", "bench", "--role", "admin", "--password-stdin", stdin="load-bench-password-1\n")
        self.token = self._kb("users", "token", "bench", "--label", "load-bench").strip()
        self.log = open(self.tmp / "serve.log", "w")  # noqa: SIM115 (closed in stop)
        # A session of its own: stop() ends the server with everything it started.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--no-index", "--port", str(self.port)],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kb serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"kb serve did not answer /healthz in {START_TIMEOUT} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.tmp / "serve.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=20)
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


# -- clients -------------------------------------------------------------------------------------------------------


def search_paths(qs: list[str]) -> list[str]:
    return ["/api/search?" + urlencode({"q": q, "limit": 10}) for q in qs]


async def _httpx_load(base: str, paths: list[str], concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(w: int) -> None:
            i = w * 37
            while time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                i += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                except httpx.HTTPError as e:
                    errors[type(e).__name__] += 1
                    continue
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors[str(r.status_code)] += 1

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(pct(latencies, 50), 1),
        "p95_ms": round(pct(latencies, 95), 1),
        "p99_ms": round(pct(latencies, 99), 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }


def httpx_load(base: str, paths: list[str], concurrency: int, seconds: float) -> dict:
    return asyncio.run(_httpx_load(base, paths, concurrency, seconds))


WRK_SCRIPT = """
local paths = {%s}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  i = id * 37
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('KBJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,' ..
    '"status":%%d,"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status, e.connect, e.read,
    e.write, e.timeout))
end
"""


def wrk_load(base: str, paths: list[str], concurrency: int, seconds: float, workdir: Path) -> dict:
    script = workdir / "rotate.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
    threads = max(1, min(concurrency, 2))
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(concurrency),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        base,
    ]
    r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in r.stdout.splitlines() if x.startswith("KBJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    s = json.loads(line[len("KBJSON ") :])
    elapsed = s["duration_us"] / 1e6
    kinds = {k: s[k] for k in ("status", "connect", "read", "write", "timeout") if s[k]}
    errors = sum(kinds.values())
    ok = s["requests"] - s["status"]  # wrk counts a non-2xx/3xx answer as a request and a status error
    return {
        "requests": s["requests"],
        "ok": ok,
        "seconds": round(elapsed, 2),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(s["p50_us"] / 1000, 1),
        "p95_ms": round(s["p95_us"] / 1000, 1),
        "p99_ms": round(s["p99_us"] / 1000, 1),
        "errors": errors,
        "error_kinds": kinds,
    }


# -- re-indexing in a loop -------------------------------------------------------------------------------------------


class Reindexer:
    """Until stopped: append a line to a few articles, POST /api/admin/reindex, wait for it; records each run."""

    def __init__(self, server: Server, n_articles: int = REINDEX_ARTICLES):
        self.server = server
        files = sorted(server.articles.rglob("*.md"))
        self.files = files[:: max(1, len(files) // n_articles)][:n_articles]
        self.originals = {f: f.read_text(encoding="utf-8") for f in self.files}
        self.round = 0
        self.runs: list[dict] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _touch(self) -> None:
        self.round += 1
        for f in self.files:
            tmp = f.with_name(f.name + ".tmp")  # not *.md: the indexer never sees it
            tmp.write_text(
                self.originals[f].rstrip("\n") + f"\n\nReviewed in load-test round {self.round}.\n", encoding="utf-8"
            )
            tmp.replace(f)

    def _loop(self) -> None:
        with httpx.Client(
            base_url=self.server.url, timeout=600, headers={"Authorization": f"Bearer {self.server.token}"}
        ) as client:
            while not self._stop.is_set():
                self._touch()
                t0 = time.perf_counter()
                try:
                    r = client.post("/api/admin/reindex")
                except httpx.HTTPError as e:
                    self.errors.append(f"{type(e).__name__}: {e}")
                    time.sleep(0.5)
                    continue
                wall = time.perf_counter() - t0
                if r.status_code != 200:
                    self.errors.append(f"{r.status_code}: {r.text[:200]}")
                    time.sleep(0.5)
                    continue
                rep = r.json()
                self.runs.append(
                    {
                        "wall_s": round(wall, 2),
                        "server_s": rep.get("seconds"),
                        "updated": rep.get("updated"),
                        "chunks_embedded": rep.get("chunks_embedded"),
                        "ended": time.perf_counter(),
                    }
                )

    def start(self) -> None:
        self._stop.clear()
        self.runs, self.errors = [], []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self, window_end: float) -> dict:
        """Stop starting new runs; wait for the one in flight (so it does not load the next measurement)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(900)
        done = [r for r in self.runs if r["ended"] <= window_end]
        walls = [r["wall_s"] for r in done]
        return {
            "completed": len(done),
            "finished_after_window": len(self.runs) - len(done),
            "wall_s_p50": round(statistics.median(walls), 2) if walls else None,
            "wall_s_max": max(walls) if walls else None,
            "server_s": [r["server_s"] for r in done],
            "updated": [r["updated"] for r in done],
            "chunks_embedded": [r["chunks_embedded"] for r in done],
            "errors": self.errors[:10],
        }

    def restore(self) -> None:
        for f, text in self.originals.items():
            f.write_text(text, encoding="utf-8")


# -- main ----------------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0, help="measurement window per concurrency and scenario")
    ap.add_argument("--concurrency", default="1,8,32", help="comma-separated numbers of concurrent clients")
    ap.add_argument("--articles", type=Path, default=ROOT / "articles", help="articles folder (copied first)")
    ap.add_argument("--model", default=None, help="KB_MODEL for the server (default: the shipped e5 model)")
    ap.add_argument("--backend", default=None, help="KB_EMBED_BACKEND for the server: torch, onnx or onnx-int8")
    ap.add_argument(
        "--client",
        choices=("auto", "httpx", "wrk"),
        default="auto",
        help="load generator: wrk if installed (auto), or the asyncio httpx client",
    )
    ap.add_argument("--no-reindex", action="store_true", help="skip the with-re-index scenario")
    ap.add_argument("--warmup", type=int, default=20, help="sequential searches before measuring")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (its serve.log, the index)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "httpx"
    elif client == "wrk" and not shutil.which("wrk"):
        ap.error("wrk is not installed (apt-get install wrk), use --client httpx")

    qs = queries()
    paths = search_paths(qs)

    def say(*a) -> None:
        print(*a, file=sys.stderr, flush=True)

    server = Server(args.articles, args.model, keep=args.keep, backend=args.backend)
    atexit.register(server.stop)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))  # runs atexit: the server goes too
    say(f"indexing {args.articles} into {server.tmp} and starting kb serve ...")
    server.start()
    say(
        f"kb index: {server.index_report.get('articles')} articles, {server.index_report.get('chunks')} chunks, "
        f"{server.index_report.get('wall_seconds')} s; serving on {server.url}; client {client}; "
        f"{len(qs)} queries"
    )

    with httpx.Client(base_url=server.url, timeout=120) as c:
        warm_errors = sum(c.get(p).status_code != 200 for p in paths[: args.warmup])
    if warm_errors:
        say(f"warning: {warm_errors} of {args.warmup} warm-up searches failed")

    def measure(conc: int) -> dict:
        if client == "wrk":
            return wrk_load(server.url, paths, conc, args.seconds, server.tmp)
        return httpx_load(server.url, paths, conc, args.seconds)

    rows = []
    scenarios = ["steady"] + ([] if args.no_reindex else ["reindex"])
    reindexer = Reindexer(server)
    try:
        for scenario in scenarios:
            for conc in levels:
                say(f"{scenario}, {conc} concurrent: {args.seconds:g} s ...")
                row = {"scenario": scenario, "concurrency": conc}
                if scenario == "reindex":
                    reindexer.start()
                    row.update(measure(conc))
                    row["reindex"] = reindexer.stop(time.perf_counter())
                else:
                    row.update(measure(conc))
                rows.append(row)
                if not server.alive():
                    raise RuntimeError(f"kb serve died:\n{server.log_tail()}")
    finally:
        reindexer.restore()

    result = {
        "client": client,
        "seconds": args.seconds,
        "queries": len(qs),
        "model": args.model or "default (e5)",
        "backend": args.backend or "default",
        "articles": server.index_report.get("articles"),
        "chunks": server.index_report.get("chunks"),
        "cpus": os.cpu_count(),
        "loadavg_at_end": os.getloadavg(),
        "results": rows,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"{'scenario':<9}{'conc':>5}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'requests':>9}"
        f"   re-indexes (wall p50 / max s)"
    )
    for r in rows:
        ri = r.get("reindex")
        extra = (
            (
                f"   {ri['completed']} done ({ri['wall_s_p50']} / {ri['wall_s_max']})"
                + (f", +{ri['finished_after_window']} ended after the window" if ri["finished_after_window"] else "")
                + (f", {len(ri['errors'])} failed" if ri["errors"] else "")
            )
            if ri
            else ""
        )
        print(
            f"{r['scenario']:<9}{r['concurrency']:>5}{r['rps']:>8.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
            f"{r['p99_ms']:>9.1f}{r['errors']:>8}{r['requests']:>9}{extra}"
        )
        if r["error_kinds"]:
            print(f"{'':<14}errors: {r['error_kinds']}")
    print(
        f"({result['articles']} articles, {result['chunks']} chunks, {len(qs)} queries, client {client}, "
        f"{os.cpu_count()} CPUs, load average at end {result['loadavg_at_end'][0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
