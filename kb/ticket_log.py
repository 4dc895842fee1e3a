"""Agent suggestions with their accept/reject feedback, and deflection attempts from the contact form.

Kept in the event log's database, next to the searches: the gap report reads rejected suggestions and
contact requests submitted after a deflection attempt as signals of missing or failing articles.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import (
    Boolean, Column, Float, Index, LargeBinary, MetaData, String, Table, Text, case, func, insert, select, update,
)

from kb.events import PK, UTCDateTime, EventLog, _now

VERDICTS = ("accepted", "rejected")
REJECT_REASONS = ("not_related", "does_not_answer", "outdated")
TEXT_MAX = 4000

metadata = MetaData()

suggestions = Table(
    "suggestions", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("suggestion_id", String(32), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("ticket_id", String(255)),
    Column("user", String(64)),
    Column("locale", String(16)),
    Column("query", String(TEXT_MAX), nullable=False),  # the strongest query built from the ticket
    Column("articles", Text(), nullable=False),  # JSON list of the suggested article ids, best first
    Column("confidence", Float(), nullable=False),
    Column("vector", LargeBinary()),  # the strongest query's embedding, for feedback given later
    Index("ix_suggestions_at", "at"),
)

feedback = Table(
    "suggestion_feedback", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("suggestion_id", String(32)),
    Column("at", UTCDateTime(), nullable=False),
    Column("user", String(64)),
    Column("article_id", String(255), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("reason", String(32)),
    Column("query", String(TEXT_MAX), nullable=False),
    Column("vector", LargeBinary()),  # float32 query embedding: finds the feedback again for similar tickets
    Index("ix_suggestion_feedback_at", "at"),
)

deflections = Table(
    "deflections", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("deflection_id", String(32), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("locale", String(16)),
    Column("query", String(TEXT_MAX), nullable=False),
    Column("articles", Text(), nullable=False),
    Column("answered", Boolean(), nullable=False),
    Column("submitted", Boolean(), nullable=False, default=False),
    Column("submitted_at", UTCDateTime()),
    Column("email", String(320)),
    Column("message", String(TEXT_MAX)),
    Index("ix_deflections_at", "at"),
)


@dataclass(frozen=True)
class Feedback:
    id: int
    article_id: str
    verdict: str
    reason: str | None
    query: str
    vector: np.ndarray | None
    at: datetime


def _cut(value: str | None, limit: int = TEXT_MAX) -> str | None:
    return None if value is None else value.replace("\x00", "")[:limit]


class TicketLog:
    """Suggestions, feedback and deflections, written through the event log's engine."""

    def __init__(self, events: EventLog):
        self.engine = events.engine
        self._writer = events.writer
        metadata.create_all(self._writer)

    def log_suggestion(self, *, query: str, articles: list[str], confidence: float, ticket_id: str | None = None,
                       user: str | None = None, locale: str | None = None, vector: np.ndarray | None = None) -> str:
        sid = uuid.uuid4().hex
        with self._writer.begin() as conn:
            conn.execute(insert(suggestions).values(
                suggestion_id=sid, at=_now(), ticket_id=_cut(ticket_id, 255), user=_cut(user, 64),
                locale=_cut(locale, 16), query=_cut(query), articles=json.dumps(articles), confidence=float(confidence),
                vector=None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()))
        return sid

    def suggestion_query(self, suggestion_id: str) -> tuple[str, np.ndarray] | None:
        """The query and its embedding that a logged suggestion was made for."""
        with self.engine.connect() as conn:
            r = conn.execute(select(suggestions.c.query, suggestions.c.vector)
                             .where(suggestions.c.suggestion_id == suggestion_id[:32])).first()
        if r is None or r.vector is None:
            return None
        return r.query, np.frombuffer(r.vector, dtype=np.float32)

    def log_feedback(self, *, article_id: str, verdict: str, query: str, reason: str | None = None,
                     vector: np.ndarray | None = None, suggestion_id: str | None = None, user: str | None = None) -> None:
        if verdict not in VERDICTS:
            raise ValueError(f"verdict: must be one of {', '.join(VERDICTS)}")
        if verdict == "rejected" and reason not in REJECT_REASONS:
            raise ValueError(f"reason: a rejection needs one of {', '.join(REJECT_REASONS)}")
        blob = None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
        with self._writer.begin() as conn:
            conn.execute(insert(feedback).values(
                suggestion_id=_cut(suggestion_id, 32), at=_now(), user=_cut(user, 64), article_id=_cut(article_id, 255),
                verdict=verdict, reason=reason if verdict == "rejected" else None, query=_cut(query), vector=blob))

    def feedback(self, since: datetime | None = None, after_id: int = 0) -> Iterator[Feedback]:
        stmt = select(feedback).where(feedback.c.id > after_id).order_by(feedback.c.id)
        if since is not None:
            stmt = stmt.where(feedback.c.at >= since)
        with self.engine.connect() as conn:
            for r in conn.execute(stmt):
                vec = np.frombuffer(r.vector, dtype=np.float32) if r.vector else None
                yield Feedback(r.id, r.article_id, r.verdict, r.reason, r.query, vec, r.at)

    def feedback_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(feedback)).scalar_one()

    # -- deflection -----------------------------------------------------------------------------

    def log_deflection(self, *, query: str, articles: list[str], answered: bool, locale: str | None = None,
                       deflection_id: str | None = None) -> str:
        """Record what was suggested to a customer writing to support; typing more updates the same attempt."""
        values = {"query": _cut(query), "articles": json.dumps(articles), "answered": bool(answered),
                  "locale": _cut(locale, 16)}
        with self._writer.begin() as conn:
            if deflection_id:
                done = conn.execute(update(deflections).where(deflections.c.deflection_id == deflection_id,
                                                              deflections.c.submitted.is_(False)).values(**values))
                if done.rowcount:
                    return deflection_id
            did = uuid.uuid4().hex
            conn.execute(insert(deflections).values(deflection_id=did, at=_now(), submitted=False, **values))
        return did

    def submit_contact(self, *, query: str, email: str, message: str, locale: str | None = None,
                       deflection_id: str | None = None) -> str:
        """The customer sent the contact form anyway: the deflection attempt (if any) failed."""
        values = {"submitted": True, "submitted_at": _now(), "email": _cut(email, 320), "message": _cut(message)}
        with self._writer.begin() as conn:
            if deflection_id and conn.execute(update(deflections).where(
                    deflections.c.deflection_id == deflection_id, deflections.c.submitted.is_(False)).values(**values)).rowcount:
                return deflection_id
            did = uuid.uuid4().hex
            conn.execute(insert(deflections).values(deflection_id=did, at=_now(), locale=_cut(locale, 16),
                                                    query=_cut(query), articles="[]", answered=False, **values))
        return did

    def iter_deflections(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[dict]:
        stmt = select(deflections).order_by(deflections.c.id)
        if since is not None:
            stmt = stmt.where(deflections.c.at >= since)
        if until is not None:
            stmt = stmt.where(deflections.c.at < until)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                yield {"deflection_id": r.deflection_id, "at": r.at, "locale": r.locale, "query": r.query,
                       "articles": json.loads(r.articles), "answered": r.answered, "submitted": r.submitted}

    def iter_rejections(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Feedback]:
        for f in self.feedback(since):
            if f.verdict == "rejected" and (until is None or f.at < until):
                yield f

    def deflection_stats(self, since: datetime | None = None, until: datetime | None = None) -> dict:
        """Attempts with suggestions shown, and how many still ended in a contact request."""
        d = deflections.c
        conds = [d.articles != "[]"]
        if since is not None:
            conds.append(d.at >= since)
        if until is not None:
            conds.append(d.at < until)
        with self.engine.connect() as conn:
            total, submitted = conn.execute(select(func.count(), func.sum(case((d.submitted, 1), else_=0)))
                                            .where(*conds)).one()
        total, submitted = int(total or 0), int(submitted or 0)
        return {"attempts": total, "submitted": submitted,
                "deflection_rate": round((total - submitted) / total, 4) if total else None}
