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


def test_an_agents_reply_is_stored_with_the_tickets_query_and_read_back(url):
    one, two = EventLog(url), EventLog(url)
    try:
        a, b = TicketLog(one), TicketLog(two)
        query = f"выгрузить диаграмму ганта {uuid.uuid4().hex[:6]}"
        sid = a.log_suggestion(query=query, articles=["export"], confidence=0.4, ticket_id="T-7", locale="ru")
        first = "Здравствуйте!\nДиаграмма Ганта выгружается в PDF: Проект → Экспорт.\n\nС уважением, Оля"
        b.log_reply(reply=first, suggestion_id=sid, user="olya")
        mine = [r for r in a.replies() if r.suggestion_id == sid]
        assert [(r.query, r.reply, r.user, r.locale) for r in mine] == [(query, first, "olya", "ru")]
        # The edited reply sent again for the same ticket replaces the first: one reply per suggestion.
        b.log_reply(reply=first + "\nP.S. \x00", suggestion_id=sid, user="olya")
        mine = [r for r in a.replies() if r.suggestion_id == sid]
        assert len(mine) == 1 and mine[0].reply.endswith("P.S. \ufffd")
        # Without a suggestion the log knows, the query must come with the reply.
        with pytest.raises(LookupError, match="query"):
            b.log_reply(reply="hello", suggestion_id="f" * 32)
        b.log_reply(reply="See Settings → Export.", suggestion_id="f" * 32, query=f"export {sid}")
        assert [r.suggestion_id for r in a.replies() if r.query == f"export {sid}"] == [None]
        with pytest.raises(ValueError, match="empty"):
            b.log_reply(reply="  \n ", suggestion_id=sid)
    finally:
        one.close()
        two.close()


def test_a_database_from_before_agents_replies_gains_the_table_and_keeps_its_rows(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with EventLog(f"sqlite:///{path}") as old:
        sid = TicketLog(old).log_suggestion(query="gantt export", articles=[], confidence=0.1)
    with sqlite3.connect(path) as db:  # as a database deployed before replies were recorded
        db.execute("DROP TABLE agent_replies")
    with EventLog(f"sqlite:///{path}") as upgraded:
        tickets = TicketLog(upgraded)
        tickets.log_reply(reply="Export it from the project menu.", suggestion_id=sid)
        assert [(r.query, r.reply) for r in tickets.replies()] == [("gantt export", "Export it from the project menu.")]
