"""The event log: searches, result clicks and helpfulness votes written and streamed back, in SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, insert, select
from sqlalchemy.engine import Connection, Engine

from kb.db.conditions import clicked, window
from kb.db.dashboard import Dashboard
from kb.db.engine import database_url, is_sqlite, open_engine, writer_of
from kb.db.limits import AUDIENCE_MAX, CATEGORY_MAX, ID_MAX, LOCALE_MAX, QUERY_MAX, REASON_MAX, SESSION_MAX
from kb.db.schema import clicks, ensure_schema, search_results, searches, votes
from kb.db.validate import boolean, clean, ident, integer, moment, real, text, utc_now

logger = logging.getLogger(__name__)

BULK_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SearchEvent:
    """One logged search as read back by iter_searches and get_search."""

    search_id: str
    at: datetime
    query: str
    normalized: str
    locale: str | None
    answered: bool
    result_ids: tuple[str, ...]
    top_score: float | None
    latency_ms: float
    clicked: bool
    audience: str
    session: str | None
    query_lang: str | None = None  # the language the query was written in (None: not detected, or logged before)


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


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with prefix literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class EventLog:
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
        """Open the log configured by kb.settings (database_url, data_dir, ip_salt)."""
        salt = settings.ip_salt.get_secret_value() if settings.ip_salt else ""
        return cls(database_url(settings), ip_salt=salt)

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
        """HMAC-SHA256(ip_salt, canonical ip) truncated to 16 hex chars; None without an ip or a salt."""
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
        try:
            addr = ipaddress.ip_address(text)
            mapped = getattr(addr, "ipv4_mapped", None)
            text = str(mapped or addr)
        except ValueError:
            pass  # not an address (e.g. a proxy's placeholder): hash it as given
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

    def _events(
        self,
        conn: Connection,
        conds: list[Any],
        *,
        after: int | None = None,
        upto: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[SearchEvent], int | None]:
        """SearchEvents matching conds in id order, within (after, upto]; returns them and the last id."""
        where = list(conds)
        if after is not None:
            where.append(searches.c.id > after)
        if upto is not None:
            where.append(searches.c.id <= upto)
        s = searches.c
        rows = conn.execute(
            select(
                s.id,
                s.search_id,
                s.at,
                s.query,
                s.normalized,
                s.locale,
                s.answered,
                s.result_count,
                s.top_score,
                s.latency_ms,
                clicked().label("clicked"),
                s.audience,
                s.session,
                s.query_lang,
            )
            .where(*where)
            .order_by(s.id)
            .limit(limit)
        ).all()
        if not rows:
            return [], None
        # Results only for the searches that had any, by primary key, in chunks well under parameter limits.
        ids: dict[int, list[str]] = {}
        shown = [r.id for r in rows if r.result_count]
        for i in range(0, len(shown), 1000):
            for pk, article_id in conn.execute(
                select(search_results.c.search_pk, search_results.c.article_id)
                .where(search_results.c.search_pk.in_(shown[i : i + 1000]))
                .order_by(search_results.c.search_pk, search_results.c.rank)
            ):
                ids.setdefault(pk, []).append(article_id)
        events = [
            SearchEvent(
                search_id=r.search_id,
                at=r.at,
                query=r.query,
                normalized=r.normalized,
                locale=r.locale,
                answered=bool(r.answered),
                result_ids=tuple(ids.get(r.id, ())),
                top_score=r.top_score,
                latency_ms=r.latency_ms,
                clicked=bool(r.clicked),
                audience=r.audience,
                session=r.session,
                query_lang=r.query_lang,
            )
            for r in rows
        ]
        return events, rows[-1].id

    def get_search(self, search_id: str) -> SearchEvent | None:
        """One logged search by search_id, or None."""
        if not isinstance(search_id, str):
            raise ValueError(f"search_id must be a string, got {type(search_id).__name__}")
        with self.engine.connect() as conn:
            events, _ = self._events(conn, [searches.c.search_id == search_id])
        return events[0] if events else None

    def iter_searches(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        answered: bool | None = None,
        batch: int = 5000,
    ) -> Iterator[SearchEvent]:
        """Stream searches with since <= at < until in id order, batch rows per short read (keyset, no OFFSET)."""
        since, until = moment("since", since), moment("until", until)
        if answered is not None:
            answered = boolean("answered", answered)
        batch = integer("batch", batch, minimum=1)

        def conditions(at: Any, answered_col: Any) -> list[Any]:
            conds = window(at, since, until)
            return conds if answered is None else [*conds, answered_col == answered]

        # Bound the id range once, through the (at) / (answered, at) indexes; rows logged while streaming
        # do not extend the stream.
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                select(func.min(searches.c.id), func.max(searches.c.id)).where(
                    *conditions(searches.c.at, searches.c.answered)
                )
            ).one()
        if lo is None:
            return
        # Batches walk the primary key from there. The filters are wrapped in an expression so no planner
        # serves them from an index instead: that would rescan every match and sort it, once per batch.
        conds = conditions(
            func.coalesce(searches.c.at, searches.c.at), func.coalesce(searches.c.answered, searches.c.answered)
        )
        last = lo - 1
        while True:
            # The connection is returned before yielding: a slow or abandoned consumer holds no lock.
            with self.engine.connect() as conn:
                events, last_id = self._events(conn, conds, after=last, upto=hi, limit=batch)
            yield from events
            if last_id is None or len(events) < batch or last_id >= hi:
                return
            last = last_id

    def popular_queries(
        self,
        locale: str | None = None,
        prefix: str = "",
        limit: int = 10,
        min_count: int = 2,
        *,
        audience: str = "customer",
    ) -> list[tuple[str, int]]:
        """Frequent answered queries by normalized text, counted once per visitor, for autocomplete."""
        if locale is not None:
            locale = ident("locale", locale, LOCALE_MAX)
        prefix = text("prefix", prefix, QUERY_MAX).casefold()
        limit = integer("limit", limit, minimum=1)
        min_count = integer("min_count", min_count, minimum=1)
        s = searches.c
        # One person repeating a query (maybe with their email in it) must not make it a suggestion:
        # count distinct sessions, else IP hashes, else the search itself.
        visitors = func.count(distinct(func.coalesce(s.session, s.ip_hash, s.search_id))).label("n")
        conds = [s.answered.is_(True), s.audience == ident("audience", audience, AUDIENCE_MAX), s.normalized != ""]
        if locale is not None:
            conds.append(s.locale == locale)
        if prefix:
            conds.append(s.normalized.like(_like_prefix(prefix), escape="\\"))
        stmt = (
            select(s.normalized, visitors)
            .where(*conds)
            .group_by(s.normalized)
            .having(visitors >= min_count)
            .order_by(visitors.desc(), s.normalized)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(q, int(n)) for q, n in conn.execute(stmt)]

    def popular_articles(self, limit: int = 10, days: float = 30) -> list[tuple[str, int]]:
        """Most clicked article ids over the last days, with their click counts."""
        limit = integer("limit", limit, minimum=1)
        days = real("days", days, minimum=0.0)
        n = func.count().label("n")
        stmt = (
            select(clicks.c.article_id, n)
            .where(clicks.c.at >= utc_now() - timedelta(days=days))
            .group_by(clicks.c.article_id)
            .order_by(n.desc(), clicks.c.article_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(a, int(c)) for a, c in conn.execute(stmt)]

    def helpfulness(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) vote counts for an article."""
        article_id = ident("article_id", article_id, ID_MAX)
        stmt = select(votes.c.helpful, func.count()).where(votes.c.article_id == article_id).group_by(votes.c.helpful)
        with self.engine.connect() as conn:
            counts = {bool(h): int(n) for h, n in conn.execute(stmt)}
        return counts.get(True, 0), counts.get(False, 0)
