"""`kb gaps`: the gap report, as /admin/gaps shows it, in text, JSON, CSV or Markdown; `kb health`: content health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for
from kb.store import StoreError


def gaps(
    days: Annotated[int, typer.Option(min=1, max=3660, help="the last N days")] = 56,
    fmt: Annotated[str, typer.Option("--format", help="text, json, csv or md")] = "text",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="topics to show")] = 30,
) -> None:
    """The gap report: topics customers and agents could not find, ranked by impact (as /admin/gaps shows)."""
    from reports.gaps import GapReporter

    if fmt not in ("text", "json", "csv", "md"):
        fail(f"unknown format {fmt!r}: use text, json, csv or md")
    until = datetime.now(UTC)
    try:
        with open_runtime(settings_for()) as rt:
            report = GapReporter(rt.events, rt.retriever, rt.tickets).build(
                until - timedelta(days=days), until, limit=limit
            )
    except StoreError as e:
        fail(str(e))
    if fmt == "json":
        typer.echo(report.to_json())
    elif fmt == "csv":
        typer.echo(report.to_csv(), nl=False)
    else:
        typer.echo(report.to_markdown(), nl=False)


def health(
    days: Annotated[int, typer.Option(min=1, max=3660, help="the last N days of the event log")] = 56,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON object")] = False,
) -> None:
    """Content health (as /admin/health shows): duplicates, translations, broken links, unseen articles."""
    import json

    from reports.health import content_health

    until = datetime.now(UTC)
    try:
        with open_runtime(settings_for()) as rt:
            report = content_health(rt.store, rt.embedder, rt.events, until - timedelta(days=days), until)
    except StoreError as e:
        fail(str(e))
    from web.i18n import health_evidence, translator

    if as_json:  # the facts as data, and the evidence as the page says it in English
        out = report.as_dict()
        for row, f in zip(out["findings"], report.findings):
            row["evidence"] = health_evidence(f.kind, f.facts, "en")
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    t = translator("en")
    typer.echo(f"{report.articles} articles, {report.since} – {report.until}: {len(report.findings)} findings")
    for kind, found in report.by_kind().items():
        typer.echo(f"\n{t('health_' + kind)} ({len(found)}):")
        for f in found:
            typer.echo(f"  {f.article}: {health_evidence(f.kind, f.facts, 'en')}")
