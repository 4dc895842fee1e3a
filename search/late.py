"""Late interaction: how well each of the query's tokens is matched somewhere in a passage, with e5's own token
states (ColBERT's max-sim, without a ColBERT model).

A pooled cosine says a passage is about the same thing; max-sim says the passage holds each part of the question
(the name, the year, the condition). On the answered protocol it is the one new feature that raised the
label-fitted ceiling on every shared set, most across languages (docs/answered.md).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from kb.chunks import header
from kb.embedder import Embedder

CACHE_PASSAGES = 256  # passages whose token states are kept (~0.2 MB each at 256 tokens): the popular ones


def passage_text(chunk: dict) -> str:
    """What the model embedded for a chunk (its article title, heading path and text)."""
    return header(chunk.get("title", ""), chunk.get("heading_path") or []) + "\n" + (chunk.get("text") or "")


def maxsim(query: np.ndarray, passage: np.ndarray) -> float:
    """Mean over the query's tokens of its best cosine to any of the passage's tokens."""
    if not len(query) or not len(passage):
        return 0.0
    return float((query @ passage.T).max(axis=1).mean())


class LateInteraction:
    """Max-sim of a query over a chunk; token states kept in a small LRU, since one article answers many
    searches."""

    def __init__(self, embedder: Embedder, cache: int = CACHE_PASSAGES):
        self.embedder, self.size = embedder, cache
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _states(self, text: str, passage: bool) -> np.ndarray:
        key = ("p" if passage else "q") + hashlib.sha1(text.encode("utf-8")).hexdigest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        states = self.embedder.token_vectors([text], passage=passage)[0].astype(np.float16)
        with self._lock:
            self._cache[key] = states
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return states

    def score(self, query: str, chunk: dict) -> float:
        # The query's states are kept too: the KB fit searches each pseudo-query two or three times.
        q = self._states(query, passage=False).astype(np.float32)
        return maxsim(q, self._states(passage_text(chunk), passage=True).astype(np.float32))
