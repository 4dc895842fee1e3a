"""The `kb` command: index the articles folder, serve it, search it, evaluate search quality."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kb.settings import Settings
from kb.store import StoreError

app = typer.Typer(help="Knowledge base and search for customer support.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _settings(articles: Path | None = None) -> Settings:
    s = Settings()
    return s.model_copy(update={"articles_dir": articles}) if articles else s


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what happens")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Models come from pinned packages; never let a library reach for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@app.command()
def index(
    articles: Annotated[Optional[Path], typer.Option(help="articles folder (default: KB_ARTICLES_DIR)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON object")] = False,
    rebuild: Annotated[bool, typer.Option(help="drop the index and build it from scratch")] = False,
) -> None:
    """Index the articles folder: only what changed is embedded again."""
    from kb.runtime import Runtime

    settings = _settings(articles)
    if not settings.articles_dir.is_dir():
        _fail(f"articles folder {settings.articles_dir} does not exist (set KB_ARTICLES_DIR or --articles)")
    rt = Runtime(settings)
    try:
        try:
            report = rt.indexer(progress=not as_json and sys.stderr.isatty()).run(settings.articles_dir,
                                                                                 rebuild=rebuild, optimize=True)
            from search.calibration import ensure

            ensure(rt.store, rt.embedder)  # the answered decision, fitted on what was just indexed
        finally:
            rt.close()
    except (StoreError, OSError) as e:  # a full disk, a read-only folder: a sentence, not a traceback
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    for p in report.errors + report.warnings:
        loc = p["path"] + (f":{p['line']}" if p["line"] else "")
        fld = f"field '{p['field']}': " if p["field"] else ""
        typer.secho(f"{loc}: {p['severity']}: {fld}{p['message']}", err=True,
                    fg=typer.colors.RED if p["severity"] == "error" else typer.colors.YELLOW)
    typer.echo(
        f"{report.articles} articles ({', '.join(report.locales)}) in {len(report.categories)} categories, "
        f"{report.chunks} chunks: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; {report.chunks_embedded} chunks embedded; "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings; {report.seconds:.1f}s"
    )


@app.command()
def serve(
    no_index: Annotated[bool, typer.Option("--no-index", help="serve the index as it is, without updating it first")] = False,
    host: Annotated[Optional[str], typer.Option(help="default: KB_HOST")] = None,
    port: Annotated[Optional[int], typer.Option(help="default: KB_PORT")] = None,
) -> None:
    """Update the index from the articles folder, then serve the help center and the API."""
    settings = _settings()
    settings = settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    if not no_index and settings.articles_dir.is_dir():
        # The server process owns the embedded shard while it runs: index first, then hand it over.
        from kb.runtime import Runtime

        rt = Runtime(settings)
        try:
            report = rt.indexer(progress=sys.stderr.isatty()).run(settings.articles_dir, optimize=True)
        except StoreError as e:
            _fail(str(e))
        finally:
            rt.close()
        typer.echo(f"index: {report.articles} articles, {report.chunks_embedded} chunks embedded, "
                   f"{len(report.errors)} errors", err=True)
    from web.app import run

    typer.echo(f"serving on http://{settings.host}:{settings.port}", err=True)
    run(settings)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    locale: Annotated[Optional[str], typer.Option(help="only articles in this locale (en, ru, uk, …)")] = None,
    category: Annotated[Optional[str], typer.Option(help="only articles in this category")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    internal: Annotated[bool, typer.Option(help="include internal (agents-only) articles")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the index and print the best articles."""
    from kb.runtime import Runtime
    from search.layout import fix_layout
    from search.retrieval import Retriever

    fix = fix_layout(query)
    if fix:
        query = fix.text
    rt = Runtime(_settings())
    try:
        hits = Retriever(rt.store, rt.embedder).search(
            query, limit, locales=[locale] if locale else None, categories=[category] if category else None,
            visibilities=("public", "internal") if internal else ("public",))
    except StoreError as e:
        _fail(str(e))
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps([{"id": h.id, "title": h.title, "locale": h.locale, "url": h.url, "section": h.section,
                                "score": round(h.score, 4)} for h in hits], ensure_ascii=False))
        return
    if fix:
        typer.echo(f"showing results for: {fix.text}  (typed with the wrong keyboard layout, {fix.source})")
    if not hits:
        typer.echo("no articles found")
    for n, h in enumerate(hits, 1):
        section = f" › {h.section}" if h.section else ""
        typer.echo(f"{n:2}. [{h.locale}] {h.title}{section}  ({h.id}, {h.score:.3f})")


@app.command("eval")
def eval_(
    dataset: Annotated[Path, typer.Argument(help="a BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv")],
    mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or sparse (default: all three)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    answered: Annotated[bool, typer.Option("--answered", help="the answered protocol instead: a seeded 30% of "
                                           "documents removed, 400 queries, answered rates and unanswered F1")] = False,
    seed: Annotated[int, typer.Option(help="which documents the answered protocol removes")] = 0,
) -> None:
    """Build a throwaway KB from a retrieval set and print nDCG@10, Recall@10, MRR@10 and latency."""
    from kb.embedder import load_embedder
    from search.evaluation import evaluate, evaluate_answered

    if answered:
        settings = _settings()
        try:
            rep = evaluate_answered(dataset, load_embedder(settings), seed=seed, chunk_tokens=settings.chunk_tokens,
                                    progress=sys.stderr.isatty())
        except (FileNotFoundError, ValueError) as e:
            _fail(str(e))
        if as_json:
            typer.echo(json.dumps(rep.as_dict()))
            return
        typer.echo(f"{rep.dataset} (seed {rep.seed}, {rep.removed_share:.0%} of documents removed, "
                   f"{rep.documents_kept} kept): answered {rep.answered_when_answerable:.3f} of {rep.answerable} "
                   f"answerable, {rep.answered_when_unanswerable:.3f} of {rep.unanswerable} unanswerable; "
                   f"unanswered P/R/F1 {rep.unanswered_precision:.3f}/{rep.unanswered_recall:.3f}/{rep.unanswered_f1:.3f}")
        return

    modes = [mode] if mode else ["hybrid", "dense", "sparse"]
    if any(m not in ("hybrid", "dense", "sparse") for m in modes):
        _fail(f"unknown mode {mode!r}: use hybrid, dense or sparse")
    settings = _settings()
    try:
        reports = evaluate(dataset, load_embedder(settings), modes, settings.chunk_tokens, progress=sys.stderr.isatty())
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports]))
        return
    typer.echo(f"{'set':<14}{'mode':<8}{'nDCG@10':>9}{'R@10':>8}{'MRR@10':>8}{'p50 ms':>8}{'p95 ms':>8}{'queries':>9}")
    for r in reports:
        typer.echo(f"{r.dataset:<14}{r.mode:<8}{r.ndcg_at_10:>9.3f}{r.recall_at_10:>8.3f}{r.mrr_at_10:>8.3f}"
                   f"{r.latency_ms_p50:>8.1f}{r.latency_ms_p95:>8.1f}{r.queries:>9}")


@app.command()
def suggest(
    ticket: Annotated[Path, typer.Option("--ticket", help="a ticket as JSON: subject, messages, locale, tags")],
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON (the default prints a summary)")] = False,
    agent: Annotated[str, typer.Option(help="the agent's name for the reply's closing")] = "",
) -> None:
    """Suggest articles, passages and a draft reply for a ticket, as POST /api/suggest does."""
    from pydantic import ValidationError

    from kb.runtime import Runtime
    from search.retrieval import Retriever
    from suggest.service import SuggestService, TicketIn

    try:
        data = TicketIn.model_validate_json(ticket.read_text(encoding="utf-8"))
    except OSError as e:
        _fail(f"cannot read {ticket}: {e.strerror}")
    except ValidationError as e:
        _fail(f"{ticket}: " + "; ".join(f"{'.'.join(map(str, err['loc'])) or 'ticket'}: {err['msg']}" for err in e.errors()))
    if not data.has_text():
        _fail(f"{ticket}: the ticket has no subject and no message text")
    settings = _settings()
    rt = Runtime(settings)
    try:
        result = SuggestService(Retriever(rt.store, rt.embedder), base_url=settings.public_url).suggest(
            data, agent_name=agent or None, log=False)
    except StoreError as e:
        _fail(str(e))
    finally:
        rt.close()
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


@app.command("eval-suggest")
def eval_suggest(
    tickets: Annotated[Path, typer.Argument(help="JSONL: one ticket per line with `expected` article ids")],
    corpus: Annotated[Optional[Path], typer.Option(help="a BEIR folder: replay over a throwaway KB of its corpus "
                                                       "instead of the index")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay past tickets and print precision@1, precision@3 and MRR of the suggested articles."""
    from kb.embedder import load_embedder
    from kb.runtime import Runtime
    from suggest.evaluation import evaluate

    settings = _settings()
    try:
        if corpus is not None:
            report = evaluate(tickets, embedder=load_embedder(settings), corpus=corpus,
                              chunk_tokens=settings.chunk_tokens, progress=sys.stderr.isatty())
        else:
            rt = Runtime(settings)
            try:
                report = evaluate(tickets, store=rt.store, embedder=rt.embedder)
            finally:
                rt.close()
    except (OSError, ValueError, StoreError) as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    typer.echo(f"{'tickets':<24}{'count':>7}{'P@1':>8}{'P@3':>8}{'MRR':>8}{'p50 ms':>8}{'p95 ms':>8}")
    typer.echo(f"{report.tickets:<24}{report.count:>7}{report.precision_at_1:>8.3f}{report.precision_at_3:>8.3f}"
               f"{report.mrr:>8.3f}{report.latency_ms_p50:>8.1f}{report.latency_ms_p95:>8.1f}")


@app.command()
def gaps(
    days: Annotated[int, typer.Option(min=1, max=3660, help="the last N days")] = 56,
    fmt: Annotated[str, typer.Option("--format", help="text, json, csv or md")] = "text",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="topics to show")] = 30,
) -> None:
    """The gap report: topics customers and agents could not find, ranked by impact (as /admin/gaps shows)."""
    from datetime import datetime, timedelta, timezone

    from kb.events import EventLog
    from kb.runtime import Runtime
    from kb.ticket_log import TicketLog
    from reports.gaps import GapReporter
    from search.retrieval import Retriever

    if fmt not in ("text", "json", "csv", "md"):
        _fail(f"unknown format {fmt!r}: use text, json, csv or md")
    settings = _settings()
    until = datetime.now(timezone.utc)
    rt = Runtime(settings)
    events = EventLog.from_settings(settings)
    try:
        report = GapReporter(events, Retriever(rt.store, rt.embedder), TicketLog(events)).build(
            until - timedelta(days=days), until, limit=limit)
    except StoreError as e:
        _fail(str(e))
    finally:
        events.close()
        rt.close()
    if fmt == "json":
        typer.echo(report.to_json())
    elif fmt == "csv":
        typer.echo(report.to_csv(), nl=False)
    else:
        typer.echo(report.to_markdown(), nl=False)


@app.command("eval-gaps")
def eval_gaps(
    data_dir: Annotated[Path, typer.Argument(help="a folder holding CLINC150's data_full.json")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The CLINC150 gap protocol: unanswered-detection precision/recall/F1 and topic V-measure/ARI."""
    from reports.gap_eval import evaluate

    if not (data_dir / "data_full.json").is_file():
        _fail(f"{data_dir / 'data_full.json'} is missing: pass the folder holding CLINC150's data_full.json")
    result = evaluate(data_dir, _settings(), progress=sys.stderr.isatty())
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    typer.echo(f"unanswered detection: precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
               f"F1 {result['f1']:.3f}")
    typer.echo(f"topics: V-measure {result['v_measure']:.3f}  ARI {result['ari']:.3f}"
               + (f"  purity {result['purity']:.3f}" if "purity" in result else ""))


users_app = typer.Typer(help="Agents and admins who log in to the agent panel and the admin pages.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _accounts():
    from kb.accounts import Accounts
    from kb.events import EventLog

    events = EventLog.from_settings(_settings())
    return events, Accounts(events.writer)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="agent or admin")] = "agent",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Create a login (asks for the password)."""
    from kb.accounts import AccountError

    events, accounts = _accounts()
    try:
        user = accounts.add_user(name, role, _password(password_stdin))
    except AccountError as e:
        _fail(str(e))
    finally:
        events.close()
    typer.echo(f"added {user.name} ({user.role})")


@users_app.command("password")
def users_password(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
) -> None:
    """Set a new password; the user's open sessions end."""
    from kb.accounts import AccountError

    events, accounts = _accounts()
    try:
        accounts.set_password(name, _password(password_stdin))
    except AccountError as e:
        _fail(str(e))
    finally:
        events.close()
    typer.echo(f"password of {name} changed")


@users_app.command("remove")
def users_remove(name: str) -> None:
    """Delete a login with its sessions and API tokens."""
    from kb.accounts import AccountError

    events, accounts = _accounts()
    try:
        accounts.remove_user(name)
    except AccountError as e:
        _fail(str(e))
    finally:
        events.close()
    typer.echo(f"removed {name}")


@users_app.command("list")
def users_list() -> None:
    """List the logins and their roles."""
    events, accounts = _accounts()
    try:
        for u in accounts.list_users():
            typer.echo(f"{u.name}\t{u.role}")
    finally:
        events.close()


@users_app.command("token")
def users_token(
    name: str,
    label: Annotated[str, typer.Option(help="what the token is for, e.g. the helpdesk integration")] = "api",
    revoke: Annotated[bool, typer.Option(help="revoke all of the user's tokens instead")] = False,
) -> None:
    """Print a new bearer token for the API (shown once; only its hash is stored)."""
    from kb.accounts import AccountError

    events, accounts = _accounts()
    try:
        if revoke:
            typer.echo(f"revoked {accounts.revoke_tokens(name)} tokens of {name}")
        else:
            typer.echo(accounts.create_token(name, label))
    except AccountError as e:
        _fail(str(e))
    finally:
        events.close()


if __name__ == "__main__":
    app()
