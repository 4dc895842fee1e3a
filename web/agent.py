"""Suggested answers for agents: the JSON API and the agent panel (ticket list, pasted ticket, feedback)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from kb.db.limits import HEX_ID_MAX, ID_MAX, REJECT_REASON_MAX, REPLY_MAX, TEXT_MAX
from suggest.models import MessageIn, SuggestResponse, TicketIn
from suggest.service import SuggestService
from web.auth import AgentDep, current_session
from web.deps import get_lang

router = APIRouter()


def invalid(*loc: str, msg: str) -> RequestValidationError:
    """A 422 in the same shape as FastAPI's own validation errors (web.app renders both)."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])


def _service(request: Request) -> SuggestService:
    svc = request.app.state.services.suggest
    if svc is None:
        raise HTTPException(503, "suggestions are not available in this deployment")
    return svc


# -- API ------------------------------------------------------------------------------------------


class SuggestionFeedbackIn(BaseModel):
    """An agent accepting or rejecting one suggested article."""

    suggestion_id: str = Field(default="", max_length=HEX_ID_MAX)
    article_id: str = Field(min_length=1, max_length=ID_MAX)
    verdict: Literal["accepted", "rejected"]
    reason: Literal["not_related", "does_not_answer", "outdated"] | None = None
    query: str | None = Field(default=None, max_length=2000, description="needed when suggestion_id is unknown")


class ReplyIn(BaseModel):
    """The reply an agent sent for a ticket: kept for the gap report, which quotes it in the articles it drafts."""

    suggestion_id: str = Field(default="", max_length=HEX_ID_MAX)
    reply: str = Field(min_length=1, max_length=REPLY_MAX)
    query: str | None = Field(default=None, max_length=TEXT_MAX, description="needed when suggestion_id is unknown")


@router.post("/api/suggest", response_model=SuggestResponse, tags=["agents"])
async def api_suggest(ticket: TicketIn, request: Request, user: AgentDep) -> dict:
    """Suggested articles, passages, canned replies and a draft reply for a ticket (agents and admins)."""
    if not ticket.has_text():
        raise invalid("body", "messages", msg="the ticket has no subject and no message text")
    svc = _service(request)
    response = await run_in_threadpool(svc.suggest, ticket, agent_name=user.name)
    return response.as_api()


@router.post("/api/suggest/feedback", status_code=204, tags=["agents"])
async def api_suggest_feedback(body: SuggestionFeedbackIn, request: Request, user: AgentDep) -> Response:
    """Accept or reject a suggested article; similar tickets later rank it up or down."""
    if body.verdict == "rejected" and body.reason is None:
        raise invalid("body", "reason", msg="a rejection needs one of not_related, does_not_answer, outdated")
    svc = _service(request)
    try:
        await run_in_threadpool(
            svc.feedback, body.suggestion_id, body.article_id, body.verdict, body.reason, user.name, body.query
        )
    except LookupError as e:
        raise HTTPException(404, str(e)) from None
    return Response(status_code=204)


def _record_reply(request: Request, suggestion_id: str, reply: str, user: str, query: str | None = None) -> None:
    tickets = request.app.state.services.tickets
    if tickets is None:
        raise HTTPException(503, "replies are not recorded in this deployment")
    try:
        tickets.log_reply(reply=reply, suggestion_id=suggestion_id, query=query, user=user)
    except ValueError as e:
        raise invalid("body", "reply", msg=str(e).removeprefix("reply: ")) from None
    except LookupError as e:
        raise HTTPException(404, str(e)) from None


@router.post("/api/suggest/reply", status_code=204, tags=["agents"])
async def api_suggest_reply(body: ReplyIn, request: Request, user: AgentDep) -> Response:
    """Record the reply sent for a suggestion (sending it again replaces it); the gap report quotes agents' replies
    to a topic's queries in the article it drafts for that topic."""
    await run_in_threadpool(_record_reply, request, body.suggestion_id, body.reply, user.name, body.query)
    return Response(status_code=204)


@router.get("/api/agent/search", tags=["agents"])
async def api_agent_search(
    request: Request,
    user: AgentDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    locale: Annotated[str | None, Query(pattern="^[a-z]{2}(-[a-z]{2,4})?$")] = None,
) -> dict:
    """Search public and internal articles and canned replies, as agents do (not logged as customer searches)."""
    search = request.app.state.services.search
    response = await run_in_threadpool(
        search.search, q, limit=limit, locale=locale, audience="agent", log=False, types=("article", "template")
    )
    out = response.as_api()
    for row, r in zip(out["results"], response.results):
        row["visibility"] = r.visibility
    return out


# -- the agent panel ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def sample_tickets() -> tuple[TicketIn, ...]:
    """The demo tickets shipped with the package (suggest/sample_tickets.jsonl)."""
    text = resources.files("suggest").joinpath("sample_tickets.jsonl").read_text(encoding="utf-8")
    return tuple(TicketIn.model_validate_json(line) for line in text.splitlines() if line.strip())


def _panel(
    request: Request,
    user,
    *,
    ticket: TicketIn | None,
    result=None,
    status_code: int = 200,
    message: str | None = None,
    replied: bool = False,
) -> HTMLResponse:
    from web.pages import render

    session = current_session(request)
    return render(
        request,
        "agent.html",
        get_lang(request),
        status_code=status_code,
        user=user,
        tickets=sample_tickets(),
        ticket=ticket,
        result=result,
        csrf=session.csrf if session else "",
        message=message,
        replied=replied,
        reasons=("not_related", "does_not_answer", "outdated"),
        q="",
    )


@router.get("/agent", response_class=HTMLResponse, include_in_schema=False)
async def agent_panel(
    request: Request,
    user: AgentDep,
    ticket: Annotated[str | None, Query(max_length=ID_MAX)] = None,
    replied: bool = False,
) -> HTMLResponse:
    chosen = next((t for t in sample_tickets() if t.id == ticket), None) if ticket else None
    if ticket and chosen is None:
        return _panel(request, user, ticket=None, status_code=404, message=f"no sample ticket {ticket!r}")
    result = await run_in_threadpool(_service(request).suggest, chosen, agent_name=user.name) if chosen else None
    return _panel(request, user, ticket=chosen, result=result, replied=replied)


@router.post("/agent", response_class=HTMLResponse, include_in_schema=False)
async def agent_paste(
    request: Request,
    user: AgentDep,
    subject: Annotated[str, Form(max_length=1000)] = "",
    text: Annotated[str, Form(max_length=20000)] = "",
    locale: Annotated[str, Form(max_length=5)] = "",
) -> HTMLResponse:
    """A ticket pasted into the panel: the whole thread as one customer message."""
    ticket = TicketIn(
        subject=subject,
        messages=[MessageIn(role="customer", text=text)] if text.strip() else [],
        locale=locale if locale in ("en", "ru", "uk") else None,
    )
    if not ticket.has_text():
        return _panel(request, user, ticket=None, status_code=422, message="paste the ticket's subject or text")
    result = await run_in_threadpool(_service(request).suggest, ticket, agent_name=user.name)
    return _panel(request, user, ticket=ticket, result=result)


@router.post("/agent/feedback", include_in_schema=False)
async def agent_feedback(
    request: Request,
    user: AgentDep,
    suggestion_id: Annotated[str, Form(max_length=HEX_ID_MAX)],
    article_id: Annotated[str, Form(min_length=1, max_length=ID_MAX)],
    verdict: Annotated[Literal["accepted", "rejected"], Form()],
    reason: Annotated[str, Form(max_length=REJECT_REASON_MAX)] = "",
    back: Annotated[str, Form(max_length=300)] = "/agent",
) -> Response:
    """The no-JavaScript form behind the accept / reject buttons."""
    if verdict == "rejected" and reason not in ("not_related", "does_not_answer", "outdated"):
        raise HTTPException(422, "reason: a rejection needs one of not_related, does_not_answer, outdated")
    try:
        await run_in_threadpool(
            _service(request).feedback,
            suggestion_id,
            article_id,
            verdict,
            reason if verdict == "rejected" else None,
            user.name,
        )
    except LookupError as e:
        raise HTTPException(404, str(e)) from None
    return RedirectResponse(_back(back), status_code=303)


def _back(back: str) -> str:
    """Where a panel form returns to: a panel address, never another site."""
    return back if back.startswith("/agent") and "//" not in back else "/agent"


@router.post("/agent/reply", include_in_schema=False)
async def agent_reply(
    request: Request,
    user: AgentDep,
    suggestion_id: Annotated[str, Form(max_length=HEX_ID_MAX)],
    reply: Annotated[str, Form(max_length=REPLY_MAX)],
    back: Annotated[str, Form(max_length=300)] = "/agent",
) -> Response:
    """The panel's "Mark as sent": the reply in the box, recorded for the suggestion it was drafted for."""
    await run_in_threadpool(_record_reply, request, suggestion_id, reply, user.name)
    back = _back(back)
    return RedirectResponse(f"{back}{'&' if '?' in back else '?'}replied=true", status_code=303)
