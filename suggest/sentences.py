"""How closely a section's best sentence matches a query, for choosing the section a draft quotes.

A section's own vector averages all it says: the Slack article's "Troubleshooting" holds three unrelated
problems, so the one that answers ("Notifications stopped arriving in Slack. The person who connected the
integration may have left the Slack workspace.") is diluted by the other two and loses to a section that is
about the question's words as a whole. The answer is usually one step, condition or number: a section is
scored by the mean of its own cosine and its best sentence's cosine (each sentence embedded with the article
title and heading, as chunks are: kb/chunks.py). The opening keeps its own cosine: it summarises the article,
so one of its sentences resembles every question about it (docs/agent-draft.md).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from kb.chunks import header
from kb.embedder import Embedder
from kb.store.base import TITLE_INDEX
from search.retrieval import ArticleHit

# Sentences end at . ! ? … before white space; lines (list items, steps, table rows) always end one.
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+|\n+")
_MARKUP = " \t-*•>#|"
_MIN_CHARS = 4  # shorter pieces (a lone "1." or "→") say nothing
CACHED_CHUNKS = 4096  # sentence vectors kept, per chunk text: an article's are embedded once per process


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip(_MARKUP) for p in _SENTENCE_RE.split(text)) if len(s) >= _MIN_CHARS]


class SentenceScorer:
    """Scores an article's sections for a query by their own and their best sentence's cosine."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()  # the web server drafts for several agents at once

    def _sentence_vectors(self, chunk: dict) -> np.ndarray | None:
        key = chunk.get("chunk_hash") or chunk.get("text", "")
        with self._lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        parts = sentences(chunk.get("text", ""))
        head = header(chunk.get("title", ""), chunk.get("heading_path") or [])
        vectors = self.embedder.embed_passages([f"{head}\n{s}" for s in parts]) if parts else None
        with self._lock:
            self._vectors[key] = vectors
            if len(self._vectors) > CACHED_CHUNKS:
                self._vectors.popitem(last=False)
        return vectors

    def rescored(self, hit: ArticleHit, vector: np.ndarray) -> ArticleHit:
        """The hit with each section's score the mean of its cosine and its best sentence's, best first."""
        scored = []
        for score, p in hit.passages:
            vs = self._sentence_vectors(p) if p.get("section") and p.get("chunk_index") != TITLE_INDEX else None
            scored.append(((score + float(np.max(vs @ vector))) / 2 if vs is not None else score, p))
        return replace(hit, passages=sorted(scored, key=lambda x: -x[0]))
