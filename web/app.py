"""The FastAPI application: the help center pages, the JSON API, security headers; heavy objects load in the lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb.settings import Settings

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
# Swagger UI (vendored under /static/vendor, nothing from a CDN) sets inline styles; its page gets this policy
# instead (still no inline scripts).
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@dataclass
class Services:
    """Everything the routes use, built once per process."""

    settings: Settings
    search: object
    catalog: object
    events: object | None = None
    runtime: object | None = None
    suggest: object | None = None
    accounts: object | None = None
    tickets: object | None = None  # kb.ticket_log.TicketLog
    limiter: object | None = None
    closers: list = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        from kb.events import EventLog
        from kb.runtime import Runtime
        from search.catalog import Catalog
        from search.retrieval import Retriever
        from search.service import SearchService
        from search.spelling import SpellCorrector

        if not settings.embed_threads:
            settings = settings.model_copy(update={"embed_threads": 1})  # see kb.settings.Settings.embed_threads
        runtime = Runtime(settings)
        closers = [runtime.close]
        try:
            events = EventLog.from_settings(settings)
            closers.append(events.close)
            retriever = Retriever(runtime.store, runtime.embedder)
            search = SearchService(runtime.store, retriever, events, speller=SpellCorrector.from_store(runtime.store))
            search.calibrations.get()  # fitted before the first request when the index changed since
            catalog = Catalog(runtime.store, retriever, events)
            extra = cls.staff_services(settings, retriever, events, search.calibrations)
        except BaseException:
            for close in reversed(closers):
                close()
            raise
        return cls(settings, search, catalog, events, runtime, closers=closers, **extra)

    @staticmethod
    def staff_services(settings: Settings, retriever, events, calibrations=None) -> dict:
        """Logins, suggestions for agents, deflection and rate limits, over the event log's database."""
        from kb.accounts import Accounts
        from kb.settings import DEMO_PASSWORD
        from kb.ticket_log import TicketLog
        from suggest.service import SuggestService
        from web.ratelimit import RateLimiter

        accounts = Accounts(events.writer)
        if settings.env == "development" and settings.demo_accounts and accounts.count() == 0:
            for name, role in (("agent", "agent"), ("admin", "admin")):
                accounts.add_user(name, role, DEMO_PASSWORD)
            logger.warning("development mode: created the demo logins agent and admin, password %r", DEMO_PASSWORD)
        if settings.env != "development" and accounts.authenticate("agent", DEMO_PASSWORD) or \
                settings.env != "development" and accounts.authenticate("admin", DEMO_PASSWORD):
            from kb.settings import SettingsError

            raise SettingsError(f"refusing to start with KB_ENV={settings.env}: a demo login still has the demo "
                                "password; change it with `kb users password NAME` or remove it")
        tickets = TicketLog(events)
        suggest = SuggestService(retriever, tickets, base_url=settings.public_url, calibrations=calibrations)
        return {"accounts": accounts, "tickets": tickets, "suggest": suggest, "limiter": RateLimiter(settings)}

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # shutting down: report, keep closing the rest
                logger.exception("error while closing %r", close)
        self.closers.clear()


class SecurityMiddleware:
    """Security headers on every response, plus the cookies routes asked for (web.deps._set_cookie)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = False):
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                for name, value, max_age in scope.get("state", {}).get("kb_set_cookies", []):
                    c = SimpleCookie()
                    c[name] = value
                    c[name]["path"] = "/"
                    c[name]["max-age"] = max_age
                    c[name]["httponly"] = True
                    c[name]["samesite"] = "Lax"
                    if self.secure_cookies:
                        c[name]["secure"] = True
                    headers.append((b"set-cookie", c.output(header="").strip().encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The help center app; pass `services` to use ready-made ones (tests), else the lifespan builds them."""
    settings = settings or (services.settings if services else Settings())

    settings.check_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = services is None
        app.state.services = Services.build(settings) if own else services
        try:
            yield
        finally:
            if own:
                app.state.services.close()

    app = FastAPI(title="Orbita Help Center", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Customer-facing help center and its search API.")
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.env == "production")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from web import admin, agent, api, contact, login, pages
    from web.auth import LoginRequired

    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(agent.router)
    app.include_router(contact.router)
    app.include_router(login.router)
    app.include_router(pages.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(exc.location, status_code=303)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        html = (HERE / "templates" / "docs.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"content-security-policy": DOCS_CSP})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if request.url.path.startswith("/api/"):
            return JSONResponse(status_code=422, content={"message": _validation_message(exc),
                                                          "detail": jsonable_errors(exc)})
        return pages.error_page(request, 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith(("/api/", "/healthz", "/static/")) or exc.status_code != 404:
            return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                                headers=getattr(exc, "headers", None))
        return pages.error_page(request, 404)

    return app


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder([{k: v for k, v in e.items() if k != "ctx" and k != "url"} for e in exc.errors()])


def run(settings: Settings | None = None) -> None:
    """Serve the help center with uvicorn on settings.host:settings.port."""
    import uvicorn

    settings = settings or Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
