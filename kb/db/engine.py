"""Opening the database: its URL from the settings, and SQLite tuned for several threads and processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_S = 30.0


def database_url(settings: Any) -> str:
    """The database's SQLAlchemy URL: settings.database_url, else SQLite in data_dir."""
    return settings.database_url or f"sqlite:///{settings.data_dir}/events.sqlite3"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def open_engine(url: str) -> Engine:
    """A pooled engine for url; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE for writes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database
    memory = not database or database == ":memory:" or "mode=memory" in url
    if database and not memory:
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


def writer_of(engine: Engine) -> Engine:
    """The view of engine to write through: on SQLite its transactions start with BEGIN IMMEDIATE."""
    return engine.execution_options(kb_write=True)
