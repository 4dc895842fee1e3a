"""`kb index` under faults: killed with -9 mid-way, a read-only data folder, a full disk.

Each runs the real command in a subprocess with the light model over ~40 generated articles, and then checks
what the next process finds: the shard opens, every article in it is whole (all chunks of one generation), a
search returns whole articles only, and `kb index` brings everything up to date.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb.store.base import TITLE_INDEX
from kb.store.edge import MIN_FREE_BYTES, EdgeStore
from search.retrieval import Retriever

pytestmark = pytest.mark.slow

N_ARTICLES = 40
RUN_TIMEOUT = 600  # seconds for one `kb index`: the machine is shared, the model runs on 2 cores
WORDS = (
    "account password billing invoice refund export import login team workspace project setting email "
    "phone device app sync backup report"
).split()

# `kb index` with one line on stderr after each article's new points are written; after the KBTEST_HOLD_AT-th
# it waits, so a kill sent on that line lands between writing an article's new version and deleting its old
# one, where a crash hurts most. Nothing else changes.
DRIVER = """
import os, sys, time
from kb.store.edge import EdgeStore

_upsert = EdgeStore.upsert
written = 0

def upsert(self, points):
    global written
    _upsert(self, points)
    written += 1
    print("KBTEST wrote", points[0].payload["article_id"], file=sys.stderr, flush=True)
    if written == int(os.environ["KBTEST_HOLD_AT"]):
        time.sleep(120)

EdgeStore.upsert = upsert
from cli.main import app
app(["index", "--json"], prog_name="kb")
"""


def write_articles(root: Path, version: str, n: int = N_ARTICLES) -> None:
    """n articles with several chunks each; `version` is in every title and chunk, so a mix would show."""
    for i in range(n):
        sections = []
        for s in range(3):
            words = " ".join(WORDS[(i * 7 + s * 5 + k) % len(WORDS)] for k in range(45))
            sections.append(f"## Part {s} of topic {i}\n\nStep {s} {version}: {words}.\n")
        path = root / "en" / ("account", "billing", "howto")[i % 3] / f"a{i:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"---\nid: art-{i:03d}\ntitle: Topic {i} {version}\n---\n"
            f"Uniqword{i} is explained here ({version}).\n\n" + "\n".join(sections),
            encoding="utf-8",
        )


def kb_env(articles: Path, data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(
        KB_ARTICLES_DIR=str(articles),
        KB_DATA_DIR=str(data),
        KB_CHUNK_TOKENS="64",
        KB_MODEL="sentence-transformers/all-MiniLM-L6-v2",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def kb_index(env: dict, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cli.main", "index", "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def index_ok(env: dict, cwd: Path) -> dict:
    r = kb_index(env, cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def kill_when(cmd: list[str], env: dict, cwd: Path, ready, *, after: float = 0.0) -> tuple[int, list[str]]:
    """Start cmd, SIGKILL it once ready(stderr lines so far) is true (plus `after` seconds); its code and stderr."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                line = ""
            if line is None:  # it finished (or died) before the moment came
                break
            if line:
                seen.append(line)
            if ready(seen):
                time.sleep(after)
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
        proc.wait(timeout=60)
    return proc.returncode, seen


def stored(shard: Path) -> dict[str, dict[int, list[dict]]]:
    """article id -> generation -> its points' payloads, read by a new process's way of opening the shard."""
    store = EdgeStore(shard)  # raises if a lock or a half-written file was left behind
    try:
        out: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for rec in store.scroll(
            ["article_id", "generation", "chunk_index", "chunk_count", "article_hash", "title", "text"]
        ):
            out[rec.payload["article_id"]][rec.payload["generation"]].append(rec.payload)
        return out
    finally:
        store.close()


def version_of(points: list[dict]) -> str:
    """The one version an article generation holds; fails on a mix."""
    versions = {re.search(r" (v\w+)$", p["title"]).group(1) for p in points}
    versions |= {v for p in points if p["chunk_index"] != TITLE_INDEX for v in re.findall(r"\b(v\d\w*)\b", p["text"])}
    assert len(versions) == 1, f"a generation mixes versions {versions}"
    return versions.pop()


def assert_whole(shard: Path) -> dict[str, str]:
    """Every generation of every article is complete; returns each article's newest version."""
    newest = {}
    for aid, gens in stored(shard).items():
        for gen, points in gens.items():
            count = points[0]["chunk_count"]
            indexes = sorted(p["chunk_index"] for p in points)
            assert indexes == [TITLE_INDEX, *range(count)], f"{aid} generation {gen} is not whole: {indexes}"
            assert len({p["article_hash"] for p in points}) == 1, f"{aid} generation {gen} mixes two versions"
            version_of(points)
        newest[aid] = version_of(gens[max(gens)])
    return newest


def assert_search_whole(shard: Path, versions: dict[str, str]) -> None:
    """A search finds each article as its newest version, every matched chunk from that one generation."""
    store = EdgeStore(shard)
    try:
        retriever = Retriever(store, None)  # the sparse side needs no model
        for aid, version in versions.items():
            i = int(aid.split("-")[1])
            hits = retriever.search(f"uniqword{i}", 3, mode="sparse")
            assert hits and hits[0].id == aid, (aid, [h.id for h in hits])
            assert hits[0].title == f"Topic {i} {version}"
            assert {c["generation"] for c in hits[0].chunks} == {hits[0].payload["generation"]}
    finally:
        store.close()


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a data folder keeping sparse files sparse (the shard's log files are 32 MiB mostly of holes)."""
    subprocess.run(["cp", "-a", "--sparse=always", str(src), str(dst)], check=True)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Version v1 of the articles, indexed: tests copy it instead of embedding it again."""
    root = tmp_path_factory.mktemp("faults-base")
    write_articles(root / "articles", "v1")
    report = index_ok(kb_env(root / "articles", root / "data"), root)
    assert (report["added"], report["errors"]) == (N_ARTICLES, [])
    return root


@pytest.fixture
def kb(tmp_path, base) -> tuple[Path, dict]:
    """A private copy of the indexed v1 help center: (root, env)."""
    copy_tree(base / "articles", tmp_path / "articles")
    copy_tree(base / "data", tmp_path / "data")
    return tmp_path, kb_env(tmp_path / "articles", tmp_path / "data")


def assert_rerun_completes(root: Path, env: dict, version: str) -> None:
    report = index_ok(env, root)
    assert report["articles"] == N_ARTICLES and report["errors"] == []
    assert assert_whole(root / "data" / "shard") == {f"art-{i:03d}": version for i in range(N_ARTICLES)}
    assert all(len(gens) == 1 for gens in stored(root / "data" / "shard").values())
    again = index_ok(env, root)
    assert (again["added"], again["updated"], again["removed"], again["chunks_embedded"]) == (0, 0, 0, 0)
    assert again["unchanged"] == N_ARTICLES


# -- kill -9 -----------------------------------------------------------------------------------------------------


def test_kill_9_of_a_first_index_while_embedding_and_then_while_writing(tmp_path):
    articles, data = tmp_path / "articles", tmp_path / "data"
    write_articles(articles, "v1")
    env = kb_env(articles, data)
    shard = data / "shard"

    # 1. Killed while embedding: the shard is created just before the model starts on the chunks.
    code, _ = kill_when(
        [sys.executable, "-m", "cli.main", "index"],
        env,
        tmp_path,
        lambda _: (shard / "edge_config.json").exists(),
        after=0.1,
    )
    assert code == -signal.SIGKILL
    assert_whole(shard)  # opens (no lock left), and whatever is there is whole

    # 2. The next run killed while writing: after some articles, between one's new points and the rest.
    hold = N_ARTICLES // 3
    code, lines = kill_when(
        [sys.executable, "-c", DRIVER],
        env | {"KBTEST_HOLD_AT": str(hold)},
        tmp_path,
        lambda seen: sum("KBTEST wrote" in s for s in seen) >= hold,
    )
    assert code == -signal.SIGKILL, "".join(lines)[-2000:]
    present = assert_whole(shard)
    assert len(present) == hold, "the kill was meant to land in the middle of writing"
    assert_search_whole(shard, present)

    # 3. Running it again completes the index; once more embeds nothing.
    assert_rerun_completes(tmp_path, env, "v1")


def test_kill_9_while_updating_leaves_each_article_wholly_old_or_wholly_new(kb):
    root, env = kb
    shard = root / "data" / "shard"
    write_articles(root / "articles", "v2")  # every article changes
    hold = N_ARTICLES // 2
    code, lines = kill_when(
        [sys.executable, "-c", DRIVER],
        env | {"KBTEST_HOLD_AT": str(hold)},
        root,
        lambda seen: sum("KBTEST wrote" in s for s in seen) >= hold,
    )
    assert code == -signal.SIGKILL, "".join(lines)[-2000:]

    versions = assert_whole(shard)
    assert len(versions) == N_ARTICLES, "an article disappeared"
    assert Counter(versions.values()) == {"v2": hold, "v1": N_ARTICLES - hold}
    # The article written just before the kill still has its old generation too; search sees only the new one.
    assert [len(gens) for gens in stored(shard).values()].count(2) == 1
    assert_search_whole(shard, versions)

    assert_rerun_completes(root, env, "v2")


# -- a read-only data folder ---------------------------------------------------------------------------------


@contextmanager
def read_only(data: Path, how: str):
    """Make data read-only for the command; yields the command prefix that makes it so for that process."""
    if how == "chmod":
        if os.geteuid() == 0:
            # Root writes anywhere through CAP_DAC_OVERRIDE: the command runs as root without it (and without
            # the other capabilities that bypass file permissions), so the mode bits apply as they would to a user.
            if not shutil.which("setpriv"):
                pytest.skip("running as root and there is no setpriv to drop the capabilities that bypass chmod")
            prefix = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner,-linux_immutable", "--")
            probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
            if probe.returncode:
                pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.strip()}")
        else:
            prefix = ()
        modes = {p: p.stat().st_mode for p in [data, *data.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield prefix
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
    else:  # a read-only bind mount: EROFS, whoever asks
        if os.geteuid() != 0:
            pytest.skip("a read-only bind mount needs root")
        r = subprocess.run(["mount", "--bind", "-o", "ro", str(data), str(data)], capture_output=True, text=True)
        if r.returncode:
            pytest.skip(f"cannot bind-mount read-only here: {r.stderr.strip()}")
        try:
            yield ()
        finally:
            subprocess.run(["umount", str(data)], check=False)


@pytest.mark.parametrize("how", ["chmod", "read-only mount"])
def test_read_only_data_folder_is_a_clear_error_and_the_index_survives(kb, how):
    root, env = kb
    data, shard = root / "data", root / "data" / "shard"
    write_articles(root / "articles", "v2")  # something to write
    with read_only(data, how) as prefix:
        probe = subprocess.run([*prefix, "touch", str(data / "probe")], capture_output=True)
        assert probe.returncode != 0, "the data folder is still writable for the command"
        r = kb_index(env, root, prefix)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    message = r.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ") and str(shard) in message, message
    assert re.search(r"Permission denied|Read-only file system", message), message

    versions = assert_whole(shard)
    assert versions == {f"art-{i:03d}": "v1" for i in range(N_ARTICLES)}  # untouched
    assert_search_whole(shard, versions)


# -- a full disk -------------------------------------------------------------------------------------------------


@contextmanager
def small_filesystem(where: Path, size_mib: int):
    """A small filesystem mounted at where: an ext4 image on a loop device, else a tmpfs; skips if neither."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem to fill needs root")
    where.mkdir()
    image = where.with_suffix(".img")
    why = []
    kind = None
    if shutil.which("mkfs.ext4"):
        with open(image, "wb") as f:
            f.truncate(size_mib * 2**20)
        mk = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True, text=True)
        mnt = subprocess.run(["mount", "-o", "loop", str(image), str(where)], capture_output=True, text=True)
        if mk.returncode == 0 and mnt.returncode == 0:
            kind = "ext4"
        else:
            why.append(f"ext4 on a loop device: {(mk.stderr + mnt.stderr).strip()}")
    else:
        why.append("no mkfs.ext4")
    if kind is None:
        # tmpfs has no holes in memory-mapped files once touched: the shard takes more room there.
        mnt = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mib * 2}m", "tmpfs", str(where)], capture_output=True, text=True
        )
        if mnt.returncode:
            why.append(f"tmpfs: {mnt.stderr.strip()}")
            image.unlink(missing_ok=True)
            pytest.skip("cannot mount a small filesystem here (" + "; ".join(why) + ")")
        kind = "tmpfs"
    try:
        yield kind
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
        image.unlink(missing_ok=True)


def fill(path: Path, leave: int = 0) -> None:
    """Fill the filesystem holding path with one file, then give back `leave` bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for block in (2**20, 4096):
            buf = b"\0" * block
            while True:
                try:
                    os.write(fd, buf)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
        os.fsync(fd)
    finally:
        os.close(fd)
    if leave:
        os.truncate(path, max(0, path.stat().st_size - leave))


def test_full_disk_is_a_clear_error_and_the_index_survives(kb):
    root, env = kb
    disk = root / "disk"
    with small_filesystem(disk, 160) as kind:
        copy_tree(root / "data", disk / "data")
        env = env | {"KB_DATA_DIR": str(disk / "data")}
        shard = disk / "data" / "shard"
        write_articles(root / "articles", "v2")
        filler = disk / "filler"
        # Completely full, then nearly full: Qdrant Edge writes through memory-mapped files, where a full disk
        # used to kill `kb index` with SIGBUS in the middle of writing.
        for leave in (0, 2 * 2**20, MIN_FREE_BYTES // 2):
            fill(filler, leave)
            r = kb_index(env, root)
            assert r.returncode > 0, f"{kind}, {leave} bytes left: exit {r.returncode} (negative: killed by a signal)"
            assert "Traceback" not in r.stderr, r.stderr[-3000:]
            message = r.stderr.strip().splitlines()[-1]
            assert message.startswith("error: ") and str(shard) in message, message
            assert re.search(r"disk space|No space left", message), message
            filler.unlink()
            versions = assert_whole(shard)
            assert versions == {f"art-{i:03d}": "v1" for i in range(N_ARTICLES)}, f"{kind}, {leave} bytes left"
            assert_search_whole(shard, versions)
        # With the space back, the update goes through.
        report = index_ok(env, root)
        assert (report["updated"], report["errors"]) == (N_ARTICLES, [])
        assert set(assert_whole(shard).values()) == {"v2"}
