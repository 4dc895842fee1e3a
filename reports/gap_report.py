"""The gap report as a result: its topics, their nearest articles, and what the report says about itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Nearest:
    """An existing article near a topic (what to fix, or what resolved it)."""

    id: str
    title: str
    url: str
    cosine: float
    updated: str | None = None


@dataclass
class GapTopic:
    """One ranked topic of the gap report: what to write or fix, with its evidence."""

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
    """The whole report for one window: totals, ranked topics, articles voted not helpful, how it was fitted."""

    generated: str
    since: str
    until: str
    weeks: list[str]
    totals: dict[str, int]
    topics: list[GapTopic]
    unhelpful_articles: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    calibration: dict = field(default_factory=dict)  # the thresholds this build fitted on the KB (GapCalibration)

    def as_dict(self) -> dict:
        return asdict(self)

    def method_note(self) -> str:
        """One sentence on how the thresholds were chosen, so nobody has to trust a constant."""
        c = self.calibration
        if not c:
            return ""
        how = (
            f"fitted on the knowledge base's {c['pseudo_queries']} (equal error rate {c['equal_error_rate']:.0%})"
            if c.get("fitted")
            else "the default: too few articles to fit one on"
        )
        cross = (
            f", across languages within {c['cross_language_distance']:.2f} (fitted on "
            f"{c['translated_titles']} translated titles)"
            if c.get("translated_titles")
            else ""
        )
        return (
            f"A query counts as uncovered below a similarity of {c['threshold']:.2f} to the nearest article, "
            f"{how}; wordings form one topic within a distance of {c['cluster_distance']:.2f}{cross}."
        )

    def to_json(self) -> str:
        from reports.gap_export import to_json

        return to_json(self)

    def to_csv(self) -> str:
        from reports.gap_export import to_csv

        return to_csv(self)

    def to_markdown(self) -> str:
        from reports.gap_export import to_markdown

        return to_markdown(self)
