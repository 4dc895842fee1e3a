"""Builds the store, the embedder, the database and the services over them, each on first use."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from kb.settings import Settings

if TYPE_CHECKING:
    from kb.db.accounts import Accounts
    from kb.db.events import EventLog
    from kb.db.tickets import TicketLog
    from kb.embedder import Embedder
    from kb.indexer import Indexer
    from kb.store import VectorStore
    from search.catalog import Catalog
    from search.rerank import Reranker
    from search.retrieval import Retriever
    from search.service import SearchService
    from suggest.service import SuggestService

logger = logging.getLogger(__name__)


class Runtime:
    """What one process works with. Heavy pieces (the model, the shard, the database) open on first use, so a
    command opens only what it needs; whatever was opened here is closed by close(), what was passed in is not."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, store: VectorStore | None = None):
        self.settings = settings
        self._closers: list[Callable[[], None]] = []
        # Injected pieces (tests, evaluation harnesses) take the place of the ones built from settings.
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if store is not None:
            self.__dict__["store"] = store

    @cached_property
    def embedder(self) -> Embedder:
        from kb.embedder import load_embedder  # torch and the model load only when asked for

        return load_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        from kb.store import open_store

        store = open_store(self.settings)
        self._closers.append(store.close)
        return store

    @cached_property
    def events(self) -> EventLog:
        """The event log; its database also holds logins, suggestions and feedback."""
        from kb.db.events import EventLog

        events = EventLog.from_settings(self.settings)
        self._closers.append(events.close)
        return events

    @cached_property
    def accounts(self) -> Accounts:
        from kb.db.accounts import Accounts

        return Accounts(self.events.writer)

    @cached_property
    def tickets(self) -> TicketLog:
        from kb.db.tickets import TicketLog

        return TicketLog(self.events)

    @cached_property
    def reranker(self) -> Reranker | None:
        """The cross-encoder KB_RERANKER names (None: results keep the fused order)."""
        from search.rerank import load_reranker

        return load_reranker(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        from search.retrieval import Retriever

        return Retriever(self.store, self.embedder, reranker=self.reranker)

    @cached_property
    def search(self) -> SearchService:
        """Customer search, logged to the event log, with spelling correction from the indexed vocabulary."""
        from search.service import SearchService
        from search.spelling import SpellCorrector

        return SearchService(self.store, self.retriever, self.events, speller=SpellCorrector.from_store(self.store))

    @cached_property
    def catalog(self) -> Catalog:
        from search.catalog import Catalog

        return Catalog(self.store, self.retriever, self.events, min_visitors=self.settings.autocomplete_min_visitors)

    @cached_property
    def suggest(self) -> SuggestService:
        """Suggestions for agents, reweighted by the feedback agents gave on similar tickets; the answered decision
        is the customer search's (one calibration per process)."""
        from suggest.routing import ROUTING_FILE, RoutingTable
        from suggest.service import SuggestService

        return SuggestService(
            self.retriever,
            self.tickets,
            base_url=self.settings.site_url,
            calibrations=self.search.calibrations,
            routing=RoutingTable(self.settings.articles_dir / ROUTING_FILE),
        )

    def suggest_from_index(self) -> SuggestService:
        """Suggestions from the index alone: no database is opened, no earlier feedback applies."""
        from suggest.routing import ROUTING_FILE, RoutingTable
        from suggest.service import SuggestService

        return SuggestService(
            self.retriever,
            base_url=self.settings.site_url,
            routing=RoutingTable(self.settings.articles_dir / ROUTING_FILE),
        )

    def indexer(self, progress: bool = False) -> Indexer:
        from kb.indexer import Indexer

        return Indexer(self.store, self.embedder, self.settings.chunk_tokens, progress=progress)

    def close(self) -> None:
        """Close what this runtime opened, newest first; an error closing one does not keep the rest open."""
        while self._closers:
            close = self._closers.pop()
            try:
                close()
            except Exception:
                logger.exception("error while closing %r", close)


@contextmanager
def open_runtime(
    settings: Settings, *, embedder: Embedder | None = None, store: VectorStore | None = None
) -> Iterator[Runtime]:
    """A Runtime for settings, closed on exit; pass an embedder or a store to use them instead of building them."""
    runtime = Runtime(settings, embedder=embedder, store=store)
    try:
        yield runtime
    finally:
        runtime.close()
