"""The FastAPI application: the help center pages, the JSON API, security headers; the runtime opens in the lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.runtime import Runtime, open_runtime
from kb.settings import DEMO_PASSWORD, Settings, SettingsError

if TYPE_CHECKING:
    from kb.db.accounts import Accounts
    from kb.db.events import EventLog
    from kb.db.tickets import TicketLog
    from search.catalog import Catalog
    from search.service import SearchService
    from suggest.service import SuggestService
    from web.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI (vendored under /static/vendor, nothing from a CDN) sets inline styles; its page gets this policy
# instead (still no inline scripts).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class Services:
    """What the routes use: the process's runtime (search, catalog, database, suggestions) and the rate limiter."""

    def __init__(self, runtime: Runtime, limiter: RateLimiter | None = None):
        self.runtime = runtime
        self.settings = runtime.settings
        self.limiter = limiter

    @classmethod
    def start(cls, runtime: Runtime) -> Services:
        """Build every service now, at startup (the model loads here, not on the first request)."""
        from reports.gaps import preload as preload_gap_report
        from search.query import analyse
        from web.ratelimit import RateLimiter

        services = cls(runtime, RateLimiter(runtime.settings))
        prepare_logins(runtime.settings, runtime.accounts)
        runtime.search.calibrations.get()  # fitted before the first request when the index changed since
        for name in ("catalog", "tickets", "suggest"):
            getattr(runtime, name)
        # First-use costs paid here rather than by the first customer or admin after a restart: the keyboard
        # layout tables and lingua (every query's analysis), SciPy and scikit-learn (the gap report).
        analyse("Ghbdtn yt vjue djqnb")
        preload_gap_report()
        return services

    @property
    def search(self) -> SearchService:
        return self.runtime.search

    @property
    def catalog(self) -> Catalog:
        return self.runtime.catalog

    @property
    def events(self) -> EventLog:
        return self.runtime.events

    @property
    def accounts(self) -> Accounts:
        return self.runtime.accounts

    @property
    def tickets(self) -> TicketLog:
        return self.runtime.tickets

    @property
    def suggest(self) -> SuggestService:
        return self.runtime.suggest


def prepare_logins(settings: Settings, accounts: Accounts) -> None:
    """Development: create the demo logins when there are none; elsewhere refuse to start while one keeps its demo
    password."""
    if settings.env == "development" and settings.demo_accounts and accounts.count() == 0:
        for name, role in (("agent", "agent"), ("admin", "admin")):
            accounts.add_user(name, role, DEMO_PASSWORD)
        logger.warning("development mode: created the demo logins agent and admin, password %r", DEMO_PASSWORD)
    if settings.env != "development" and any(accounts.authenticate(name, DEMO_PASSWORD) for name in ("agent", "admin")):
        raise SettingsError(
            f"refusing to start with KB_ENV={settings.env}: a demo login still has the demo "
            "password; change it with `kb users password NAME` or remove it"
        )


# Pages and API answers for staff: a shared cache or the browser's history must not keep them.
STAFF_PATHS = ("/admin", "/agent", "/api/admin", "/api/agent", "/api/suggest", "/login", "/logout")


def _staff_request(scope: Scope) -> bool:
    """Whether the request is for a staff page or carries credentials (session cookie or bearer token)."""
    path = scope.get("path", "")
    if any(path == p or path.startswith(p + "/") for p in STAFF_PATHS):
        return True
    for name, value in scope.get("headers", []):
        if name == b"authorization" or (name == b"cookie" and b"kb_auth=" in value):
            return True
    return False


class SecurityMiddleware:
    """Security headers on every response (no-store for staff), plus the cookies routes asked for
    (web.deps.set_cookie)."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = False):
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        staff = _staff_request(scope)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if staff:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
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


class BodyLimitMiddleware:
    """Answers 413 to a request body over `max_bytes` before any route parses it (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        # The body is read here (it is at most max_bytes) and handed on, so a chunked upload is bounded too.
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body too large: at most {self.max_bytes:,} bytes"
        if scope.get("path", "").startswith("/api/"):
            response: Response = JSONResponse({"detail": detail}, status_code=413)
        else:
            response = PlainTextResponse(detail + "\n", status_code=413)
        response.headers["connection"] = "close"
        await response(scope, receive, send)


def _field(err: dict) -> str:
    """The field a validation error is about, as the form or query names it ("" for the body as a whole)."""
    return ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = _field(err)
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The help center app; pass a `runtime` to serve over it (tests inject their doubles so), else the lifespan
    opens one from the settings."""
    settings = settings or (runtime.settings if runtime else Settings())

    settings.check_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if runtime is not None:
            app.state.services = Services.start(runtime)
            yield
            return
        serving = settings
        if not serving.embed_threads:
            serving = serving.model_copy(update={"embed_threads": 1})  # see kb.settings.Settings.embed_threads
        with open_runtime(serving) as own:
            app.state.services = Services.start(own)
            yield

    app = FastAPI(
        title="Orbita Help Center",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Customer-facing help center and its search API.",
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityMiddleware, secure_cookies=settings.env == "production")  # outermost: on the 413 too
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
            return JSONResponse(
                status_code=422, content={"message": _validation_message(exc), "detail": jsonable_errors(exc)}
            )
        return pages.error_page(request, 400, invalid=sorted({_field(e) or "body" for e in exc.errors()}))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith(("/api/", "/healthz", "/static/")) or exc.status_code != 404:
            return JSONResponse(
                status_code=exc.status_code, content={"detail": exc.detail}, headers=getattr(exc, "headers", None)
            )
        return pages.error_page(request, 404)

    return app


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder([{k: v for k, v in e.items() if k != "ctx" and k != "url"} for e in exc.errors()])


def server_options(settings: Settings) -> dict:
    """uvicorn's options: forwarded headers are believed only from the proxies in KB_FORWARDED_ALLOW_IPS."""
    # uvicorn's own default believes X-Forwarded-For from 127.0.0.1, which lets any local client (or anything a
    # local process relays) pick the address its rate limits count.
    trusted = settings.forwarded_allow_ips
    return {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }


def run(settings: Settings | None = None) -> None:
    """Serve the help center with uvicorn on settings.host:settings.port."""
    import uvicorn

    settings = settings or Settings()
    uvicorn.run(create_app(settings), **server_options(settings))
