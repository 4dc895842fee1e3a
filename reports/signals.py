"""Failure signals from the event log, streamed and folded per distinct query (a million searches never sit in memory).

Signals: unanswered searches, answered searches nobody clicked, quick reformulations within one visit
(the first query failed the customer), agent-rejected suggestions, and contact requests sent after a
deflection attempt. "Not helpful" votes are per article and are read separately (EventLog.article_votes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from kb.analysis import normalize, terms
from search.layout import fix_layout

# A new, different query from the same visitor within this time means the previous one did not help.
REFORMULATION_SECONDS = 90
# Queries whose failures are this rare are not gaps (a query answered 19 times of 20 is covered).
MIN_FAILURE_RATE = 0.5


@dataclass(slots=True)
class QuerySignals:
    """Everything the log says about one normalized query."""

    normalized: str
    text: str  # the most recent wording: as typed, or as search read it when typed in the wrong keyboard layout
    typed: str | None = None  # what was typed, when `text` is its layout correction ("Ghbdtn" for "Привет")
    searches: int = 0
    found: int = 0  # searches whose top article was clicked or voted helpful, answered or not
    corrected: str | None = None  # what search searched instead, when it corrected the most recent wording
    unanswered: int = 0
    no_click: int = 0  # answered, nothing clicked
    reformulated: int = 0  # followed by another wording within REFORMULATION_SECONDS (never a clicked search)
    reformulated_answered: int = 0  # of those, the answered ones: failures no other signal shows
    rejected: int = 0  # agents rejected the suggestion made for it
    deflection_failed: int = 0  # the customer still wrote to support
    locales: Counter = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    failures_by_day: Counter = field(default_factory=Counter)
    searches_by_day: Counter = field(default_factory=Counter)
    unclicked_by_day: Counter = field(default_factory=Counter)  # the `unclicked` searches, by day

    @property
    def failures(self) -> int:
        # Each search counted once: a reformulated search was not clicked, so it is either unanswered
        # (counted already) or answered and left for another wording.
        return self.unanswered + self.reformulated_answered + self.rejected + self.deflection_failed

    @property
    def unclicked(self) -> int:
        """Answered, not clicked, not reformulated: a failure only when the KB does not cover the query."""
        return self.no_click - self.reformulated_answered

    @property
    def events(self) -> int:
        return self.searches + self.rejected + self.deflection_failed

    @property
    def failure_rate(self) -> float:
        return self.failures / self.events if self.events else 0.0

    def add(self, at: datetime, locale: str | None, *, search: bool = True, failed: bool = False) -> None:
        if search:
            self.searches += 1
        if search or locale:  # an agent's rejection has no customer locale: no "?" among the locales
            self.locales[locale or "?"] += 1
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last
        day = at.date()
        self.searches_by_day[day] += 1
        if failed:
            self.failures_by_day[day] += 1


def collect(
    events, tickets=None, since: datetime | None = None, until: datetime | None = None, audience: str = "customer"
) -> tuple[dict[str, QuerySignals], dict[str, int]]:
    """Per normalized query, its signals over since <= at < until; and the totals of each signal."""
    per: dict[str, QuerySignals] = {}
    totals: Counter[str] = Counter()
    # session -> (at, normalized, clicked, answered) of its last search
    last_by_session: dict[str, tuple[datetime, str, bool, bool]] = {}

    def entry(normalized: str, text: str, corrected: str | None = None) -> QuerySignals:
        typed = None
        if corrected and fix_layout(text) is not None:
            # Typed in the wrong layout: "Ghbdtn yt vjue" means nothing to the admin, "Привет не могу" does.
            typed, text = text, corrected
        q = per.get(normalized)
        if q is None:
            q = per[normalized] = QuerySignals(normalized, text)
        else:
            q.text = text
        q.typed, q.corrected = typed, corrected
        return q

    for e in events.iter_searches(since, until):
        if e.audience != audience or not e.normalized:
            continue
        totals["searches"] += 1
        q = entry(e.normalized, e.query, e.corrected)
        found = e.top_clicked or e.helpful  # a public article answered it, whatever search decided
        q.found += found
        failed = not e.answered
        q.add(e.at, e.query_lang or e.locale, failed=failed)  # the customer's language, not the interface's
        if not e.answered:
            q.unanswered += 1
            totals["unanswered"] += 1
        elif not e.clicked:
            q.no_click += 1
            q.unclicked_by_day[e.at.date()] += 1
            totals["no_click"] += 1
        if e.session:
            prev = last_by_session.get(e.session)
            # Instant search logs what is typed as it is typed: a query that extends (or trims) the previous
            # one is the same attempt going on, not a new wording after a failure.
            if (
                prev
                and not (e.normalized.startswith(prev[1]) or prev[1].startswith(e.normalized))
                and (e.at - prev[0]).total_seconds() <= REFORMULATION_SECONDS
                and not prev[2]
                and related(prev[1], e.normalized)
            ):
                p = per[prev[1]]
                p.reformulated += 1
                if prev[3]:  # answered, not clicked, and asked again otherwise: a failure from now on
                    day = prev[0].date()
                    p.reformulated_answered += 1
                    p.failures_by_day[day] += 1
                    p.unclicked_by_day[day] -= 1
                    if not p.unclicked_by_day[day]:
                        del p.unclicked_by_day[day]
                totals["reformulated"] += 1
            last_by_session[e.session] = (e.at, e.normalized, e.clicked, e.answered)
            if len(last_by_session) > 200_000:  # sessions long over: forget the oldest
                for key in list(last_by_session)[:100_000]:
                    del last_by_session[key]
    if tickets is not None:
        for f in tickets.iter_rejections(since, until):
            q = entry(normalize(f.query), f.query)
            q.add(f.at, None, search=False, failed=True)
            q.rejected += 1
            totals["rejected_suggestions"] += 1
        for d in tickets.iter_deflections(since, until):
            if d["submitted"] and d["articles"]:
                q = entry(normalize(d["query"]), d["query"])
                q.add(d["at"], d["locale"], search=False, failed=True)
                q.deflection_failed += 1
                totals["failed_deflections"] += 1
    return per, dict(totals)


@lru_cache(maxsize=1 << 16)
def _terms(normalized: str) -> frozenset[str]:
    return frozenset(terms(normalized, None))


def related(a: str, b: str) -> bool:
    """Whether b can be a rewording of a: they share a word (lemma or stem), or neither has one to share.

    A visitor who asks six different things in a row did not reformulate five times: only a new wording of the
    same need says the first one failed ("reset password" then "forgot password", not "gantt chart" then "dark mode").
    """
    ta, tb = _terms(a), _terms(b)
    return bool(ta & tb) or not ta or not tb


def failing(per: dict[str, QuerySignals]) -> list[QuerySignals]:
    """The queries that fail more often than not: what the gap report groups into topics."""
    return [q for q in per.values() if q.failures and q.failure_rate >= MIN_FAILURE_RATE]


def weeks(start: date, end: date) -> list[date]:
    """Mondays from the week of start to the week of end."""
    first = start - timedelta(days=start.weekday())
    out = []
    while first <= end:
        out.append(first)
        first += timedelta(days=7)
    return out


def weekly(days: Iterable[tuple[date, int]], mondays: list[date]) -> list[int]:
    counts = [0] * len(mondays)
    for day, n in days:
        monday = day - timedelta(days=day.weekday())
        if mondays and mondays[0] <= monday <= mondays[-1]:
            counts[(monday - mondays[0]).days // 7] += n
    return counts
