"""The torch backend: an Embedder over sentence-transformers (local folder, packaged model, or hub name)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.embedding.errors import ModelFileError
from kb.embedding.names import E5_MODEL, MINILM_MODEL, canonical_model_name, default_prompts, resolve_model
from kb.embedding.tokens import untruncated

log = logging.getLogger(__name__)


class SentenceTransformerEmbedder:
    """An Embedder backed by a sentence-transformers model (local folder, packaged model, or hub name)."""

    def __init__(
        self,
        model: str,
        cache_dir: Path,
        query_prompt: str | None = None,
        passage_prompt: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer  # slow import: only when a model is wanted
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a 'Loading weights' bar on every command is noise, not progress
        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has one intra-op pool

        self.name = canonical_model_name(model)
        auto_query, auto_passage = default_prompts(model)
        self.query_prompt = auto_query if query_prompt is None else query_prompt
        self.passage_prompt = auto_passage if passage_prompt is None else passage_prompt
        self.batch_size = batch_size
        self.backend = "torch"

        target = resolve_model(model, Path(cache_dir))
        local = Path(target).is_dir()
        started = time.monotonic()
        try:
            if local:
                self._model = SentenceTransformer(target, device=device, local_files_only=True)
            else:
                # Keep hub downloads (where a hub is reachable) beside the other models kb caches.
                self._model = SentenceTransformer(target, device=device, cache_folder=str(Path(cache_dir) / "hub"))
        except ModelFileError:
            raise
        except Exception as exc:
            if local:
                raise ModelFileError(f"{target}: not a loadable sentence-transformers model folder ({exc})") from exc
            raise ModelFileError(
                f"embedding model {model!r} is not available offline: it is neither a packaged model nor a local "
                f"folder, and it could not be fetched from a model hub ({type(exc).__name__}). Set KB_MODEL to "
                f"{E5_MODEL!r}, {MINILM_MODEL!r} or the path of a sentence-transformers folder."
            ) from exc

        self.dim = int(self._model.get_embedding_dimension() or 0)
        tokenizer = self._model.tokenizer
        limit: Any = self._model.max_seq_length or tokenizer.model_max_length
        self.max_tokens = int(limit)
        # A private copy of the Rust tokenizer: counting must not be capped by the truncation settings
        # transformers leaves on the shared one, and must not change them under encode().
        backend = getattr(tokenizer, "backend_tokenizer", None)
        self._counter = untruncated(backend) if backend is not None else None
        log.info(
            "loaded embedding model %s from %s in %.1f s (dim %d, max %d tokens)",
            self.name,
            target,
            time.monotonic() - started,
            self.dim,
            self.max_tokens,
        )

    @property
    def model(self):
        """The underlying SentenceTransformer."""
        return self._model

    def _embed(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        import torch

        if isinstance(texts, str):
            raise TypeError("expected a sequence of strings, got a single str")
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            vectors = self._model.encode(
                list(texts),
                prompt=prompt,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.passage_prompt)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.query_prompt)

    def count_tokens(self, text: str) -> int:
        full = self.passage_prompt + text
        if self._counter is not None:
            return len(self._counter.encode(full, add_special_tokens=True).ids)
        return len(self._model.tokenizer(full, add_special_tokens=True, truncation=False)["input_ids"])
