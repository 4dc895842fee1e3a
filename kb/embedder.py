"""The Embedder protocol and load_embedder, which picks the backend (ONNX Runtime or torch) from the settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kb.embedding.errors import ModelFileError
from kb.embedding.names import BUNDLED, E5_MODEL, MINILM_MODEL, canonical_model_name, default_prompts, resolve_model
from kb.embedding.torch_backend import SentenceTransformerEmbedder

if TYPE_CHECKING:
    from kb.embedding.onnx_backend import OnnxEmbedder
    from kb.settings import Settings

__all__ = [
    "BACKENDS",
    "E5_MODEL",
    "MINILM_MODEL",
    "Embedder",
    "ModelFileError",
    "SentenceTransformerEmbedder",
    "canonical_model_name",
    "choose_backend",
    "load_embedder",
    "load_onnx_embedder",
    "resolve_model",
]

BACKENDS = ("torch", "onnx", "onnx-int8")


@runtime_checkable
class Embedder(Protocol):
    name: str  # model identifier stored with the index, e.g. "intfloat/multilingual-e5-small"
    dim: int
    max_tokens: int  # max input tokens the model takes (incl. special tokens)

    def embed_passages(
        self, texts: Sequence[str]
    ) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, passage prompt applied

    def embed_queries(
        self, texts: Sequence[str]
    ) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, query prompt applied

    def count_tokens(self, text: str) -> int: ...  # tokens of text as a passage, prompt + special tokens included


def choose_backend(model: str, backend: str | None) -> str:
    """KB_EMBED_BACKEND if set, else ONNX Runtime for the bundled models and torch for any other."""
    if backend is None:
        return "onnx" if canonical_model_name(model) in BUNDLED else "torch"
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if backend != "torch" and canonical_model_name(model) not in BUNDLED:
        raise ModelFileError(
            f"KB_EMBED_BACKEND={backend} runs the bundled models ({', '.join(BUNDLED)}); "
            f"{model!r} runs on torch: set KB_EMBED_BACKEND=torch or leave it unset"
        )
    return backend


def load_onnx_embedder(
    model: str,
    cache_dir: Path,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    batch_size: int = 32,
    threads: int | None = None,
    int8: bool = False,
) -> OnnxEmbedder:
    """A bundled model on ONNX Runtime, exported into cache_dir the first time (int8: quantised as well)."""
    from kb.embedding.names import bundled_folder, bundled_release
    from kb.embedding.onnx_backend import OnnxEmbedder
    from kb.embedding.onnx_export import ensure_exported

    folder = ensure_exported(bundled_release(model), lambda: bundled_folder(model, cache_dir), Path(cache_dir), int8)
    auto_query, auto_passage = default_prompts(model)
    return OnnxEmbedder(
        folder,
        canonical_model_name(model),
        auto_query if query_prompt is None else query_prompt,
        auto_passage if passage_prompt is None else passage_prompt,
        batch_size=batch_size,
        threads=threads,
        backend="onnx-int8" if int8 else "onnx",
    )


def load_embedder(settings: Settings) -> Embedder:
    """The embedder configured by KB_MODEL, KB_EMBED_BACKEND, KB_EMBED_THREADS, KB_CACHE_DIR, the prompts and
    KB_EMBED_BATCH_SIZE."""
    backend = choose_backend(settings.model, settings.embed_backend)
    if backend == "torch":
        return SentenceTransformerEmbedder(
            settings.model,
            settings.cache_dir,
            query_prompt=settings.query_prompt,
            passage_prompt=settings.passage_prompt,
            batch_size=settings.embed_batch_size,
            threads=settings.embed_threads,
        )
    return load_onnx_embedder(
        settings.model,
        settings.cache_dir,
        int8=backend == "onnx-int8",
        query_prompt=settings.query_prompt,
        passage_prompt=settings.passage_prompt,
        batch_size=settings.embed_batch_size,
        threads=settings.embed_threads,
    )
