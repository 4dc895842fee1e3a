"""The gap report: what customers and agents could not find, grouped into topics, ranked by impact.

Signals are streamed from the event log (reports/signals.py); the failing queries are grouped into topics
with the multilingual embeddings (reports/topics.py); each topic gets its volume and weekly trend, its
locales, representative queries, the nearest existing articles and whether coverage is absent or weak,
a suggested title, and, when an article published later now answers it, its failure rate before and after.
"""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np

from kb.analysis import normalize
from reports.gap_report import GapReport, GapTopic, Nearest
from reports.signals import MIN_FAILURE_RATE, QuerySignals, collect, failing, weekly, weeks
from reports.trends import failed_by_day, failed_count, parse_day, rate_around, trend_of
from search.retrieval import Retriever

# Distinct queries compared with the KB (the most searched first), and at most as many failing ones clustered
# as "weak" topics. Traffic is Zipf-like: the top few thousand wordings carry most failures; the rest is
# counted in the totals only.
MAX_REPORT_QUERIES = 5000
# A topic is resolved when, after the nearest article was published, it fails at most this share of
# the rate before, and at most RESOLVED_MAX_RATE overall, over at least RESOLVED_MIN_EVENTS events.
RESOLVED_SHARE = 0.5
RESOLVED_MAX_RATE = 0.34
RESOLVED_MIN_EVENTS = 3


def preload() -> None:
    """Import what building a report needs and a CLI command that never builds one should not pay for.

    SciPy's clustering and scikit-learn's metrics and logistic fit take ~1.6 s to import on an idle core (5-7 s on a
    loaded one): the web app imports them at start-up, so the first admin to open /admin/gaps after a restart does
    not wait.
    """
    import scipy.cluster.hierarchy  # noqa: F401
    import sklearn.linear_model  # noqa: F401  (GapCalibration's P(no article | score))
    import sklearn.metrics  # noqa: F401


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

    def build(
        self, since: datetime | None = None, until: datetime | None = None, *, days: int = 56, limit: int = 50
    ) -> GapReport:
        import time

        from reports.evidence import KnowledgeEvidence, languages
        from reports.topics import MAX_CLUSTER, analyse_gaps, cluster_labels

        t0 = time.perf_counter()
        until = until or datetime.now(UTC)
        since = since or until - timedelta(days=days)
        per, totals = collect(self.events, self.tickets, since, until)
        mondays = weeks(since.date(), until.date())
        # Query vectors are remembered for this build: the covered queries below were embedded by analyse_gaps.
        store, embedder = self.retriever.store, _MemoEmbedder(self.retriever.embedder)
        topics: list[GapTopic] = []
        members_of: dict[str, list[QuerySignals]] = {}
        uncovered: set[str] = set()
        calibration: dict = {}
        if per:
            evidence = KnowledgeEvidence.from_store(store, embedder, self.visibilities)
            # analyse_gaps checks the MAX_REPORT_QUERIES most searched (the same order): only those become QueryStats.
            top = heapq.nsmallest(MAX_REPORT_QUERIES, per.values(), key=lambda q: (-q.events, q.normalized))
            analysis = analyse_gaps(
                [_stat(q) for q in top],
                store=store,
                embedder=embedder,
                visibilities=self.visibilities,
                evidence=evidence,
                max_queries=MAX_REPORT_QUERIES,
            )
            calibration = analysis.calibration.as_dict()
            for t in analysis.topics:
                members = [per[q.normalized] for q in t.queries]
                # The KB's evidence finds no article for these; the log must also say they failed: a wording
                # customers were answered for and clicked most of the time is no gap, whatever its score, and
                # one whose top result was clicked or voted helpful as often as it failed has an article (weak at
                # worst, never absent); a few stray clicks among many failures do not hide a missing article.
                kept = [
                    q
                    for q in members
                    if failed_count(q, True) >= MIN_FAILURE_RATE * q.events and q.found < failed_count(q, True)
                ]
                if not kept:
                    continue
                title = t.title
                dropped = {q.normalized for q in members} - {q.normalized for q in kept}
                if dropped and any(_same_title(q.text, title) for q in members if q.normalized in dropped):
                    title = suggest_title(max(kept, key=lambda q: (q.events, q.normalized)).text)
                members_of[t.id] = kept
                uncovered.add(t.id)
                nearest = [Nearest(a.id, a.title, f"/articles/{a.id}", round(a.score, 4)) for a in t.nearest_articles]
                topics.append(
                    self._topic(
                        t.id,
                        title,
                        kept,
                        nearest,
                        "absent",
                        mondays,
                        uncovered=True,
                        weight=t.evidence / max(t.size, 1),
                    )
                )
            # Failing by the log, covered by the KB today: an article exists but fails, or it was written since.
            # Only checked queries: those past MAX_REPORT_QUERIES were not compared with the KB (totals count them).
            covered = sorted(
                (
                    q
                    for q in failing(per)
                    if q.normalized in analysis.scores
                    and (q.normalized not in analysis.unanswered or q.found >= failed_count(q, True))
                ),
                key=lambda q: (-q.failures, q.normalized),
            )[:MAX_REPORT_QUERIES]
            if covered:
                texts = [q.text for q in covered]
                langs = languages(texts)
                space = analysis.space
                vectors = space.centred(np.asarray(embedder.embed_queries(texts), np.float32), langs)
                cal = analysis.calibration
                labels = cluster_labels(
                    vectors,
                    np.asarray([q.failures for q in covered], np.float64),
                    cal.cluster_distance,
                    MAX_CLUSTER,
                    0,
                    langs,
                    cal.cross_language_distance,
                )
                for label in np.unique(labels):
                    idx = np.flatnonzero(labels == label)
                    members = [covered[i] for i in idx]
                    centre = vectors[idx].mean(0)
                    sims = space.similarities(centre[None, :] / (np.linalg.norm(centre) or 1.0))[0]
                    near = [
                        Nearest(
                            space.articles[j].id,
                            space.articles[j].title,
                            f"/articles/{space.articles[j].id}",
                            round(float(sims[j]), 4),
                        )
                        for j in np.argsort(-sims)[:3]
                    ]
                    central = members[int(np.argmax(vectors[idx] @ centre))]
                    tid = f"c{len(topics) + 1}"
                    members_of[tid] = members
                    topics.append(
                        self._topic(tid, suggest_title(central.text), members, near, "weak", mondays, uncovered=False)
                    )
            self._dates(topics)
            from search.rules_file import stored

            rules = stored(store)
            for topic in topics:
                members = members_of[topic.id]
                self._resolve(topic, members, topic.id in uncovered, _pinned_on(rules, topic, members))
        topics = [t for t in topics if t.failures > 0]
        topics.sort(key=lambda t: (t.status != "open", -t.impact, t.title))
        return GapReport(
            generated=datetime.now(UTC).isoformat(timespec="seconds"),
            since=since.date().isoformat(),
            until=until.date().isoformat(),
            weeks=[m.isoformat() for m in mondays],
            totals=totals,
            topics=topics[:limit],
            unhelpful_articles=[
                a for a in self.events.dashboard.article_votes(since, until) if a["not_helpful"] > a["helpful"]
            ],
            seconds=round(time.perf_counter() - t0, 2),
            calibration=calibration,
        )

    def _topic(
        self,
        tid: str,
        title: str,
        members: list[QuerySignals],
        nearest: list[Nearest],
        coverage: str,
        mondays: list[date],
        *,
        uncovered: bool,
        weight: float = 1.0,
    ) -> GapTopic:
        """`weight`: for an absent topic, its searches' mean log-odds that no article answers them (the order
        analyse_gaps ranks by, so the page and `kb eval-gaps` read the same list); a near-miss weighs little."""

        def failed(q: QuerySignals) -> int:
            return failed_count(q, uncovered)

        members = sorted(members, key=lambda q: (-q.events, q.normalized))
        searches = sum(q.searches for q in members)
        events = sum(q.events for q in members)
        failures = sum(failed(q) for q in members)
        locales = sum((q.locales for q in members), Counter())
        signals = {
            k: sum(getattr(q, k) for q in members)
            for k in ("unanswered", "no_click", "reformulated", "rejected", "deflection_failed")
        }
        weekly_failures = weekly([(d, n) for q in members for d, n in failed_by_day(q, uncovered)], mondays)
        trend = trend_of(weekly_failures)
        growth = {"rising": 1.5, "new": 1.25, "steady": 1.0, "falling": 0.75}[trend]
        return GapTopic(
            id=tid,
            title=title,
            status="open",
            coverage=coverage,
            impact=round(failures * growth * max(weight, 0.0), 2),
            searches=searches,
            failures=failures,
            failure_rate=round(failures / events, 4) if events else 0.0,
            distinct_queries=len(members),
            trend=trend,
            weekly_failures=weekly_failures,
            locales=dict(locales.most_common()),
            queries=[
                {"text": q.text, "count": q.events, "failures": failed(q)} | ({"typed": q.typed} if q.typed else {})
                for q in members[:8]
            ],
            signals=signals,
            nearest=nearest,
        )

    def _dates(self, topics: list[GapTopic]) -> None:
        """The `updated` date of every nearest article (when it was published or last changed)."""
        from kb.store import SearchFilter

        ids = sorted({n.id for t in topics for n in t.nearest})
        if not ids:
            return
        recs = self.retriever.store.records(
            SearchFilter(article_ids=ids, visibilities=self.visibilities, title_points=True),
            ["article_id", "updated"],
            limit=len(ids) * 4,
        )
        dates = {r.payload["article_id"]: r.payload.get("updated") for r in recs}
        for t in topics:
            for n in t.nearest:
                n.updated = str(dates.get(n.id) or "") or None

    def _resolve(
        self, topic: GapTopic, members: list[QuerySignals], uncovered: bool = False, pinned: date | None = None
    ) -> None:
        """Resolved: the nearest article was published (or pinned for these wordings) after the failures began,
        and they have stopped since."""
        first = min((q.first for q in members if q.first), default=None)
        art = topic.nearest[0] if topic.nearest else None
        published = parse_day(art.updated) if art else None
        if pinned and (published is None or pinned > published):
            published = pinned
        if not (published and first and first.date() < published):
            return
        before, after, after_events = rate_around(members, published, uncovered)
        if (
            after_events >= RESOLVED_MIN_EVENTS
            and before > 0
            and after <= RESOLVED_SHARE * before
            and after <= RESOLVED_MAX_RATE
        ):
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


def _pinned_on(rules, topic: GapTopic, members: list[QuerySignals]) -> date | None:
    """The day a search rule began sending this topic's wordings to its nearest article, if one does."""
    if not rules or not topic.nearest:
        return None
    target = topic.nearest[0].id
    days = [
        p.added
        for p in rules.pins_for([target])
        if p.added and any(p.applies(key, p.keys) for key in {_key(q.text) for q in members})
    ]
    return min(days) if days else None


def _key(text: str) -> frozenset[str]:
    from search.rules import term_key

    return term_key(text)


def _same_title(text: str, title: str) -> bool:
    return normalize(suggest_title(text)).rstrip("…") == normalize(title).rstrip("…")


def _stat(q: QuerySignals):
    """The log's view of one query, in the form reports/topics.py checks against the knowledge base."""
    from reports.queries import QueryStat

    stat = QueryStat(
        text=q.text,
        normalized=q.normalized,
        count=q.events,
        first_seen=q.first,
        last_seen=q.last,
        answered=q.searches - q.unanswered,
        clicked=q.searches - q.unanswered - q.no_click,
    )
    stat.locales.update(q.locales)
    return stat


def suggest_title(query: str) -> str:
    """A title from the topic's most central wording: trimmed, first letter capitalised, no trailing punctuation."""
    text = " ".join(query.split()).strip(" ?!.,;:…")
    if len(text) > 90:
        text = text[:90].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:] if text else "(empty query)"
