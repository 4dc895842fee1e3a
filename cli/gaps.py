"""`kb gaps`: the gap report, as /admin/gaps shows it, in text, JSON, CSV or Markdown."""

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
