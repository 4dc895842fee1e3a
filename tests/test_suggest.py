"""Suggested answers with the real model over the shipped articles: noisy threads, questions, drafts, feedback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kb.db.events import EventLog
from kb.db.tickets import TicketLog
from suggest.evaluation import load_tickets, replay
from suggest.models import TicketIn
from suggest.service import SuggestService

from support import REPO

pytestmark = pytest.mark.slow


@pytest.fixture
def service(real_retriever, tmp_path):
    return SuggestService(
        real_retriever,
        TicketLog(EventLog(f"sqlite:///{tmp_path / 'events.db'}")),
        base_url="https://help.orbita.example",
    )


def ticket(text: str, subject: str = "", locale: str | None = None, **kw) -> TicketIn:
    return TicketIn(subject=subject, locale=locale, messages=[{"role": "customer", "text": text}], **kw)


def test_the_sample_tickets_get_their_right_article_first(real_retriever):
    report = replay(SuggestService(real_retriever), load_tickets(REPO / "suggest" / "sample_tickets.jsonl"), "sample")
    assert report.count == 24
    assert report.precision_at_1 >= 0.9 and report.mrr >= 0.9, report


def test_a_noisy_thread_gets_the_same_answer_as_the_bare_question(service):
    bare = service.suggest(ticket("How do I turn on two-factor authentication?"), log=False)
    noisy = service.suggest(
        TicketIn(
            subject="Re: Re: question",
            messages=[
                {"role": "customer", "text": "Hi, my sync stopped working on Android, files don't show up."},
                {
                    "role": "agent",
                    "text": "Hello! Please update the app and tell us if it helps.\n\nBest regards,\nOrbita Support",
                },
                {
                    "role": "customer",
                    "text": (
                        "Hi team,\n\nSync works again, thanks! How do I turn on two-factor authentication?\n\n"
                        "Thanks,\nJohn Smith\nHead of IT, Acme Corp\n+1 555 0100\n\n"
                        "On Mon, 17 Nov 2026 at 10:02, Orbita Support <support@orbita.app> wrote:\n"
                        "> Hello! Please update the app and tell us if it helps.\n"
                        "> Did you try reinstalling? Sync issues on Android are common after updates.\n\n"
                        "This email and any attachments are confidential and intended solely for the addressee."
                    ),
                },
            ],
        ),
        log=False,
    )
    assert bare.articles[0].id == noisy.articles[0].id == "two-factor-authentication"
    assert noisy.articles[0].reason["source"].startswith("latest customer message")


def test_each_question_of_a_ticket_gets_its_own_answer(service):
    r = service.suggest(
        ticket(
            "I was charged twice for the renewal this month. Also, how do I download invoices for my accountant?",
            locale="en",
        ),
        log=False,
    )
    assert len(r.questions) == 2
    firsts = [q.suggestions[0].id for q in r.questions]
    assert firsts[0] in {"failed-payments", "duplicate-charges-eur-cards", "refund-policy"}
    assert firsts[1] == "invoices-and-vat"
    # Both answers are in the draft, each with its link.
    assert "/articles/invoices-and-vat" in r.draft and len(r.draft_articles) == 2


def test_the_draft_is_in_the_tickets_language_with_the_template_greeting_and_closing(service):
    r = service.suggest(
        ticket("Добрый день! Не могу войти, забыл пароль. Как его сбросить?", customer_name="Ирина"),
        agent_name="Олег",
        log=False,
    )
    assert r.locale == "ru"
    assert r.articles[0].id == "reset-password-ru"
    assert r.draft.startswith("Здравствуйте, Ирина!")
    assert "Олег" in r.draft and "https://help.orbita.example/articles/reset-password-ru" in r.draft
    uk = service.suggest(ticket("Вітаю! Як скинути пароль до облікового запису?"), log=False)
    assert uk.locale == "uk" and uk.draft.startswith("Вітаю!") and "reset-password-uk" in uk.draft


def test_agents_get_internal_articles_but_the_draft_quotes_only_public_ones(service):
    r = service.suggest(
        ticket(
            "Customer with a EUR card says they were charged twice for one renewal, "
            "two identical payments. What do we do?"
        ),
        log=False,
    )
    ids = [a.id for a in r.articles]
    assert "duplicate-charges-eur-cards" in ids[:3]
    internal = next(a for a in r.articles if a.id == "duplicate-charges-eur-cards")
    assert internal.visibility == "internal" and internal.passages and internal.passages[0].anchor is not None
    assert "duplicate-charges-eur-cards" not in r.draft and "PAY-2291" not in r.draft
    assert all(a.visibility != "draft" for a in r.articles)


def test_canned_replies_are_suggested_to_agents(service):
    r = service.suggest(ticket("I'd like a refund for my subscription, please."), log=False)
    assert "canned-refund-received-en" in [c.id for c in r.canned]


def test_rejecting_a_suggestion_changes_what_similar_tickets_get(service):
    first = service.suggest(ticket("How can I export all my workspace data to CSV?"))
    top = first.articles[0].id
    service.feedback(first.suggestion_id, top, "rejected", "outdated", user="alice")
    # A similar ticket, worded differently: the rejected article drops down and says why.
    again = service.suggest(ticket("How do I export my workspace data as CSV files?"))
    assert again.articles[0].id != top
    moved = next((a for a in again.articles if a.id == top), None)
    assert moved is None or moved.feedback == "outdated"
    # An unrelated ticket is not affected.
    other = service.suggest(ticket("How do I reset my password?"))
    assert all(a.feedback is None for a in other.articles)


def test_accepting_a_suggestion_lifts_it_for_similar_tickets(service):
    first = service.suggest(ticket("Notifications don't arrive on my phone"))
    second = first.articles[1]
    for _ in range(2):
        service.feedback(first.suggestion_id, second.id, "accepted", user="alice")
    again = service.suggest(ticket("My phone does not get notifications"))
    assert again.articles[0].id == second.id and again.articles[0].feedback == "accepted, accepted"


def test_feedback_given_in_another_process_counts_at_once(real_retriever, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one = SuggestService(real_retriever, TicketLog(EventLog(url)))
    two = SuggestService(real_retriever, TicketLog(EventLog(url)))
    r = one.suggest(ticket("How can I export all my workspace data to CSV?"))
    one.feedback(r.suggestion_id, r.articles[0].id, "rejected", "not_related")
    assert two.suggest(ticket("How can I export all my workspace data to CSV?")).articles[0].id != r.articles[0].id


def test_deflection_suggests_public_articles_while_the_customer_types(service):
    shown, answered = service.deflect("Forgot my password", "I can't log in, how do I reset the password?", "en")
    assert answered and shown[0].id == "reset-password"
    assert all(s.visibility == "public" for s in shown)


def test_kb_suggest_prints_what_the_api_returns(tmp_path, real_retriever):
    data = tmp_path / "data"
    env = {
        "KB_DATA_DIR": str(data),
        "KB_ARTICLES_DIR": str(REPO / "articles"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(_cache_dir()),
    }
    kb = [sys.executable, "-m", "cli.main"]
    subprocess.run(kb + ["index", "--json"], env=env, check=True, capture_output=True, cwd=REPO)
    path = tmp_path / "ticket.json"
    path.write_text(
        json.dumps(
            {
                "subject": "2FA",
                "locale": "en",
                "messages": [{"role": "customer", "text": "How do I turn on two-factor authentication?"}],
            }
        ),
        encoding="utf-8",
    )
    out = subprocess.run(
        kb + ["suggest", "--ticket", str(path), "--json"], env=env, check=True, capture_output=True, text=True, cwd=REPO
    )
    result = json.loads(out.stdout)
    assert result["articles"][0]["id"] == "two-factor-authentication"
    assert set(result) >= {"articles", "questions", "canned", "draft", "locale"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"messages": [{"role": "boss", "text": "x"}]}', encoding="utf-8")
    err = subprocess.run(kb + ["suggest", "--ticket", str(bad)], env=env, capture_output=True, text=True, cwd=REPO)
    assert err.returncode == 2 and "messages.0.role" in err.stderr


def _cache_dir():
    from kb.settings import Settings

    return Settings().cache_dir.parent


def test_the_first_sample_tickets_draft_holds_the_reset_steps_and_the_link(service):
    first, _, _ = load_tickets(REPO / "suggest" / "sample_tickets.jsonl")[0]
    r = service.suggest(first, log=False)
    quoted = [(p["article_id"], p["anchor"]) for p in r.draft_parts if p["kind"] != "placeholder"]
    assert ("reset-password", "reset-a-forgotten-password") in quoted, r.draft_parts
    # The steps themselves (or the canned reply that repeats them), not the article's summary of itself.
    assert "Forgot password?" in r.draft and "Send reset link" in r.draft, r.draft
    assert "https://help.orbita.example/articles/reset-password#" in r.draft
    assert "This article explains" not in r.draft


def sample(ticket_id: str) -> TicketIn:
    return next(t for t, _, _ in load_tickets(REPO / "suggest" / "sample_tickets.jsonl") if t.id == ticket_id)


def test_each_question_quotes_the_section_that_answers_it_not_the_one_the_ticket_is_about(service):
    # T-1004 asks how to set up Okta SSO, then for the audit log of role changes: the context (the other
    # questions) only breaks near-ties, so the audit-log question is not answered by the permissions table.
    r = service.suggest(sample("T-1004"), log=False)
    quoted = {(p["article_id"], p["anchor"]) for p in r.draft_parts if p["kind"] != "placeholder"}
    assert ("roles-and-permissions", "audit-log-business-and-enterprise") in quoted, r.draft_parts
    assert ("roles-and-permissions", "permissions-table") not in quoted
    assert not {("sso-saml-setup", "common-errors"), ("sso-saml-setup", "")} & quoted, r.draft_parts


def test_the_draft_quotes_the_section_one_of_whose_sentences_answers(service):
    # T-1009: the person who connected Slack left and the updates stopped. "Troubleshooting" answers it in one
    # of its three bullets; by its whole text "Send project updates to a Slack channel" was closer.
    r = service.suggest(sample("T-1009"), log=False)
    quoted = [(p["article_id"], p["anchor"]) for p in r.draft_parts if p["kind"] != "placeholder"]
    assert quoted == [("slack-integration", "troubleshooting")], r.draft_parts
    assert "Reconnect" in r.draft
    # The article's suggestion card leads with the same section, so the agent sees what the draft quotes.
    card = next(a for a in r.articles if a.id == "slack-integration")
    assert card.passages[0].anchor == "troubleshooting", [p.anchor for p in card.passages]


def test_the_draft_quotes_the_section_whose_heading_the_customer_names(service):
    # T-1007: "my Xiaomi (Android 14)" names the "Android" section of the notifications article; by its best
    # sentence "Check settings in Orbita" ("What else can I check?") was as close. T-2003: "Windows 10" names
    # the "Windows" fix of the ZIP-encoding article.
    for tid, anchor in (("T-1007", "android"), ("T-2003", "windows")):
        r = service.suggest(sample(tid), log=False)
        quoted = [p["anchor"] for p in r.draft_parts if p["kind"] != "placeholder"]
        assert quoted == [anchor], (tid, r.draft_parts)


def test_a_long_question_is_answered_when_the_subject_finds_the_same_article(service):
    # T-3005's question is a paragraph (low z-scores alone); its subject "Доступ для бухгалтера" finds the same
    # roles article with confidence, so the draft quotes it instead of leaving a placeholder.
    r = service.suggest(sample("T-3005"), log=False)
    part = r.draft_parts[0]
    assert part["kind"] == "article" and part["article_id"] == "roles-and-permissions-uk", r.draft_parts
    assert r.questions[0].evidence["confidence_from"] == "subject"
    assert "/articles/roles-and-permissions-uk#" in r.draft


def test_a_question_with_small_talk_is_judged_with_its_asking_sentence_searched_alone(service):
    # The small talk rides along with the question; the question alone finds the same article, and the fitted
    # combination of the two searches (suggest/confidence.py) decides, not the higher of the two.
    r = service.suggest(
        ticket("How do I turn on two-factor authentication? I'm writing from my phone, so sorry for any typos."),
        log=False,
    )
    q = r.questions[0]
    assert q.evidence["alone"]["article_id"] == q.evidence["article_id"] == "two-factor-authentication"
    assert q.evidence["confidence_from"].endswith("without its context (combined)"), q.evidence
    assert r.draft_parts[0]["kind"] == "article" and r.draft_parts[0]["article_id"] == "two-factor-authentication"


def test_a_question_nothing_answers_gets_a_placeholder_for_the_agent(service):
    r = service.suggest(
        ticket(
            "How do I reset my password? Also, can your team repair the espresso machine in our Berlin office kitchen?",
            locale="en",
        ),
        log=False,
    )
    kinds = [p["kind"] for p in r.draft_parts]
    assert kinds[0] != "placeholder" and kinds[-1] == "placeholder", r.draft_parts
    # The placeholder names the question as the customer asked it (a leading "Also," may be dropped).
    placeholder = next(line for line in r.draft.splitlines() if line.startswith("[add: answer about “"))
    assert "repair the espresso machine in our berlin office kitchen" in placeholder.lower(), r.draft
    assert "/articles/reset-password" in r.draft


def test_the_ticket_is_routed_to_the_skill_group_of_its_category(real_retriever):
    from suggest.routing import RoutingTable

    service = SuggestService(real_retriever, routing=RoutingTable(REPO / "articles" / "_routing.yaml"))
    r = service.suggest(ticket("I'd like my money back for the annual plan I bought three days ago.", locale="en"))
    assert r.routing["category"] == "policies" and r.routing["group"] == "Billing"
    assert 0 < r.routing["confidence"] <= 1
    login = service.suggest(ticket("I can't sign in, the two-factor code from my authenticator is rejected."))
    assert login.routing["category"] == "account" and login.routing["group"] == "Accounts & access"
