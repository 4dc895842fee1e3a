"""Reports over the event log: what customers searched for and did not find, grouped into topics."""

from reports.queries import QueryStat, aggregate_searches
from reports.topics import ArticleRef, GapAnalysis, UncoveredTopic, analyse_gaps, detect_and_cluster

__all__ = [
    "ArticleRef",
    "GapAnalysis",
    "QueryStat",
    "UncoveredTopic",
    "aggregate_searches",
    "analyse_gaps",
    "detect_and_cluster",
]
