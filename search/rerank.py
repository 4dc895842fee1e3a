"""An optional cross-encoder that re-orders the fused candidates and tells the answered decision how well the top one
answers (KB_RERANKER: a local sentence-transformers CrossEncoder folder, or a model name where a hub is reachable).

No pinned PyPI package ships a reranker's weights (../MODELS.md of the project's shared notes), so it is off unless
configured; with one, the bi-encoder's cosine stops being the only judge of whether a passage answers the query,
which is where e5-small's separation ends (docs/answered.md).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kb.chunks import header

if TYPE_CHECKING:
    from kb.settings import Settings
    from search.retrieval import ArticleHit

DEPTH = 10  # fused candidates the reranker reads: the first result page (a forward pass each: docs/answered.md)


class RerankerError(RuntimeError):
    """The configured reranker cannot be loaded (the message names KB_RERANKER and why)."""


class Reranker:
    """Scores (query, passage) pairs with a cross-encoder; thread-safe, one model per process."""

    def __init__(self, name: str, threads: int | None = None):
        from sentence_transformers import CrossEncoder  # only a configured reranker pays for the import

        path = Path(name).expanduser()
        local = path.exists()
        if not local and (name.startswith((".", "/", "~")) or path.suffix):
            raise RerankerError(f"KB_RERANKER: no such folder: {path}")
        try:
            self._model = CrossEncoder(str(path) if local else name, device="cpu", local_files_only=local)
        except Exception as e:  # a folder without a model, or a name no hub can resolve offline
            raise RerankerError(f"KB_RERANKER: cannot load a cross-encoder from {name!r}: {e}") from e
        self.name = str(path.resolve()) if local else name
        self._threads = threads
        self._lock = threading.Lock()

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        """Relevance logits, one per passage (higher: answers the query better)."""
        if not passages:
            return []
        import torch

        with self._lock, torch.inference_mode():
            if self._threads:
                torch.set_num_threads(self._threads)
            # Logits, not the model's own activation: the answered decision needs a scale with room at both ends.
            out = self._model.predict(
                [(query, p) for p in passages], activation_fn=torch.nn.Identity(), show_progress_bar=False
            )
        return [float(x) for x in out]


def passage_text(hit: ArticleHit) -> str:
    """What the reranker reads of a result: its title and section, then the chunk that represents it."""
    return header(hit.title, [hit.section] if hit.section and hit.section != hit.title else []) + "\n" + hit.text


def rerank(reranker: Reranker, query: str, hits: list[ArticleHit]) -> list[ArticleHit]:
    """The first DEPTH hits ordered by the reranker, the rest after them in the fused order. A reranked hit keeps
    the logit in `rerank_score` and its score becomes its sigmoid; the rest are scaled below the lowest of those,
    so everything that reweighs or sorts scores later (translations grouped, agents' feedback) keeps the order."""
    head, tail = hits[:DEPTH], hits[DEPTH:]
    logits = reranker.scores(query, [passage_text(h) for h in head])
    for h, s in zip(head, logits):
        h.rerank_score = s
        h.score = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, s))))
    head.sort(key=lambda h: -(h.rerank_score or 0.0))
    top_tail = max((h.score for h in tail), default=0.0)
    if head and top_tail > 0:
        floor = head[-1].score
        for h in tail:
            h.score = floor * h.score / top_tail
    return head + tail


def load_reranker(settings: Settings) -> Reranker | None:
    """The reranker KB_RERANKER names, or None when it names none."""
    return Reranker(settings.reranker, settings.embed_threads) if settings.reranker.strip() else None
