"""The answered decision: fitted on the KB itself, the same across languages, stale only when the index changed."""

from __future__ import annotations

import numpy as np
import pytest

from kb.indexer import Indexer
from search import calibration
from search.background import Background, LanguageBackground
from search.retrieval import Retriever
from search.service import SearchService

from support import QueryRecorder, write_article, write_topic_articles


def test_the_background_z_score_is_the_cosine_against_the_kbs_own_spread():
    rng = np.random.default_rng(3)
    chunks = rng.normal(size=(400, 16)) + 2.0 * rng.normal(size=16)
    chunks /= np.linalg.norm(chunks, axis=1, keepdims=True)
    bg = LanguageBackground.fit(chunks)
    q = rng.normal(size=16)
    q /= np.linalg.norm(q)
    cos = chunks @ q
    mean, sd = bg.stats(q)
    assert mean == pytest.approx(cos.mean(), abs=1e-9)
    assert sd == pytest.approx(cos.std(ddof=1), rel=1e-6)
    # Kept in the store as JSON: float16 directions lose a little, not the meaning.
    again = LanguageBackground.from_json(bg.as_json())
    assert again.stats(q)[1] == pytest.approx(sd, rel=1e-2)


def test_rarer_terms_weigh_more_and_terms_the_kb_never_uses_do_not_count():
    from kb.analysis import term_id

    bg = Background(
        {}, LanguageBackground.fit(np.eye(4)), articles=100, df={term_id("password"): 2, term_id("how"): 90}
    )
    assert bg.idf("password") > bg.idf("how")
    assert bg.coverage({"password", "how", "zzyzx"}, {"password"}) > 0.9
    assert bg.coverage({"password", "how"}, {"how"}) < 0.1
    assert bg.coverage({"zzyzx"}, set()) == 0.0


def test_a_query_typed_in_the_wrong_layout_is_embedded_as_corrected(store, tmp_path):
    embedder = QueryRecorder()
    write_article(
        tmp_path / "a",
        "ru/login.md",
        id="login-ru",
        title="Не могу войти в аккаунт",
        locale="ru",
        body="Если не получается войти, сбросьте пароль.",
    )
    Indexer(store, embedder, chunk_tokens=64).run(tmp_path / "a")
    service = SearchService(store, Retriever(store, embedder))
    service.calibrations.get()  # the fit embeds pseudo-queries of its own
    embedder.queries.clear()
    response = service.search("ghbdtn yt vjue djqnb")
    assert response.corrected == "привет не могу войти" and response.correction == "en->ru"
    assert embedder.queries == ["привет не могу войти"], "the dense side must embed the corrected text, not the garbled"
    assert response.results[0].id == "login-ru"


def test_the_fit_is_kept_in_the_store_and_only_redone_when_the_index_changed(store, embedder, tmp_path):
    root = tmp_path / "a"
    write_topic_articles(root, ["reset password", "export csv", "invoices vat", "slack channel", "mobile push"])
    Indexer(store, embedder, chunk_tokens=64).run(root)
    first = calibration.ensure(store, embedder)
    assert first is not None and first.stats["pseudo_queries"]["title"] == 5
    assert calibration.current(store, embedder).stats["fitted"] == first.stats["fitted"]
    Indexer(store, embedder, chunk_tokens=64).run(root)  # nothing changed: the fit still holds
    assert calibration.current(store, embedder) is not None
    write_article(root, "en/t9.md", id="t9", title="How to print", body="Press print.")
    Indexer(store, embedder, chunk_tokens=64).run(root)
    assert calibration.current(store, embedder) is None, "a changed index needs a new fit"
    assert calibration.ensure(store, embedder).stats["pseudo_queries"]["title"] == 6


@pytest.fixture(scope="module")
def real_embedder():
    from kb.embedder import load_embedder
    from kb.settings import Settings

    return load_embedder(Settings())


@pytest.mark.slow
def test_a_russian_question_over_an_english_article_is_answered_until_the_article_is_deleted(real_embedder, tmp_path):
    import shutil

    from kb.store.edge import EdgeStore

    from support import REPO

    root = tmp_path / "articles"
    shutil.copytree(REPO / "articles", root)
    store = EdgeStore(tmp_path / "shard")
    try:
        Indexer(store, real_embedder).run(root)
        service = SearchService(store, Retriever(store, real_embedder))
        question = "как экспортировать данные рабочего пространства в csv"  # only an English article has it
        found = service.search(question, locale="ru")
        assert found.results[0].id == "export-workspace-data" and found.query_lang == "ru"
        assert found.answered, found.features
        assert not service.search("рецепт борща со сметаной", locale="ru").answered
        (root / "en" / "admin" / "export-workspace-data.md").unlink()
        Indexer(store, real_embedder).run(root)
        service.calibrations.invalidate()
        gone = service.search(question, locale="ru")
        assert "export-workspace-data" not in [r.id for r in gone.results]
        assert not gone.answered, gone.features
        assert service.search("как сбросить забытый пароль", locale="ru").answered
    finally:
        store.close()


def test_each_search_logs_the_language_it_was_written_in_and_the_dashboard_counts_that(store, embedder, tmp_path):
    from kb.db import EventLog

    write_article(tmp_path / "a", "en/reset.md", id="reset", title="Reset your password", body="Open Settings.")
    write_article(
        tmp_path / "a",
        "ru/reset.md",
        id="reset-ru",
        title="Сброс пароля",
        locale="ru",
        translation_of="reset",
        body="Откройте настройки.",
    )
    Indexer(store, embedder, chunk_tokens=64).run(tmp_path / "a")
    events = EventLog(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        service = SearchService(store, Retriever(store, embedder), events)
        ru = service.search("сбросить пароль", locale="en")  # a Russian query in the English interface
        service.search("reset password", locale="en")
        assert events.get_search(ru.search_id).query_lang == "ru"
        by_locale = events.dashboard.stats()["by_locale"]
        assert by_locale["ru"]["searches"] == 1 and by_locale["en"]["searches"] == 1
    finally:
        events.close()


def test_what_customers_did_after_a_search_joins_the_fit(store, embedder, tmp_path):
    from kb.db import EventLog

    root = tmp_path / "a"
    for i, topic in enumerate(["reset password", "export csv", "invoices vat", "slack channel", "mobile push"]):
        write_article(root, f"en/t{i}.md", id=f"t{i}", title=f"How to {topic}", body=f"Open settings: {topic}.")
    Indexer(store, embedder, chunk_tokens=64).run(root)
    events = EventLog(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        service = SearchService(store, Retriever(store, embedder), events)
        clicked = service.search("forgot my password")
        events.log_click(clicked.search_id, "t0", 1)
        voted = service.search("slack is broken")
        events.log_click(voted.search_id, "t3", 1)
        events.log_vote("t3", False, "not_related", search_id=voted.search_id)
        service.search("nobody clicked this")
        service.search("agents only", audience="agent")
        assert sorted(events.search_outcomes()) == [("forgot my password", True), ("slack is broken", False)]
        write_article(root, "en/t9.md", id="t9", title="How to print", body="Press print.")
        Indexer(store, embedder, chunk_tokens=64).run(root)
        service.calibrations.invalidate()
        cal = service.calibrations.get()
        assert cal.stats["logged_searches"] == {"answered": 1, "unanswered": 1}
    finally:
        events.close()


@pytest.mark.slow
def test_an_english_only_kb_fits_its_cross_language_decision_on_its_own_articles(real_embedder, tmp_path):
    import shutil

    from kb.store.edge import EdgeStore

    from support import REPO

    root = tmp_path / "articles"
    shutil.copytree(REPO / "articles" / "en", root / "en")  # no translations to fit the cross-language model on
    store = EdgeStore(tmp_path / "shard")
    try:
        Indexer(store, real_embedder).run(root)
        service = SearchService(store, Retriever(store, real_embedder))
        fitted = service.calibrations.get()
        assert fitted is not None and fitted.stats["cross"]["fitted_on"] == "pseudo-queries moved into another language"
        assert fitted.stats["cross"]["searches"] > 100
        assert set(fitted.model.cross_by_lang) == {"ru", "uk"}  # one model per language a query can come in
        for question in ("как сбросить забытый пароль", "як скинути пароль"):
            reset = service.search(question)
            assert reset.results[0].id == "reset-password" and reset.answered, (question, reset.features)
        # Before, the shrink prior said yes to two of three Russian questions nothing answers (tests/data's
        # help-center queries over this KB), with answer cards; a Ukrainian one is still said yes to
        # (docs/answered.md: Ukrainian queries crowd onto a few English articles).
        off = service.search("рецепт борща со сметаной")
        assert not off.answered and off.answer is None, (off.features, off.answered_probability)
    finally:
        store.close()
