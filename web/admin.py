"""Admin pages: the search-analytics dashboard, the gap report with its exports and its levers (apply a rule,
draft an article), the search rules editor, and re-indexing in place."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import charts
from web.auth import AdminDep, current_session
from web.deps import get_lang

router = APIRouter()
DaysParam = Annotated[int, Query(ge=1, le=366, description="the last N days")]
REPORT_TTL = 300  # seconds a built gap report is reused (building one embeds the failing queries)

_report_lock = threading.Lock()
_index_lock = threading.Lock()


def _window(days: int) -> tuple[datetime, datetime]:
    until = datetime.now(UTC)
    return until - timedelta(days=days), until


def dashboard_data(services, days: int) -> dict:
    since, until = _window(days)
    events = services.events
    stats = events.dashboard.stats(since, until)
    daily = events.dashboard.daily(since, until)
    deflection = services.tickets.deflection_stats(since, until) if services.tickets else {}
    return {
        "days": days,
        "stats": stats,
        "daily": daily,
        "top_queries": events.dashboard.top_queries(since, until, limit=20),
        "unanswered_queries": events.dashboard.top_queries(since, until, limit=20, answered=False),
        "zero_result_queries": events.dashboard.top_queries(since, until, limit=20, zero_result=True),
        "articles_voted": events.dashboard.article_votes(since, until, limit=20),
        "deflection": deflection,
        "article_acceptance": services.tickets.article_acceptance(since, until) if services.tickets else [],
    }


def gap_report(request: Request, days: int, refresh: bool = False):
    """The gap report for the last `days`, built at most every REPORT_TTL seconds per window."""
    from reports.gaps import GapReporter

    services = request.app.state.services
    cache = request.app.state.__dict__.setdefault("kb_gap_reports", {})
    with _report_lock:  # one build at a time: it is heavy, and a second caller wants the same result
        hit = cache.get(days)
        if hit and not refresh and time.monotonic() - hit[0] < REPORT_TTL:
            return hit[1]
        since, until = _window(days)
        report = GapReporter(services.events, services.search.retriever, services.tickets).build(since, until)
        cache[days] = (time.monotonic(), report)
        return report


def _render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    from web.pages import render

    session = current_session(request)
    csrf = session.csrf if session else ""
    return render(
        request, template, get_lang(request), status_code=status_code, csrf=csrf, q="", charts=charts, **context
    )


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request, user: AdminDep, days: DaysParam = 28) -> HTMLResponse:
    data = await run_in_threadpool(dashboard_data, request.app.state.services, days)
    return _render(request, "admin.html", user=user, **data)


def _levers(request: Request, report) -> dict:
    """Per open topic: the pin proposed for a weak one; the categories a draft can go to."""
    from reports.gap_actions import proposed_pin
    from search.rules_file import stored

    rules = stored(request.app.state.services.search.store)
    pinned = {q for p in (rules.pins if rules else []) for q in map(_norm, p.queries)}
    return {
        "proposals": {t.id: proposed_pin(t, pinned) for t in report.topics if t.status == "open"},
        "categories": _categories(request),
    }


def _norm(text: str) -> str:
    from kb.analysis import normalize

    return normalize(text)


def _categories(request: Request) -> list[str]:
    root = request.app.state.services.settings.articles_dir
    return sorted({p.parent.name for p in root.glob("*/*/*.md")}) if root.is_dir() else []


@router.get("/admin/gaps", response_class=HTMLResponse, include_in_schema=False)
async def gaps_page(
    request: Request,
    user: AdminDep,
    days: DaysParam = 56,
    refresh: bool = False,
    applied: str | None = None,
    drafted: str | None = None,
) -> HTMLResponse:
    report = await run_in_threadpool(gap_report, request, days, refresh)
    levers = await run_in_threadpool(_levers, request, report)
    return _render(
        request, "gaps.html", user=user, report=report, days=days, applied=applied, drafted=drafted, **levers
    )


def _topic(request: Request, days: int, topic_id: str):
    report = gap_report(request, days)
    topic = next((t for t in report.topics if t.id == topic_id), None)
    if topic is None:
        raise HTTPException(404, "no such topic in the report (it was rebuilt since?): reload the gap report")
    return topic


def _rules_changed(request: Request) -> list:
    """Publish the edited file so every search applies it now; the gap report is rebuilt on its next view."""
    from search.rules_file import publish

    services = request.app.state.services
    _, problems = publish(services.search.store, services.settings.articles_dir)
    services.search.retriever.rules.invalidate()
    request.app.state.__dict__.get("kb_gap_reports", {}).clear()
    return problems


def _apply_pin(request: Request, days: int, topic_id: str) -> str:
    from reports.gap_actions import proposed_pin
    from search.rules_file import RulesError, add_pin

    topic = _topic(request, days, topic_id)
    pin = proposed_pin(topic)
    if pin is None:
        raise HTTPException(409, "this topic has no rule to propose (no article exists for it)")
    services = request.app.state.services
    try:
        add_pin(services.settings.articles_dir, pin.queries, pin.article, f"gap report: {topic.title}", store=None)
    except RulesError as e:
        raise HTTPException(422, "; ".join([str(e)] + [str(p) for p in e.problems])) from None
    _rules_changed(request)
    return topic.title


@router.post("/admin/gaps/pin", include_in_schema=False)
async def gaps_apply_pin(
    request: Request,
    user: AdminDep,
    topic: Annotated[str, Form(max_length=64)],
    days: Annotated[int, Form(ge=1, le=366)] = 56,
) -> RedirectResponse:
    """Apply the proposed rule of a weak topic: its wordings go to its article first, from now on."""
    title = await run_in_threadpool(_apply_pin, request, days, topic)
    return RedirectResponse(f"/admin/gaps?days={days}&applied={quote(title)}", status_code=303)


def _draft(request: Request, days: int, topic_id: str, locale: str, category: str) -> str:
    from reports.gap_actions import DraftError, agent_answers, agent_replies, write_draft

    services = request.app.state.services
    topic = _topic(request, days, topic_id)
    answers = agent_answers(services.tickets, services.search.store, topic)
    replies = agent_replies(services.tickets, topic)
    root = services.settings.articles_dir
    try:
        path = write_draft(root, topic, locale, category, answers, replies)
    except DraftError as e:
        raise HTTPException(422, str(e)) from None
    except OSError as e:
        raise HTTPException(500, f"cannot write the draft into {root}: {e.strerror or e}") from None
    return str(path.relative_to(root))


@router.post("/admin/gaps/draft", include_in_schema=False)
async def gaps_draft(
    request: Request,
    user: AdminDep,
    topic: Annotated[str, Form(max_length=64)],
    locale: Annotated[str, Form(max_length=16)],
    category: Annotated[str, Form(max_length=64)],
    days: Annotated[int, Form(ge=1, le=366)] = 56,
) -> RedirectResponse:
    """Write a draft article (visibility: draft) for an absent topic into articles/<locale>/<category>/."""
    rel = await run_in_threadpool(_draft, request, days, topic, locale, category)
    return RedirectResponse(f"/admin/gaps?days={days}&drafted={quote(rel)}", status_code=303)


# The order the health page lists its findings in; each kind's name is "health_<kind>" in web/i18n.py.
HEALTH_KINDS = (
    "duplicate",
    "missing_translation",
    "stale_translation",
    "broken_link",
    "never_shown",
    "never_clicked",
)


def _health(request: Request, days: int):
    from reports.health import content_health

    services = request.app.state.services
    since, until = _window(days)
    search = services.search
    return content_health(search.store, search.retriever.embedder, services.events, since, until)


@router.get("/admin/health", response_class=HTMLResponse, include_in_schema=False)
async def health_page(request: Request, user: AdminDep, days: DaysParam = 56) -> HTMLResponse:
    report = await run_in_threadpool(_health, request, days)
    return _render(request, "health.html", user=user, report=report, days=days, kinds=HEALTH_KINDS)


# -- the search rules editor ------------------------------------------------------------------------------------


def _rules_context(request: Request, text: str | None = None, problems=None) -> dict:
    from search.rules_file import check, read_text, rules_path

    services = request.app.state.services
    root = services.settings.articles_dir
    current = read_text(root) if text is None else text
    rules, found = check(current, services.search.store)
    return {
        "text": current,
        "rules": rules,
        "problems": found if problems is None else problems,
        "path": str(rules_path(root)),
    }


@router.get("/admin/rules", response_class=HTMLResponse, include_in_schema=False)
async def rules_page(request: Request, user: AdminDep, saved: bool = False) -> HTMLResponse:
    context = await run_in_threadpool(_rules_context, request)
    return _render(request, "rules.html", user=user, saved=saved, **context)


def _save_rules(request: Request, text: str):
    from search.rules_file import RulesError, save_text

    services = request.app.state.services
    try:
        save_text(services.settings.articles_dir, text.replace("\r\n", "\n"), services.search.store)
    except RulesError as e:
        return e
    _rules_changed(request)
    return None


@router.post("/admin/rules", response_class=HTMLResponse, include_in_schema=False)
async def rules_save(
    request: Request, user: AdminDep, text: Annotated[str, Form(max_length=1_000_000)] = ""
) -> Response:
    """Replace the rules file when it has no errors; otherwise show them (file, line, field) and keep the file."""
    error = await run_in_threadpool(_save_rules, request, text)
    if error is None:
        return RedirectResponse("/admin/rules?saved=true", status_code=303)
    context = await run_in_threadpool(_rules_context, request, text.replace("\r\n", "\n"), error.problems)
    return _render(request, "rules.html", user=user, saved=False, not_saved=str(error), status_code=422, **context)


def _remove_rule(request: Request, section: str, index: int):
    from search.rules_file import RulesError, remove

    try:
        remove(request.app.state.services.settings.articles_dir, section, index)
    except RulesError as e:
        raise HTTPException(409, str(e)) from None
    _rules_changed(request)


@router.post("/admin/rules/remove", include_in_schema=False)
async def rules_remove(
    request: Request,
    user: AdminDep,
    section: Annotated[Literal["pins", "synonyms"], Form()],
    index: Annotated[int, Form(ge=0, le=100_000)],
) -> RedirectResponse:
    await run_in_threadpool(_remove_rule, request, section, index)
    return RedirectResponse("/admin/rules?saved=true", status_code=303)


@router.get("/api/admin/gaps", tags=["admin"])
async def gaps_export(
    request: Request,
    user: AdminDep,
    days: DaysParam = 56,
    format: Annotated[Literal["json", "csv", "md"], Query()] = "json",
) -> Response:
    """The gap report as JSON, CSV or Markdown (admins)."""
    report = await run_in_threadpool(gap_report, request, days)
    stamp = report.until
    if format == "csv":
        return Response(
            report.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="gaps-{stamp}.csv"'},
        )
    if format == "md":
        return Response(
            report.to_markdown(),
            media_type="text/markdown; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="gaps-{stamp}.md"'},
        )
    return Response(report.to_json(), media_type="application/json")


@router.get("/api/admin/stats", tags=["admin"])
async def stats_export(request: Request, user: AdminDep, days: DaysParam = 28) -> dict:
    """The dashboard's numbers (admins)."""
    return await run_in_threadpool(dashboard_data, request.app.state.services, days)


def reindex(services) -> dict:
    """Index the articles folder inside the serving process (it owns the embedded shard), without optimising."""
    if not _index_lock.acquire(blocking=False):
        raise HTTPException(409, "a re-index is already running")
    try:
        report = services.runtime.indexer().run(services.settings.articles_dir, optimize=False)
        if services.suggest is not None:
            services.suggest.frames.invalidate()
        # Fit the answered decision on the new index here, in the re-index request, not in a customer's search.
        services.search.calibrations.invalidate()
        services.search.calibrations.get()
        from reports.kb_view import refresh
        from search.rules_file import publish

        refresh(services.search.store, services.search.retriever.embedder)  # so the gap report opens without embedding
        _, problems = publish(services.search.store, services.settings.articles_dir)
        services.search.retriever.rules.invalidate()
        out = report.as_dict()
        for p in problems:
            out["errors" if p.severity == "error" else "warnings"].append(p.as_dict())
        return out
    finally:
        _index_lock.release()


@router.post("/api/admin/reindex", tags=["admin"])
async def api_reindex(request: Request, user: AdminDep) -> dict:
    """Bring the index in line with the articles folder now; searches keep working meanwhile (admins)."""
    services = request.app.state.services
    if services.runtime is None:
        raise HTTPException(503, "this process does not own the index")
    return await run_in_threadpool(reindex, services)
