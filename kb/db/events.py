"""The event log: searches, result clicks and helpfulness votes written and streamed back, in SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from kb.db.dashboard import Dashboard
from kb.db.engine import database_url, is_sqlite, open_engine, writer_of
from kb.db.event_reads import EventReads
from kb.db.limits import AUDIENCE_MAX, CATEGORY_MAX, ID_MAX, LOCALE_MAX, QUERY_MAX, REASON_MAX, SESSION_MAX
from kb.db.schema import clicks, ensure_schema, search_results, searches, votes
from kb.db.validate import boolean, clean, ident, integer, moment, real, text, utc_now

logger = logging.getLogger(__name__)

BULK_BATCH = 1000


def _results(value: Any) -> list[dict[str, Any]]:
    """Validate results: [{"id": str, "score": number, "rank": int (default: position, 1-based)}]."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"results must be a list of dicts, got {type(value).__name__}")
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"results[{i}] must be a dict, got {type(item).__name__}")
        rank = integer(f"results[{i}].rank", item.get("rank", i + 1))
        if rank in seen:
            raise ValueError(f"results[{i}].rank {rank} is repeated")
        seen.add(rank)
        out.append(
            {
                "rank": rank,
                "article_id": ident(f"results[{i}].id", item.get("id"), ID_MAX),
                "score": real(f"results[{i}].score", item.get("score")),
            }
        )
    return out


def visitor_address(ip: str) -> str:
    """The address that stands for one visitor: IPv4 as is (IPv4-mapped IPv6 too), IPv6 as its /64 network, which
    one subscriber usually holds whole (counting each address would let one client be millions of visitors)."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()  # not an address (e.g. a proxy's placeholder): as given
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class EventLog(EventReads):
    """Append-only log of searches, clicks and votes, and the reads that stream it back; safe to share between
    threads. Its database holds every table of kb.db.schema; `dashboard` aggregates it."""

    def __init__(self, url: str, ip_salt: str = ""):
        """Open (and create if missing) the event log at a SQLAlchemy URL."""
        if not isinstance(ip_salt, str):
            raise ValueError(f"ip_salt must be a string, got {type(ip_salt).__name__}")
        self._ip_key = ip_salt.encode("utf-8")
        self._warned_no_salt = False
        self.engine = open_engine(url)
        # Writes go through this view of the engine: on SQLite it starts them with BEGIN IMMEDIATE.
        self._writer = writer_of(self.engine)
        ensure_schema(self._writer)
        self.dashboard = Dashboard(self.engine, sqlite=is_sqlite(url))

    @property
    def writer(self) -> Engine:
        """The engine to write through (on SQLite it takes the write lock up front)."""
        return self._writer

    @classmethod
    def from_settings(cls, settings: Any) -> EventLog:
        """Open the log configured by kb.settings (database_url, data_dir, ip_salt or the install's own salt)."""
        from kb.db.salt import ip_salt

        return cls(database_url(settings), ip_salt=ip_salt(settings))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> EventLog:
        """Use as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on exit."""
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def _ip_hash(self, ip: Any) -> str | None:
        """HMAC-SHA256(ip_salt, canonical visitor address) truncated to 16 hex chars; None without an ip or a salt."""
        if ip is None:
            return None
        if not isinstance(ip, str):
            raise ValueError(f"ip must be a string, got {type(ip).__name__}")
        if not self._ip_key:
            # Without a secret an IPv4 hash is reversed by trying all 2^32 addresses: store nothing.
            if not self._warned_no_salt:
                logger.warning("event log has no ip_salt: visitor IP hashes are not stored")
                self._warned_no_salt = True
            return None
        text = ip.strip()
        if not text:
            return None
        text = visitor_address(text)
        return hmac.new(self._ip_key, clean(text).encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    def _search_row(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Validate one search's fields into a searches row and its results rows."""
        known = {
            "query",
            "normalized",
            "locale",
            "results",
            "answered",
            "latency_ms",
            "corrected",
            "session",
            "ip",
            "audience",
            "category",
            "at",
            "query_lang",
        }
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"unknown search fields: {', '.join(sorted(unknown))}")
        for name in ("query", "normalized", "locale", "results", "answered", "latency_ms"):
            if name not in row:
                raise ValueError(f"{name} is required")
        results = _results(row["results"])
        normalized = text("normalized", row["normalized"], QUERY_MAX)
        search = {
            "search_id": uuid.uuid4().hex,
            "at": moment("at", row.get("at")) or utc_now(),
            "query": text("query", row["query"], QUERY_MAX),
            # Case-folded so grouping and prefix matching are case-insensitive on every backend.
            "normalized": normalized.casefold()[:QUERY_MAX] if normalized else "",
            "corrected": text("corrected", row.get("corrected"), QUERY_MAX, optional=True),
            "locale": ident("locale", row["locale"], LOCALE_MAX, optional=True),
            "category": ident("category", row.get("category"), CATEGORY_MAX, optional=True),
            "audience": ident("audience", row.get("audience", "customer"), AUDIENCE_MAX),
            "answered": boolean("answered", row["answered"]),
            "result_count": len(results),
            "top_score": max((r["score"] for r in results), default=None),
            "latency_ms": real("latency_ms", row["latency_ms"], minimum=0.0),
            "session": ident("session", row.get("session"), SESSION_MAX, optional=True),
            "ip_hash": self._ip_hash(row.get("ip")),
            "query_lang": ident("query_lang", row.get("query_lang"), LOCALE_MAX, optional=True),
        }
        return search, results

    def log_search(
        self,
        *,
        query: str,
        normalized: str,
        locale: str | None,
        results: list[dict],
        answered: bool,
        latency_ms: float,
        corrected: str | None = None,
        session: str | None = None,
        ip: str | None = None,
        audience: str = "customer",
        category: str | None = None,
        at: datetime | None = None,
        query_lang: str | None = None,
    ) -> str:
        """Log one search with what it showed; returns its search_id (uuid4 hex). query_lang is the language the
        query was written in, when detected (locale is the reader's interface language)."""
        search, results_rows = self._search_row(
            {
                "query": query,
                "normalized": normalized,
                "locale": locale,
                "results": results,
                "answered": answered,
                "latency_ms": latency_ms,
                "corrected": corrected,
                "session": session,
                "ip": ip,
                "audience": audience,
                "category": category,
                "at": at,
                "query_lang": query_lang,
            }
        )
        with self._writer.begin() as conn:
            pk = conn.execute(insert(searches).values(search).returning(searches.c.id)).scalar_one()
            if results_rows:
                conn.execute(insert(search_results), [{"search_pk": pk, **r} for r in results_rows])
        return search["search_id"]

    def log_searches_bulk(self, rows: Iterable[dict[str, Any]]) -> int:
        """Log many searches (dicts of log_search's arguments) with executemany, BULK_BATCH per transaction."""
        total = 0
        batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(f"rows[{i}] must be a dict, got {type(row).__name__}")
            try:
                batch.append(self._search_row(row))
            except ValueError as e:
                raise ValueError(f"rows[{i}]: {e}") from None
            if len(batch) >= BULK_BATCH:
                total += self._insert_batch(batch)
                batch = []
        if batch:
            total += self._insert_batch(batch)
        return total

    def _insert_batch(self, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
        """Insert validated searches and their results in one transaction."""
        with self._writer.begin() as conn:
            stmt = insert(searches).returning(searches.c.search_id, searches.c.id)
            pks = {sid: pk for sid, pk in conn.execute(stmt, [s for s, _ in batch])}
            children = [{"search_pk": pks[s["search_id"]], **r} for s, rs in batch for r in rs]
            if children:
                conn.execute(insert(search_results), children)
        return len(batch)

    def _search_pk(self, conn: Connection, search_id: Any, what: str) -> int:
        """The row id of a logged search, or ValueError saying the search_id is unknown."""
        if not isinstance(search_id, str):
            raise ValueError(f"search_id must be a string, got {type(search_id).__name__}")
        pk = conn.execute(select(searches.c.id).where(searches.c.search_id == search_id)).scalar()
        if pk is None:
            raise ValueError(
                f"cannot log {what}: unknown search_id {search_id!r:.80} (use the id returned by log_search)"
            )
        return pk

    def log_click(self, search_id: str, article_id: str, rank: int | None = None, at: datetime | None = None) -> None:
        """Log a click on a result of a logged search; rank defaults to the article's rank in that search."""
        article_id = ident("article_id", article_id, ID_MAX)
        rank = integer("rank", rank, optional=True)
        when = moment("at", at) or utc_now()
        with self._writer.begin() as conn:
            pk = self._search_pk(conn, search_id, "click")
            if rank is None:
                rank = conn.execute(
                    select(search_results.c.rank)
                    .where(
                        search_results.c.search_pk == pk,
                        search_results.c.article_id == article_id,
                    )
                    .order_by(search_results.c.rank)
                    .limit(1)
                ).scalar()
            conn.execute(insert(clicks).values(search_pk=pk, article_id=article_id, rank=rank, at=when))

    def log_vote(
        self,
        article_id: str,
        helpful: bool,
        reason: str | None = None,
        search_id: str | None = None,
        session: str | None = None,
        ip: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Log a "was this helpful" vote on an article."""
        row = {
            "article_id": ident("article_id", article_id, ID_MAX),
            "helpful": boolean("helpful", helpful),
            "reason": text("reason", reason, REASON_MAX, optional=True),
            "session": ident("session", session, SESSION_MAX, optional=True),
            "ip_hash": self._ip_hash(ip),
            "at": moment("at", at) or utc_now(),
        }
        with self._writer.begin() as conn:
            row["search_pk"] = None if search_id is None else self._search_pk(conn, search_id, "vote")
            conn.execute(insert(votes).values(row))

    # -- reading --------------------------------------------------------------------------------
