"""The Embedder protocol and load_embedder, the entry points the rest of kb uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kb.embedding.errors import ModelFileError
from kb.embedding.names import E5_MODEL, MINILM_MODEL, canonical_model_name, resolve_model
from kb.embedding.torch_backend import SentenceTransformerEmbedder

if TYPE_CHECKING:
    from kb.settings import Settings

__all__ = [
    "E5_MODEL",
    "MINILM_MODEL",
    "Embedder",
    "ModelFileError",
    "SentenceTransformerEmbedder",
    "canonical_model_name",
    "load_embedder",
    "resolve_model",
]


@runtime_checkable
class Embedder(Protocol):
    name: str  # model identifier stored with the index, e.g. "intfloat/multilingual-e5-small"
    dim: int
    max_tokens: int  # max input tokens the model takes (incl. special tokens)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, passage prompt applied

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, query prompt applied

    def count_tokens(self, text: str) -> int: ...  # tokens of text as a passage, prompt + special tokens included


def load_embedder(settings: Settings) -> Embedder:
    """The embedder configured by KB_MODEL, KB_CACHE_DIR, KB_QUERY_PROMPT, KB_PASSAGE_PROMPT, KB_EMBED_BATCH_SIZE
    and KB_TORCH_THREADS."""
    return SentenceTransformerEmbedder(settings.model, settings.cache_dir, query_prompt=settings.query_prompt,
                                       passage_prompt=settings.passage_prompt, batch_size=settings.embed_batch_size,
                                       threads=settings.torch_threads)
