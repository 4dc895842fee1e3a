"""The gap report exported: JSON, CSV for spreadsheets, Markdown for people."""

from __future__ import annotations

import io

from reports.escaping import CsvWriter, json_text, md_link, md_text
from reports.gap_report import GapReport


def to_json(report: GapReport) -> str:
    """The report as indented JSON."""
    return json_text(report.as_dict())


def to_csv(report: GapReport) -> str:
    """One row per topic, with its weekly failures; cells that spreadsheets would run as formulas are quoted."""
    out = io.StringIO()
    w = CsvWriter(out)
    w.writerow(
        [
            "rank",
            "status",
            "title",
            "coverage",
            "impact",
            "searches",
            "failures",
            "failure_rate",
            "trend",
            "locales",
            "queries",
            "nearest_article",
            "nearest_cosine",
            "failure_rate_before",
            "failure_rate_after",
            *[f"week_{d}" for d in report.weeks],
        ]
    )
    for n, t in enumerate(report.topics, 1):
        near = t.resolved_by or (t.nearest[0] if t.nearest else None)
        w.writerow(
            [
                n,
                t.status,
                t.title,
                t.coverage,
                t.impact,
                t.searches,
                t.failures,
                t.failure_rate,
                t.trend,
                " ".join(f"{k}:{v}" for k, v in t.locales.items()),
                " | ".join(q["text"] for q in t.queries[:5]),
                near.id if near else "",
                near.cosine if near else "",
                t.failure_rate_before if t.failure_rate_before is not None else "",
                t.failure_rate_after if t.failure_rate_after is not None else "",
                *t.weekly_failures,
            ]
        )
    return out.getvalue()


def to_markdown(report: GapReport) -> str:
    """The report as a Markdown document: open topics, resolved ones, unhelpful articles, how it was fitted."""
    lines = [
        f"# Gap report {report.since} – {report.until}",
        "",
        "Signals: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.totals.items()),
        "",
    ]
    open_topics = [t for t in report.topics if t.status == "open"]
    resolved = [t for t in report.topics if t.status == "resolved" and t.resolved_by is not None]
    lines += ["## Write or fix first", ""]
    if not open_topics:
        lines.append("Nothing is failing often enough to report.")
    for n, t in enumerate(open_topics, 1):
        near = f"{md_link(t.nearest[0].title, t.nearest[0].url)} ({t.nearest[0].cosine:.2f})" if t.nearest else "none"
        lines += [
            f"### {n}. {_md(t.title)}",
            f"- {'**No article**' if t.coverage == 'absent' else 'An article exists but fails'}; "
            f"{t.failures} failures of {_attempts(t)} "
            f"({t.failure_rate:.0%}), trend {t.trend}, weekly {t.weekly_failures}",
            f"- Locales: {', '.join(f'{k} {v}' for k, v in t.locales.items())}",
            f"- Nearest article: {near}",
            "- Asked as: " + "; ".join(f"“{_md(q['text'])}” ×{q['count']}" for q in t.queries[:5]),
            "",
        ]
    if resolved:
        lines += ["## Resolved", ""]
        for t in resolved:
            by = t.resolved_by
            assert by is not None  # resolved means an article answers it now (reports/gaps.py)
            lines.append(
                f"- {_md(t.title)}: answered by {md_link(by.title, by.url)} since "
                f"{by.updated}; failure rate {t.failure_rate_before:.0%} → {t.failure_rate_after:.0%}"
            )
        lines.append("")
    if report.unhelpful_articles:
        lines += ["## Articles voted not helpful", ""]
        lines += [
            f"- {_md(a['article_id'])}: {a['not_helpful']} not helpful, {a['helpful']} helpful"
            + (f" (mostly: {_md(a['top_reason'])})" if a.get("top_reason") else "")
            for a in report.unhelpful_articles
        ]
    note = report.method_note()
    if note:
        lines += ["", f"_{note}_"]
    return "\n".join(lines) + "\n"


def _attempts(t) -> int:
    """A topic's searches, rejected suggestions and failed deflections: what its failures are out of."""
    return t.searches + t.signals.get("rejected", 0) + t.signals.get("deflection_failed", 0)


_md = md_text  # customers' queries and reasons, authors' titles: escaped wherever they go into the document
