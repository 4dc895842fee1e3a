"""Admin pages: the search-analytics dashboard, the gap report with its exports, and re-indexing in place."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

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


def _render(request: Request, template: str, **context) -> HTMLResponse:
    from web.pages import render

    session = current_session(request)
    return render(
        request, template, get_lang(request), csrf=session.csrf if session else "", q="", charts=charts, **context
    )


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request, user: AdminDep, days: DaysParam = 28) -> HTMLResponse:
    data = await run_in_threadpool(dashboard_data, request.app.state.services, days)
    return _render(request, "admin.html", user=user, **data)


@router.get("/admin/gaps", response_class=HTMLResponse, include_in_schema=False)
async def gaps_page(request: Request, user: AdminDep, days: DaysParam = 56, refresh: bool = False) -> HTMLResponse:
    report = await run_in_threadpool(gap_report, request, days, refresh)
    return _render(request, "gaps.html", user=user, report=report, days=days)


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
        return report.as_dict()
    finally:
        _index_lock.release()


@router.post("/api/admin/reindex", tags=["admin"])
async def api_reindex(request: Request, user: AdminDep) -> dict:
    """Bring the index in line with the articles folder now; searches keep working meanwhile (admins)."""
    services = request.app.state.services
    if services.runtime is None:
        raise HTTPException(503, "this process does not own the index")
    return await run_in_threadpool(reindex, services)
