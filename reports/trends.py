"""A topic over time: its failures per day, its trend, and its failure rate before and after a given day."""

from __future__ import annotations

from datetime import date

from reports.signals import QuerySignals


def trend_of(counts: list[int]) -> str:
    """new, rising, falling or steady: the second half of the weeks against the first."""
    if len(counts) < 2:
        return "new"
    half = len(counts) // 2
    before, after = sum(counts[:half]), sum(counts[half:])
    if before == 0:
        return "new" if after else "steady"
    ratio = after / before
    return "rising" if ratio >= 1.5 else "falling" if ratio <= 0.67 else "steady"


def parse_day(value) -> date | None:
    """The date an `updated:` value starts with, or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def failed_count(q: QuerySignals, uncovered: bool) -> int:
    """A query's failed searches and tickets; judged unanswered today, an answered search nobody clicked failed too."""
    return q.failures + (q.unclicked if uncovered else 0)


def failed_by_day(q: QuerySignals, uncovered: bool):
    yield from q.failures_by_day.items()
    if uncovered:
        yield from q.unclicked_by_day.items()


def rate_around(members: list[QuerySignals], day: date, uncovered: bool = False) -> tuple[float, float, int]:
    """Failure rate of the topic's events before `day` and from `day` on, and the count from `day` on."""
    fb = eb = fa = ea = 0
    for q in members:
        for d, n in q.searches_by_day.items():
            if d < day:
                eb += n
            else:
                ea += n
        for d, f in failed_by_day(q, uncovered):
            if d < day:
                fb += f
            else:
                fa += f
    return (fb / eb if eb else 0.0), (fa / ea if ea else 0.0), ea
