"""The event log: searches, result clicks and helpfulness votes, in SQLite (default) or PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import numbers
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, Dialect, Float, ForeignKey, Index, Integer, MetaData, String, Table,
    case, create_engine, distinct, event, exists, func, insert, select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

QUERY_MAX = 500
REASON_MAX = 1000
ID_MAX = 255
SESSION_MAX = 128
LOCALE_MAX = 16
AUDIENCE_MAX = 32
CATEGORY_MAX = 100
BULK_BATCH = 1000
SQLITE_BUSY_TIMEOUT_S = 30.0

UTC = timezone.utc


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC text that sorts correctly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC; SQLite gets it without tzinfo."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT keys on PostgreSQL; SQLite needs INTEGER PRIMARY KEY to alias the rowid.
PK = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

searches = Table(
    "searches", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("search_id", String(32), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("query", String(QUERY_MAX), nullable=False),
    Column("normalized", String(QUERY_MAX), nullable=False),
    Column("corrected", String(QUERY_MAX)),
    Column("locale", String(LOCALE_MAX)),
    Column("category", String(CATEGORY_MAX)),
    Column("audience", String(AUDIENCE_MAX), nullable=False),
    Column("answered", Boolean(), nullable=False),
    Column("result_count", Integer(), nullable=False),
    Column("top_score", Float()),
    Column("latency_ms", Float(), nullable=False),
    Column("session", String(SESSION_MAX)),
    Column("ip_hash", String(16)),
    Index("ix_searches_at", "at"),
    Index("ix_searches_answered_at", "answered", "at"),
    Index("ix_searches_normalized", "normalized"),
)

search_results = Table(
    "search_results", metadata,
    Column("search_pk", PK, ForeignKey("searches.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer(), primary_key=True),
    Column("article_id", String(ID_MAX), nullable=False),
    Column("score", Float(), nullable=False),
    Index("ix_search_results_article_id", "article_id"),
)

clicks = Table(
    "clicks", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("search_pk", PK, ForeignKey("searches.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", String(ID_MAX), nullable=False),
    Column("rank", Integer()),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_clicks_search_pk", "search_pk"),
    Index("ix_clicks_at_article_id", "at", "article_id"),
    Index("ix_clicks_article_id", "article_id"),
)

votes = Table(
    "votes", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("article_id", String(ID_MAX), nullable=False),
    Column("helpful", Boolean(), nullable=False),
    Column("reason", String(REASON_MAX)),
    Column("search_pk", PK, ForeignKey("searches.id", ondelete="SET NULL")),
    Column("session", String(SESSION_MAX)),
    Column("ip_hash", String(16)),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_votes_article_id_helpful", "article_id", "helpful"),
    Index("ix_votes_at", "at"),
)


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


def database_url(settings: Any) -> str:
    """The event log's SQLAlchemy URL: settings.database_url, else SQLite in data_dir."""
    return settings.database_url or f"sqlite:///{settings.data_dir}/events.sqlite3"


# -- validation ---------------------------------------------------------------------------------


def _clean(value: str) -> str:
    """Make text storable on every backend: NUL and lone surrogates become U+FFFD."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _text(name: str, value: Any, limit: int, *, optional: bool = False) -> str | None:
    """Free text: a str (or None when optional), cleaned and truncated to limit characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return _clean(value)[:limit]


def _ident(name: str, value: Any, limit: int, *, optional: bool = False) -> str | None:
    """An identifier: a non-empty str of at most limit characters (never truncated silently)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r:.60}")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return _clean(value)


def _bool(name: str, value: Any) -> bool:
    """A bool (numpy bools accepted)."""
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise ValueError(f"{name} must be a bool, got {type(value).__name__}")


def _float(name: str, value: Any, *, minimum: float | None = None) -> float:
    """A finite real number (numpy scalars accepted), not a bool."""
    kind = type(value)
    if not (kind is float or kind is int) and (kind is bool or not isinstance(value, numbers.Real)):
        raise ValueError(f"{name} must be a finite number, got {value!r:.60}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r:.60}")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return number


def _int(name: str, value: Any, *, minimum: int = 0, optional: bool = False) -> int | None:
    """An integer >= minimum (numpy integers accepted), not a bool."""
    if value is None and optional:
        return None
    if type(value) is int and value >= minimum:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r:.60}")
    return int(value)


def _when(name: str, value: Any, *, optional: bool = True) -> datetime | None:
    """A timezone-aware datetime converted to UTC; None means now (or no bound) when optional."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


def _now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def _results(value: Any) -> list[dict[str, Any]]:
    """Validate results: [{"id": str, "score": number, "rank": int (default: position, 1-based)}]."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"results must be a list of dicts, got {type(value).__name__}")
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"results[{i}] must be a dict, got {type(item).__name__}")
        rank = _int(f"results[{i}].rank", item.get("rank", i + 1))
        if rank in seen:
            raise ValueError(f"results[{i}].rank {rank} is repeated")
        seen.add(rank)
        out.append({"rank": rank, "article_id": _ident(f"results[{i}].id", item.get("id"), ID_MAX),
                    "score": _float(f"results[{i}].score", item.get("score"))})
    return out


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with prefix literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _rate(part: int, whole: int) -> float:
    """part / whole, 0.0 when whole is 0."""
    return part / whole if whole else 0.0


# -- the log ------------------------------------------------------------------------------------


class EventLog:
    """Append-only log of searches, clicks and votes; safe to share between threads."""

    def __init__(self, url: str, ip_salt: str = ""):
        """Open (and create if missing) the event log at a SQLAlchemy URL."""
        if not isinstance(ip_salt, str):
            raise ValueError(f"ip_salt must be a string, got {type(ip_salt).__name__}")
        self._ip_key = ip_salt.encode("utf-8")
        self._warned_no_salt = False
        parsed = make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        if self._sqlite:
            self.engine = self._sqlite_engine(url, parsed.database)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        # Writes go through this view of the engine: on SQLite it starts them with BEGIN IMMEDIATE.
        self._writer = self.engine.execution_options(kb_write=True)
        metadata.create_all(self._writer)

    @property
    def writer(self) -> Engine:
        """The engine to write through (on SQLite it takes the write lock up front)."""
        return self._writer

    @classmethod
    def from_settings(cls, settings: Any) -> EventLog:
        """Open the log configured by kb.settings (database_url, data_dir, ip_salt)."""
        salt = settings.ip_salt.get_secret_value() if settings.ip_salt else ""
        return cls(database_url(settings), ip_salt=salt)

    @staticmethod
    def _sqlite_engine(url: str, database: str | None) -> Engine:
        """A pooled SQLite engine: WAL, foreign keys, busy timeout, explicit BEGIN (IMMEDIATE for writes)."""
        memory = not database or database == ":memory:" or "mode=memory" in url
        if not memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}}
        if memory:
            kwargs["poolclass"] = StaticPool  # one shared connection, else every connection has its own database
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A write takes the lock up front, so it waits (busy timeout) instead of failing on upgrade;
            # a read gets a plain BEGIN: one consistent snapshot per transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("kb_write") else "BEGIN")

        return engine

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
        return hmac.new(self._ip_key, _clean(text).encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    def _search_row(self, row: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Validate one search's fields into a searches row and its results rows."""
        known = {"query", "normalized", "locale", "results", "answered", "latency_ms", "corrected", "session",
                 "ip", "audience", "category", "at"}
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"unknown search fields: {', '.join(sorted(unknown))}")
        for name in ("query", "normalized", "locale", "results", "answered", "latency_ms"):
            if name not in row:
                raise ValueError(f"{name} is required")
        results = _results(row["results"])
        normalized = _text("normalized", row["normalized"], QUERY_MAX)
        search = {
            "search_id": uuid.uuid4().hex,
            "at": _when("at", row.get("at")) or _now(),
            "query": _text("query", row["query"], QUERY_MAX),
            # Case-folded so grouping and prefix matching are case-insensitive on every backend.
            "normalized": normalized.casefold()[:QUERY_MAX] if normalized else "",
            "corrected": _text("corrected", row.get("corrected"), QUERY_MAX, optional=True),
            "locale": _ident("locale", row["locale"], LOCALE_MAX, optional=True),
            "category": _ident("category", row.get("category"), CATEGORY_MAX, optional=True),
            "audience": _ident("audience", row.get("audience", "customer"), AUDIENCE_MAX),
            "answered": _bool("answered", row["answered"]),
            "result_count": len(results),
            "top_score": max((r["score"] for r in results), default=None),
            "latency_ms": _float("latency_ms", row["latency_ms"], minimum=0.0),
            "session": _ident("session", row.get("session"), SESSION_MAX, optional=True),
            "ip_hash": self._ip_hash(row.get("ip")),
        }
        return search, results

    def log_search(self, *, query: str, normalized: str, locale: str | None, results: list[dict],
                   answered: bool, latency_ms: float, corrected: str | None = None, session: str | None = None,
                   ip: str | None = None, audience: str = "customer", category: str | None = None,
                   at: datetime | None = None) -> str:
        """Log one search with what it showed; returns its search_id (uuid4 hex)."""
        search, results_rows = self._search_row({
            "query": query, "normalized": normalized, "locale": locale, "results": results, "answered": answered,
            "latency_ms": latency_ms, "corrected": corrected, "session": session, "ip": ip, "audience": audience,
            "category": category, "at": at,
        })
        with self._writer.begin() as conn:
            pk = conn.execute(insert(searches).values(search)).inserted_primary_key[0]
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
            raise ValueError(f"cannot log {what}: unknown search_id {search_id!r:.80} "
                             "(use the id returned by log_search)")
        return pk

    def log_click(self, search_id: str, article_id: str, rank: int | None = None, at: datetime | None = None) -> None:
        """Log a click on a result of a logged search; rank defaults to the article's rank in that search."""
        article_id = _ident("article_id", article_id, ID_MAX)
        rank = _int("rank", rank, optional=True)
        when = _when("at", at) or _now()
        with self._writer.begin() as conn:
            pk = self._search_pk(conn, search_id, "click")
            if rank is None:
                rank = conn.execute(select(search_results.c.rank).where(
                    search_results.c.search_pk == pk, search_results.c.article_id == article_id,
                ).order_by(search_results.c.rank).limit(1)).scalar()
            conn.execute(insert(clicks).values(search_pk=pk, article_id=article_id, rank=rank, at=when))

    def log_vote(self, article_id: str, helpful: bool, reason: str | None = None, search_id: str | None = None,
                 session: str | None = None, ip: str | None = None, at: datetime | None = None) -> None:
        """Log a "was this helpful" vote on an article."""
        row = {
            "article_id": _ident("article_id", article_id, ID_MAX),
            "helpful": _bool("helpful", helpful),
            "reason": _text("reason", reason, REASON_MAX, optional=True),
            "session": _ident("session", session, SESSION_MAX, optional=True),
            "ip_hash": self._ip_hash(ip),
            "at": _when("at", at) or _now(),
        }
        with self._writer.begin() as conn:
            row["search_pk"] = None if search_id is None else self._search_pk(conn, search_id, "vote")
            conn.execute(insert(votes).values(row))

    # -- reading --------------------------------------------------------------------------------

    @staticmethod
    def _window(column: Any, since: Any, until: Any) -> list[Any]:
        """Conditions for since <= column < until."""
        since, until = _when("since", since), _when("until", until)
        conds = []
        if since is not None:
            conds.append(column >= since)
        if until is not None:
            conds.append(column < until)
        return conds

    @staticmethod
    def _clicked() -> Any:
        """EXISTS(a click on this search), correlated to searches."""
        return exists().where(clicks.c.search_pk == searches.c.id)

    def _events(self, conn: Connection, conds: list[Any], *, after: int | None = None, upto: int | None = None,
                limit: int | None = None) -> tuple[list[SearchEvent], int | None]:
        """SearchEvents matching conds in id order, within (after, upto]; returns them and the last id."""
        where = list(conds)
        if after is not None:
            where.append(searches.c.id > after)
        if upto is not None:
            where.append(searches.c.id <= upto)
        s = searches.c
        rows = conn.execute(
            select(s.id, s.search_id, s.at, s.query, s.normalized, s.locale, s.answered, s.result_count,
                   s.top_score, s.latency_ms, self._clicked().label("clicked"), s.audience, s.session)
            .where(*where).order_by(s.id).limit(limit)
        ).all()
        if not rows:
            return [], None
        # Results only for the searches that had any, by primary key, in chunks well under parameter limits.
        ids: dict[int, list[str]] = {}
        shown = [r.id for r in rows if r.result_count]
        for i in range(0, len(shown), 1000):
            for pk, article_id in conn.execute(
                select(search_results.c.search_pk, search_results.c.article_id)
                .where(search_results.c.search_pk.in_(shown[i:i + 1000]))
                .order_by(search_results.c.search_pk, search_results.c.rank)
            ):
                ids.setdefault(pk, []).append(article_id)
        events = [SearchEvent(
            search_id=r.search_id, at=r.at, query=r.query, normalized=r.normalized, locale=r.locale,
            answered=bool(r.answered), result_ids=tuple(ids.get(r.id, ())), top_score=r.top_score,
            latency_ms=r.latency_ms, clicked=bool(r.clicked), audience=r.audience, session=r.session,
        ) for r in rows]
        return events, rows[-1].id

    def get_search(self, search_id: str) -> SearchEvent | None:
        """One logged search by search_id, or None."""
        if not isinstance(search_id, str):
            raise ValueError(f"search_id must be a string, got {type(search_id).__name__}")
        with self.engine.connect() as conn:
            events, _ = self._events(conn, [searches.c.search_id == search_id])
        return events[0] if events else None

    def iter_searches(self, since: datetime | None = None, until: datetime | None = None, *,
                      answered: bool | None = None, batch: int = 5000) -> Iterator[SearchEvent]:
        """Stream searches with since <= at < until in id order, batch rows per short read (keyset, no OFFSET)."""
        since, until = _when("since", since), _when("until", until)
        if answered is not None:
            answered = _bool("answered", answered)
        batch = _int("batch", batch, minimum=1)

        def conditions(at: Any, answered_col: Any) -> list[Any]:
            conds = self._window(at, since, until)
            return conds if answered is None else [*conds, answered_col == answered]

        # Bound the id range once, through the (at) / (answered, at) indexes; rows logged while streaming
        # do not extend the stream.
        with self.engine.connect() as conn:
            lo, hi = conn.execute(select(func.min(searches.c.id), func.max(searches.c.id))
                                  .where(*conditions(searches.c.at, searches.c.answered))).one()
        if lo is None:
            return
        # Batches walk the primary key from there. The filters are wrapped in an expression so no planner
        # serves them from an index instead: that would rescan every match and sort it, once per batch.
        conds = conditions(func.coalesce(searches.c.at, searches.c.at),
                           func.coalesce(searches.c.answered, searches.c.answered))
        last = lo - 1
        while True:
            # The connection is returned before yielding: a slow or abandoned consumer holds no lock.
            with self.engine.connect() as conn:
                events, last_id = self._events(conn, conds, after=last, upto=hi, limit=batch)
            yield from events
            if last_id is None or len(events) < batch or last_id >= hi:
                return
            last = last_id

    def popular_queries(self, locale: str | None = None, prefix: str = "", limit: int = 10, min_count: int = 2,
                        *, audience: str = "customer") -> list[tuple[str, int]]:
        """Frequent answered queries by normalized text, counted once per visitor, for autocomplete."""
        if locale is not None:
            locale = _ident("locale", locale, LOCALE_MAX)
        prefix = _text("prefix", prefix, QUERY_MAX).casefold()
        limit = _int("limit", limit, minimum=1)
        min_count = _int("min_count", min_count, minimum=1)
        s = searches.c
        # One person repeating a query (maybe with their email in it) must not make it a suggestion:
        # count distinct sessions, else IP hashes, else the search itself.
        visitors = func.count(distinct(func.coalesce(s.session, s.ip_hash, s.search_id))).label("n")
        conds = [s.answered.is_(True), s.audience == _ident("audience", audience, AUDIENCE_MAX), s.normalized != ""]
        if locale is not None:
            conds.append(s.locale == locale)
        if prefix:
            conds.append(s.normalized.like(_like_prefix(prefix), escape="\\"))
        stmt = (select(s.normalized, visitors).where(*conds).group_by(s.normalized)
                .having(visitors >= min_count).order_by(visitors.desc(), s.normalized).limit(limit))
        with self.engine.connect() as conn:
            return [(q, int(n)) for q, n in conn.execute(stmt)]

    def popular_articles(self, limit: int = 10, days: int = 30) -> list[tuple[str, int]]:
        """Most clicked article ids over the last days, with their click counts."""
        limit = _int("limit", limit, minimum=1)
        days = _float("days", days, minimum=0.0)
        n = func.count().label("n")
        stmt = (select(clicks.c.article_id, n).where(clicks.c.at >= _now() - timedelta(days=days))
                .group_by(clicks.c.article_id).order_by(n.desc(), clicks.c.article_id).limit(limit))
        with self.engine.connect() as conn:
            return [(a, int(c)) for a, c in conn.execute(stmt)]

    def top_queries(self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 20,
                    answered: bool | None = None, zero_result: bool = False,
                    audience: str = "customer") -> list[dict[str, Any]]:
        """The most frequent normalized queries with their count, answered rate and click-through."""
        s = searches.c
        n = func.count().label("n")
        conds = [*self._window(s.at, since, until), s.audience == _ident("audience", audience, AUDIENCE_MAX)]
        if answered is not None:
            conds.append(s.answered.is_(_bool("answered", answered)))
        if zero_result:
            conds.append(s.result_count == 0)
        stmt = (select(s.normalized, n, func.sum(case((s.answered, 1), else_=0)),
                       func.sum(case((self._clicked(), 1), else_=0)), func.min(s.locale), func.max(s.at))
                .where(*conds).group_by(s.normalized).order_by(n.desc(), s.normalized)
                .limit(_int("limit", limit, minimum=1)))
        with self.engine.connect() as conn:
            return [{"query": q, "count": int(c), "answered_rate": _rate(int(a or 0), int(c)),
                     "click_through_rate": _rate(int(k or 0), int(c)), "locale": loc, "last": last}
                    for q, c, a, k, loc, last in conn.execute(stmt)]

    def _day(self, column: Any) -> Any:
        # SQLite keeps timestamps as ISO text, PostgreSQL as timestamptz (stored in UTC).
        return func.substr(column, 1, 10) if self._sqlite else func.to_char(column, "YYYY-MM-DD")

    def daily(self, since: datetime | None = None, until: datetime | None = None,
              audience: str = "customer") -> list[dict[str, Any]]:
        """Per UTC day: searches, answered and clicked searches, for the dashboard's chart."""
        s = searches.c
        day = self._day(s.at).label("day")
        stmt = (select(day, func.count(), func.sum(case((s.answered, 1), else_=0)),
                       func.sum(case((self._clicked(), 1), else_=0)))
                .where(*self._window(s.at, since, until), s.audience == _ident("audience", audience, AUDIENCE_MAX))
                .group_by(day).order_by(day))
        with self.engine.connect() as conn:
            return [{"day": str(d), "searches": int(n), "answered": int(a or 0), "clicked": int(c or 0)}
                    for d, n, a, c in conn.execute(stmt)]

    def article_votes(self, since: datetime | None = None, until: datetime | None = None,
                      limit: int = 20) -> list[dict[str, Any]]:
        """Articles by "not helpful" votes: helpful and not-helpful counts and the most given reason."""
        v = votes.c
        bad = func.sum(case((v.helpful.is_(False), 1), else_=0)).label("bad")
        stmt = (select(v.article_id, func.sum(case((v.helpful, 1), else_=0)), bad)
                .where(*self._window(v.at, since, until)).group_by(v.article_id)
                .order_by(bad.desc(), v.article_id).limit(_int("limit", limit, minimum=1)))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            out = []
            for aid, good, nbad in rows:
                reason = conn.execute(select(v.reason, func.count().label("n")).where(
                    v.article_id == aid, v.helpful.is_(False), v.reason.is_not(None),
                    *self._window(v.at, since, until)).group_by(v.reason).order_by(func.count().desc()).limit(1)).first()
                out.append({"article_id": aid, "helpful": int(good or 0), "not_helpful": int(nbad or 0),
                            "top_reason": reason[0] if reason else None})
        return out

    def helpfulness(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) vote counts for an article."""
        article_id = _ident("article_id", article_id, ID_MAX)
        stmt = (select(votes.c.helpful, func.count()).where(votes.c.article_id == article_id)
                .group_by(votes.c.helpful))
        with self.engine.connect() as conn:
            counts = {bool(h): int(n) for h, n in conn.execute(stmt)}
        return counts.get(True, 0), counts.get(False, 0)

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Dashboard numbers for since <= at < until (rates are fractions of searches; CTR = searches with a click)."""
        s = searches.c
        answered = func.sum(case((s.answered, 1), else_=0))
        zero = func.sum(case((s.result_count == 0, 1), else_=0))
        clicked = func.sum(case((self._clicked(), 1), else_=0))
        window = self._window(s.at, since, until)
        with self.engine.connect() as conn:  # one read transaction: the numbers agree with each other
            per_locale = conn.execute(
                select(s.locale, func.count(), answered, zero, clicked).where(*window).group_by(s.locale)
            ).all()
            visitors = conn.execute(select(func.count(distinct(s.ip_hash))).where(*window)).scalar() or 0
            vote_counts = {bool(h): int(n) for h, n in conn.execute(
                select(votes.c.helpful, func.count()).where(*self._window(votes.c.at, since, until))
                .group_by(votes.c.helpful))}
        total = {"searches": 0, "answered": 0, "zero_result": 0, "clicked": 0}
        by_locale: dict[str | None, dict[str, Any]] = {}
        for locale, n, a, z, c in per_locale:
            n, a, z, c = int(n), int(a or 0), int(z or 0), int(c or 0)
            for key, v in (("searches", n), ("answered", a), ("zero_result", z), ("clicked", c)):
                total[key] += v
            by_locale[locale] = {"searches": n, "answered_rate": _rate(a, n), "click_through_rate": _rate(c, n),
                                 "zero_result": z}
        return {
            "searches": total["searches"],
            "answered": total["answered"],
            "answered_rate": _rate(total["answered"], total["searches"]),
            "clicked": total["clicked"],
            "click_through_rate": _rate(total["clicked"], total["searches"]),
            "zero_result": total["zero_result"],
            "visitors": int(visitors),
            "votes": {"helpful": vote_counts.get(True, 0), "not_helpful": vote_counts.get(False, 0)},
            "by_locale": dict(sorted(by_locale.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))),
        }
