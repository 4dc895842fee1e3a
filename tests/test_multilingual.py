"""With the real e5 model over the shipped help center: each language finds its article, and across languages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(real_retriever):
    return real_retriever


def top(retriever, query, n=1, **kw):
    return [h.id for h in retriever.search(query, n, **kw)]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("как сбросить пароль если забыл", {"reset-password-ru"}),
        # The reset article has a section «Не приходит письмо» too: both are right answers.
        ("не приходит письмо для сброса пароля", {"email-not-arriving-ru", "reset-password-ru"}),
        ("синхронизация не работает, файлы не появляются на телефоне", {"sync-problems-ru"}),
    ],
)
def test_russian_query_finds_the_russian_article(retriever, query, expected):
    assert top(retriever, query, 1)[0] in expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("як скинути пароль", "reset-password-uk"),
        ("не працює синхронізація", "sync-problems-uk"),
        ("не надходять сповіщення на телефон", "mobile-notifications-uk"),
    ],
)
def test_ukrainian_query_finds_the_ukrainian_article(retriever, query, expected):
    assert top(retriever, query, 1) == [expected]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("pay as a Ukrainian sole proprietor (FOP) by invoice in hryvnia", "fop-oplata-uk"),
        ("garbled Cyrillic file names in the exported ZIP archive", "krakozyabry-v-zip-arkhive-ru"),
        ("working in Orbita when the electricity is off", "vidkliuchennia-svitla-uk"),
        ("как выгрузить все данные рабочего пространства в CSV или JSON", "export-workspace-data"),
        ("угода про обробку персональних даних GDPR", "gdpr-dpa"),
        ("какие есть сочетания клавиш", "keyboard-shortcuts"),
    ],
)
def test_a_query_finds_an_article_that_exists_only_in_another_language(retriever, query, expected):
    # Found means on the first screen of results: the sparse side cannot match across languages,
    # so a same-language article that shares words can rank above it.
    assert expected in top(retriever, query, 5)


def test_a_ukrainian_query_on_a_ukrainian_only_topic(retriever):
    assert top(retriever, "як працювати під час відключення електроенергії", 1) == ["vidkliuchennia-svitla-uk"]


def test_locale_filter_keeps_to_one_language(retriever):
    hits = retriever.search("reset password", 5, locales=["uk"])
    assert hits and all(h.locale == "uk" for h in hits)
    assert hits[0].id == "reset-password-uk"


def test_customers_never_get_internal_or_draft_articles(retriever):
    for q in (
        "refund approval process for agents",
        "escalation matrix SLA on-call",
        "AI summaries",
        "new pricing page",
    ):
        assert all(h.visibility == "public" for h in retriever.search(q, 10))


def test_an_api_client_without_a_locale_is_shown_each_article_in_the_querys_language(retriever):
    from search.service import SearchService

    service = SearchService(retriever.store, retriever, calibrate=False)  # not about the answered decision
    # e5 ranks the Ukrainian reset article first for this English question; its English version is shown.
    found = service.search("log out of all other devices", log=False)
    shown = [r.id for r in found.results]
    assert found.locale == "en" and "reset-password" in shown and "reset-password-uk" not in shown, shown
