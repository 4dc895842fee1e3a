"""`kb suggest`: what POST /api/suggest returns for one ticket, as a summary or as the API's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for
from kb.store import StoreError


def suggest(
    ticket: Annotated[Path, typer.Option("--ticket", help="a ticket as JSON: subject, messages, locale, tags")],
    as_json: Annotated[
        bool, typer.Option("--json", help="print the API's JSON (the default prints a summary)")
    ] = False,
    agent: Annotated[str, typer.Option(help="the agent's name for the reply's closing")] = "",
) -> None:
    """Suggest articles, passages and a draft reply for a ticket, as POST /api/suggest does."""
    from pydantic import ValidationError

    from suggest.models import TicketIn

    try:
        data = TicketIn.model_validate_json(ticket.read_text(encoding="utf-8"))
    except OSError as e:
        fail(f"cannot read {ticket}: {e.strerror}")
    except ValidationError as e:
        fail(
            f"{ticket}: "
            + "; ".join(f"{'.'.join(map(str, err['loc'])) or 'ticket'}: {err['msg']}" for err in e.errors())
        )
    if not data.has_text():
        fail(f"{ticket}: the ticket has no subject and no message text")
    try:
        with open_runtime(settings_for()) as rt:
            result = rt.suggest_from_index().suggest(data, agent_name=agent or None, log=False)
    except StoreError as e:
        fail(str(e))
    if as_json:
        typer.echo(json.dumps(result.as_api(), ensure_ascii=False, indent=2))
        return
    for q in result.questions:
        best = q.suggestions[0].title if q.suggestions else "nothing found"
        typer.echo(f"question: {q.text}\n  → {best} (confidence {q.confidence:.2f})")
    typer.echo("\narticles:")
    for n, a in enumerate(result.articles, 1):
        tag = " [internal]" if a.visibility == "internal" else ""
        typer.echo(f"{n:2}. [{a.locale}] {a.title}{tag}  ({a.id}, score {a.score:.3f}, from the {a.reason['source']})")
        for p in a.passages[:1]:
            typer.echo(f"      {p.url}: {p.text[:160]}{'…' if len(p.text) > 160 else ''}")
    if result.canned:
        typer.echo("\ncanned replies: " + ", ".join(c.id for c in result.canned))
    typer.echo(f"\ndraft reply ({result.locale}):\n\n{result.draft}")
