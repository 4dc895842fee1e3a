"""Every table of the database, under one MetaData: the event log, logins, and agents' suggestions and feedback.

Table and column names are those of the databases already deployed; `ensure_schema` creates what is missing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)
from sqlalchemy.types import TypeDecorator

from kb.db.limits import (
    AUDIENCE_MAX,
    CATEGORY_MAX,
    EMAIL_MAX,
    HEX_ID_MAX,
    ID_MAX,
    LABEL_MAX,
    LOCALE_MAX,
    QUERY_MAX,
    REASON_MAX,
    REJECT_REASON_MAX,
    REPLY_MAX,
    SESSION_MAX,
    TEXT_MAX,
    USER_MAX,
    VERDICT_MAX,
)
from kb.db.validate import UTC


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

# -- the event log: searches, what they showed, clicks, votes -----------------------------------

searches = Table(
    "searches",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("search_id", String(HEX_ID_MAX), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("query", String(QUERY_MAX), nullable=False),
    Column("normalized", String(QUERY_MAX), nullable=False),
    Column("corrected", String(QUERY_MAX)),
    Column("locale", String(LOCALE_MAX)),  # the reader's interface language
    Column("category", String(CATEGORY_MAX)),
    Column("audience", String(AUDIENCE_MAX), nullable=False),
    Column("answered", Boolean(), nullable=False),
    Column("result_count", Integer(), nullable=False),
    Column("top_score", Float()),
    Column("latency_ms", Float(), nullable=False),
    Column("session", String(SESSION_MAX)),
    Column("ip_hash", String(16)),
    Column("query_lang", String(LOCALE_MAX)),  # the language the query was written in, when it was detected
    Index("ix_searches_at", "at"),
    Index("ix_searches_answered_at", "answered", "at"),
    Index("ix_searches_normalized", "normalized"),
)

search_results = Table(
    "search_results",
    metadata,
    Column("search_pk", PK, ForeignKey("searches.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer(), primary_key=True),
    Column("article_id", String(ID_MAX), nullable=False),
    Column("score", Float(), nullable=False),
    Index("ix_search_results_article_id", "article_id"),
)

clicks = Table(
    "clicks",
    metadata,
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
    "votes",
    metadata,
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

# -- logins: users, their sessions and API tokens -----------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(USER_MAX), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password", String(200), nullable=False),
    Column("created", UTCDateTime(), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", PK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires", UTCDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", PK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(LABEL_MAX), nullable=False),
    Column("created", UTCDateTime(), nullable=False),
    Column("last_used", UTCDateTime()),
    Column("uses", Integer(), nullable=False, default=0),
)

# -- tickets: agents' suggestions and their feedback, contact-form deflections ------------------

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("suggestion_id", String(HEX_ID_MAX), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("ticket_id", String(ID_MAX)),
    Column("user", String(USER_MAX)),
    Column("locale", String(LOCALE_MAX)),
    Column("query", String(TEXT_MAX), nullable=False),  # the strongest query built from the ticket
    Column("articles", Text(), nullable=False),  # JSON list of the suggested article ids, best first
    Column("confidence", Float(), nullable=False),
    Column("vector", LargeBinary()),  # the strongest query's embedding, for feedback given later
    Index("ix_suggestions_at", "at"),
)

suggestion_feedback = Table(
    "suggestion_feedback",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("suggestion_id", String(HEX_ID_MAX)),
    Column("at", UTCDateTime(), nullable=False),
    Column("user", String(USER_MAX)),
    Column("article_id", String(ID_MAX), nullable=False),
    Column("verdict", String(VERDICT_MAX), nullable=False),
    Column("reason", String(REJECT_REASON_MAX)),
    Column("query", String(TEXT_MAX), nullable=False),
    Column("vector", LargeBinary()),  # float32 query embedding: finds the feedback again for similar tickets
    Index("ix_suggestion_feedback_at", "at"),
)

# What an agent replied to a ticket from the panel, with the ticket's strongest query: the gap report quotes the
# replies to a topic's queries in the article it drafts. One row per suggestion (re-sent edits replace it).
agent_replies = Table(
    "agent_replies",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("suggestion_id", String(HEX_ID_MAX), unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user", String(USER_MAX)),
    Column("ticket_id", String(ID_MAX)),
    Column("locale", String(LOCALE_MAX)),
    Column("query", String(TEXT_MAX), nullable=False),
    Column("reply", String(REPLY_MAX), nullable=False),
    Index("ix_agent_replies_at", "at"),
)

deflections = Table(
    "deflections",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("deflection_id", String(HEX_ID_MAX), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("locale", String(LOCALE_MAX)),
    Column("query", String(TEXT_MAX), nullable=False),
    Column("articles", Text(), nullable=False),
    Column("answered", Boolean(), nullable=False),
    Column("submitted", Boolean(), nullable=False, default=False),
    Column("submitted_at", UTCDateTime()),
    Column("email", String(EMAIL_MAX)),
    Column("message", String(TEXT_MAX)),
    Index("ix_deflections_at", "at"),
)

# Columns added after databases were deployed: (table, column). create_all does not add columns to a table
# that exists, so ensure_schema adds these when missing; the project has no migration tool and needs none yet.
ADDED_COLUMNS = (("searches", "query_lang"),)


def ensure_schema(writer: Engine) -> None:
    """Create missing tables and add the columns of ADDED_COLUMNS that an older database lacks."""
    metadata.create_all(writer)
    with writer.begin() as conn:  # on SQLite the writer takes the write lock: one process adds a column
        present = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in {t for t, _ in ADDED_COLUMNS}}
        for table, column in ADDED_COLUMNS:
            if column in present[table]:
                continue
            col = metadata.tables[table].c[column]
            ddl = col.type.compile(dialect=conn.dialect)
            # PostgreSQL: IF NOT EXISTS, since two processes starting at once may both get here.
            guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {guard}{column} {ddl}")
