"""Tests for the ONNX Runtime backend: backend choice, vectors equal to torch's, the export cache, threads."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before any Hugging Face import: tests never reach for a hub

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from kb.embedder import (
    E5_MODEL,
    MINILM_MODEL,
    Embedder,
    ModelFileError,
    SentenceTransformerEmbedder,
    choose_backend,
    load_embedder,
    load_onnx_embedder,
)
from kb.embedding.cache import MARKER, read_marker, sha256_of
from kb.embedding.names import bundled_release
from kb.embedding.onnx_backend import OnnxEmbedder
from kb.embedding.onnx_export import ONNX_FILE, TOKENIZER_FILE, export_dir
from kb.settings import Settings

# Mixed lengths in one batch (padding), a text past 512 tokens (truncation), Cyrillic, NFKC cases.
TEXTS = [
    "How do I reset my password?",
    "как сбросить пароль",
    "Як скинути пароль у застосунку на телефоні?",
    "Счёт‑фактура приходит в первый рабочий день месяца. " * 60,
    "a",
    "Invoices  are\u00a0sent monthly ±1 day ✓",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kb-onnx-cache")


@pytest.fixture(scope="module")
def e5_onnx(cache_dir) -> OnnxEmbedder:
    return load_onnx_embedder(E5_MODEL, cache_dir, threads=1)


@pytest.fixture(scope="module")
def e5_torch(cache_dir) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(E5_MODEL, cache_dir)


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1)).min())


# ------------------------------------------------------------ which backend, no model needed


@pytest.mark.parametrize(
    ("model", "setting", "backend"),
    [
        (E5_MODEL, None, "onnx"),
        ("multilingual-e5-small", None, "onnx"),
        (MINILM_MODEL, None, "onnx"),
        ("all-MiniLM-L6-v2", "onnx-int8", "onnx-int8"),
        (E5_MODEL, "torch", "torch"),
        ("some-org/some-model", None, "torch"),
        ("/srv/models/my-model", "torch", "torch"),
    ],
)
def test_backend_choice(model, setting, backend):
    assert choose_backend(model, setting) == backend


def test_onnx_for_another_model_is_a_clear_error():
    with pytest.raises(ModelFileError, match="KB_EMBED_BACKEND=torch"):
        choose_backend("some-org/some-model", "onnx")


def test_backend_and_thread_settings(monkeypatch):
    monkeypatch.setenv("KB_EMBED_BACKEND", "onnx-int8")
    monkeypatch.setenv("KB_TORCH_THREADS", "3")  # the old name still works
    assert (Settings().embed_backend, Settings().embed_threads) == ("onnx-int8", 3)
    monkeypatch.setenv("KB_EMBED_THREADS", "2")  # the new name wins
    assert Settings().embed_threads == 2
    monkeypatch.setenv("KB_EMBED_BACKEND", "tensorflow")
    with pytest.raises(ValidationError):
        Settings()


# ------------------------------------------------------------ e5 on ONNX Runtime


@pytest.mark.slow
def test_e5_onnx_gives_the_reference_ids_and_vectors(e5_onnx, e5_cases):
    cases = e5_cases
    texts = [c["text"] for c in cases]
    assert [e5_onnx.token_ids("query: " + t) for t in texts] == [c["query_input_ids"] for c in cases]
    assert _min_cosine(e5_onnx.embed_queries(texts), np.array([c["query_vector"] for c in cases])) >= 0.999
    assert _min_cosine(e5_onnx.embed_passages(texts), np.array([c["passage_vector"] for c in cases])) >= 0.999


@pytest.mark.slow
def test_e5_onnx_equals_torch(e5_onnx, e5_torch):
    assert isinstance(e5_onnx, Embedder)
    assert (e5_onnx.name, e5_onnx.dim, e5_onnx.max_tokens, e5_onnx.backend) == (E5_MODEL, 384, 512, "onnx")
    assert (e5_onnx.query_prompt, e5_onnx.passage_prompt) == ("query: ", "passage: ")
    for method in ("embed_queries", "embed_passages"):
        got, want = getattr(e5_onnx, method)(TEXTS), getattr(e5_torch, method)(TEXTS)
        assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert _min_cosine(got, want) >= 0.9999, method
        # Alone or in a padded batch: the same vector.
        assert _min_cosine(np.concatenate([getattr(e5_onnx, method)([t]) for t in TEXTS]), got) >= 0.99999
    assert [e5_onnx.count_tokens(t) for t in TEXTS] == [e5_torch.count_tokens(t) for t in TEXTS]
    assert e5_onnx.count_tokens(TEXTS[3]) > 512  # counted in full, embedded truncated
    assert e5_onnx.embed_passages([]).shape == (0, 384)
    with pytest.raises(TypeError):
        e5_onnx.embed_queries("a single string")


@pytest.mark.slow
def test_one_session_serves_threads_side_by_side(e5_onnx):
    want = e5_onnx.embed_queries(TEXTS)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: e5_onnx.embed_queries([t])[0], TEXTS * 4))
    assert _min_cosine(np.stack(got), np.concatenate([want] * 4)) >= 0.99999


# ------------------------------------------------------------ MiniLM, the export cache, threads, int8


@pytest.mark.slow
def test_minilm_onnx_equals_torch(cache_dir):
    onnx = load_embedder(Settings(model="all-MiniLM-L6-v2", cache_dir=cache_dir))
    torch = load_embedder(Settings(model="all-MiniLM-L6-v2", cache_dir=cache_dir, embed_backend="torch"))
    assert (type(onnx), type(torch)) == (OnnxEmbedder, SentenceTransformerEmbedder)
    assert (
        (onnx.name, onnx.max_tokens, onnx.query_prompt)
        == (MINILM_MODEL, torch.max_tokens, "")
        == (MINILM_MODEL, 256, "")
    )
    assert _min_cosine(onnx.embed_passages(TEXTS), torch.embed_passages(TEXTS)) >= 0.9999
    assert [onnx.count_tokens(t) for t in TEXTS] == [torch.count_tokens(t) for t in TEXTS]


def _loads(cache: Path, caplog, **kw) -> tuple[OnnxEmbedder, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kb.embedding.onnx_export"):
        emb = load_onnx_embedder(MINILM_MODEL, cache, threads=1, **kw)
    return emb, [r.getMessage() for r in caplog.records]


@pytest.mark.slow
def test_export_once_then_reuse_and_redo_when_broken(tmp_path, caplog):
    folder = export_dir(tmp_path, bundled_release(MINILM_MODEL))
    emb, said = _loads(tmp_path, caplog)
    assert any(m.startswith("exporting") for m in said)
    record = json.loads(read_marker(folder))
    assert record["files"][ONNX_FILE] == sha256_of(folder / ONNX_FILE)
    want = emb.embed_queries(TEXTS)
    stamp = (folder / MARKER).stat().st_mtime_ns

    _, said = _loads(tmp_path, caplog)
    assert not any(m.startswith("exporting") for m in said)  # reused, not exported again
    assert (folder / MARKER).stat().st_mtime_ns == stamp

    size = (folder / ONNX_FILE).stat().st_size
    with open(folder / ONNX_FILE, "r+b") as f:  # a partial write: the file cut short
        f.truncate(size // 2)
    emb, said = _loads(tmp_path, caplog)
    assert any(m.startswith("exporting") for m in said)
    assert (folder / ONNX_FILE).stat().st_size == size
    assert _min_cosine(emb.embed_queries(TEXTS), want) >= 0.99999

    with open(folder / TOKENIZER_FILE, "r+b") as f:  # one flipped byte, same size
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0x01]))
    _, said = _loads(tmp_path, caplog)
    assert any(m.startswith("exporting") for m in said)
    assert json.loads(read_marker(folder))["files"][TOKENIZER_FILE] == sha256_of(folder / TOKENIZER_FILE)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.slow
def test_int8_is_made_from_the_fp32_export_and_stays_close(tmp_path, caplog):
    fp32, _ = _loads(tmp_path, caplog)
    int8, said = _loads(tmp_path, caplog, int8=True)
    assert any(m.startswith("quantising") for m in said) and not any(m.startswith("exporting") for m in said)
    assert int8.backend == "onnx-int8"
    folder = export_dir(tmp_path, bundled_release(MINILM_MODEL))
    source = json.loads(read_marker(export_dir(tmp_path, bundled_release(MINILM_MODEL), int8=True)))["source"]
    assert sha256_of(folder / ONNX_FILE) in source
    assert (export_dir(tmp_path, bundled_release(MINILM_MODEL), int8=True) / ONNX_FILE).stat().st_size < (
        folder / ONNX_FILE
    ).stat().st_size / 2
    assert _min_cosine(int8.embed_passages(TEXTS), fp32.embed_passages(TEXTS)) >= 0.98  # measured 0.989


@pytest.mark.slow
def test_thread_settings_reach_the_session(tmp_path, monkeypatch):
    """KB_EMBED_THREADS is the session's intra-op pool; the web server runs one thread per request."""
    one = load_embedder(Settings(model=MINILM_MODEL, cache_dir=tmp_path, embed_threads=1))
    assert one.session_options.intra_op_num_threads == 1 and one.session_options.inter_op_num_threads == 1
    batch = load_embedder(Settings(model=MINILM_MODEL, cache_dir=tmp_path))
    assert batch.session_options.intra_op_num_threads == len(os.sched_getaffinity(0))

    from fastapi.testclient import TestClient

    from web.app import create_app

    class Stop(Exception):
        pass

    def runtime(settings):
        seen.append(settings.embed_threads)
        raise Stop

    seen: list = []
    monkeypatch.setattr("web.app.open_runtime", runtime)
    for threads in (None, 2):
        app = create_app(Settings(model=MINILM_MODEL, cache_dir=tmp_path, embed_threads=threads))
        with pytest.raises(Stop), TestClient(app):
            pass
    assert seen == [1, 2]  # one thread per request in the web server unless set
