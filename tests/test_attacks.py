"""The attacks that worked against `kb serve` (issue 16), replayed: each test is the attack, and what stops it."""

from __future__ import annotations

import re

import httpx
import pytest

from support import index_kb, live_server, serve_app

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


# -- 3. malformed form and query fields: a 4xx that names the field ---------------------------------


def test_a_malformed_deflection_id_in_the_contact_preview_is_a_400_naming_it(kb_settings):
    with serve_app(kb_settings) as c:
        r = c.post("/contact", data={"description": "my invoice is wrong", "preview": "1", "deflection_id": "zzz"})
        assert r.status_code == 400
        assert "deflection_id" in r.text and "zzz" not in r.text  # the field by name, never the value echoed
        ok = c.post("/contact", data={"description": "my invoice is wrong", "preview": "1", "deflection_id": ""})
        assert ok.status_code == 200
        assert c.get("/search", params={"q": "password", "category": ""}).status_code == 200  # blank: no category


@pytest.mark.parametrize(
    ("method", "path", "kw", "field"),
    [
        ("GET", "/search", {"params": {"q": "password", "category": "../../admin?x=1"}}, "category"),
        ("GET", "/articles/reset-password", {"params": {"sid": "<script>"}}, "sid"),
        ("GET", "/articles/reset-password", {"params": {"voted": "yes"}}, "voted"),
        ("POST", "/articles/reset-password/feedback", {"data": {"helpful": "maybe"}}, "helpful"),
        ("POST", "/articles/reset-password/feedback", {"data": {"helpful": "no", "sid": "'; drop"}}, "sid"),
        ("GET", "/contact", {"params": {"subject": "s" * 301}}, "subject"),
        ("GET", "/login", {"params": {"next": "/" * 301}}, "next"),
    ],
)
def test_malformed_page_and_form_fields_get_a_400_page_naming_them(kb_settings, method, path, kw, field):
    with serve_app(kb_settings) as c:
        r = c.request(method, path, **kw)
    assert r.status_code == 400
    fields = re.search(r'<p class="invalid-fields">[^<]*: ([^<]*)\.</p>', r.text)
    assert fields and fields.group(1) == field, r.text[:500]


@pytest.mark.parametrize(
    ("method", "path", "kw", "field"),
    [
        ("GET", "/api/search", {"params": {"q": "x", "limit": "lots"}}, "limit"),
        ("GET", "/api/search", {"params": {"q": "x", "category": "../../admin"}}, "category"),
        ("GET", "/api/autocomplete", {"params": {"q": "x", "locale": "en_US.UTF-8"}}, "locale"),
        ("POST", "/api/deflect", {"json": {"description": "help", "deflection_id": "zzz"}}, "deflection_id"),
        ("POST", "/api/feedback", {"json": {"article_id": "x", "helpful": "perhaps"}}, "helpful"),
    ],
)
def test_malformed_api_fields_get_a_422_naming_them(kb_settings, method, path, kw, field):
    with serve_app(kb_settings) as c:
        r = c.request(method, path, **kw)
    assert r.status_code == 422
    assert r.json()["message"].startswith(f"{field}: ") and r.json()["detail"][0]["loc"][-1] == field


# -- 4. autocomplete: enough distinct visitors, answered or clicked, nothing internal ----------------

POISON = "how to reset your password evil-support.example"


def _autocomplete(c, q: str) -> list[str]:
    return [e["text"] for e in c.get("/api/autocomplete", params={"q": q}).json() if e["kind"] == "query"]


def test_a_cookieless_client_repeating_a_query_never_makes_it_a_suggestion(tmp_path):
    settings = index_kb(tmp_path)  # no KB_IP_SALT: the install makes its own salt and still counts addresses
    from support import serve_app

    with serve_app(settings) as c:
        for _ in range(10):
            c.cookies.clear()  # a new visitor by cookie every time
            assert c.get("/api/search", params={"q": POISON}).json()["answered"]
        assert _autocomplete(c, "how to res") == []
    salt = (settings.data_dir / "ip_salt").read_text().strip()
    assert len(salt) == 64 and (settings.data_dir / "ip_salt").stat().st_mode & 0o077 == 0
    with serve_app(settings) as c:  # a restart keeps the salt: the same client is still one visitor
        c.get("/api/search", params={"q": POISON})
        assert _autocomplete(c, "how to res") == []
    assert (settings.data_dir / "ip_salt").read_text().strip() == salt


def test_processes_starting_at_once_hash_addresses_with_one_generated_salt(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from kb.db.salt import ip_salt
    from kb.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    with ThreadPoolExecutor(8) as pool:
        salts = set(pool.map(lambda _: ip_salt(settings), range(16)))
    assert len(salts) == 1 and sorted(p.name for p in (tmp_path / "data").iterdir()) == ["ip_salt"]
    assert ip_salt(Settings(data_dir=tmp_path / "data", ip_salt="a configured secret, long enough")) == (
        "a configured secret, long enough"
    )


def _searches_from(base: str, q: str, addresses: list[str], click: bool = False) -> list[dict]:
    out = []
    with httpx.Client(base_url=base) as c:
        for ip in addresses:
            c.cookies.clear()
            r = c.get("/api/search", params={"q": q}, headers={"X-Forwarded-For": ip}).json()
            if click and r["results"]:
                click_body = {"search_id": r["search_id"], "article_id": r["results"][0]["id"], "rank": 1}
                assert c.post("/api/click", json=click_body, headers={"X-Forwarded-For": ip}).status_code == 204
            out.append(r)
    return out


def test_a_query_becomes_a_suggestion_only_once_enough_distinct_addresses_searched_it(tmp_path):
    settings = index_kb(tmp_path)
    with live_server(settings, forwarded_allow_ips="127.0.0.1") as base, httpx.Client(base_url=base) as c:
        # Three addresses of one IPv6 /64 (one subscriber) and two IPv4 clients: three visitors short of... four.
        _searches_from(base, POISON, ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3"])
        _searches_from(base, POISON, ["198.51.100.1"])
        assert _autocomplete(c, "how to res") == []  # two visitors, under the default three
        _searches_from(base, POISON, ["198.51.100.2"])
        assert _autocomplete(c, "how to res") == [POISON]  # the third visitor: now a suggestion


def test_a_query_nobody_found_an_answer_for_is_never_suggested(tmp_path):
    settings = index_kb(tmp_path)
    with live_server(settings, forwarded_allow_ips="127.0.0.1") as base, httpx.Client(base_url=base) as c:
        query = "weather in paris tomorrow"  # unanswered on this KB (with the test embedder's calibration)
        results = _searches_from(base, query, [f"198.51.100.{i}" for i in range(5)])
        assert not any(r["answered"] for r in results)
        assert _autocomplete(c, "weather") == []
        # The same unanswered query, but the visitors clicked a result: it helped them.
        _searches_from(base, query, [f"203.0.113.{i}" for i in range(3)], click=True)
        assert _autocomplete(c, "weather") == [query]


def test_words_of_an_internal_article_typed_into_the_public_search_are_never_suggested(tmp_path):
    settings = index_kb(tmp_path)
    with live_server(settings, forwarded_allow_ips="127.0.0.1") as base, httpx.Client(base_url=base) as c:
        # Agents (or anyone who read it) search the internal playbook's title; the customers who come after type
        # "refund".
        leak = "refund approval playbook for agents"
        _searches_from(base, leak, [f"198.51.100.{i}" for i in range(5)], click=True)
        draft = "unreleased pricing"
        _searches_from(base, draft, [f"198.51.100.{i}" for i in range(5)], click=True)
        public = "refund for invoices"
        _searches_from(base, public, [f"198.51.100.{i}" for i in range(5)], click=True)
        assert _autocomplete(c, "refund") == [public]
        assert _autocomplete(c, "unrel") == []


# -- 5. absolute URLs come from KB_PUBLIC_URL, never from the request's Host -----------------------


def test_a_forged_host_header_does_not_reach_the_sitemap(kb_settings):
    from support import serve_app

    with serve_app(kb_settings) as c:
        locs = re.findall(r"<loc>([^<]+)</loc>", c.get("/sitemap.xml", headers={"Host": "evil.example"}).text)
    assert locs and all(loc.startswith("http://127.0.0.1:8000/articles/") for loc in locs)  # from KB_HOST/KB_PORT
    public = kb_settings.model_copy(update={"public_url": "https://help.orbita.example"})
    with serve_app(public) as c:
        locs = re.findall(r"<loc>([^<]+)</loc>", c.get("/sitemap.xml", headers={"Host": "evil.example"}).text)
    assert locs and all(loc.startswith("https://help.orbita.example/articles/") for loc in locs)


def test_a_forged_host_header_does_not_reach_the_links_in_a_draft_reply(kb_settings):
    from support import serve_app

    public = kb_settings.model_copy(update={"public_url": "https://help.orbita.example/"})
    with serve_app(public, base_url="http://evil.example") as c:
        token = c.app.state.services.accounts.create_token(VICTIM)
        # Two questions, so that (with the test KB's fake embedder) the draft quotes an article for at least one.
        text = "I forgot my password. How do I reset my password? Where is the reset link?"
        ticket = {"subject": "Password reset", "messages": [{"role": "customer", "text": text}]}
        r = c.post("/api/suggest", json=ticket, headers={"Authorization": f"Bearer {token}", "Host": "evil.example"})
    draft = r.json()["draft"]
    links = re.findall(r"https?://[^\s)\]>]+", draft)
    assert links and all(link.startswith("https://help.orbita.example/articles/") for link in links), draft
    assert "evil.example" not in r.text


def test_the_public_url_must_be_an_absolute_address():
    from pydantic import ValidationError

    from kb.settings import Settings

    for bad in ("help.orbita.example", "javascript:alert(1)", "https://help.example/?x=1"):
        with pytest.raises(ValidationError, match="public_url"):
            Settings(public_url=bad)
    assert Settings(host="0.0.0.0", port=8080).site_url == "http://127.0.0.1:8080"
    assert Settings(host="::1", port=80).site_url == "http://[::1]"


# -- also: a request body limit, no-store for staff, category names like ids ------------------------


def test_a_5_mb_body_is_refused_with_413_before_it_is_parsed(kb_settings):
    from support import serve_app

    big = b'{"article_id": "reset-password", "helpful": false, "reason": "' + b"x" * 5_000_000 + b'"}'
    with serve_app(kb_settings) as c:
        r = c.post("/api/feedback", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["detail"] == "request body too large: at most 1,048,576 bytes"
        assert r.headers["x-content-type-options"] == "nosniff"  # the security headers are on the 413 too

        def chunked():  # no Content-Length to check up front: counted as it arrives
            for _ in range(50):
                yield b"x" * 100_000

        r = c.post("/contact", content=chunked(), headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413 and "request body too large" in r.text
        r = c.post("/api/feedback", content=b"{}", headers={"content-type": "application/json", "content-length": "x"})
        assert r.status_code == 413
        small = {"article_id": "reset-password", "helpful": False, "reason": "x" * 900}
        assert c.post("/api/feedback", json=small).status_code == 204
    with serve_app(kb_settings.model_copy(update={"max_body_bytes": 2048})) as c:
        assert c.post("/api/feedback", json={**small, "reason": "x" * 900}).status_code == 204
        r = c.post("/api/feedback", json={**small, "reason": "x" * 2100})
        assert r.status_code == 413 and "2,048 bytes" in r.json()["detail"]


def test_staff_pages_and_answers_are_never_cached(kb_settings):
    from support import login, serve_app

    with serve_app(kb_settings) as c:
        assert "no-store" not in c.get("/").headers.get("cache-control", "")  # public pages may be cached
        assert c.get("/login").headers["cache-control"] == "no-store"
        assert c.get("/admin", follow_redirects=False).headers["cache-control"] == "no-store"
        token = c.app.state.services.accounts.create_token(VICTIM)
        r = c.get("/api/admin/stats", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        assert login(c, VICTIM, VICTIM_PASSWORD).status_code == 303
        for path in ("/admin", "/admin/gaps", "/agent", "/"):  # logged in: even the help center's pages
            r = c.get(path)
            assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path


@pytest.mark.parametrize(
    ("rel", "category", "line"),
    [
        ("en/account/evil.md", "../../admin?x=1", 4),
        ("en/account/evil.md", "account/../admin", 4),
        ("en/Ac.count/evil.md", None, 1),  # from the folder: the same rule
    ],
)
def test_a_category_that_would_climb_out_of_categories_is_refused_at_index_time(tmp_path, rel, category, line):
    from kb.articles import ArticleLoadError, parse_article

    text = "---\nid: evil\ntitle: Evil\n" + (f"category: '{category}'\n" if category else "") + "---\nBody.\n"
    folder = rel.split("/")[1].lower()
    with pytest.raises(ArticleLoadError) as e:
        parse_article(text.encode(), rel, default_locale="en", default_category=folder)
    (problem,) = e.value.problems
    assert problem.field == "category" and problem.line == line and problem.path == rel


def test_a_category_already_in_an_older_index_links_nowhere(kb_settings):
    from support import serve_app

    with serve_app(kb_settings) as c:
        page = c.app.state.services.catalog.article("reset-password")
        page.category = "../../admin?x=1"
        c.app.state.services.catalog.article = lambda *a, **k: page
        html = c.get("/articles/reset-password").text
    assert 'href="/categories/../' not in html and "/admin?x=1" not in html.split("<main", 1)[-1].split('href="/')[0]
    assert not re.search(r'href="[^"]*admin\?x=1', html)
