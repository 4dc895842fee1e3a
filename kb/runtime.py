"""Builds the heavy objects (embedder, store) from settings, once, when first needed."""

from __future__ import annotations

from functools import cached_property

from kb.settings import Settings
from kb.store import VectorStore, open_store


class Runtime:
    """The embedder and the store for one process; the model loads on first use, never at import."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def embedder(self):
        from kb.embedder import load_embedder  # torch and the model load only when asked for

        return load_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        return open_store(self.settings)

    def indexer(self, progress: bool = False):
        from kb.indexer import Indexer

        return Indexer(self.store, self.embedder, self.settings.chunk_tokens, progress=progress)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
