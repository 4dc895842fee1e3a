"""The gap report: what customers and agents could not find, grouped into topics, ranked by impact.

Signals are streamed from the event log (reports/signals.py); the failing queries are grouped into topics
with the multilingual embeddings (reports/topics.py); each topic gets its volume and weekly trend, its
locales, representative queries, the nearest existing articles and whether coverage is absent or weak,
a suggested title, and, when an article published later now answers it, its failure rate before and after.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np

from kb.analysis import normalize
from reports.signals import MIN_FAILURE_RATE, QuerySignals, collect, failing, weekly, weeks
from search.retrieval import Retriever

# Distinct queries compared with the KB (the most searched first), and at most as many failing ones clustered
# as "weak" topics. Traffic is Zipf-like: the top few thousand wordings carry most failures; the rest is
# counted in the totals only.
MAX_QUERIES = 5000
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
    calibration: dict = field(default_factory=dict)  # the thresholds this build fitted on the KB (Calibration)

    def as_dict(self) -> dict:
        return asdict(self)

    def method_note(self) -> str:
        """One sentence on how the thresholds were chosen, so nobody has to trust a constant."""
        c = self.calibration
        if not c:
            return ""
        how = (f"fitted on the knowledge base's {c['pseudo_queries']} (equal error rate {c['equal_error_rate']:.0%})"
               if c.get("fitted") else "the default: too few articles to fit one on")
        cross = (f", across languages within {c['cross_language_distance']:.2f} (fitted on "
                 f"{c['translated_titles']} translated titles)" if c.get("translated_titles") else "")
        return (f"A query counts as uncovered below a similarity of {c['threshold']:.2f} to the nearest article, "
                f"{how}; wordings form one topic within a distance of {c['cluster_distance']:.2f}{cross}.")

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
        note = self.method_note()
        if note:
            lines += ["", f"_{note}_"]
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


def _failed(q: QuerySignals, uncovered: bool) -> int:
    """A query's failed searches and tickets; judged unanswered today, an answered search nobody clicked failed too."""
    return q.failures + (q.unclicked if uncovered else 0)


def _failed_by_day(q: QuerySignals, uncovered: bool):
    yield from q.failures_by_day.items()
    if uncovered:
        yield from q.unclicked_by_day.items()


def _rate_around(members: list[QuerySignals], day: date, uncovered: bool = False) -> tuple[float, float, int]:
    """Failure rate of the topic's events before `day` and from `day` on, and the count from `day` on."""
    fb = eb = fa = ea = 0
    for q in members:
        for d, n in q.searches_by_day.items():
            if d < day:
                eb += n
            else:
                ea += n
        for d, f in _failed_by_day(q, uncovered):
            if d < day:
                fb += f
            else:
                fa += f
    return (fb / eb if eb else 0.0), (fa / ea if ea else 0.0), ea


class GapReporter:
    """Builds the gap report from the event log and the index.

    Two kinds of topic: queries the knowledge base does not cover today (reports/topics.py decides, with
    thresholds fitted on the KB's own articles), and queries the KB does cover but that still failed
    customers by the log's signals; the second kind is "weak coverage", or "resolved" when the article
    covering it was published after the failures began and the failures stopped.
    """

    def __init__(self, events, retriever: Retriever, tickets=None, visibilities: tuple[str, ...] = ("public",)):
        self.events = events
        self.tickets = tickets
        self.retriever = retriever
        self.visibilities = list(visibilities)

    def build(self, since: datetime | None = None, until: datetime | None = None, *, days: int = 56,
              limit: int = 50) -> GapReport:
        import time

        from reports.evidence import KnowledgeEvidence, languages
        from reports.topics import MAX_CLUSTER, analyse, cluster_labels

        t0 = time.perf_counter()
        until = until or datetime.now(timezone.utc)
        since = since or until - timedelta(days=days)
        per, totals = collect(self.events, self.tickets, since, until)
        mondays = weeks(since.date(), until.date())
        # Query vectors are remembered for this build: the covered queries below were embedded by analyse.
        store, embedder = self.retriever.store, _MemoEmbedder(self.retriever.embedder)
        topics: list[Topic] = []
        members_of: dict[str, list[QuerySignals]] = {}
        uncovered: set[str] = set()
        calibration: dict = {}
        if per:
            evidence = KnowledgeEvidence.from_store(store, embedder, self.visibilities)
            # analyse checks the MAX_QUERIES most searched (the same order): only those become QueryStats.
            top = heapq.nsmallest(MAX_QUERIES, per.values(), key=lambda q: (-q.events, q.normalized))
            analysis = analyse([_stat(q) for q in top], store=store, embedder=embedder,
                               visibilities=self.visibilities, evidence=evidence, max_queries=MAX_QUERIES)
            calibration = analysis.calibration.as_dict()
            for t in analysis.topics:
                members = [per[q.normalized] for q in t.queries]
                # The KB's evidence finds no article for these; the log must also say they failed: a wording
                # customers were answered for and clicked most of the time is no gap, whatever its score.
                kept = [q for q in members if _failed(q, True) >= MIN_FAILURE_RATE * q.events]
                if not kept:
                    continue
                title = t.title
                dropped = {q.normalized for q in members} - {q.normalized for q in kept}
                if dropped and any(_same_title(q.text, title) for q in members if q.normalized in dropped):
                    title = suggest_title(max(kept, key=lambda q: (q.events, q.normalized)).text)
                members_of[t.id] = kept
                uncovered.add(t.id)
                nearest = [Nearest(a.id, a.title, f"/articles/{a.id}", round(a.score, 4)) for a in t.nearest_articles]
                topics.append(self._topic(t.id, title, kept, nearest, t.coverage, mondays, uncovered=True))
            # Failing by the log, covered by the KB today: an article exists but fails, or it was written since.
            # Only checked queries: those past MAX_QUERIES were not compared with the KB (totals count them).
            covered = sorted((q for q in failing(per)
                              if q.normalized in analysis.scores and q.normalized not in analysis.unanswered),
                             key=lambda q: (-q.failures, q.normalized))[:MAX_QUERIES]
            if covered:
                texts = [q.text for q in covered]
                langs = languages(texts)
                vectors = evidence.centred(np.asarray(embedder.embed_queries(texts), np.float32), langs)
                cal = analysis.calibration
                labels = cluster_labels(vectors, np.asarray([q.failures for q in covered], np.float64),
                                        cal.cluster_distance, MAX_CLUSTER, 0, langs, cal.cross_language_distance)
                for label in np.unique(labels):
                    idx = np.flatnonzero(labels == label)
                    members = [covered[i] for i in idx]
                    centre = vectors[idx].mean(0)
                    sims = evidence.similarities(centre[None, :] / (np.linalg.norm(centre) or 1.0))[0]
                    near = [Nearest(evidence.articles[j].id, evidence.articles[j].title,
                                    f"/articles/{evidence.articles[j].id}", round(float(sims[j]), 4))
                            for j in np.argsort(-sims)[:3]]
                    central = members[int(np.argmax(vectors[idx] @ centre))]
                    tid = f"c{len(topics) + 1}"
                    members_of[tid] = members
                    topics.append(self._topic(tid, suggest_title(central.text), members, near, "weak", mondays,
                                              uncovered=False))
            self._dates(topics)
            for t in topics:
                self._resolve(t, members_of[t.id], t.id in uncovered)
        topics = [t for t in topics if t.failures > 0]
        topics.sort(key=lambda t: (t.status != "open", -t.impact, t.title))
        return GapReport(
            generated=datetime.now(timezone.utc).isoformat(timespec="seconds"), since=since.date().isoformat(),
            until=until.date().isoformat(), weeks=[m.isoformat() for m in mondays], totals=totals,
            topics=topics[:limit], unhelpful_articles=[a for a in self.events.dashboard.article_votes(since, until)
                                                       if a["not_helpful"] > a["helpful"]],
            seconds=round(time.perf_counter() - t0, 2), calibration=calibration)

    def _topic(self, tid: str, title: str, members: list[QuerySignals], nearest: list[Nearest], coverage: str,
               mondays: list[date], *, uncovered: bool) -> Topic:
        def failed(q: QuerySignals) -> int:
            return _failed(q, uncovered)

        members = sorted(members, key=lambda q: (-q.events, q.normalized))
        searches = sum(q.searches for q in members)
        events = sum(q.events for q in members)
        failures = sum(failed(q) for q in members)
        locales = sum((q.locales for q in members), Counter())
        signals = {k: sum(getattr(q, k) for q in members)
                   for k in ("unanswered", "no_click", "reformulated", "rejected", "deflection_failed")}
        weekly_failures = weekly([(d, n) for q in members for d, n in _failed_by_day(q, uncovered)], mondays)
        trend = _trend(weekly_failures)
        growth = {"rising": 1.5, "new": 1.25, "steady": 1.0, "falling": 0.75}[trend]
        return Topic(
            id=tid, title=title, status="open", coverage=coverage, impact=round(failures * growth, 2),
            searches=searches, failures=failures, failure_rate=round(failures / events, 4) if events else 0.0,
            distinct_queries=len(members), trend=trend, weekly_failures=weekly_failures,
            locales=dict(locales.most_common()),
            queries=[{"text": q.text, "count": q.events, "failures": failed(q)} for q in members[:8]],
            signals=signals, nearest=nearest)

    def _dates(self, topics: list[Topic]) -> None:
        """The `updated` date of every nearest article (when it was published or last changed)."""
        from kb.store import SearchFilter

        ids = sorted({n.id for t in topics for n in t.nearest})
        if not ids:
            return
        recs = self.retriever.store.records(SearchFilter(article_ids=ids, visibilities=self.visibilities,
                                                         title_points=True), ["article_id", "updated"], limit=len(ids) * 4)
        dates = {r.payload["article_id"]: r.payload.get("updated") for r in recs}
        for t in topics:
            for n in t.nearest:
                n.updated = str(dates.get(n.id) or "") or None

    def _resolve(self, topic: Topic, members: list[QuerySignals], uncovered: bool = False) -> None:
        """Resolved: the nearest article was published after the failures began, and they have stopped since."""
        first = min((q.first for q in members if q.first), default=None)
        art = topic.nearest[0] if topic.nearest else None
        published = _parse_day(art.updated) if art else None
        if not (published and first and first.date() < published):
            return
        before, after, after_events = _rate_around(members, published, uncovered)
        if after_events >= RESOLVED_MIN_EVENTS and before > 0 and after <= RESOLVED_SHARE * before \
                and after <= RESOLVED_MAX_RATE:
            topic.status, topic.resolved_by = "resolved", art
            topic.failure_rate_before, topic.failure_rate_after = round(before, 4), round(after, 4)
            topic.impact = round(topic.impact * 0.1, 2)


class _MemoEmbedder:
    """The retriever's embedder, remembering each query text's vector for one report build."""

    def __init__(self, embedder):
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed_queries(self, texts) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, np.asarray(self._embedder.embed_queries(missing), np.float32)))
        if not texts:
            return np.zeros((0, self._embedder.dim), np.float32)
        return np.stack([self._vectors[t] for t in texts])


def _same_title(text: str, title: str) -> bool:
    return normalize(suggest_title(text)).rstrip("…") == normalize(title).rstrip("…")


def _stat(q: QuerySignals):
    """The log's view of one query, in the form reports/topics.py checks against the knowledge base."""
    from reports.queries import QueryStat

    stat = QueryStat(text=q.text, normalized=q.normalized, count=q.events, first_seen=q.first, last_seen=q.last,
                     answered=q.searches - q.unanswered, clicked=q.searches - q.unanswered - q.no_click)
    stat.locales.update(q.locales)
    return stat


def suggest_title(query: str) -> str:
    """A title from the topic's most central wording: trimmed, first letter capitalised, no trailing punctuation."""
    text = " ".join(query.split()).strip(" ?!.,;:…")
    if len(text) > 90:
        text = text[:90].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:] if text else "(empty query)"
