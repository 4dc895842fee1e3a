"""Re-indexing a live server: `POST /api/admin/reindex` while customers search, and `kill -9` in the middle of it.

A real `kb serve` runs in a subprocess (light model, ~30 generated articles of several chunks each); this test
process searches it over loopback from several threads while the articles are rewritten and re-indexed in place.

How a half-indexed article would show. Every sentence of article N at version v carries `marker-vV` and its title
ends in `(vV)`, so each snippet (a ~32-word window of one chunk) and each article page names exactly one version.
A result is then checked four ways:

* one version within the result (snippet and title) and within an article page (every marker of the body, and the
  body whole: as many markers as the generator wrote);
* before the re-index request is sent only v1 exists, and after it has returned only v2;
* per article, never v1 again once v2 was seen: if a response carrying v2 ended before another request started,
  that request must not show v1. This holds for article pages (the newest title point wins) and for searches
  within one category (5 articles, ~30 points: every point of the category is a dense candidate, so each article's
  newest generation is always among them). An unfiltered search may legitimately miss an article's new chunks at
  the candidate cut-off for the instant both generations exist, so it is held only to the first two checks.
  A search that kept old chunks next to new ones (the bug the per-article generation filter prevents) shows v1
  after v2 in the moment between an article's new points being written and its old ones deleted.
* every request answers 200.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

httpx = pytest.importorskip("httpx")

REPO = Path(__file__).resolve().parents[1]
N_ARTICLES = 30
CATEGORIES = ("account", "billing", "projects", "mobile", "security", "reports")  # 5 articles each
SECTIONS, SENTENCES = 3, 4
MARKERS_PER_BODY = 1 + SECTIONS * SENTENCES  # the intro sentence plus every sentence of every section
WORDS = (
    "account",
    "password",
    "billing",
    "invoice",
    "refund",
    "export",
    "import",
    "login",
    "team",
    "workspace",
    "project",
    "setting",
    "email",
    "phone",
    "device",
    "app",
    "sync",
    "backup",
    "report",
    "calendar",
    "reminder",
    "label",
    "archive",
)
QUERIES = (
    "reset password login",
    "refund invoice billing",
    "export project report",
    "sync phone app",
    "backup workspace archive",
    "email reminder calendar",
    "team setting label",
    "import device backup",
)
START_TIMEOUT = 300  # seconds for `kb serve` to index and answer /healthz on a busy machine
MARKER = re.compile(r"marker-v(\d+)")
TITLE_VERSION = re.compile(r"\(v(\d+)\)\s*$")
TAG = re.compile(r"<[^>]+>")

# `kb serve` with one stderr line after each article's new points are written. Once the file KBTEST_HOLD_FILE
# holds a number N, the N-th article written after that waits (and says so), so a kill sent then lands between
# writing an article's new version and deleting its old one, the worst moment. Nothing else changes.
DRIVER = """
import os, sys, time
from pathlib import Path
from kb.store.edge import EdgeStore

_upsert = EdgeStore.upsert
hold = Path(os.environ["KBTEST_HOLD_FILE"])
armed = 0

def upsert(self, points):
    global armed
    _upsert(self, points)
    print("KBTEST wrote", points[0].payload["article_id"], file=sys.stderr, flush=True)
    if hold.exists():
        armed += 1
        if armed == int(hold.read_text()):
            print("KBTEST holding", points[0].payload["article_id"], file=sys.stderr, flush=True)
            time.sleep(300)

EdgeStore.upsert = upsert
from cli.main import app
app(sys.argv[1:], prog_name="kb")
"""


def article_id(i: int) -> str:
    return f"live-{i:02d}"


def write_articles(root: Path, version: int) -> None:
    """N_ARTICLES articles of several chunks; `marker-v{version}` ends every sentence, `(v{version})` the title."""
    for i in range(N_ARTICLES):
        cat = CATEGORIES[i % len(CATEGORIES)]
        sections = []
        for s in range(SECTIONS):
            sentences = " ".join(
                f"Step {k} of part {s} in topic {i}: "
                + " ".join(WORDS[(i * 5 + s * 3 + k * 7 + j) % len(WORDS)] for j in range(7))
                + f" marker-v{version}."
                for k in range(SENTENCES)
            )
            sections.append(f"## Part {s} of topic {i}\n\n{sentences}\n")
        path = root / "en" / cat / f"{article_id(i)}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            f"---\nid: {article_id(i)}\ntitle: Topic {i} {WORDS[i % len(WORDS)]} guide (v{version})\n"
            f"locale: en\ncategory: {cat}\n---\nThis guide explains topic {i} marker-v{version}.\n\n"
            + "\n".join(sections),
            encoding="utf-8",
        )
        tmp.replace(path)  # the indexer never reads half a file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kb_env(articles: Path, data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(
        KB_ARTICLES_DIR=str(articles),
        KB_DATA_DIR=str(data),
        KB_CHUNK_TOKENS="64",
        KB_MODEL="sentence-transformers/all-MiniLM-L6-v2",
        KB_RATE_LIMIT_SEARCH="1000000",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def admin_token(env: dict, cwd: Path) -> str:
    kb = [sys.executable, "-m", "cli.main", "users"]
    r = subprocess.run(
        [*kb, "add", "root", "--role", "admin", "--password-stdin"],
        input="live-reindex-pass-1\n",
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [*kb, "token", "root"], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Server:
    """`kb serve` in a subprocess; stderr is collected line by line (the driver's marks, errors to show)."""

    def __init__(self, env: dict, cwd: Path, *, driver: bool = False):
        if driver:
            env = env | {"KBTEST_HOLD_FILE": str(cwd / "hold")}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--port", str(self.port)]
        cmd = [sys.executable, "-c", DRIVER, *args] if driver else [sys.executable, "-m", "cli.main", *args]
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def log(self, n: int = 4000) -> str:
        return "".join(self.lines)[-n:]

    def wait_ready(self) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"kb serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                r = httpx.get(self.url + "/healthz", timeout=5)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"kb serve did not answer /healthz in {START_TIMEOUT} s:\n{self.log()}")

    def wait_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines if text in line]
            if found:
                return found[0]
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no {text!r} from kb serve:\n{self.log()}")
            time.sleep(0.01)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=60)
        self._pump.join(5)


@dataclass
class Seen:
    """One article version seen in a response: when the request started and ended, and where it was seen."""

    start: float
    end: float
    article: str
    version: int
    source: str  # "search-category", "search-all" or "page"


class Watcher:
    """Threads that search (and read article pages) continuously, recording every version seen and every problem."""

    def __init__(self, base: str, searchers: int = 3):
        self.base = base
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self.requests = 0
        self.statuses: dict[int | str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._search, args=(n,), daemon=True) for n in range(searchers)]
        self._threads.append(threading.Thread(target=self._pages, daemon=True))

    def __enter__(self) -> Watcher:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def _record(self, status: int | str, seen: list[Seen] = (), problems: list[str] = ()) -> None:
        with self._lock:
            self.requests += 1
            self.statuses[status] += 1
            self.seen.extend(seen)
            self.problems.extend(problems)

    def _get(self, client: httpx.Client, path: str, **params):
        t0 = time.monotonic()
        try:
            r = client.get(path, params=params)
        except httpx.HTTPError as e:
            self._record(type(e).__name__, problems=[f"GET {path} {params}: {type(e).__name__}: {e}"])
            return None, t0, time.monotonic()
        t1 = time.monotonic()
        if r.status_code != 200:
            self._record(r.status_code, problems=[f"GET {path} {params}: {r.status_code} {r.text[:300]}"])
            return None, t0, t1
        return r.json(), t0, t1

    def _search(self, n: int) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            k = n
            while not self._stop.is_set():
                k += 1
                q = QUERIES[k % len(QUERIES)]
                cat = CATEGORIES[k % len(CATEGORIES)] if k % 4 else None
                params = {"q": q, "limit": 20} | ({"category": cat} if cat else {})
                body, t0, t1 = self._get(client, "/api/search", **params)
                if body is None:
                    continue
                seen, problems = [], []
                for res in body["results"]:
                    versions = set(MARKER.findall(TAG.sub("", res["snippet"])))
                    title = TITLE_VERSION.search(res["title"])
                    if title:
                        versions.add(title.group(1))
                    if len(versions) != 1 or not title:
                        problems.append(
                            f"search {params}: {res['id']} mixes or lacks versions {versions}: "
                            f"{res['title']!r} / {res['snippet']!r}"
                        )
                        continue
                    if cat and res["category"] != cat:
                        problems.append(f"search {params}: {res['id']} is in {res['category']}")
                    seen.append(
                        Seen(t0, t1, res["id"], int(versions.pop()), "search-category" if cat else "search-all")
                    )
                if cat and len(body["results"]) != N_ARTICLES // len(CATEGORIES):
                    problems.append(f"search {params}: {len(body['results'])} results, not every article of {cat}")
                self._record(200, seen, problems)

    def _pages(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            k = 0
            while not self._stop.is_set():
                aid = article_id(k % N_ARTICLES)
                k += 1
                body, t0, t1 = self._get(client, f"/api/articles/{aid}")
                if body is None:
                    continue
                markers = MARKER.findall(TAG.sub("", body["html"]))
                title = TITLE_VERSION.search(body["title"])
                versions = set(markers) | ({title.group(1)} if title else set())
                if len(versions) != 1 or len(markers) != MARKERS_PER_BODY or not title:
                    self._record(
                        200,
                        problems=[
                            (
                                f"page {aid}: versions {versions}, {len(markers)} markers "
                                f"(not {MARKERS_PER_BODY}): {body['title']!r}"
                            )
                        ],
                    )
                    continue
                self._record(200, [Seen(t0, t1, aid, int(versions.pop()), "page")])


def check_history(seen: list[Seen], sent: float, returned: float, old: int, new: int) -> list[str]:
    """Versions against time: only `old` before the request was sent, only `new` after it returned, and per
    article never `old` again once a response carrying `new` had ended (for category searches and pages)."""
    problems = []
    first_new: dict[str, float] = {}
    for s in seen:
        if s.version == new and s.source != "search-all":
            first_new[s.article] = min(first_new.get(s.article, s.end), s.end)
    for s in seen:
        if s.version not in (old, new):
            problems.append(f"{s.article}: version {s.version} seen ({s.source})")
        elif s.end < sent and s.version != old:
            problems.append(f"{s.article}: v{s.version} seen before the re-index was requested ({s.source})")
        elif s.start > returned and s.version != new:
            problems.append(f"{s.article}: v{s.version} seen after the re-index returned ({s.source})")
        elif (
            s.version == old and s.source != "search-all" and s.article in first_new and s.start > first_new[s.article]
        ):
            problems.append(
                f"{s.article}: v{old} seen at {s.start:.3f} after v{new} was seen at "
                f"{first_new[s.article]:.3f} ({s.source})"
            )
    return problems


def assert_all_at(base: str, version: int) -> None:
    """Every article page and every search shows `version`, one version per article, and search finds them."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(N_ARTICLES):
            r = client.get(f"/api/articles/{article_id(i)}")
            assert r.status_code == 200, (article_id(i), r.status_code, r.text[:300])
            body = r.json()
            assert MARKER.findall(TAG.sub("", body["html"])) == [str(version)] * MARKERS_PER_BODY, body["html"][:500]
            assert body["title"].endswith(f"(v{version})"), body["title"]
        found = set()
        for n, q in enumerate(QUERIES):
            for params in ({"q": q, "limit": 50}, {"q": q, "limit": 20, "category": CATEGORIES[n % len(CATEGORIES)]}):
                r = client.get("/api/search", params=params)
                assert r.status_code == 200, (params, r.status_code, r.text[:300])
                results = r.json()["results"]
                assert results, params
                for res in results:
                    assert set(MARKER.findall(TAG.sub("", res["snippet"]))) == {str(version)}, res
                    assert res["title"].endswith(f"(v{version})"), res
                    found.add(res["id"])
        assert found == {article_id(i) for i in range(N_ARTICLES)}, "some articles are not found by any search"


def assert_frozen_mid_write(base: str, held: str, hold: int) -> None:
    """While the re-index waits after writing `held` (the hold-th article), before deleting its old points: the
    articles written so far are v4 (`held` too), the rest v3, the same in article pages and category searches."""
    with httpx.Client(base_url=base, timeout=60) as client:
        pages = {}
        for i in range(N_ARTICLES):
            r = client.get(f"/api/articles/{article_id(i)}")
            assert r.status_code == 200, r.text[:300]
            markers = set(MARKER.findall(TAG.sub("", r.json()["html"])))
            assert len(markers) == 1, (article_id(i), markers)
            pages[article_id(i)] = int(markers.pop())
        assert pages[held] == 4
        assert sorted(pages.values()) == [3] * (N_ARTICLES - hold) + [4] * hold, pages
        held_cat = CATEGORIES[int(held.split("-")[1]) % len(CATEGORIES)]
        # Every query in the held article's category (its old and new chunks compete there), one in the others.
        asked = [(q, held_cat) for q in QUERIES] + [(QUERIES[n], c) for n, c in enumerate(CATEGORIES) if c != held_cat]
        for q, cat in asked:
            r = client.get("/api/search", params={"q": q, "limit": 20, "category": cat})
            assert r.status_code == 200, r.text[:300]
            results = r.json()["results"]
            assert len(results) == N_ARTICLES // len(CATEGORIES)
            for res in results:
                versions = set(MARKER.findall(TAG.sub("", res["snippet"])))
                assert versions == {str(pages[res["id"]])}, (res["id"], versions, pages[res["id"]])
                assert res["title"].endswith(f"(v{pages[res['id']]})"), res


def reindex(base: str, token: str, timeout: float = 600) -> httpx.Response:
    return httpx.post(base + "/api/admin/reindex", headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def assert_shard_whole(shard: Path, version: int) -> None:
    """Read by a new process after the server stopped: each article one generation, every chunk there, one version."""
    from kb.store.base import TITLE_INDEX
    from kb.store.edge import EdgeStore

    store = EdgeStore(shard)
    try:
        gens: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for rec in store.scroll(["article_id", "generation", "chunk_index", "chunk_count", "title", "text"]):
            gens[rec.payload["article_id"]][rec.payload["generation"]].append(rec.payload)
    finally:
        store.close()
    assert sorted(gens) == [article_id(i) for i in range(N_ARTICLES)]
    for aid, by_gen in gens.items():
        assert len(by_gen) == 1, f"{aid} has {len(by_gen)} generations left"
        points = next(iter(by_gen.values()))
        indexes = sorted(p["chunk_index"] for p in points)
        assert indexes == [TITLE_INDEX, *range(points[0]["chunk_count"])], f"{aid} is not whole: {indexes}"
        for p in points:
            assert p["title"].endswith(f"(v{version})"), (aid, p["title"])
            assert set(MARKER.findall(p["text"])) == {str(version)}, (aid, p["chunk_index"], p["text"][:200])


def test_reindex_while_searching_then_kill_9_mid_reindex(tmp_path):
    articles, data = tmp_path / "articles", tmp_path / "data"
    write_articles(articles, 1)
    env = kb_env(articles, data)
    token = admin_token(env, tmp_path)
    servers: list[Server] = []
    try:
        # -- 1. Re-index v1 -> v2 in place while three clients search and one reads article pages. --------------
        srv = Server(env, tmp_path)
        servers.append(srv)
        assert srv.wait_ready()["articles"] == N_ARTICLES
        assert_all_at(srv.url, 1)
        with Watcher(srv.url) as w:
            time.sleep(1.5)
            write_articles(articles, 2)
            sent = time.monotonic()
            r = reindex(srv.url, token)
            returned = time.monotonic()
            time.sleep(1.5)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["updated"], report["added"], report["removed"], report["errors"]) == (N_ARTICLES, 0, 0, []), (
            report
        )
        during = [s for s in w.seen if s.start > sent and s.end < returned]
        assert during, "no search ran while the re-index did: the test proved nothing"
        assert not w.problems, f"{len(w.problems)} problems in {w.requests} requests:\n" + "\n".join(w.problems[:20])
        assert set(w.statuses) == {200}, dict(w.statuses)
        history = check_history(w.seen, sent, returned, 1, 2)
        assert not history, f"{len(history)} inconsistencies in {len(w.seen)} versions seen:\n" + "\n".join(
            history[:20]
        )
        assert_all_at(srv.url, 2)
        print(
            f"\nlive re-index: {report['seconds']} s, {w.requests} requests ({len(during)} article versions seen "
            f"during it: {sorted({s.version for s in during})}), all 200, no mix"
        )

        # -- 2. v2 -> v3, killed with -9 while the re-index embeds (a third of the way into its duration). -----
        write_articles(articles, 3)
        result: dict = {}

        def call() -> None:
            try:
                result["response"] = reindex(srv.url, token)
            except httpx.HTTPError as e:
                result["error"] = e

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(min(1.0, max(0.2, report["seconds"] / 3)))
        srv.kill9()
        caller.join(60)
        assert "response" not in result, "the re-index finished before the kill: it was meant to land mid-way"

        # A restarted `kb serve` indexes on start: every article v3, whole.
        srv = Server(env, tmp_path, driver=True)
        servers.append(srv)
        assert srv.wait_ready()["articles"] == N_ARTICLES
        assert_all_at(srv.url, 3)

        # -- 3. v3 -> v4, killed with -9 between writing half the articles' new points and deleting old ones. --
        write_articles(articles, 4)
        hold = N_ARTICLES // 2
        (tmp_path / "hold").write_text(str(hold))
        caller = threading.Thread(target=call)
        result.clear()
        caller.start()
        held = srv.wait_line("KBTEST holding", timeout=START_TIMEOUT).split()[-1]
        # The server still answers meanwhile, with `held` in both generations: it must show as v4 everywhere.
        assert_frozen_mid_write(srv.url, held, hold)
        srv.kill9()
        caller.join(60)
        assert "response" not in result

        srv = Server(env, tmp_path)
        servers.append(srv)
        assert srv.wait_ready()["articles"] == N_ARTICLES
        assert_all_at(srv.url, 4)
        srv.stop()
        assert_shard_whole(data / "shard", 4)
    finally:
        for s in servers:
            s.kill9()
