"""Logged searches folded into one QueryStat per normalized query text, streamed (a 1M-search log never sits in
memory)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from kb.db import SearchEvent

MAX_FORMS = 8  # raw spellings remembered per normalized query, enough to pick the most common one


@dataclass
class QueryStat:
    """One distinct query of the log: how often, where, when, and what search-time decided."""

    text: str  # the most common raw form, what the report shows and embeds
    normalized: str
    count: int = 0
    locales: Counter = field(default_factory=Counter)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    answered: int = 0  # searches the search-time (logistic) decision called answered
    clicked: int = 0
    forms: Counter = field(default_factory=Counter, repr=False)

    @property
    def answered_share(self) -> float:
        return self.answered / self.count if self.count else 0.0

    def add(self, event: SearchEvent) -> None:
        self.count += 1
        self.locales[event.locale or ""] += 1
        if self.first_seen is None or event.at < self.first_seen:
            self.first_seen = event.at
        if self.last_seen is None or event.at > self.last_seen:
            self.last_seen = event.at
        self.answered += bool(event.answered)
        self.clicked += bool(event.clicked)
        if event.query in self.forms or len(self.forms) < MAX_FORMS:
            self.forms[event.query] += 1
            self.text = self.forms.most_common(1)[0][0]


def aggregate_searches(events: Iterable[SearchEvent]) -> list[QueryStat]:
    """One QueryStat per normalized text, most searched first; pass EventLog.iter_searches(...) to stream."""
    stats: dict[str, QueryStat] = {}
    for e in events:
        key = e.normalized or e.query.strip().lower()
        if not key:
            continue
        s = stats.get(key)
        if s is None:
            s = stats[key] = QueryStat(text=e.query, normalized=key)
        s.add(e)
    return sorted(stats.values(), key=lambda s: (-s.count, s.normalized))
