"""The dashboard's aggregates over the event log: totals and rates, per day, per locale, top queries, votes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.engine import Engine

from kb.db.conditions import clicked, window
from kb.db.limits import AUDIENCE_MAX
from kb.db.schema import searches, votes
from kb.db.validate import boolean, ident, integer


def _rate(part: int, whole: int) -> float:
    """part / whole, 0.0 when whole is 0."""
    return part / whole if whole else 0.0


class Dashboard:
    """Read-only aggregates for /admin, over the event log's engine (EventLog.dashboard)."""

    def __init__(self, engine: Engine, *, sqlite: bool):
        self.engine = engine
        self._sqlite = sqlite

    def top_queries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        limit: int = 20,
        answered: bool | None = None,
        zero_result: bool = False,
        audience: str = "customer",
    ) -> list[dict[str, Any]]:
        """The most frequent normalized queries with their count, answered rate and click-through."""
        s = searches.c
        n = func.count().label("n")
        conds = [*window(s.at, since, until), s.audience == ident("audience", audience, AUDIENCE_MAX)]
        if answered is not None:
            conds.append(s.answered.is_(boolean("answered", answered)))
        if zero_result:
            conds.append(s.result_count == 0)
        stmt = (
            select(
                s.normalized,
                n,
                func.sum(case((s.answered, 1), else_=0)),
                func.sum(case((clicked(), 1), else_=0)),
                func.min(s.locale),
                func.max(s.at),
            )
            .where(*conds)
            .group_by(s.normalized)
            .order_by(n.desc(), s.normalized)
            .limit(integer("limit", limit, minimum=1))
        )
        with self.engine.connect() as conn:
            return [
                {
                    "query": q,
                    "count": int(c),
                    "answered_rate": _rate(int(a or 0), int(c)),
                    "click_through_rate": _rate(int(k or 0), int(c)),
                    "locale": loc,
                    "last": last,
                }
                for q, c, a, k, loc, last in conn.execute(stmt)
            ]

    def _day(self, column: Any) -> Any:
        # SQLite keeps timestamps as ISO text, PostgreSQL as timestamptz (stored in UTC).
        return func.substr(column, 1, 10) if self._sqlite else func.to_char(column, "YYYY-MM-DD")

    def daily(
        self, since: datetime | None = None, until: datetime | None = None, audience: str = "customer"
    ) -> list[dict[str, Any]]:
        """Per UTC day: searches, answered and clicked searches, for the dashboard's chart."""
        s = searches.c
        day = self._day(s.at).label("day")
        stmt = (
            select(day, func.count(), func.sum(case((s.answered, 1), else_=0)), func.sum(case((clicked(), 1), else_=0)))
            .where(*window(s.at, since, until), s.audience == ident("audience", audience, AUDIENCE_MAX))
            .group_by(day)
            .order_by(day)
        )
        with self.engine.connect() as conn:
            return [
                {"day": str(d), "searches": int(n), "answered": int(a or 0), "clicked": int(c or 0)}
                for d, n, a, c in conn.execute(stmt)
            ]

    def article_votes(
        self, since: datetime | None = None, until: datetime | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Articles by "not helpful" votes: helpful and not-helpful counts and the most given reason."""
        v = votes.c
        bad = func.sum(case((v.helpful.is_(False), 1), else_=0)).label("bad")
        stmt = (
            select(v.article_id, func.sum(case((v.helpful, 1), else_=0)), bad)
            .where(*window(v.at, since, until))
            .group_by(v.article_id)
            .order_by(bad.desc(), v.article_id)
            .limit(integer("limit", limit, minimum=1))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            out = []
            for aid, good, nbad in rows:
                reason = conn.execute(
                    select(v.reason, func.count().label("n"))
                    .where(
                        v.article_id == aid, v.helpful.is_(False), v.reason.is_not(None), *window(v.at, since, until)
                    )
                    .group_by(v.reason)
                    .order_by(func.count().desc())
                    .limit(1)
                ).first()
                out.append(
                    {
                        "article_id": aid,
                        "helpful": int(good or 0),
                        "not_helpful": int(nbad or 0),
                        "top_reason": reason[0] if reason else None,
                    }
                )
        return out

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Dashboard numbers for since <= at < until (rates are fractions of searches; CTR = searches with a click)."""
        s = searches.c
        answered = func.sum(case((s.answered, 1), else_=0))
        zero = func.sum(case((s.result_count == 0, 1), else_=0))
        was_clicked = func.sum(case((clicked(), 1), else_=0))
        during = window(s.at, since, until)
        # "By locale" counts the customer's language: the query's own where it was detected, else the interface's.
        lang = func.coalesce(s.query_lang, s.locale).label("lang")
        with self.engine.connect() as conn:  # one read transaction: the numbers agree with each other
            per_locale = conn.execute(
                select(lang, func.count(), answered, zero, was_clicked).where(*during).group_by(lang)
            ).all()
            visitors = conn.execute(select(func.count(distinct(s.ip_hash))).where(*during)).scalar() or 0
            vote_counts = {
                bool(h): int(n)
                for h, n in conn.execute(
                    select(votes.c.helpful, func.count())
                    .where(*window(votes.c.at, since, until))
                    .group_by(votes.c.helpful)
                )
            }
        total = {"searches": 0, "answered": 0, "zero_result": 0, "clicked": 0}
        by_locale: dict[str | None, dict[str, Any]] = {}
        for locale, n, a, z, c in per_locale:
            n, a, z, c = int(n), int(a or 0), int(z or 0), int(c or 0)
            for key, v in (("searches", n), ("answered", a), ("zero_result", z), ("clicked", c)):
                total[key] += v
            by_locale[locale] = {
                "searches": n,
                "answered_rate": _rate(a, n),
                "click_through_rate": _rate(c, n),
                "zero_result": z,
            }
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
