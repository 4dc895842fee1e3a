"""`kb index` and `kb serve`: build the index from the articles folder, then (serve) hand it to the web app."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for
from kb.store import StoreError
from search.rerank import RerankerError


def index(
    articles: Annotated[Path | None, typer.Option(help="articles folder (default: KB_ARTICLES_DIR)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON object")] = False,
    rebuild: Annotated[bool, typer.Option(help="drop the index and build it from scratch")] = False,
) -> None:
    """Index the articles folder: only what changed is embedded again."""
    settings = settings_for(articles)
    if not settings.articles_dir.is_dir():
        fail(f"articles folder {settings.articles_dir} does not exist (set KB_ARTICLES_DIR or --articles)")
    try:
        with open_runtime(settings) as rt:
            rt.reranker  # noqa: B018 - a KB_RERANKER that cannot load fails before anything is indexed
            report = rt.indexer(progress=not as_json and sys.stderr.isatty()).run(
                settings.articles_dir, rebuild=rebuild, optimize=True
            )
            from search.calibration import ensure

            # The answered decision, fitted on what was just indexed (through the reranker, when one is configured).
            ensure(rt.store, rt.embedder, reranker=rt.reranker)
            from reports.kb_view import refresh
            from search.rules_file import publish

            refresh(rt.store, rt.embedder)  # the gap report's view of the KB: changed articles' lines embedded now
            _, rule_problems = publish(rt.store, settings.articles_dir)  # the search rules, checked beside them
    except (StoreError, OSError, RerankerError) as e:  # a full disk, a read-only folder: a sentence, not a traceback
        fail(str(e))
    for problem in rule_problems:
        (report.errors if problem.severity == "error" else report.warnings).append(problem.as_dict())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    for p in report.errors + report.warnings:
        loc = p["path"] + (f":{p['line']}" if p["line"] else "")
        fld = f"field '{p['field']}': " if p["field"] else ""
        typer.secho(
            f"{loc}: {p['severity']}: {fld}{p['message']}",
            err=True,
            fg=typer.colors.RED if p["severity"] == "error" else typer.colors.YELLOW,
        )
    typer.echo(
        f"{report.articles} articles ({', '.join(report.locales)}) in {len(report.categories)} categories, "
        f"{report.chunks} chunks: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; {report.chunks_embedded} chunks embedded; "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings; {report.seconds:.1f}s"
    )


def serve(
    no_index: Annotated[
        bool, typer.Option("--no-index", help="serve the index as it is, without updating it first")
    ] = False,
    host: Annotated[str | None, typer.Option(help="default: KB_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: KB_PORT")] = None,
) -> None:
    """Update the index from the articles folder, then serve the help center and the API."""
    settings = settings_for()
    settings = settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    if not no_index and settings.articles_dir.is_dir():
        # The server process owns the embedded shard while it runs: index first, then hand it over.
        try:
            with open_runtime(settings) as rt:
                rt.reranker  # noqa: B018 - checked before indexing, not in the server's start-up
                report = rt.indexer(progress=sys.stderr.isatty()).run(settings.articles_dir, optimize=True)
                from reports.kb_view import refresh

                refresh(rt.store, rt.embedder)  # the gap report's view, before serving (it embeds changed lines)
        except (StoreError, RerankerError) as e:
            fail(str(e))
        typer.echo(
            f"index: {report.articles} articles, {report.chunks_embedded} chunks embedded, {len(report.errors)} errors",
            err=True,
        )
    from web.app import run

    typer.echo(f"serving on http://{settings.host}:{settings.port}", err=True)
    run(settings)
