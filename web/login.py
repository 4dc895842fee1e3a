"""Logging agents and admins in and out of the pages (the API takes bearer tokens instead)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from kb.db.accounts import SESSION_TTL
from kb.db.limits import USER_MAX
from kb.settings import DEMO_PASSWORD
from web.auth import AUTH_COOKIE, LOGIN_CSRF_COOKIE, AccountsDep, current_session, login_csrf
from web.deps import SettingsDep, set_cookie
from web.ratelimit import limit, limiter_of

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/agent"
    return url


def _page(request: Request, settings, next_url: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    """The login form; `error` is the key of its message in web.i18n."""
    from web.deps import get_lang
    from web.pages import render

    demo = DEMO_PASSWORD if settings.env == "development" and settings.demo_accounts else None
    return render(
        request,
        "login.html",
        get_lang(request),
        status_code=status_code,
        next_url=next_url,
        error=error,
        csrf=login_csrf(request),
        demo_password=demo,
        q="",
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, settings: SettingsDep, next: Annotated[str | None, Query(max_length=300)] = None
) -> HTMLResponse:
    return _page(request, settings, _safe_next(next))


@router.post("/login", dependencies=[Depends(limit("login"))])
async def login(
    request: Request,
    settings: SettingsDep,
    accounts: AccountsDep,
    username: Annotated[str, Form(max_length=USER_MAX)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=300)] = "/agent",
):
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf):
        return _page(request, settings, _safe_next(next), "login_expired", 403)
    # Per account as well as per address: rotating addresses must not buy more guesses at one password. The name
    # is counted whether or not such a user exists, so the answer says nothing about which names are real.
    limiter, account = limiter_of(request), username.strip().lower()
    if limiter is not None and limiter.exhausted("login_account", account):
        raise limiter.refusal("login_account")
    user = await run_in_threadpool(accounts.authenticate, username, password)
    if user is None:
        if limiter is not None:
            limiter.allow("login_account", account)
        return _page(request, settings, _safe_next(next), "login_wrong", 401)
    sid, _ = await run_in_threadpool(accounts.open_session, user)
    set_cookie(request, AUTH_COOKIE, sid, int(SESSION_TTL.total_seconds()))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, accounts: AccountsDep, csrf: Annotated[str, Form(max_length=100)] = ""):
    session = current_session(request)
    if session is not None and hmac.compare_digest(session.csrf, csrf):
        await run_in_threadpool(accounts.close_session, request.cookies.get(AUTH_COOKIE, ""))
        set_cookie(request, AUTH_COOKIE, "", 0)
    return RedirectResponse("/", status_code=303)
