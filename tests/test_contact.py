"""The contact form deflects: articles while the customer types, and a record of whether they still wrote."""

from __future__ import annotations

import re

import pytest

from support import index_kb, serve_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serve_app(index_kb(tmp_path_factory.mktemp("contactkb"))) as c:
        yield c


def test_typing_into_the_form_suggests_public_articles_and_updates_one_attempt(client):
    first = client.post(
        "/api/deflect", json={"subject": "password", "description": "I forgot my password", "locale": "en"}
    )
    assert first.status_code == 200
    body = first.json()
    assert body["articles"][0]["id"] in ("reset-password", "reset-password-ru")
    did = body["deflection_id"]
    more = client.post(
        "/api/deflect",
        json={
            "subject": "password",
            "description": "I forgot my password, how to reset it",
            "locale": "en",
            "deflection_id": did,
        },
    ).json()
    assert more["deflection_id"] == did  # typing on is the same attempt, not a new one
    stats = client.app.state.services.tickets.deflection_stats()
    assert stats["attempts"] == 1 and stats["submitted"] == 0


def test_sending_the_form_after_suggestions_is_a_failed_deflection(client):
    tickets = client.app.state.services.tickets
    before = tickets.deflection_stats()
    did = client.post("/api/deflect", json={"subject": "invoices", "description": "where are my invoices"}).json()[
        "deflection_id"
    ]
    r = client.post(
        "/contact",
        data={
            "email": "ann@example.com",
            "subject": "invoices",
            "description": "where are my invoices",
            "deflection_id": did,
        },
    )
    assert r.status_code == 200 and "ann@example.com" in r.text
    after = tickets.deflection_stats()
    assert after["attempts"] == before["attempts"] + 1 and after["submitted"] == before["submitted"] + 1
    failed = [d for d in tickets.iter_deflections() if d["deflection_id"] == did]
    assert failed and failed[0]["submitted"]


def test_the_form_works_without_javascript_and_names_what_is_wrong(client):
    page = client.get("/contact?lang=ru")
    assert page.status_code == 200 and "Написать в поддержку" in page.text
    preview = client.post("/contact", data={"subject": "password", "description": "forgot password", "preview": "1"})
    # The reset article, in the reader's language where it has one.
    assert "Как сбросить пароль" in preview.text or "How to reset your password" in preview.text
    did = re.search(r'name="deflection_id" id="deflection-id" value="([0-9a-f]{32})"', preview.text)
    assert did, "the preview carries its deflection id into the form"
    client.cookies.clear()
    bad = client.post("/contact", data={"email": "not-an-email", "description": "x"})
    assert bad.status_code == 422 and "valid email" in bad.text


def test_internal_and_draft_articles_are_never_suggested_to_customers(client):
    for text in ("Refund approval playbook for agents", "Unreleased pricing draft password reset invoices"):
        r = client.post("/api/deflect", json={"subject": text, "description": text})
        assert "refund-approval-internal" not in r.text and "pricing-draft" not in r.text
        assert "Refund approval playbook for agents" not in r.text and "100 EUR" not in r.text
        assert "Unreleased pricing draft" not in r.text and "not public yet" not in r.text


def test_html_in_the_form_is_escaped(client):
    r = client.post(
        "/contact",
        data={"subject": "<script>alert(1)</script>", "description": "<img src=x onerror=alert(1)>", "preview": "1"},
    )
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
