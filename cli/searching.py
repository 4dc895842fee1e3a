"""`kb search`: the index's best articles for a query, as a list or as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for
from kb.store import StoreError


def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    locale: Annotated[str | None, typer.Option(help="only articles in this locale (en, ru, uk, …)")] = None,
    category: Annotated[str | None, typer.Option(help="only articles in this category")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    internal: Annotated[bool, typer.Option(help="include internal (agents-only) articles")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the index and print the best articles."""
    from search.layout import fix_layout

    fix = fix_layout(query)
    if fix:
        query = fix.text
    try:
        with open_runtime(settings_for()) as rt:
            hits = rt.retriever.search(
                query,
                limit,
                locales=[locale] if locale else None,
                categories=[category] if category else None,
                visibilities=("public", "internal") if internal else ("public",),
            )
    except StoreError as e:
        fail(str(e))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": h.id,
                        "title": h.title,
                        "locale": h.locale,
                        "url": h.url,
                        "section": h.section,
                        "score": round(h.score, 4),
                    }
                    for h in hits
                ],
                ensure_ascii=False,
            )
        )
        return
    if fix:
        typer.echo(f"showing results for: {fix.text}  (typed with the wrong keyboard layout, {fix.source})")
    if not hits:
        typer.echo("no articles found")
    for n, h in enumerate(hits, 1):
        section = f" › {h.section}" if h.section else ""
        typer.echo(f"{n:2}. [{h.locale}] {h.title}{section}  ({h.id}, {h.score:.3f})")
