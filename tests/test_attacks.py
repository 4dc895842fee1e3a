"""The attacks that worked against `kb serve` (issue 16), replayed: each test is the attack, and what stops it."""

from __future__ import annotations

import re

import httpx
import pytest

from support import index_kb, live_server

VICTIM, VICTIM_PASSWORD = "victim", "correct horse battery staple"


@pytest.fixture(scope="module")
def kb_settings(tmp_path_factory):
    from kb.db.accounts import Accounts
    from kb.db.events import EventLog

    settings = index_kb(tmp_path_factory.mktemp("attackkb"))
    with EventLog(settings.database_url) as log:
        Accounts(log.writer).add_user(VICTIM, "admin", VICTIM_PASSWORD)
    return settings


# -- 1. rate limits and X-Forwarded-For -------------------------------------------------------------

LIMITED = {
    "search": ("GET", "/api/search", {"params": {"q": "password"}}),
    "autocomplete": ("GET", "/api/autocomplete", {"params": {"q": "pass"}}),
    "vote": ("POST", "/api/feedback", {"json": {"article_id": "reset-password", "helpful": True}}),
    "contact": ("POST", "/contact", {"data": {"email": "a@b.example", "description": "help"}}),
    "login": ("POST", "/login", {"data": {"username": VICTIM, "password": "guess"}}),
}
BUCKET = {"search": "search", "autocomplete": "search", "vote": "feedback", "contact": "feedback", "login": "login"}


@pytest.mark.parametrize("endpoint", LIMITED)
def test_a_new_x_forwarded_for_per_request_does_not_escape_the_limit(kb_settings, endpoint):
    method, path, kw = LIMITED[endpoint]
    with live_server(kb_settings, **{f"rate_limit_{BUCKET[endpoint]}": 3}) as base, httpx.Client(base_url=base) as c:
        codes = [
            c.request(method, path, headers={"X-Forwarded-For": f"198.51.100.{i}"}, **kw).status_code for i in range(6)
        ]
    assert 429 not in codes[:3] and codes[3:] == [429, 429, 429], codes


def test_behind_a_proxy_named_in_the_setting_each_forwarded_client_has_its_own_limit(kb_settings):
    with (
        live_server(kb_settings, rate_limit_search=3, forwarded_allow_ips="127.0.0.1") as base,
        httpx.Client(base_url=base) as c,
    ):

        def search(client_ip: str) -> int:
            return c.get("/api/search", params={"q": "password"}, headers={"X-Forwarded-For": client_ip}).status_code

        alice = [search("203.0.113.1") for _ in range(4)]
        bob = [search("203.0.113.2") for _ in range(4)]
        # What a client writes into the header itself comes before what the proxy appends: it is not taken.
        carol = [search(f"198.51.100.{i}, 203.0.113.3") for i in range(4)]
    assert alice == bob == carol == [200, 200, 200, 429]


def test_a_proxy_not_named_in_the_setting_is_not_believed(kb_settings):
    with (
        live_server(kb_settings, rate_limit_search=2, forwarded_allow_ips="10.0.0.0/8") as base,
        httpx.Client(base_url=base) as c,
    ):
        codes = [
            c.get("/api/search", params={"q": "x"}, headers={"X-Forwarded-For": f"10.1.1.{i}"}).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]


def _login_form(c: httpx.Client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)


def test_guessing_a_password_from_ever_new_addresses_locks_the_account_alike_for_real_and_unknown_names(kb_settings):
    # The attacker controls many addresses (a proxy in front forwards each one faithfully).
    options = {"forwarded_allow_ips": "127.0.0.1", "rate_limit_login": 1000, "rate_limit_login_account": 5}
    with live_server(kb_settings, **options) as base, httpx.Client(base_url=base) as c:
        csrf = _login_form(c)
        n = iter(range(1, 1000))

        def attempt(name: str, password: str) -> httpx.Response:
            return c.post(
                "/login",
                data={"username": name, "password": password, "csrf": csrf},
                headers={"X-Forwarded-For": f"198.51.100.{next(n)}"},
            )

        for name in (VICTIM, "no-such-user"):
            guesses = [attempt(name, f"guess {i}") for i in range(5)]
            assert [r.status_code for r in guesses] == [401] * 5
            assert "Wrong user name or password." in guesses[0].text
        real, unknown = attempt(VICTIM, VICTIM_PASSWORD), attempt("no-such-user", VICTIM_PASSWORD)
        assert real.status_code == unknown.status_code == 429
        assert real.json() == unknown.json() and real.headers["retry-after"] == unknown.headers["retry-after"]
        assert "kb_auth" not in real.headers.get("set-cookie", "")
        # The name is counted as typed, in any case and spacing.
        assert attempt(f"  {VICTIM.upper()} ", VICTIM_PASSWORD).status_code == 429
        # Another account is not locked by it.
        assert attempt("other-user", "guess").status_code == 401


def test_a_proxy_setting_that_is_not_an_address_is_refused_at_start():
    from pydantic import ValidationError

    from kb.settings import Settings

    with pytest.raises(ValidationError, match="forwarded_allow_ips"):
        Settings(forwarded_allow_ips="127.0.0.1, nginx")
    assert Settings(forwarded_allow_ips=" 127.0.0.1 , 10.0.0.0/8 ").forwarded_allow_ips == "127.0.0.1,10.0.0.0/8"


# -- 2. exports escape what customers and authors wrote --------------------------------------------

HOSTILE = (
    "[click](javascript:alert(1)) <script>alert(1)</script> ![t](https://evil.example/t.png) | a | b |\n"
    "# injected heading\n<img src=x onerror=alert(2)> **bold** `code` &lt;b&gt;"
)
FORMULAS = ('=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


def _hostile_report():
    from reports.gap_report import GapReport, GapTopic, Nearest

    def topic(n: int, **fields) -> GapTopic:
        base = dict(
            id=f"t{n}",
            title=HOSTILE,
            status="open",
            coverage="weak",
            impact=1.0,
            searches=3,
            failures=2,
            failure_rate=0.67,
            distinct_queries=2,
            trend="new",
            weekly_failures=[2],
            locales={"en": 2},
            queries=[{"text": f, "count": 1} for f in FORMULAS] + [{"text": HOSTILE, "count": 1}],
            signals={},
            nearest=[Nearest("x", HOSTILE, "/articles/x) [y](javascript:alert(3)", 0.5)],
        )
        return GapTopic(**{**base, **fields})

    return GapReport(
        generated="2026-01-01T00:00:00+00:00",
        since="2025-12-01",
        until="2026-01-01",
        weeks=["2025-12-29"],
        totals={"unanswered": 2},
        topics=[
            topic(1),
            topic(2, title=FORMULAS[0]),
            topic(
                3,
                status="resolved",
                resolved_by=Nearest("y", HOSTILE, "javascript:alert(4)", 0.9, "2025-12-15"),
                failure_rate_before=1.0,
                failure_rate_after=0.0,
            ),
        ],
        unhelpful_articles=[{"article_id": "reset-password", "not_helpful": 2, "helpful": 0, "top_reason": HOSTILE}],
    )


def test_the_markdown_export_renders_hostile_text_as_text():
    from markdown_it import MarkdownIt

    md = _hostile_report().to_markdown()
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    for markup in ("<script", "<img", '="javascript:', "<table", "<strong", "<code", "<em"):
        assert markup not in html, markup
    assert html.count("<h1>") == 1 and html.count("<h3>") == 2  # the report's own headings, none injected
    assert re.findall(r'<a href="([^"]*)"', html) == ["/articles/x%29%20%5By%5D%28javascript:alert%283%29"] * 2 + ["#"]
    # The reader still sees what the customer wrote, character for character.
    assert "[click](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;lt;b&amp;gt;" in html


def test_the_csv_export_runs_no_formula():
    import csv
    import io

    rows = list(csv.reader(io.StringIO(_hostile_report().to_csv())))
    cells = [cell for row in rows[1:] for cell in row]
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), cell
    assert "'" + FORMULAS[0] in cells  # the title, kept readable


def test_the_json_export_keeps_every_value_and_no_markup():
    import json

    report = _hostile_report()
    text = report.to_json()
    assert "<" not in text and ">" not in text and "&" not in text
    data = json.loads(text)
    assert data["topics"][0]["title"] == HOSTILE and data["unhelpful_articles"][0]["top_reason"] == HOSTILE
    assert data["topics"][0]["queries"][0]["text"] == FORMULAS[0]


def test_a_not_helpful_reason_reaches_the_markdown_export_only_as_text(kb_settings):
    from support import serve_app

    reason = "[click](javascript:alert(1)) <script>alert(1)</script>"
    with serve_app(kb_settings) as c:
        for _ in range(2):
            vote = {"article_id": "two-factor", "helpful": False, "reason": reason}
            assert c.post("/api/feedback", json=vote).status_code == 204
        token = c.app.state.services.accounts.create_token(VICTIM)
        md = c.get("/api/admin/gaps", params={"format": "md"}, headers={"Authorization": f"Bearer {token}"}).text
    line = next(ln for ln in md.splitlines() if ln.startswith("- two-factor"))
    assert "(mostly: \\[click\\](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt;)" in line
