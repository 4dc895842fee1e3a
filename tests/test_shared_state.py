"""Logins, sessions, feedback and deflections live in the database, so stateless web processes can share them.

Runs on SQLite always and on PostgreSQL when KB_TEST_POSTGRES_URL is set (bin/test starts a throwaway server).
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from kb.db.accounts import Accounts
from kb.db.events import EventLog
from kb.db.tickets import TicketLog


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url = os.environ.get("KB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set KB_TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db to run against PostgreSQL")
    return url


def test_a_login_made_in_one_process_is_valid_in_another_until_logout(url):
    name = f"u{uuid.uuid4().hex[:8]}"
    one, two = EventLog(url), EventLog(url)
    try:
        a, b = Accounts(one.writer), Accounts(two.writer)
        user = a.add_user(name, "agent", "long enough password")
        sid, session = a.open_session(user)
        seen = b.session(sid)
        assert seen is not None and seen.user.name == name and seen.csrf == session.csrf
        token = b.create_token(name)
        assert a.token_user(token).name == name
        a.close_session(sid)
        assert b.session(sid) is None
        b.set_password(name, "another long password")
        assert a.authenticate(name, "another long password") and not a.authenticate(name, "long enough password")
        a.remove_user(name)
        assert b.token_user(token) is None
    finally:
        one.close()
        two.close()


def test_feedback_and_deflections_are_shared(url):
    one, two = EventLog(url), EventLog(url)
    try:
        a, b = TicketLog(one), TicketLog(two)
        vec = np.random.default_rng(0).normal(size=384).astype(np.float32)
        sid = a.log_suggestion(query="export data", articles=["export"], confidence=0.9, vector=vec)
        query, got = b.suggestion_query(sid)
        assert query == "export data" and np.allclose(got, vec)
        last = max((f.id for f in b.feedback()), default=0)
        a.log_feedback(article_id="export", verdict="rejected", reason="outdated", query=query, vector=vec)
        new = list(b.feedback(after_id=last))
        assert [(f.article_id, f.reason) for f in new] == [("export", "outdated")]
        with pytest.raises(ValueError, match="reason"):
            a.log_feedback(article_id="export", verdict="rejected", query=query)
        before = b.deflection_stats()
        did = a.log_deflection(query="refund", articles=["refund-policy"], answered=True, locale="en")
        b.submit_contact(query="refund", email="x@example.com", message="still want a refund", deflection_id=did)
        after = a.deflection_stats()
        assert after["attempts"] == before["attempts"] + 1 and after["submitted"] == before["submitted"] + 1
    finally:
        one.close()
        two.close()
