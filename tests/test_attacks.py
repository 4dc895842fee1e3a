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
