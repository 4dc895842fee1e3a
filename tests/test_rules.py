"""Search rules (articles/_rules.yaml): validated like articles, applied to every search, never leaking."""

from __future__ import annotations

import pytest

from kb.indexer import Indexer
from search.answered import AnsweredModel, Logistic
from search.retrieval import Retriever
from search.rules import parse
from search.rules_file import RulesError, add_pin, add_synonyms, publish, read_text, remove, rules_path
from search.service import SearchService

from support import write_article

NEVER = AnsweredModel(Logistic((0.0, 0.0, 0.0), -10.0), Logistic((0.0, 0.0), -10.0))


@pytest.fixture
def kb(store, embedder, tmp_path):
    root = tmp_path / "articles"
    write_article(
        root, "ru/billing/plans.md", id="plans-ru", title="Тарифы и цены", locale="ru", category="billing",
        body="Сменить тариф можно в настройках рабочего пространства.",
    )  # fmt: skip
    write_article(
        root, "en/billing/plans.md", id="plans", title="Plans and pricing", category="billing",
        translation_of="plans-ru", body="Upgrade or downgrade in workspace settings.",
    )  # fmt: skip
    write_article(root, "en/account/reset.md", id="reset", title="Reset your password", body="Open Settings.")
    write_article(
        root, "en/admin/escalation.md", id="escalation", title="Escalation matrix", visibility="internal",
        body="Escalate outages to the on-call engineer.",
    )  # fmt: skip
    write_article(
        root, "en/account/draft.md", id="ai-draft", title="AI assistant", visibility="draft", body="Unreleased."
    )  # fmt: skip
    Indexer(store, embedder, chunk_tokens=64).run(root)
    return root, SearchService(store, Retriever(store, embedder), answered=NEVER)


def _apply(store, root, service):
    rules, problems = publish(store, root)
    service.retriever.rules.invalidate()
    return rules, problems


def test_problems_name_the_file_line_and_field():
    text = (
        "synonyms:\n"
        "  - terms: [тариф]\n"  # line 2: one word is no synonym
        "pins:\n"
        "  - queries: [change my plan]\n"
        "    article: Plans And Pricing\n"  # line 5: not an id
        "    match: fuzzy\n"  # line 6
        "  - queries: [reset]\n"
        "    article: reset\n"
    )
    rules, problems = parse(text)
    where = {(p.line, p.field) for p in problems if p.severity == "error"}
    assert where == {(2, "synonyms[0].terms"), (5, "pins[0].article"), (6, "pins[0].match")}, problems
    assert rules is not None and [p.article for p in rules.pins] == ["reset"]  # the good entry still applies
    broken, problems = parse("pins: [\n  - oops")
    assert broken is None and problems[0].path == "_rules.yaml" and problems[0].line


def test_a_pin_puts_its_article_first_in_the_readers_language(kb, store):
    root, service = kb
    before = service.search("как поменять тариф", log=False)
    assert not before.answered
    add_pin(root, ["как поменять тариф", "change my plan"], "plans")
    _apply(store, root, service)
    ru = service.search("Как ПОМЕНЯТЬ тариф", log=False)  # any case, any form of the same words
    assert ru.results[0].id == "plans-ru" and ru.answered  # the Russian version of the pinned article
    en = service.search("change my plan", log=False, locale="en")
    assert en.results[0].id == "plans"
    assert not service.search("change my plan today", log=False).answered  # match: exact (the same words only)
    other = service.search("reset your password", log=False)
    assert other.results[0].id == "reset" and not other.answered


def test_a_pin_never_shows_an_internal_or_draft_article_to_a_customer(kb, store):
    root, service = kb
    add_pin(root, ["on call engineer"], "escalation")
    add_pin(root, ["ai assistant"], "ai-draft")
    _, problems = _apply(store, root, service)
    assert {p.field for p in problems if p.severity == "warning"} == {"pins[0].article", "pins[1].article"}
    for q in ("on call engineer", "ai assistant"):
        ids = [r.id for r in service.search(q, log=False).results]
        assert "escalation" not in ids and "ai-draft" not in ids, (q, ids)
    agent = service.search("on call engineer", log=False, audience="agent")
    assert agent.results[0].id == "escalation"  # agents may see internal articles, so the pin applies to them
    assert "ai-draft" not in [r.id for r in service.search("ai assistant", log=False, audience="agent").results]


def test_synonyms_let_a_word_find_the_articles_of_its_synonym(kb, store):
    root, service = kb
    assert "plans-ru" not in [r.id for r in service.search("план", log=False, mode="sparse").results]
    add_synonyms(root, ["тариф", "план"], lang="ru")
    _apply(store, root, service)
    assert service.search("план", log=False, mode="sparse").results[0].id == "plans-ru"
    # Per language: an English query is not expanded by a Russian group.
    add_synonyms(root, ["settings", "plan"], lang="ru")
    _apply(store, root, service)
    assert "reset" not in [r.id for r in service.search("plan", log=False, mode="sparse").results]


def test_edits_keep_the_reviewers_comments_and_a_broken_file_keeps_the_last_good_rules(kb, store):
    root, service = kb
    rules_path(root).write_text("# reviewed by Olena\npins:\n  - queries: [pricing]  # keep\n    article: plans\n")
    add_pin(root, ["how much"], "plans")
    text = read_text(root)
    assert "# reviewed by Olena" in text and "# keep" in text and "how much" in text
    remove(root, "pins", 0)
    assert "pricing" not in read_text(root) and "how much" in read_text(root)
    with pytest.raises(RulesError):
        add_pin(root, ["x y"], "Not An Id")
    assert "Not An Id" not in read_text(root)  # nothing written
    _apply(store, root, service)
    rules_path(root).write_text("pins: [oops\n")
    rules, problems = _apply(store, root, service)
    assert rules is None and "stay in force" in problems[0].message
    assert service.search("how much", log=False).results[0].id == "plans"  # still pinned, in the query's language


def test_agent_suggestions_get_the_pinned_article_first(kb, store, embedder):
    from suggest.models import TicketIn
    from suggest.service import SuggestService

    root, service = kb
    suggest = SuggestService(service.retriever)
    ticket = TicketIn(subject="", messages=[{"role": "customer", "text": "on call engineer"}])
    add_pin(root, ["on call engineer"], "reset")
    _apply(store, root, service)
    assert suggest.suggest(ticket, log=False).articles[0].id == "reset"
