"""The gap report: what customers and agents could not find, grouped into topics, ranked by impact.

Signals are streamed from the event log (reports/signals.py); the failing queries are grouped into topics
with the multilingual embeddings (reports/topics.py); each topic gets its volume and weekly trend, its
locales, representative queries, the nearest existing articles and whether coverage is absent or weak,
a suggested title, and, when an article published later now answers it, its failure rate before and after.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np

from kb.store import QueryVectors
from reports.signals import QuerySignals, collect, failing, weekly, weeks
from search.retrieval import Retriever

# Distinct failing queries that are embedded and clustered, the most failed first. Traffic is Zipf-like:
# the top few thousand wordings carry most failures; the rest is counted in the totals only.
MAX_QUERIES = 5000
# e5 cosine of a topic's centre to an article above which the article is "about" the topic: the topic
# then has weak coverage (an article exists but fails) rather than none.
WEAK_COVERAGE_COSINE = 0.86
# A topic is resolved when, after the nearest article was published, it fails at most this share of
# the rate before, and at most RESOLVED_MAX_RATE overall, over at least RESOLVED_MIN_EVENTS events.
RESOLVED_SHARE = 0.5
RESOLVED_MAX_RATE = 0.34
RESOLVED_MIN_EVENTS = 3


@dataclass
class Nearest:
    id: str
    title: str
    url: str
    cosine: float
    updated: str | None = None


@dataclass
class Topic:
    id: str
    title: str  # suggested title for the article to write or fix
    status: str  # "open" | "resolved"
    coverage: str  # "absent" | "weak"
    impact: float
    searches: int
    failures: int
    failure_rate: float
    distinct_queries: int
    trend: str  # "new" | "rising" | "falling" | "steady"
    weekly_failures: list[int]
    locales: dict[str, int]
    queries: list[dict]  # representative wordings with their counts, most central first
    signals: dict[str, int]
    nearest: list[Nearest]
    resolved_by: Nearest | None = None
    failure_rate_before: float | None = None
    failure_rate_after: float | None = None


@dataclass
class GapReport:
    generated: str
    since: str
    until: str
    weeks: list[str]
    totals: dict[str, int]
    topics: list[Topic]
    unhelpful_articles: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, default=str)

    def to_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["rank", "status", "title", "coverage", "impact", "searches", "failures", "failure_rate", "trend",
                    "locales", "queries", "nearest_article", "nearest_cosine", "failure_rate_before",
                    "failure_rate_after", *[f"week_{d}" for d in self.weeks]])
        for n, t in enumerate(self.topics, 1):
            near = t.resolved_by or (t.nearest[0] if t.nearest else None)
            w.writerow([n, t.status, _cell(t.title), t.coverage, t.impact, t.searches, t.failures, t.failure_rate, t.trend,
                        " ".join(f"{k}:{v}" for k, v in t.locales.items()),
                        _cell(" | ".join(q["text"] for q in t.queries[:5])), near.id if near else "",
                        near.cosine if near else "", t.failure_rate_before if t.failure_rate_before is not None else "",
                        t.failure_rate_after if t.failure_rate_after is not None else "", *t.weekly_failures])
        return out.getvalue()

    def to_markdown(self) -> str:
        lines = [f"# Gap report {self.since} – {self.until}", "",
                 "Signals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.totals.items()), ""]
        open_topics = [t for t in self.topics if t.status == "open"]
        resolved = [t for t in self.topics if t.status == "resolved"]
        lines += ["## Write or fix first", ""]
        if not open_topics:
            lines.append("Nothing is failing often enough to report.")
        for n, t in enumerate(open_topics, 1):
            near = f"[{t.nearest[0].title}]({t.nearest[0].url}) ({t.nearest[0].cosine:.2f})" if t.nearest else "none"
            lines += [f"### {n}. {_md(t.title)}",
                      f"- {'**No article**' if t.coverage == 'absent' else 'An article exists but fails'}; "
                      f"{t.failures} failures of {t.searches + t.signals.get('rejected', 0) + t.signals.get('deflection_failed', 0)} "
                      f"({t.failure_rate:.0%}), trend {t.trend}, weekly {t.weekly_failures}",
                      f"- Locales: {', '.join(f'{k} {v}' for k, v in t.locales.items())}",
                      f"- Nearest article: {near}",
                      "- Asked as: " + "; ".join(f"“{_md(q['text'])}” ×{q['count']}" for q in t.queries[:5]), ""]
        if resolved:
            lines += ["## Resolved", ""]
            for t in resolved:
                lines.append(f"- {_md(t.title)}: answered by [{t.resolved_by.title}]({t.resolved_by.url}) since "
                             f"{t.resolved_by.updated}; failure rate {t.failure_rate_before:.0%} → {t.failure_rate_after:.0%}")
            lines.append("")
        if self.unhelpful_articles:
            lines += ["## Articles voted not helpful", ""]
            lines += [f"- {a['article_id']}: {a['not_helpful']} not helpful, {a['helpful']} helpful"
                      + (f" (mostly: {a['top_reason']})" if a.get("top_reason") else "") for a in self.unhelpful_articles]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets: queries are customer input.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _md(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;").replace("\n", " ")


def _trend(counts: list[int]) -> str:
    if len(counts) < 2:
        return "new"
    half = len(counts) // 2
    before, after = sum(counts[:half]), sum(counts[half:])
    if before == 0:
        return "new" if after else "steady"
    ratio = after / before
    return "rising" if ratio >= 1.5 else "falling" if ratio <= 0.67 else "steady"


def _parse_day(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _rate_around(members: list[QuerySignals], day: date) -> tuple[float, float, int]:
    """Failure rate of the topic's events before `day` and from `day` on, and the count from `day` on."""
    fb = eb = fa = ea = 0
    for q in members:
        for d, n in q.searches_by_day.items():
            f = q.failures_by_day.get(d, 0)
            if d < day:
                eb, fb = eb + n, fb + f
            else:
                ea, fa = ea + n, fa + f
    return (fb / eb if eb else 0.0), (fa / ea if ea else 0.0), ea


class GapReporter:
    """Builds the gap report from the event log and the index."""

    def __init__(self, events, retriever: Retriever, tickets=None, clusterer=None):
        from reports.topics import cluster_queries

        self.events = events
        self.tickets = tickets
        self.retriever = retriever
        self.cluster = clusterer or cluster_queries

    def build(self, since: datetime | None = None, until: datetime | None = None, *, days: int = 56,
              limit: int = 50) -> GapReport:
        import time

        t0 = time.perf_counter()
        until = until or datetime.now(timezone.utc)
        since = since or until - timedelta(days=days)
        per, totals = collect(self.events, self.tickets, since, until)
        candidates = sorted(failing(per), key=lambda q: (-q.failures, q.normalized))[:MAX_QUERIES]
        mondays = weeks(since.date(), until.date())
        topics = []
        if candidates:
            texts = [q.text for q in candidates]
            vectors = np.asarray(self.retriever.embedder.embed_queries(texts), dtype=np.float32)
            labels = self.cluster(vectors, [q.failures for q in candidates])
            groups: dict[int, list[int]] = {}
            for i, label in enumerate(labels):
                groups.setdefault(int(label), []).append(i)
            for n, idx in enumerate(sorted(groups.values(), key=lambda ix: -sum(candidates[i].failures for i in ix))):
                topics.append(self._topic(f"t{n + 1}", [candidates[i] for i in idx], vectors[idx], mondays))
        topics.sort(key=lambda t: (t.status != "open", -t.impact, t.title))
        return GapReport(
            generated=datetime.now(timezone.utc).isoformat(timespec="seconds"), since=since.date().isoformat(),
            until=until.date().isoformat(), weeks=[m.isoformat() for m in mondays], totals=totals,
            topics=topics[:limit], unhelpful_articles=[a for a in self.events.article_votes(since, until)
                                                       if a["not_helpful"] > a["helpful"]],
            seconds=round(time.perf_counter() - t0, 2))

    def _topic(self, tid: str, members: list[QuerySignals], vectors: np.ndarray, mondays: list[date]) -> Topic:
        weights = np.asarray([q.failures for q in members], dtype=np.float32)
        centre = (vectors * weights[:, None]).sum(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        central = np.argsort(-(vectors @ centre))
        queries = [{"text": members[i].text, "count": members[i].events, "failures": members[i].failures}
                   for i in central[:8]]
        nearest = self._nearest(centre)
        searches = sum(q.searches for q in members)
        events = sum(q.events for q in members)
        failures = sum(q.failures for q in members)
        locales: dict[str, int] = {}
        for q in members:
            for k, v in q.locales.items():
                locales[k] = locales.get(k, 0) + v
        signals = {k: sum(getattr(q, k) for q in members)
                   for k in ("unanswered", "no_click", "reformulated", "rejected", "deflection_failed")}
        days = [(d, n) for q in members for d, n in q.failures_by_day.items()]
        weekly_failures = weekly(days, mondays)
        trend = _trend(weekly_failures)
        # An article that exists but fails is weak coverage; so is a topic whose searches found something
        # and still failed (no click, a reformulation, a rejected suggestion, a contact request sent).
        answered_failures = signals["reformulated"] + signals["rejected"] + signals["deflection_failed"]
        weak = bool(nearest and nearest[0].cosine >= WEAK_COVERAGE_COSINE) or answered_failures > signals["unanswered"]
        status, resolved_by, before, after = "open", None, None, None
        for art in nearest:
            published = _parse_day(art.updated)
            first = min((q.first for q in members if q.first), default=None)
            if published and first and first.date() < published <= mondays[-1] + timedelta(days=7):
                b, a, after_events = _rate_around(members, published)
                if after_events >= RESOLVED_MIN_EVENTS and b > 0 and a <= RESOLVED_SHARE * b and a <= RESOLVED_MAX_RATE:
                    status, resolved_by, before, after = "resolved", art, round(b, 4), round(a, 4)
                    break
        growth = {"rising": 1.5, "new": 1.25, "steady": 1.0, "falling": 0.75}[trend]
        impact = round(failures * growth * (1.0 if status == "open" else 0.1), 2)
        return Topic(
            id=tid, title=suggest_title(members[central[0]].text), status=status, coverage="weak" if weak else "absent",
            impact=impact, searches=searches, failures=failures, failure_rate=round(failures / events, 4) if events else 0.0,
            distinct_queries=len(members), trend=trend, weekly_failures=weekly_failures,
            locales=dict(sorted(locales.items(), key=lambda kv: -kv[1])), queries=queries, signals=signals,
            nearest=nearest, resolved_by=resolved_by, failure_rate_before=before, failure_rate_after=after)

    def _nearest(self, centre: np.ndarray) -> list[Nearest]:
        hits = self.retriever.search("", 3, mode="dense", vectors=QueryVectors(centre.tolist(), None))
        return [Nearest(h.id, h.title, f"/articles/{h.id}", round(float(h.dense_score or h.score), 4),
                        str(h.payload.get("updated") or "") or None) for h in hits]


def suggest_title(query: str) -> str:
    """A title from the topic's most central wording: trimmed, first letter capitalised, no trailing punctuation."""
    text = " ".join(query.split()).strip(" ?!.,;:…")
    if len(text) > 90:
        text = text[:90].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:] if text else "(empty query)"
