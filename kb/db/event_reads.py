"""The event log read back: one search, a window of searches streamed in id order, what is popular, vote counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.engine import Connection, Engine

from kb.db.conditions import clicked, window
from kb.db.limits import AUDIENCE_MAX, ID_MAX, LOCALE_MAX, QUERY_MAX
from kb.db.schema import clicks, search_results, searches, votes
from kb.db.validate import boolean, ident, integer, moment, real, text, utc_now


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
    corrected: str | None = None  # what was searched instead, when search corrected the query
    top_clicked: bool = False  # the first result was clicked
    helpful: bool = False  # an article reached from this search was voted helpful


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with prefix literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class EventReads:
    """The reads of EventLog (which holds the engine); every read is one short transaction."""

    engine: Engine

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
                s.corrected,
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
        # What the searcher did with the results: clicks by search, helpful votes by search (a few per batch).
        clicked_ids: dict[int, set[str]] = {}
        helpful: set[int] = set()
        clicked_pks = [r.id for r in rows if r.clicked]
        for i in range(0, len(clicked_pks), 1000):
            part = clicked_pks[i : i + 1000]
            for pk, article_id in conn.execute(
                select(clicks.c.search_pk, clicks.c.article_id).where(clicks.c.search_pk.in_(part))
            ):
                clicked_ids.setdefault(pk, set()).add(article_id)
        all_pks = [r.id for r in rows]
        for i in range(0, len(all_pks), 1000):
            helpful.update(
                conn.execute(
                    select(votes.c.search_pk).where(
                        votes.c.search_pk.in_(all_pks[i : i + 1000]), votes.c.helpful.is_(True)
                    )
                ).scalars()
            )
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
                corrected=r.corrected,
                top_clicked=bool(ids.get(r.id)) and ids[r.id][0] in clicked_ids.get(r.id, ()),
                helpful=r.id in helpful,
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
        min_count: int = 3,
        *,
        audience: str = "customer",
    ) -> list[tuple[str, int]]:
        """Queries by normalized text that at least min_count visitors searched and that were answered or clicked,
        with their visitor counts, most visitors first: autocomplete's suggestions."""
        if locale is not None:
            locale = ident("locale", locale, LOCALE_MAX)
        prefix = text("prefix", prefix, QUERY_MAX).casefold()
        limit = integer("limit", limit, minimum=1)
        min_count = integer("min_count", min_count, minimum=1)
        s = searches.c
        # A visitor is a hashed client address (an IPv6 /64 as one): a session cookie is whatever the client sends,
        # so a client without cookies would be a new visitor on every request. Searches with no address hash (none
        # was known, or it was logged before addresses were hashed) do not count.
        visitors = func.count(distinct(s.ip_hash)).label("n")
        conds = [
            or_(s.answered.is_(True), clicked()),
            s.audience == ident("audience", audience, AUDIENCE_MAX),
            s.normalized != "",
            s.ip_hash.is_not(None),
        ]
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

    def article_exposure(self, since: datetime, until: datetime, audience: str = "customer") -> dict[str, list[int]]:
        """Per article id: [times shown in a search's results, clicks], for searches in the window."""
        audience = text("audience", audience, AUDIENCE_MAX)
        out: dict[str, list[int]] = {}
        in_window = (searches.c.at >= since, searches.c.at < until, searches.c.audience == audience)
        shown = (
            select(search_results.c.article_id, func.count())
            .join(searches, searches.c.id == search_results.c.search_pk)
            .where(*in_window)
            .group_by(search_results.c.article_id)
        )
        clicked = (
            select(clicks.c.article_id, func.count())
            .join(searches, searches.c.id == clicks.c.search_pk)
            .where(*in_window)
            .group_by(clicks.c.article_id)
        )
        with self.engine.connect() as conn:
            for aid, n in conn.execute(shown):
                out.setdefault(aid, [0, 0])[0] = int(n)
            for aid, n in conn.execute(clicked):
                out.setdefault(aid, [0, 0])[1] = int(n)
        return out

    def helpfulness(self, article_id: str) -> tuple[int, int]:
        """(helpful, not helpful) vote counts for an article."""
        article_id = ident("article_id", article_id, ID_MAX)
        stmt = select(votes.c.helpful, func.count()).where(votes.c.article_id == article_id).group_by(votes.c.helpful)
        with self.engine.connect() as conn:
            counts = {bool(h): int(n) for h, n in conn.execute(stmt)}
        return counts.get(True, 0), counts.get(False, 0)

    def search_outcomes(self, limit: int = 2000, days: float = 180) -> list[tuple[str, bool]]:
        """Recent customer searches with what their searcher did: (query, True) when a result was clicked and
        not voted unhelpful from that search, (query, False) when an article reached from it was voted
        unhelpful. Newest first; each distinct query once, with its latest outcome."""
        limit = integer("limit", limit, minimum=1)
        days = real("days", days, minimum=0.0)
        since = utc_now() - timedelta(days=days)
        unhelpful = select(votes.c.search_pk).where(votes.c.search_pk.is_not(None), votes.c.helpful.is_(False))
        clicked_pks = select(clicks.c.search_pk)
        stmt = (
            select(searches.c.query, searches.c.id.in_(unhelpful).label("unhelpful"))
            .where(
                searches.c.audience == "customer",
                searches.c.at >= since,
                searches.c.id.in_(clicked_pks) | searches.c.id.in_(unhelpful),
            )
            .order_by(searches.c.id.desc())
            .limit(limit * 4)
        )
        out: dict[str, bool] = {}
        with self.engine.connect() as conn:
            for query, bad in conn.execute(stmt):
                if query not in out:
                    out[query] = not bad
                if len(out) >= limit:
                    break
        return list(out.items())
