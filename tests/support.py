"""What several test modules share: a fast fake embedder, article writers, the small web KB and its app."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download cannot work here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DATA = Path(__file__).resolve().parent / "data"


class CountingEmbedder:
    """A deterministic bag-of-words embedder that counts what it embeds.

    It stands in for the real model where a test is about indexing logic (what gets embedded,
    what gets replaced), so those tests run in milliseconds; the real model has tests of its own.
    """

    name = "test/bag-of-words"
    dim = 64
    max_tokens = 512

    def __init__(self):
        self.embedded: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


class QueryRecorder(CountingEmbedder):
    """The fake embedder, keeping every query text it was asked to embed."""

    def __init__(self):
        super().__init__()
        self.queries: list[str] = []

    def embed_queries(self, texts):
        self.queries.extend(texts)
        return super().embed_queries(texts)


def write_article(
    root: Path, rel: str, *, id: str | None = None, title: str = "Title", body: str = "Body text.", **fields
) -> Path:
    """Write one article file with front matter built from keyword fields."""
    lines = ["---"]
    if id:
        lines.append(f"id: {id}")
    lines.append(f"title: {title}")
    for k, v in fields.items():
        lines.append(f"{k}: {v}")
    lines += ["---", body, ""]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


INTERNAL = ("refund-approval-internal", "Refund approval playbook for agents")
DRAFT = ("pricing-draft", "Unreleased pricing draft")
HIDDEN_IDS = (INTERNAL[0], DRAFT[0])
HIDDEN_TITLES = (INTERNAL[1], DRAFT[1])


def write_topic_articles(root: Path, topics: list[str]) -> None:
    """One small English article per topic ("How to <topic>", a steps section naming it): ids t0, t1, ..."""
    for i, topic in enumerate(topics):
        write_article(
            root,
            f"en/t{i}.md",
            id=f"t{i}",
            title=f"How to {topic}",
            body=f"## Steps for {topic}\nOpen settings and choose {topic}. Then save the {topic} form.",
        )


def build_kb(root: Path) -> Path:
    """A small help center: en/ru/uk public articles, an internal and a draft one, an article with XSS attempts."""
    a = root / "articles"
    write_article(
        a,
        "en/account/reset-password.md",
        id="reset-password",
        title="How to reset your password",
        locale="en",
        category="account",
        tags="[password, login]",
        updated="2025-11-02",
        body=(
            "If you forgot your password, you can reset it from the sign-in page.\n\n"
            "## Reset by email\n\nClick **Forgot password** and follow the link we email you. "
            "The password reset link is valid for one hour.\n\n"
            "### Didn't get the email\n\nCheck the spam folder.\n\n"
            "## Reset from the app\n\nOpen Settings → Security → Change password.\n\n"
            "See also [two-factor authentication](two-factor.md) and "
            "[the refund playbook](../policies/refund-approval-internal.md).\n"
        ),
    )
    write_article(
        a,
        "ru/account/reset-password.md",
        id="reset-password-ru",
        title="Как сбросить пароль",
        locale="ru",
        category="account",
        translation_of="reset-password",
        body=(
            "Если вы забыли пароль, сбросьте его на странице входа.\n\n## Сброс по почте\n\nНажмите «Забыли пароль».\n"
        ),
    )
    write_article(
        a,
        "en/account/two-factor.md",
        id="two-factor",
        title="Set up two-factor authentication",
        locale="en",
        category="account",
        body="Protect your account and password with a second step.\n\n## Authenticator app\n\nScan the QR code.\n",
    )
    write_article(
        a,
        "en/billing/invoices.md",
        id="invoices",
        title="Download invoices and VAT receipts",
        locale="en",
        category="billing",
        body=(
            "Invoices are in Billing → Invoices.\n\n| Plan | Price |\n|:--|--:|\n| Team | 8 |\n| Business | 15 |\n\n"
            "```\ncurl https://api.orbita.example/invoices\n```\n"
        ),
    )
    write_article(
        a,
        "uk/billing/oplata.md",
        id="oplata-uk",
        title="Як оплатити підписку",
        locale="uk",
        category="billing",
        body="Оплатити підписку можна карткою або рахунком.\n",
    )
    write_article(
        a,
        "en/policies/refund-approval-internal.md",
        id=INTERNAL[0],
        title=INTERNAL[1],
        locale="en",
        category="policies",
        visibility="internal",
        body="Agents approve password reset refunds up to 100 EUR. Reset password invoices refund.\n",
    )
    write_article(
        a,
        "en/billing/pricing-draft.md",
        id=DRAFT[0],
        title=DRAFT[1],
        locale="en",
        category="billing",
        visibility="draft",
        body="Draft: new password reset pricing for invoices, not public yet.\n",
    )
    write_article(
        a,
        "en/troubleshooting/xss.md",
        id="xss-test",
        title="Script tags in notes",
        locale="en",
        category="troubleshooting",
        body=(
            "Notes may contain <script>alert(1)</script> text.\n\n"
            "<img src=x onerror=alert(1)>\n\n"
            'A [x](javascript:alert(1)) link and <a href="javascript:alert(2)">raw link</a>.\n\n'
            '<div onclick="alert(3)" style="color:red">clickable</div>\n'
        ),
    )
    return a


def index_kb(root: Path):
    """Index the small KB under root/data with the counting embedder; returns Settings for it."""
    from app.runtime import open_runtime
    from kb.settings import Settings

    articles = build_kb(root)
    settings = Settings(
        articles_dir=articles,
        data_dir=root / "data",
        cache_dir=root / "cache",
        env="test",
        model="test/bag-of-words",
        database_url=f"sqlite:///{root / 'data' / 'events.sqlite3'}",
    )
    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        report = rt.indexer().run(articles)
    assert not report.errors, report.errors
    return settings


@contextmanager
def serve_app(settings, **options) -> Iterator[TestClient]:
    """The app over a test KB, with the fake embedder injected, in-process."""
    from app.runtime import open_runtime
    from web.app import create_app

    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        with TestClient(create_app(settings, runtime=rt), **options) as c:
            yield c


def login(client: TestClient, name: str, password: str, next_url: str = "/agent"):
    """Log in through the form, as a person does (CSRF token from the page)."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login", data={"username": name, "password": password, "csrf": csrf, "next": next_url}, follow_redirects=False
    )


def free_port() -> int:
    """A loopback port nobody listens on now (for a uvicorn server in a thread)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app, start_seconds: float = 120, **config) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a daemon thread (for Chromium and live HTTP tests); yields its base URL.

    The start may take long: startup fits the answered decision, slow on a busy machine."""
    import threading
    import time

    import uvicorn

    config = {"host": "127.0.0.1", "port": free_port(), **config}
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_seconds
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config['port']}"
    finally:
        srv.should_exit = True
        thread.join(10)


@contextmanager
def live_server(settings, **options) -> Iterator[str]:
    """The app over a test KB served by a real uvicorn in a thread, started with `kb serve`'s own options."""
    from app.runtime import open_runtime
    from web.app import create_app, server_options

    settings = settings.model_copy(update={"host": "127.0.0.1", "port": free_port(), **options})
    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        with serve_in_thread(create_app(settings, runtime=rt), **server_options(settings)) as url:
            yield url


def full_openapi(app) -> dict:
    """The app's OpenAPI schema with the pages and forms /openapi.json leaves out, for tests that walk every route."""
    import copy

    from fastapi.openapi.utils import get_openapi
    from fastapi.routing import APIRoute, iter_route_contexts

    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            route = copy.copy(route)
            route.include_in_schema = True
            routes.append(route)
    return get_openapi(title=app.title, version=app.version, routes=routes)


def require_browser() -> None:
    """Skip the calling test unless Debian's Chromium and Playwright are both installed."""
    import os

    import pytest

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
