"""Dependencies of the routes as `Annotated` aliases; tests override the getters via app.dependency_overrides."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from kb.db.events import EventLog
from kb.settings import Settings
from search.catalog import Catalog
from search.service import SearchService
from web import i18n

SESSION_COOKIE = "kb_session"


def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with."""
    return request.app.state.services.settings


def get_search(request: Request) -> SearchService:
    return request.app.state.services.search


def get_catalog(request: Request) -> Catalog:
    return request.app.state.services.catalog


def get_events(request: Request) -> EventLog | None:
    return request.app.state.services.events


def set_cookie(request: Request, name: str, value: str, max_age: int) -> None:
    # Applied to the response by web.app.SecurityMiddleware, whatever kind of response the route returns.
    cookies = request.scope.setdefault("state", {}).setdefault("kb_set_cookies", [])
    cookies.append((name, value, max_age))


def get_session(request: Request) -> str:
    """The visitor's random session id (cookie kb_session), created on first use."""
    value = request.cookies.get(SESSION_COOKIE, "")
    if 16 <= len(value) <= 64 and value.isalnum():
        return value
    value = secrets.token_hex(16)
    set_cookie(request, SESSION_COOKIE, value, 60 * 60 * 24 * 180)
    return value


def get_client_ip(request: Request) -> str | None:
    """The client address as the server sees it (uvicorn applies X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else None


def get_lang(request: Request) -> str:
    """The reader's UI language: ?lang=, then the cookie, then Accept-Language, else English."""
    lang, remember = i18n.choose(
        request.query_params.get("lang"), request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language")
    )
    if remember:
        set_cookie(request, i18n.LANG_COOKIE, lang, 60 * 60 * 24 * 365)
    return lang


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SearchDep = Annotated[SearchService, Depends(get_search)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
EventsDep = Annotated[EventLog | None, Depends(get_events)]
SessionDep = Annotated[str, Depends(get_session)]
ClientIPDep = Annotated[str | None, Depends(get_client_ip)]
LangDep = Annotated[str, Depends(get_lang)]
