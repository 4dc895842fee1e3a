"""Who is calling: anonymous customers, or agents and admins by session cookie (pages) or bearer token (API).

Unsafe requests made with a session cookie must carry the session's CSRF token (form field `csrf` or
header `X-CSRF-Token`); bearer-token requests need none, since a browser never adds that header by itself.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from kb.db.accounts import Accounts, Session, User
from web.deps import set_cookie

AUTH_COOKIE = "kb_auth"
LOGIN_CSRF_COOKIE = "kb_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginRequired(Exception):
    """A page needs a logged-in agent or admin: the app answers with a redirect to the login page."""

    def __init__(self, next_url: str):
        self.next_url = next_url

    @property
    def location(self) -> str:
        return "/login?next=" + quote(self.next_url, safe="/")


def get_accounts(request: Request) -> Accounts:
    return request.app.state.services.accounts


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_session(request: Request) -> Session | None:
    """The logged-in session from the cookie, looked up once per request."""
    if not hasattr(request.state, "kb_auth_session"):
        sid = request.cookies.get(AUTH_COOKIE, "")
        request.state.kb_auth_session = get_accounts(request).session(sid) if sid else None
    return request.state.kb_auth_session


def current_user(request: Request) -> User | None:
    """The caller: a bearer token wins over a session cookie; None for anonymous customers."""
    if hasattr(request.state, "kb_user"):
        return request.state.kb_user
    token = _bearer(request)
    if token is not None:
        user = get_accounts(request).token_user(token)
        if user is None:
            raise HTTPException(
                401, "invalid or revoked API token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        request.state.kb_via_token = True
    else:
        session = current_session(request)
        user = session.user if session else None
    request.state.kb_user = user
    return user


async def _check_csrf(request: Request, session: Session | None) -> None:
    sent: object = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf")
    if session is None or not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require(role: str):
    """A dependency: the caller must be logged in with `role` (admins pass every check)."""

    async def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            if request.url.path.startswith("/api/"):
                raise HTTPException(
                    401,
                    "log in or send an API token: Authorization: Bearer <token>",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if not user.can(role):
            raise HTTPException(403, f"this needs the {role} role; {user.name} is {user.role}")
        if request.method not in SAFE_METHODS and not getattr(request.state, "kb_via_token", False):
            await _check_csrf(request, current_session(request))
        return user

    return dependency


def login_csrf(request: Request) -> str:
    """The double-submit token of the login form (the visitor has no session yet)."""
    value = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if len(value) != 43:
        value = secrets.token_urlsafe(32)
        set_cookie(request, LOGIN_CSRF_COOKIE, value, 60 * 60)
    return value


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
AgentDep = Annotated[User, Depends(require("agent"))]
AdminDep = Annotated[User, Depends(require("admin"))]
OptionalUserDep = Annotated[User | None, Depends(current_user)]
