"""The help center in a real browser: instant search, click-through, feedback, and no script injection."""

from __future__ import annotations

import re
import time

import pytest

from support import CountingEmbedder, chromium, index_kb, require_browser, serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.browser]

XSS_QUERY = '<img src=x onerror="window.__xss=1;alert(9)"><script>window.__xss=2</script> password'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    from app.runtime import open_runtime
    from web.app import create_app

    settings = index_kb(tmp_path_factory.mktemp("browserkb"))
    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        with serve_in_thread(create_app(settings, runtime=rt)) as url:
            yield url, settings


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


def test_instant_search_click_and_feedback(server, page):
    from kb.db.events import EventLog

    base, settings = server
    page.goto(base + "/?lang=en")
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").press_sequentially("reset password", delay=30)
    first = page.locator(".instant-results[data-js] .results .result-title a").first
    first.wait_for(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True, "the results came with a page load"
    assert re.search(r"/search\?q=reset(%20|\+)password$", page.url)
    assert "result" in (page.locator("[data-live]").first.text_content() or "")

    # Keyboard: down from the box reaches a result link, Esc returns to the box.
    page.locator("#q").press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.suggestions, .results') !== null")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "q"

    first = page.locator(".instant-results[data-js] .results .result-title a").first
    href = first.get_attribute("href")
    sid = re.search(r"sid=([0-9a-f]+)", href).group(1)
    with page.expect_navigation():
        first.click()
    assert "/articles/" in page.url
    page.locator("article h1").wait_for()

    with EventLog(f"sqlite:///{settings.data_dir / 'events.sqlite3'}") as log:
        deadline = time.monotonic() + 5
        while not log.get_search(sid).clicked and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log.get_search(sid).clicked, "the beacon did not log the click"
        article_id = page.url.split("/articles/")[1].split("?")[0].split("#")[0]
        before = log.helpfulness(article_id)

        page.select_option("#fb-reason", "unclear")
        with page.expect_navigation():
            page.get_by_role("button", name="No").click()
        page.locator(".thanks").wait_for()
        assert "Thanks" in page.locator(".thanks").text_content()
        assert log.helpfulness(article_id) == (before[0], before[1] + 1)
    assert page.dialogs == []


def test_no_script_runs_from_articles_or_queries(server, page):
    base, _ = server
    page.goto(base + "/articles/xss-test")
    page.locator(".article-body").wait_for()
    page.goto(base + "/search?q=" + XSS_QUERY.replace(" ", "+").replace("#", "%23").replace("&", "%26"))
    page.locator("#q").wait_for()
    assert page.locator("#q").input_value().startswith("<img")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially(XSS_QUERY, delay=5)
    page.locator(".instant-results[data-js]").wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_works_without_javascript(server, browser):
    base, _ = server
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    try:
        pg.goto(base + "/")
        pg.fill("#q", "invoices")
        with pg.expect_navigation():
            pg.press("#q", "Enter")
        assert "/search?q=invoices" in pg.url
        with pg.expect_navigation():
            pg.locator(".results .result-title a").first.click()
        assert "/articles/" in pg.url and "rank=" not in pg.url
        with pg.expect_navigation():
            pg.get_by_role("button", name="Yes").click()
        assert "Thanks" in pg.locator(".thanks").text_content()
    finally:
        context.close()


def test_agent_logs_in_gets_suggestions_inserts_a_passage_and_accepts(server, page):
    from kb.db.accounts import Accounts
    from kb.db.events import EventLog
    from kb.db.tickets import TicketLog

    base, settings = server
    with EventLog(settings.database_url) as log:
        Accounts(log.writer).add_user("browser-agent", "agent", "long enough password")
    page.goto(base + "/agent")
    assert "/login" in page.url
    page.fill("#username", "browser-agent")
    page.fill("#password", "long enough password")
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(re.compile(r"/agent$"))
    page.fill("#p-subject", "Password")
    page.fill("#p-text", "Hi team,\n\nHow do I reset my password?\n\nThanks,\nAnna")
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector(".agent-suggestion")
    assert "How to reset your password" in page.inner_text(".agent-suggestion h3")
    before = page.input_value("#reply")
    page.click(".agent-suggestion button.insert >> nth=0")
    after = page.input_value("#reply")
    assert len(after) > len(before) and "/articles/reset-password" in after
    page.click(".agent-suggestion form.verdict button[value=accepted] >> nth=0")
    page.wait_for_load_state()
    with EventLog(settings.database_url) as log:
        verdicts = [(f.article_id, f.verdict) for f in TicketLog(log).feedback()]
    assert ("reset-password", "accepted") in verdicts


def test_contact_form_suggests_articles_while_typing(server, page):
    base, _ = server
    page.goto(base + "/contact?lang=en")
    assert page.is_hidden("#deflect")
    page.fill("#c-subject", "Cannot log in")
    page.type("#c-description", "I forgot my password and need to reset it", delay=5)
    page.wait_for_selector("#deflect-list li a")
    assert "How to reset your password" in page.inner_text("#deflect-list")
    assert re.fullmatch(r"[0-9a-f]{32}", page.input_value("#deflection-id"))
