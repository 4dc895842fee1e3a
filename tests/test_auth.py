"""Logins, sessions, CSRF, bearer tokens, roles, placeholder secrets and rate limits, over the small test KB."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kb.db.accounts import AccountError, Accounts
from kb.db.events import EventLog
from kb.settings import DEMO_PASSWORD, Settings, SettingsError

from support import index_kb, login, serve_app

TICKET = {"subject": "Password reset", "messages": [{"role": "customer", "text": "How do I reset my password?"}]}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return index_kb(tmp_path_factory.mktemp("authkb"))


@pytest.fixture(scope="module")
def app_client(settings):
    with serve_app(settings) as c:
        accounts = c.app.state.services.accounts
        accounts.add_user("alice", "agent", "correct horse battery")
        accounts.add_user("root", "admin", "admin password 1")
        yield c


@pytest.fixture
def client(app_client):
    app_client.cookies.clear()
    return app_client


def panel_csrf(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/agent").text).group(1)


def test_anonymous_callers_cannot_get_suggestions(client):
    r = client.post("/api/suggest", json=TICKET)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "refund" not in r.text.lower()


def test_agent_panel_redirects_to_login_and_back(client):
    r = client.get("/agent?ticket=T-1001", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/agent%3Fticket%3DT-1001"
    r = login(client, "alice", "correct horse battery", "/agent?ticket=T-1001")
    assert r.status_code == 303 and r.headers["location"] == "/agent?ticket=T-1001"
    assert "alice" in client.get("/agent").text


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    a = login(client, "alice", "wrong password!")
    b = login(client, "nobody", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "Wrong user name or password" in a.text and "Wrong user name or password" in b.text
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_login_form_needs_its_csrf_token(client):
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "kb_auth" not in r.cookies


def test_login_never_redirects_off_site(client):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = login(client, "alice", "correct horse battery", target)
        assert r.headers["location"] == "/agent"


def test_session_api_calls_need_the_csrf_header(client):
    login(client, "alice", "correct horse battery")
    assert client.post("/api/suggest", json=TICKET).status_code == 403
    token = panel_csrf(client)
    r = client.post("/api/suggest", json=TICKET, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    assert r.json()["articles"]


def test_logout_ends_the_session(client):
    login(client, "alice", "correct horse battery")
    cookie = client.cookies.get("kb_auth")
    token = panel_csrf(client)
    client.post("/logout", data={"csrf": token})
    client.cookies.set("kb_auth", cookie)  # a stolen copy of the cookie is dead too
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_bearer_tokens_work_without_csrf_and_can_be_revoked(client):
    accounts = client.app.state.services.accounts
    token = accounts.create_token("alice", "helpdesk")
    r = client.post("/api/suggest", json=TICKET, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert {a["id"] for a in r.json()["articles"]} & {"reset-password", "reset-password-ru"}
    accounts.revoke_tokens("alice")
    r = client.post("/api/suggest", json=TICKET, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.post("/api/suggest", json=TICKET, headers={"Authorization": "Bearer kbt_madeup"}).status_code == 401


def test_agents_see_internal_articles_customers_do_not(client):
    token = client.app.state.services.accounts.create_token("alice")
    ticket = {
        "subject": "refund approval",
        "messages": [{"role": "customer", "text": "Refund approval playbook for agents"}],
    }
    r = client.post("/api/suggest", json=ticket, headers={"Authorization": f"Bearer {token}"})
    assert "refund-approval-internal" in [a["id"] for a in r.json()["articles"]]
    # ...but the draft reply that goes to a customer never links or quotes it.
    assert (
        "refund-approval-internal" not in r.json()["draft"]
        and "refund-approval-internal" not in r.json()["draft_articles"]
    )
    d = client.post(
        "/api/deflect", json={"subject": "refund approval", "description": "Refund approval playbook for agents"}
    )
    assert d.status_code == 200
    assert "refund-approval-internal" not in d.text and "Refund approval playbook" not in d.text


def test_bad_tickets_get_clear_errors(client):
    token = client.app.state.services.accounts.create_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/suggest", json={"subject": "", "messages": []}, headers=auth)
    assert r.status_code == 422 and "no subject and no message" in r.json()["message"]
    r = client.post("/api/suggest", json={"messages": [{"role": "robot", "text": "hi"}]}, headers=auth)
    assert r.status_code == 422 and "messages.0.role" in r.json()["message"]
    r = client.post(
        "/api/suggest/feedback", json={"suggestion_id": "", "article_id": "x", "verdict": "rejected"}, headers=auth
    )
    assert r.status_code == 422 and r.json()["message"].startswith("reason: a rejection needs")


def test_accounts_refuse_bad_names_roles_and_short_passwords(tmp_path):
    accounts = Accounts(EventLog(f"sqlite:///{tmp_path / 'e.db'}").writer)
    with pytest.raises(AccountError, match="role"):
        accounts.add_user("bob", "superuser", "long enough password")
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add_user("bob", "agent", "short")
    with pytest.raises(AccountError, match="user name"):
        accounts.add_user("../etc", "agent", "long enough password")
    accounts.add_user("bob", "agent", "long enough password")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("Bob", "agent", "long enough password")
    assert accounts.authenticate("bob", "long enough password").role == "agent"


def test_placeholder_secrets_are_refused_outside_development(tmp_path):
    Settings(env="development", ip_salt="change-me").check_secrets()  # fine while developing
    for bad in (
        {"ip_salt": "change-me"},
        {"ip_salt": "short"},
        {"qdrant_api_key": "secret"},
        {"database_url": "postgresql+psycopg://kb:postgres@db/kb"},
    ):
        with pytest.raises(SettingsError, match="KB_"):
            Settings(env="production", **bad).check_secrets()
    Settings(
        env="production", ip_salt="x7Qp2Lw9Vb3Nc8Rt5Yz1", database_url="postgresql+psycopg://kb:Hq83nd92kLq0@db/kb"
    ).check_secrets()


def test_production_refuses_demo_logins_with_the_demo_password(tmp_path, settings):
    from web.app import prepare_logins

    events = EventLog(f"sqlite:///{tmp_path / 'e.db'}")
    accounts = Accounts(events.writer)
    accounts.add_user("agent", "agent", DEMO_PASSWORD)
    prod = settings.model_copy(update={"env": "production"})
    with pytest.raises(SettingsError, match="demo password"):
        prepare_logins(prod, accounts)


def test_public_search_is_rate_limited_per_client(client, settings):
    from web.ratelimit import RateLimiter

    services = client.app.state.services
    kept = services.limiter
    services.limiter = RateLimiter(settings.model_copy(update={"rate_limit_search": 3}))
    try:
        codes = [client.get("/api/search", params={"q": "password"}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = client.get("/api/search", params={"q": "password"})
        assert r.headers["retry-after"] == "60" and "too many requests" in r.json()["detail"]
        # Logged-in agents are not limited.
        token = services.accounts.create_token("alice")
        assert (
            client.get(
                "/api/search", params={"q": "password"}, headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
        )
    finally:
        services.limiter = kept


def test_agent_search_covers_internal_articles_and_needs_a_login(client):
    assert client.get("/api/agent/search", params={"q": "refund approval playbook"}).status_code == 401
    token = client.app.state.services.accounts.create_token("alice")
    r = client.get(
        "/api/agent/search", params={"q": "refund approval playbook"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    first = r.json()["results"][0]
    assert first["id"] == "refund-approval-internal" and first["visibility"] == "internal"
