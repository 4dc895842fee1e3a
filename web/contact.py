"""Deflection before a ticket exists: articles suggested while a customer writes to support, and the contact form.

Whether the customer still sent the form is recorded: a failed deflection is a signal for the gap report.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from kb.db.limits import EMAIL_MAX, HEX_ID_MAX
from web.deps import LangDep
from web.ratelimit import limit

router = APIRouter()
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}\.[^@\s<>\"']{2,63}$")


class DeflectIn(BaseModel):
    subject: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=5000)
    locale: str | None = Field(default=None, pattern="^(en|ru|uk)$")
    deflection_id: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{32}$",
        description="the id from the previous call while the same customer types on",
    )


class DeflectArticle(BaseModel):
    id: str
    title: str
    url: str
    locale: str
    passage: str


class DeflectOut(BaseModel):
    deflection_id: str | None
    answered: bool = Field(description="whether the articles likely answer what was typed")
    articles: list[DeflectArticle]


def _tickets(request: Request):
    services = request.app.state.services
    if services.suggest is None or services.tickets is None:
        raise HTTPException(503, "deflection is not available in this deployment")
    return services.suggest, services.tickets


def deflect(request: Request, body: DeflectIn) -> dict:
    svc, log = _tickets(request)
    shown, answered = svc.deflect(body.subject, body.description, body.locale)
    articles = [
        {
            "id": s.id,
            "title": s.title,
            "url": s.url,
            "locale": s.locale,
            "passage": s.passages[0].text if s.passages else "",
        }
        for s in shown
    ]
    did = None
    if articles:
        did = log.log_deflection(
            query=(body.subject + "\n" + body.description).strip(),
            articles=[a["id"] for a in articles],
            answered=answered,
            locale=body.locale,
            deflection_id=body.deflection_id,
        )
    return {"deflection_id": did, "answered": answered, "articles": articles}


@router.post("/api/deflect", response_model=DeflectOut, tags=["search"], dependencies=[Depends(limit("search"))])
async def api_deflect(body: DeflectIn, request: Request) -> dict:
    """Public articles for what a customer is typing into the contact form (call it as they type, debounced)."""
    if len((body.subject + body.description).strip()) < 3:
        return {"deflection_id": body.deflection_id, "answered": False, "articles": []}
    return await run_in_threadpool(deflect, request, body)


def _render(request: Request, lang: str, template: str, status_code: int = 200, **context) -> HTMLResponse:
    from web.pages import render

    return render(request, template, lang, status_code=status_code, **context)


@router.get("/contact", response_class=HTMLResponse, include_in_schema=False)
async def contact_page(
    request: Request, lang: LangDep, subject: Annotated[str, Query(max_length=300)] = ""
) -> HTMLResponse:
    """The form; `subject` prefills it (the search page's "ask support" link carries the unanswered query)."""
    return _render(request, lang, "contact.html", form={"subject": subject.strip()}, suggestions=None, q="")


@router.post(
    "/contact", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(limit("feedback"))]
)
async def contact_submit(
    request: Request,
    lang: LangDep,
    email: Annotated[str, Form(max_length=EMAIL_MAX)] = "",
    subject: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    deflection_id: Annotated[str, Form(max_length=HEX_ID_MAX, pattern="^([0-9a-f]{32})?$")] = "",
    preview: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Send the form; without JavaScript, "preview" first shows the suggested articles."""
    form = {"email": email, "subject": subject, "description": description}
    if preview:
        result = await run_in_threadpool(
            deflect,
            request,
            DeflectIn(subject=subject, description=description, locale=lang, deflection_id=deflection_id or None),
        )
        return _render(request, lang, "contact.html", form=form, suggestions=result, q="")
    if not EMAIL_RE.match(email.strip()) or not description.strip():
        return _render(request, lang, "contact.html", status_code=422, form=form, suggestions=None, q="", error=True)
    _, log = _tickets(request)
    did = deflection_id or None
    await run_in_threadpool(
        log.submit_contact,
        query=(subject + "\n" + description).strip(),
        email=email.strip(),
        message=description,
        locale=lang,
        deflection_id=did,
    )
    return _render(request, lang, "contact_sent.html", email=email.strip(), q="")
