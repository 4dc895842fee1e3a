"""From a gap topic to the fix: apply the proposed rule, draft an article, edit the rules; nothing leaks."""

from __future__ import annotations

import re
import time

import pytest

from reports.gap_actions import DraftError, draft_text, proposed_pin, write_draft
from reports.gap_report import GapReport, GapTopic, Nearest

from support import HIDDEN_IDS, HIDDEN_TITLES, index_kb, login, serve_app


def _topic(tid: str, title: str, coverage: str, queries: list[str], nearest: list[Nearest]) -> GapTopic:
    return GapTopic(
        id=tid, title=title, status="open", coverage=coverage, impact=10.0, searches=10, failures=8,
        failure_rate=0.8, distinct_queries=len(queries), trend="rising", weekly_failures=[1, 2, 5],
        locales={"ru": 6, "en": 2}, queries=[{"text": q, "count": 3, "failures": 2} for q in queries],
        signals={"unanswered": 8}, nearest=nearest,
    )  # fmt: skip


WEAK = _topic(
    "c1",
    "Lost my login code",
    "weak",
    ["lost my login code", "where is the sign in code"],
    [Nearest("two-factor", "Two-factor authentication", "/articles/two-factor", 0.6)],
)
ABSENT = _topic(
    "a1",
    "Как выгрузить диаграмму Ганта",
    "absent",
    ["как выгрузить диаграмму ганта", "gantt chart export"],
    [Nearest(HIDDEN_IDS[0], HIDDEN_TITLES[0], "/articles/x", 0.1)],
)


def _report() -> GapReport:
    return GapReport(
        "now", "2026-10-01", "2026-12-01", ["2026-11-10", "2026-11-17", "2026-11-24"], {"searches": 20}, [WEAK, ABSENT]
    )


def test_a_weak_topic_proposes_pinning_its_wordings_to_its_article():
    pin = proposed_pin(WEAK)
    assert pin is not None and pin.article == "two-factor" and pin.queries == [q["text"] for q in WEAK.queries]
    assert proposed_pin(ABSENT) is None  # nothing to pin to
    assert proposed_pin(WEAK, {"lost my login code", "where is the sign in code"}) is None  # pinned already


def test_a_draft_is_a_draft_article_with_the_wordings_and_agents_answers(tmp_path):
    answers = [{"id": "two-factor", "title": "Two-factor", "text": "Open Settings.\nThen Security.", "times": 2}]
    text = draft_text(ABSENT, "ru", "getting-started", answers)
    assert "visibility: draft" in text and "title: Как выгрузить диаграмму Ганта" in text
    assert "- gantt chart export" in text and "> Open Settings.\n> Then Security." in text
    path = write_draft(tmp_path, ABSENT, "ru", "getting-started", answers)
    again = write_draft(tmp_path, ABSENT, "ru", "getting-started")
    assert path.relative_to(tmp_path).as_posix() == "ru/getting-started/kak-vygruzit-diagrammu-ganta.md"
    assert again.name == "kak-vygruzit-diagrammu-ganta-2.md" and path.read_text(encoding="utf-8") == text
    with pytest.raises(DraftError, match="category"):
        write_draft(tmp_path, ABSENT, "ru", "../etc")
    with pytest.raises(DraftError, match="has an article"):
        write_draft(tmp_path, WEAK, "en", "account")


@pytest.fixture
def admin(tmp_path):
    settings = index_kb(tmp_path)
    with serve_app(settings) as client:
        client.app.state.services.accounts.add_user("root", "admin", "admin password 1")
        client.app.state.__dict__["kb_gap_reports"] = {56: (time.monotonic(), _report())}
        assert login(client, "root", "admin password 1", "/admin/gaps").status_code == 303
        yield client, settings


def _csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_apply_the_proposed_rule_then_customers_get_the_article_first(admin):
    client, settings = admin
    page = client.get("/admin/gaps")
    assert "Apply this rule" in page.text and "Draft an article" in page.text
    before = client.get("/api/search", params={"q": "where is the sign in code"}).json()
    r = client.post("/admin/gaps/pin", data={"csrf": _csrf(page), "topic": "c1", "days": 56}, follow_redirects=False)
    assert r.status_code == 303 and "applied=" in r.headers["location"]
    rules = (settings.articles_dir / "_rules.yaml").read_text(encoding="utf-8")
    assert "two-factor" in rules and "where is the sign in code" in rules
    after = client.get("/api/search", params={"q": "Where is the sign-in code?"}).json()
    assert after["results"][0]["id"] == "two-factor" and after["answered"], (before, after)
    page = client.get("/admin/rules")
    assert page.status_code == 200 and "where is the sign in code" in page.text


def test_a_rule_needs_an_admin_and_the_csrf_token(admin):
    client, _ = admin
    assert client.post("/admin/gaps/pin", data={"topic": "c1", "days": 56}).status_code == 403
    client.cookies.clear()
    r = client.post("/admin/rules", data={"text": "pins: []"}, follow_redirects=False)
    assert r.status_code in (303, 401, 403)
    assert r.status_code != 303 or "/login" in r.headers["location"]


def test_draft_an_article_writes_a_draft_nobody_sees(admin):
    client, settings = admin
    page = client.get("/admin/gaps")
    r = client.post(
        "/admin/gaps/draft",
        data={"csrf": _csrf(page), "topic": "a1", "days": 56, "locale": "ru", "category": "billing"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    path = settings.articles_dir / "ru" / "billing" / "kak-vygruzit-diagrammu-ganta.md"
    assert "visibility: draft" in path.read_text(encoding="utf-8")
    reindexed = client.post("/api/admin/reindex", headers={"x-csrf-token": _csrf(page)}).json()
    assert not reindexed["errors"], reindexed["errors"]
    hits = client.get("/api/search", params={"q": "диаграмму ганта"}).json()["results"]
    assert all("ganta" not in h["id"] for h in hits), hits
    assert client.get("/articles/ru/billing/kak-vygruzit-diagrammu-ganta").status_code == 404


def test_the_rules_editor_reports_errors_with_line_and_field_and_keeps_the_file(admin):
    client, settings = admin
    page = client.get("/admin/rules")
    good = "synonyms:\n  - lang: en\n    terms: [invoice, bill]\n"
    assert client.post("/admin/rules", data={"csrf": _csrf(page), "text": good}).status_code == 200
    bad = "pins:\n  - queries: [bill]\n    article: Not An Id\n"
    r = client.post("/admin/rules", data={"csrf": _csrf(page), "text": bad})
    assert r.status_code == 422 and "_rules.yaml:3" in r.text and "pins[0].article" in r.text
    assert (settings.articles_dir / "_rules.yaml").read_text(encoding="utf-8") == good
    # A pin to an internal article is saved with a warning, and customers still never see that article.
    internal = good + f"pins:\n  - queries: [refund approval]\n    article: {HIDDEN_IDS[0]}\n"
    r = client.post("/admin/rules", data={"csrf": _csrf(page), "text": internal})
    assert r.status_code == 200 and "is internal" in r.text
    hits = client.get("/api/search", params={"q": "refund approval"}).json()["results"]
    assert HIDDEN_IDS[0] not in [h["id"] for h in hits]


def test_a_draft_quotes_agents_replies_escaped_and_marked():
    replies = [
        {
            "query": "gantt chart export",
            "text": "Hi!\n\n<b>Export</b> it: [here](javascript:x)\n# not a heading",
            "at": "2026-12-01",
        }
    ]
    text = draft_text(ABSENT, "ru", "getting-started", [], replies)
    assert "## What agents replied" in text and "An agent's reply to “gantt chart export”, 2026-12-01:" in text
    assert "> Hi!\n>\n> &lt;b&gt;Export&lt;/b&gt; it: \\[here\\](javascript:x)\n> \\# not a heading" in text
    assert "<b>" not in text and "[here](" not in text


def _reply(client, csrf: str, query: str, reply: str) -> None:
    r = client.post("/api/suggest/reply", json={"query": query, "reply": reply}, headers={"x-csrf-token": csrf})
    assert r.status_code == 204, r.text


def test_an_agent_marks_the_reply_sent_from_the_panel_with_the_tickets_query(admin):
    client, _ = admin
    page = client.get("/agent", params={"ticket": "T-1001"})
    sid = re.search(r'name="suggestion_id" value="([0-9a-f]+)"', page.text).group(1)
    assert 'action="/agent/reply"' in page.text and "Mark as sent" in page.text
    reply = "Hello Daniel,\nthe reset link comes from no-reply@orbita.example: allow it in Microsoft 365."
    r = client.post(
        "/agent/reply",
        data={"csrf": _csrf(page), "suggestion_id": sid, "reply": reply, "back": "/agent?ticket=T-1001"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/agent?ticket=T-1001&replied=true"
    assert "Reply recorded" in client.get(r.headers["location"]).text
    tickets = client.app.state.services.tickets
    (stored,) = [x for x in tickets.replies() if x.suggestion_id == sid]
    asked = tickets.suggestion_query(sid)
    assert stored.reply == reply and stored.user == "root" and stored.locale == "en"
    assert stored.query and (asked is None or stored.query == asked[0])
    empty = client.post(
        "/api/suggest/reply", json={"suggestion_id": sid, "reply": "   "}, headers={"x-csrf-token": _csrf(page)}
    )
    assert empty.status_code == 422 and "reply" in empty.json()["message"]
    client.cookies.clear()
    assert client.post("/api/suggest/reply", json={"query": "x", "reply": "y"}).status_code in (401, 403)


def test_draft_an_article_starts_from_the_agents_replies_to_its_queries_only(admin):
    client, settings = admin
    page = client.get("/admin/gaps")
    csrf = _csrf(page)
    _reply(client, csrf, "Can I export the Gantt chart?", "Projects → Export → PDF keeps the <Gantt> view.")
    _reply(client, csrf, "lost my login code", "Open your authenticator app: the code is there.")
    r = client.post(
        "/admin/gaps/draft",
        data={"csrf": csrf, "topic": "a1", "days": 56, "locale": "ru", "category": "billing"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    text = (settings.articles_dir / "ru" / "billing" / "kak-vygruzit-diagrammu-ganta.md").read_text(encoding="utf-8")
    assert "## What agents replied" in text and "An agent's reply to “Can I export the Gantt chart?”" in text
    assert "> Projects → Export → PDF keeps the &lt;Gantt&gt; view." in text
    assert "authenticator" not in text  # the other topic's reply stays out
