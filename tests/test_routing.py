"""Routing files, the draft's placeholder, "matched" words and per-article acceptance, without the model."""

from __future__ import annotations

import pytest

from kb import analysis
from kb.db.events import EventLog
from kb.db.tickets import TicketLog
from suggest.matched import matched_words
from suggest.reply import DraftPart, Frame, compose
from suggest.routing import RoutingError, RoutingTable, parse_routing, predict

from support import REPO


def test_the_shipped_routing_file_maps_every_article_category():
    from kb.article_folder import load_articles

    groups = parse_routing((REPO / "articles" / "_routing.yaml").read_text(encoding="utf-8"))
    categories = {a.category for a in load_articles(REPO / "articles").articles if a.type == "article"}
    assert categories - set(groups) == set()
    assert groups["billing"] == "Billing"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("billing: Billing\naccount: [a, b]\n", ":2: field 'account': a skill group name"),
        ("billing: Billing\nbilling: Finance\n", ":2: field 'billing': the category is listed twice"),
        ("billing: Billing\naccount:\n", ":2: field 'account': a skill group name"),
        ("- billing\n", ":1: expected a mapping"),
        ("billing: [Billing\n", "not valid YAML"),
    ],
)
def test_a_broken_routing_file_is_reported_with_file_line_and_field(text, where):
    with pytest.raises(RoutingError) as e:
        parse_routing(text, "articles/_routing.yaml")
    assert str(e.value).startswith("articles/_routing.yaml") and where in str(e.value)


def test_a_bad_edit_keeps_the_last_good_mapping(tmp_path):
    path = tmp_path / "_routing.yaml"
    path.write_text("billing: Billing\n", encoding="utf-8")
    table = RoutingTable(path)
    assert table.groups() == {"billing": "Billing"}
    path.write_text("billing: [\n", encoding="utf-8")
    import os

    os.utime(path, (1, 1))  # a new mtime even within the same second
    table._checked = -1e9  # as if the reload interval had passed
    assert table.groups() == {"billing": "Billing"}
    assert table.error and "_routing.yaml:" in table.error


def test_the_category_with_most_of_the_suggestions_score_wins_with_its_share():
    route = predict([("billing", 0.6), ("account", 0.3), ("billing", 0.1)], {"billing": "Billing"})
    assert (route.category, route.confidence, route.group) == ("billing", 0.7, "Billing")
    assert predict([("mobile", 1.0)], {}).group is None
    assert predict([], {}) is None


def test_a_question_without_a_confident_answer_gets_a_marked_line_for_the_agent():
    parts = [
        DraftPart("How do I reset my password?", "Click Forgot password?", "Reset", "https://h/articles/reset"),
        DraftPart("Can Orbita water my plants", "", "", "", kind="placeholder"),
    ]
    text = compose(
        Frame("Hi {customer_name},", "Best,\n{agent_name}"), "en", parts, customer_name="Ann", agent_name="Bo"
    )
    assert "Click Forgot password?\nMore details: Reset (https://h/articles/reset)" in text
    assert "[add: answer about “Can Orbita water my plants”]" in text


def test_matched_shows_the_passages_own_words_without_stop_words():
    query = "We use Microsoft 365 at work and nothing arrives. How can I get back into my account? ORB-413"
    words = matched_words(
        "If you use Microsoft 365, nothing else is needed. Accounts show ORB-413 when we block them.",
        set(analysis.highlight_terms(query, None)),
        "en",
    )
    assert words == ["use", "Microsoft", "Accounts", "ORB-413"]
    assert "use" not in matched_words("you use it", {"use"}, "en", common=lambda t: t == "use")


def test_admins_see_per_article_acceptance_with_outdated_rejections_flagged(tmp_path):
    log = TicketLog(EventLog(f"sqlite:///{tmp_path / 'events.db'}"))
    vec = __import__("numpy").zeros(4, dtype="float32")
    for _ in range(3):
        sid = log.log_suggestion(query="q", vector=vec, articles=["old-article", "good-article"], confidence=0.9)
    for article, verdict, reason in [
        ("old-article", "rejected", "outdated"),
        ("old-article", "rejected", "outdated"),
        ("good-article", "accepted", None),
        ("good-article", "rejected", "not_related"),
    ]:
        log.log_feedback(article_id=article, verdict=verdict, reason=reason, query="q", vector=vec, suggestion_id=sid)
    rows = {r["article_id"]: r for r in log.article_acceptance()}
    assert rows["old-article"] == {
        "article_id": "old-article",
        "suggested": 3,
        "accepted": 0,
        "rejected": 2,
        "reasons": {"outdated": 2},
        "flagged": True,
    }
    assert rows["good-article"]["accepted"] == 1 and rows["good-article"]["reasons"] == {"not_related": 1}
    assert not rows["good-article"]["flagged"]
    assert log.article_acceptance()[0]["article_id"] == "old-article"  # flagged first
