"""The answer card and the no-answer page in Chromium, over the shipped help center with the real model."""

from __future__ import annotations

import pytest

from support import chromium, require_browser, serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(real_retriever, tmp_path_factory):
    require_browser()
    from app.runtime import open_runtime
    from kb.settings import Settings
    from web.app import create_app

    tmp = tmp_path_factory.mktemp("answer-browser")
    settings = Settings(data_dir=tmp, articles_dir=tmp / "articles", database_url=f"sqlite:///{tmp / 'events.db'}")
    # The session's real index and model, injected: the runtime opens only the database (and closes only that).
    with open_runtime(settings, embedder=real_retriever.embedder, store=real_retriever.store) as rt:
        with serve_in_thread(create_app(settings, runtime=rt)) as base:
            yield base


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture(params=[1280, 390])
def page(browser, request):
    context = browser.new_context(locale="en-US", viewport={"width": request.param, "height": 900})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def _inside(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not rendered"
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{selector} leaves the viewport: {box}"
    return box


def test_a_confident_search_shows_the_answering_passage_above_the_results(server, page):
    page.goto(server + "/search?q=where+can+I+download+an+invoice&lang=en")
    card = page.locator(".answer-card")
    assert card.is_visible()
    text = card.locator(".answer-text").inner_text()
    assert "Billing" in text and "Invoices" in text and "Download PDF" in text  # the steps, not the summary
    link = card.locator(".answer-source a")
    assert "#download-an-invoice" in link.get_attribute("href")
    assert card.locator("mark").count() >= 2, "the query's words are marked"
    box, results = _inside(page, ".answer-card"), _inside(page, ".results")
    assert box["y"] + box["height"] <= results["y"], "the card sits above the results"
    link.click()
    page.wait_for_url("**/articles/invoices-and-vat**")
    assert "Download an invoice" in page.locator("h2#download-an-invoice").inner_text()


def test_instant_search_shows_the_card_as_you_type(server, page):
    page.goto(server + "/?lang=en")
    page.fill(".search-input", "where can I download an invoice")
    page.wait_for_selector(".instant-results .answer-card", timeout=30000)
    _inside(page, ".instant-results .answer-card")
    assert "Invoices" in page.locator(".instant-results .answer-text").inner_text()


def test_markup_in_the_query_stays_text_in_the_card(server, page):
    page.goto(server + "/search?" + "q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E+where+can+I+download+an+invoice")
    page.wait_for_timeout(300)
    assert not page.dialogs and page.locator(".answer-card img").count() == 0
    assert "<img" in page.locator("h1").inner_text()


def test_a_search_nobody_can_answer_says_so_and_offers_the_way_on(server, page):
    page.goto(server + "/search?q=quantum+teleportation+recipe&lang=en")
    box = page.locator(".no-answer")
    assert box.is_visible() and page.locator(".answer-card").count() == 0
    assert "couldn't find an answer" in box.locator("h1").inner_text()
    assert box.locator(".tips li").count() == 3 and box.locator(".category-chips a").count() >= 3
    ask = box.locator(".ask-support a")
    assert ask.get_attribute("href") == "/contact?subject=quantum+teleportation+recipe"
    maybe = page.locator(".maybe-related .result")
    assert maybe.count() <= 3
    if maybe.count():
        assert _inside(page, ".maybe-related")["y"] >= _inside(page, ".no-answer")["y"] + box.bounding_box()["height"]
    ask.click()
    page.wait_for_url("**/contact?subject=**")
    assert page.locator("#c-subject").input_value() == "quantum teleportation recipe"


def test_the_no_answer_page_speaks_the_readers_language(server, page):
    page.goto(server + "/search?q=%D1%80%D0%B5%D1%86%D0%B5%D0%BF%D1%82+%D0%B1%D0%BE%D1%80%D1%89%D0%B0&lang=ru")
    assert "не нашли ответа" in page.locator(".no-answer h1").inner_text()
    page.goto(server + "/search?q=%D1%80%D0%B5%D1%86%D0%B5%D0%BF%D1%82+%D0%B1%D0%BE%D1%80%D1%89%D1%83&lang=uk")
    assert "не знайшли відповіді" in page.locator(".no-answer h1").inner_text()


def test_nothing_internal_reaches_the_card(server, page):
    # Wording of the internal EUR duplicate-charge workaround: customers get no card and no internal text.
    page.goto(server + "/search?q=internal+workaround+duplicate+charges+EUR+cards&lang=en")
    html = page.content()
    assert "Known issue: duplicate charges" not in html and "duplicate-charges-eur-cards" not in html


def test_the_api_returns_the_card_and_null_when_unsure(server, page):
    found = page.request.get(server + "/api/search?q=where+can+I+download+an+invoice").json()
    card = found["answer"]
    assert found["answered"] and card["article_id"] == found["results"][0]["id"] == "invoices-and-vat"
    assert card["url"] == "/articles/invoices-and-vat#download-an-invoice" and card["confidence"] >= 0.8
    assert "<mark>" in card["html"] and "<mark>" not in card["text"]
    nothing = page.request.get(server + "/api/search?q=quantum+teleportation+recipe").json()
    assert nothing["answered"] is False and nothing["answer"] is None
