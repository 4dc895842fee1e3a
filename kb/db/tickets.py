"""Agent suggestions with their accept/reject feedback and the replies agents sent, and deflection attempts from
the contact form.

Kept in the event log's database, next to the searches: the gap report reads rejected suggestions and
contact requests submitted after a deflection attempt as signals of missing or failing articles, and quotes the
agents' replies in the articles it drafts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kb.db.events import EventLog
from kb.db.limits import EMAIL_MAX, HEX_ID_MAX, ID_MAX, LOCALE_MAX, REPLY_MAX, TEXT_MAX, USER_MAX
from kb.db.schema import agent_replies, deflections, suggestion_feedback, suggestions
from kb.db.validate import text, utc_now

VERDICTS = ("accepted", "rejected")
REJECT_REASONS = ("not_related", "does_not_answer", "outdated")
OUTDATED_MIN = 2  # "outdated" rejections before an article is flagged on the admin dashboard


@dataclass(frozen=True)
class Feedback:
    """One accept/reject verdict of an agent on a suggested article, with the query it was given for."""

    id: int
    article_id: str
    verdict: str
    reason: str | None
    query: str
    vector: np.ndarray | None
    at: datetime


@dataclass(frozen=True)
class Reply:
    """A reply an agent sent to a ticket, with the ticket's strongest query."""

    id: int
    suggestion_id: str | None
    query: str
    reply: str
    user: str | None
    locale: str | None
    at: datetime


class TicketLog:
    """Suggestions, feedback and deflections, written through the event log's engine."""

    def __init__(self, events: EventLog):
        self.engine = events.engine
        self._writer = events.writer

    def log_suggestion(
        self,
        *,
        query: str,
        articles: list[str],
        confidence: float,
        ticket_id: str | None = None,
        user: str | None = None,
        locale: str | None = None,
        vector: np.ndarray | None = None,
    ) -> str:
        sid = uuid.uuid4().hex
        with self._writer.begin() as conn:
            conn.execute(
                insert(suggestions).values(
                    suggestion_id=sid,
                    at=utc_now(),
                    ticket_id=text("ticket_id", ticket_id, ID_MAX, optional=True),
                    user=text("user", user, USER_MAX, optional=True),
                    locale=text("locale", locale, LOCALE_MAX, optional=True),
                    query=text("query", query, TEXT_MAX, optional=True),
                    articles=json.dumps(articles),
                    confidence=float(confidence),
                    vector=None if vector is None else np.asarray(vector, dtype=np.float32).tobytes(),
                )
            )
        return sid

    def suggestion_query(self, suggestion_id: str) -> tuple[str, np.ndarray] | None:
        """The query and its embedding that a logged suggestion was made for."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(suggestions.c.query, suggestions.c.vector).where(
                    suggestions.c.suggestion_id == suggestion_id[:32]
                )
            ).first()
        if r is None or r.vector is None:
            return None
        return r.query, np.frombuffer(r.vector, dtype=np.float32)

    def log_feedback(
        self,
        *,
        article_id: str,
        verdict: str,
        query: str,
        reason: str | None = None,
        vector: np.ndarray | None = None,
        suggestion_id: str | None = None,
        user: str | None = None,
    ) -> None:
        if verdict not in VERDICTS:
            raise ValueError(f"verdict: must be one of {', '.join(VERDICTS)}")
        if verdict == "rejected" and reason not in REJECT_REASONS:
            raise ValueError(f"reason: a rejection needs one of {', '.join(REJECT_REASONS)}")
        blob = None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
        with self._writer.begin() as conn:
            conn.execute(
                insert(suggestion_feedback).values(
                    suggestion_id=text("suggestion_id", suggestion_id, HEX_ID_MAX, optional=True),
                    at=utc_now(),
                    user=text("user", user, USER_MAX, optional=True),
                    article_id=text("article_id", article_id, ID_MAX, optional=True),
                    verdict=verdict,
                    reason=reason if verdict == "rejected" else None,
                    query=text("query", query, TEXT_MAX, optional=True),
                    vector=blob,
                )
            )

    def feedback(self, since: datetime | None = None, after_id: int = 0) -> Iterator[Feedback]:
        stmt = select(suggestion_feedback).where(suggestion_feedback.c.id > after_id).order_by(suggestion_feedback.c.id)
        if since is not None:
            stmt = stmt.where(suggestion_feedback.c.at >= since)
        with self.engine.connect() as conn:
            for r in conn.execute(stmt):
                vec = np.frombuffer(r.vector, dtype=np.float32) if r.vector else None
                yield Feedback(r.id, r.article_id, r.verdict, r.reason, r.query, vec, r.at)

    def feedback_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(suggestion_feedback)).scalar_one()

    # -- replies --------------------------------------------------------------------------------

    def log_reply(
        self, *, reply: str, suggestion_id: str | None = None, query: str | None = None, user: str | None = None
    ) -> None:
        """Record the reply an agent sent for a suggestion (its query, ticket and language come from it); a reply
        sent again for the same suggestion replaces the earlier one. Without a known suggestion, `query` is needed.
        """
        body = text("reply", reply, REPLY_MAX).strip()
        if not body:
            raise ValueError("reply: the reply is empty")
        values = {"at": utc_now(), "user": text("user", user, USER_MAX, optional=True), "reply": body}
        sid = text("suggestion_id", suggestion_id, HEX_ID_MAX, optional=True) or None
        known = None
        if sid:
            with self.engine.connect() as conn:
                s = suggestions.c
                known = conn.execute(select(s.query, s.ticket_id, s.locale).where(s.suggestion_id == sid)).first()
        if known is not None:
            values.update(query=known.query, ticket_id=known.ticket_id, locale=known.locale)
        elif query and query.strip():
            values.update(query=text("query", query.strip(), TEXT_MAX), ticket_id=None, locale=None)
            sid = None  # an id the log does not know names nothing: the row must not claim it
        else:
            raise LookupError("unknown suggestion_id: send the query the reply was for")
        for attempt in (1, 2):  # two processes recording the first reply to one suggestion at once: one updates
            try:
                with self._writer.begin() as conn:
                    if (
                        sid
                        and conn.execute(
                            update(agent_replies).where(agent_replies.c.suggestion_id == sid).values(**values)
                        ).rowcount
                    ):
                        return
                    conn.execute(insert(agent_replies).values(suggestion_id=sid, **values))
                return
            except IntegrityError:
                if attempt == 2 or not sid:
                    raise

    def replies(self, since: datetime | None = None) -> Iterator[Reply]:
        """The replies agents sent, oldest first."""
        stmt = select(agent_replies).order_by(agent_replies.c.id)
        if since is not None:
            stmt = stmt.where(agent_replies.c.at >= since)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                yield Reply(r.id, r.suggestion_id, r.query, r.reply, r.user, r.locale, r.at)

    # -- deflection -----------------------------------------------------------------------------

    def log_deflection(
        self,
        *,
        query: str,
        articles: list[str],
        answered: bool,
        locale: str | None = None,
        deflection_id: str | None = None,
    ) -> str:
        """Record what was suggested to a customer writing to support; typing more updates the same attempt."""
        values = {
            "query": text("query", query, TEXT_MAX, optional=True),
            "articles": json.dumps(articles),
            "answered": bool(answered),
            "locale": text("locale", locale, LOCALE_MAX, optional=True),
        }
        with self._writer.begin() as conn:
            if deflection_id:
                done = conn.execute(
                    update(deflections)
                    .where(deflections.c.deflection_id == deflection_id, deflections.c.submitted.is_(False))
                    .values(**values)
                )
                if done.rowcount:
                    return deflection_id
            did = uuid.uuid4().hex
            conn.execute(insert(deflections).values(deflection_id=did, at=utc_now(), submitted=False, **values))
        return did

    def submit_contact(
        self, *, query: str, email: str, message: str, locale: str | None = None, deflection_id: str | None = None
    ) -> str:
        """The customer sent the contact form anyway: the deflection attempt (if any) failed."""
        values = {
            "submitted": True,
            "submitted_at": utc_now(),
            "email": text("email", email, EMAIL_MAX, optional=True),
            "message": text("message", message, TEXT_MAX, optional=True),
        }
        with self._writer.begin() as conn:
            if (
                deflection_id
                and conn.execute(
                    update(deflections)
                    .where(deflections.c.deflection_id == deflection_id, deflections.c.submitted.is_(False))
                    .values(**values)
                ).rowcount
            ):
                return deflection_id
            did = uuid.uuid4().hex
            conn.execute(
                insert(deflections).values(
                    deflection_id=did,
                    at=utc_now(),
                    locale=text("locale", locale, LOCALE_MAX, optional=True),
                    query=text("query", query, TEXT_MAX, optional=True),
                    articles="[]",
                    answered=False,
                    **values,
                )
            )
        return did

    def iter_deflections(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[dict]:
        stmt = select(deflections).order_by(deflections.c.id)
        if since is not None:
            stmt = stmt.where(deflections.c.at >= since)
        if until is not None:
            stmt = stmt.where(deflections.c.at < until)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=1000).execute(stmt):
                yield {
                    "deflection_id": r.deflection_id,
                    "at": r.at,
                    "locale": r.locale,
                    "query": r.query,
                    "articles": json.loads(r.articles),
                    "answered": r.answered,
                    "submitted": r.submitted,
                }

    def iter_rejections(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Feedback]:
        for f in self.feedback(since):
            if f.verdict == "rejected" and (until is None or f.at < until):
                yield f

    def article_acceptance(self, since: datetime | None = None, until: datetime | None = None, limit: int = 50) -> list:
        """Per article: how often it was suggested to agents, accepted, and rejected by reason, most judged first.

        `flagged` marks an article agents keep calling outdated (at least OUTDATED_MIN such rejections, and at
        least a third of its verdicts): it needs rewriting more than re-ranking.
        """
        s, f = suggestions.c, suggestion_feedback.c
        conds_s, conds_f = [], []
        if since is not None:
            conds_s.append(s.at >= since)
            conds_f.append(f.at >= since)
        if until is not None:
            conds_s.append(s.at < until)
            conds_f.append(f.at < until)
        rows: dict[str, dict] = {}

        def row(aid: str) -> dict:
            return rows.setdefault(
                aid, {"article_id": aid, "suggested": 0, "accepted": 0, "rejected": 0, "reasons": {}, "flagged": False}
            )

        with self.engine.connect() as conn:
            for (articles,) in conn.execute(select(s.articles).where(*conds_s)):
                for aid in set(json.loads(articles or "[]")):
                    row(aid)["suggested"] += 1
            stmt = select(f.article_id, f.verdict, f.reason, func.count()).where(*conds_f)
            for aid, verdict, reason, n in conn.execute(stmt.group_by(f.article_id, f.verdict, f.reason)):
                r = row(aid)
                r[verdict if verdict in VERDICTS else "rejected"] += n
                if verdict == "rejected":
                    r["reasons"][reason or "unspecified"] = r["reasons"].get(reason or "unspecified", 0) + n
        for r in rows.values():
            outdated = r["reasons"].get("outdated", 0)
            r["flagged"] = outdated >= OUTDATED_MIN and outdated * 3 >= r["accepted"] + r["rejected"]
        ranked = sorted(rows.values(), key=lambda r: (-r["flagged"], -(r["accepted"] + r["rejected"]), -r["suggested"]))
        return ranked[:limit]

    def deflection_stats(self, since: datetime | None = None, until: datetime | None = None) -> dict:
        """Attempts with suggestions shown, and how many still ended in a contact request."""
        d = deflections.c
        conds = [d.articles != "[]"]
        if since is not None:
            conds.append(d.at >= since)
        if until is not None:
            conds.append(d.at < until)
        with self.engine.connect() as conn:
            total, submitted = conn.execute(
                select(func.count(), func.sum(case((d.submitted, 1), else_=0))).where(*conds)
            ).one()
        total, submitted = int(total or 0), int(submitted or 0)
        return {
            "attempts": total,
            "submitted": submitted,
            "deflection_rate": round((total - submitted) / total, 4) if total else None,
        }
