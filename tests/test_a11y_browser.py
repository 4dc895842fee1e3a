"""Every customer and staff page at 1280 and 390 px: axe-core finds no violation, and what axe cannot judge holds.

axe-core is vendored under tests/vendor/axe-core (npm pack axe-core@4.14.1) and injected into each page; the
checks it cannot make (focus-ring and field-border contrast, every text's contrast, elements wider than the
screen, blocks drawn over each other) are measured by tests/a11y_checks.js.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import chromium, index_kb, live_server, require_browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
CHECKS = HERE / "a11y_checks.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
STAFF_PASSWORD = "a long enough password"

CUSTOMER_PAGES = [
    "/",
    "/search",
    "/search?q=reset+password",
    "/search?q=zzqx+wibble",
    "/articles/reset-password",
    "/articles/reset-password-ru",
    "/articles/invoices",
    "/categories/account",
    "/contact",
    "/contact?subject=reset+my+password",
    "/no-such-page",
    "/login",
]
STAFF_PAGES = ["/agent", "/agent?ticket=T-1001", "/admin", "/admin/gaps", "/admin/rules", "/admin/health"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    import httpx

    from kb.db.accounts import Accounts
    from kb.db.events import EventLog

    settings = index_kb(tmp_path_factory.mktemp("a11ykb"))
    with live_server(settings) as base:
        with EventLog(settings.database_url) as log:
            Accounts(log.writer).add_user("a11y-admin", "admin", STAFF_PASSWORD)
        # Searches of one day, answered and not, so the dashboard has its chart and tables and the gap report a topic.
        for q in ["reset password", "invoices", "zzqx wibble", "zzqx wibble", "как сбросить пароль", "Як оплатити"]:
            httpx.get(base + "/api/search", params={"q": q}, timeout=30).raise_for_status()
        yield base, settings


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def staff_state(server, browser):
    """The cookies of a logged-in admin, shared by the staff pages."""
    base, _ = server
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#username", "a11y-admin")
    page.fill("#password", STAFF_PASSWORD)
    with page.expect_navigation():
        page.click("form.stack-form button[type=submit]")
    state = context.storage_state()
    context.close()
    return state


@contextmanager
def open_page(browser, base, path, size, state=None, lang="en"):
    """A fresh browser context on path in lang at size, with axe-core and our checks injected."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, bypass_csp=True, storage_state=state, locale="en-US"
    )
    try:
        page = context.new_page()
        sep = "&" if "?" in path else "?"
        page.goto(f"{base}{path}{sep}lang={lang}")
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        page.add_script_tag(path=str(CHECKS))
        yield page
    finally:
        context.close()


def axe_violations(page) -> list[str]:
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    out = []
    for v in json.loads(result)["violations"]:
        targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
        out.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return out


def focus_walk(page, limit=80) -> list[str]:
    """Tab through the page as a keyboard user does; every focused element must show a ≥ 3:1 indicator."""
    problems: list[str] = []
    page.locator("body").focus()
    seen = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        key = page.evaluate(
            "() => { const e = document.activeElement; return e === document.body ? null : "
            "(e.id || '') + '|' + e.tagName + '|' + (e.getAttribute('href') || '') + '|' + (e.name || '') + "
            "'|' + Array.from(document.querySelectorAll('*')).indexOf(e) }"
        )
        if key is None or key in seen:
            break
        seen.add(key)
        problems += page.evaluate("() => __a11y.focusProblems([document.activeElement])")
    return problems


def measure(page) -> dict[str, list[str]]:
    return {
        "axe": axe_violations(page),
        "fields": page.evaluate("() => __a11y.fieldProblems()"),
        "text": page.evaluate("() => __a11y.textProblems()"),
        "width": page.evaluate("() => __a11y.widthProblems()"),
        "overlap": page.evaluate("() => __a11y.overlapProblems()"),
        "focus": focus_walk(page),
    }


def assert_clean(found: dict[str, list[str]], where: str) -> None:
    bad = {k: v for k, v in found.items() if v}
    assert not bad, f"{where}:\n" + "\n".join(f"  [{k}] {p}" for k, v in bad.items() for p in v)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", CUSTOMER_PAGES)
def test_customer_page_is_accessible(server, browser, path, width):
    base, _ = server
    with open_page(browser, base, path, WIDTHS[width]) as page:
        assert_clean(measure(page), f"{path} at {WIDTHS[width][0]} px")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_page_is_accessible(server, browser, staff_state, path, width):
    base, _ = server
    with open_page(browser, base, path, WIDTHS[width], state=staff_state) as page:
        assert not page.url.startswith(base + "/login"), "the staff page asked to log in again"
        assert_clean(measure(page), f"{path} at {WIDTHS[width][0]} px")


@pytest.mark.parametrize("lang", ["ru", "uk"])
@pytest.mark.parametrize("path", ["/", "/search?q=reset+password", "/articles/reset-password", "/contact", "/admin"])
def test_translated_pages_fit_a_phone(server, browser, staff_state, path, lang):
    """Russian and Ukrainian strings run longer than English: nothing may overflow or overlap at 390 px."""
    base, _ = server
    with open_page(browser, base, path, WIDTHS["phone"], state=staff_state, lang=lang) as page:
        found = {"axe": axe_violations(page)}
        found["width"] = page.evaluate("() => __a11y.widthProblems()")
        found["overlap"] = page.evaluate("() => __a11y.overlapProblems()")
        assert_clean(found, f"{path} in {lang} at 390 px")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("start", ["/", "/search?q=invoices"])
def test_instant_search_results_are_accessible(server, browser, start, width):
    """The results search.js draws while the reader types pass the same checks as the server's."""
    base, _ = server
    with open_page(browser, base, start, WIDTHS[width]) as page:
        page.locator("#q").fill("")
        page.locator("#q").press_sequentially("reset password", delay=20)
        page.locator(".instant-results[data-js] .results .result").first.wait_for(timeout=10_000)
        page.keyboard.press("Escape")  # the autocomplete list is a popup over the page: close it to measure
        found = measure(page)
        del found["focus"]
        assert_clean(found, f"instant search from {start} at {WIDTHS[width][0]} px")


def test_the_checks_catch_what_they_are_for(server, browser):
    """Each check fails on the fault it exists for, so a clean run means something."""
    base, _ = server
    with open_page(browser, base, "/contact", WIDTHS["phone"]) as page:
        page.add_style_tag(
            content=(
                "#c-email { border-color: #dfe3ea !important; }"
                "#c-subject:focus { outline: 3px solid #ffbf47 !important; box-shadow: none !important; }"
                ".contact h1 { color: #aaaaaa !important; }"
                ".contact > p { width: 600px; }"
                "#contact-form { margin-top: -120px !important; }"
            )
        )
        assert any("c-email" in p for p in page.evaluate("() => __a11y.fieldProblems()"))
        page.focus("#c-subject")
        assert page.evaluate("() => __a11y.focusProblems([document.activeElement])")
        assert any(p.startswith("h1") for p in page.evaluate("() => __a11y.textProblems()"))
        assert any("wider than" in p for p in page.evaluate("() => __a11y.widthProblems()"))
        assert any("overlaps" in p for p in page.evaluate("() => __a11y.overlapProblems()"))


LANG_OF = "(sel) => Array.from(document.querySelectorAll(sel)).map(e => e.closest('[lang]').lang)"


def test_lang_marks_exactly_the_text_in_each_language(server, browser):
    """An English article read with the Russian interface: Russian rules for the interface, English for the article."""
    base, _ = server
    with open_page(browser, base, "/articles/reset-password", WIDTHS["desktop"], lang="ru") as page:
        assert page.evaluate("document.documentElement.lang") == "ru"
        assert set(page.evaluate(LANG_OF, ".article h1, .article-body p, .toc li a")) == {"en"}
        assert set(
            page.evaluate(LANG_OF, ".article-header .muted, .toc h2, #fb-h, .feedback label, .feedback button")
        ) == {"ru"}
        assert page.get_attribute(".breadcrumb", "aria-label") == "Навигационная цепочка"
        footer = page.inner_text(".site-footer")
        assert "Напишите в поддержку: Написать в поддержку" not in footer and footer.count("поддержк") == 1
    with open_page(browser, base, "/search?q=reset+password", WIDTHS["desktop"], lang="ru") as page:
        badge = page.locator(".result .badge").first
        assert badge.inner_text() == "Язык: English"
        assert badge.evaluate("b => b.closest('[lang]').lang") == "ru"
        assert badge.locator("span").evaluate("s => [s.lang, s.textContent]") == ["en", "English"]
        english = page.locator(".result:has(.badge)").first
        assert english.locator(".result-title").get_attribute("lang") == "en"
        assert english.locator(".snippet").get_attribute("lang") == "en"
        assert english.locator(".result-category").evaluate("c => c.closest('[lang]').lang") == "ru"
        russian = page.locator(".result:not(:has(.badge))").first
        assert russian.locator(".result-title").evaluate("t => t.closest('[lang]').lang") == "ru"


def test_instant_search_keeps_one_h1_the_title_and_the_outline(server, browser):
    base, _ = server
    with open_page(browser, base, "/search?q=invoices", WIDTHS["desktop"]) as page:
        page.locator("#q").fill("")
        page.locator("#q").press_sequentially("reset password", delay=20)
        page.wait_for_function("() => document.title.startsWith('reset password')", timeout=10_000)
        levels = page.evaluate(
            "() => Array.from(document.querySelectorAll('main h1, main h2, main h3')).map(h => +h.tagName[1])"
        )
        assert levels.count(1) == 1 and levels[0] == 1
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
        assert page.inner_text("main h1") == "Results for “reset password”"
        assert page.evaluate("() => document.querySelector('.results .result-title').tagName") == "H2"


def test_contact_suggestions_leave_send_in_place_and_announce_a_count(server, browser):
    base, _ = server
    with open_page(browser, base, "/contact", WIDTHS["phone"]) as page:
        send = page.get_by_role("button", name="Send to support")
        before = send.bounding_box()["y"]
        page.fill("#c-subject", "Cannot log in")
        page.type("#c-description", "I forgot my password and need to reset it", delay=5)
        page.wait_for_selector("#deflect-list li a")
        n = page.locator("#deflect-list li").count()
        assert page.inner_text("#deflect-summary") == f"{n} article{'s' if n != 1 else ''} might answer this"
        assert page.get_attribute("#deflect-summary", "role") == "status"
        assert (
            page.locator("[aria-live], [role=status]").evaluate_all("els => els.map(e => e.id)").count("deflect") == 0
        )
        assert send.bounding_box()["y"] - before < 40, "the suggestions pushed Send down"
        assert page.locator("#deflect").bounding_box()["y"] > send.bounding_box()["y"], "on a phone they follow Send"


def test_a_single_day_chart_draws_a_point_with_its_value_and_a_table(server, browser, staff_state):
    base, _ = server
    with open_page(browser, base, "/admin", WIDTHS["desktop"], state=staff_state) as page:
        chart = page.locator("svg.chart-lines")
        assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
        points = chart.locator("circle")
        assert points.count() == 3
        assert all(points.nth(i).bounding_box()["width"] >= 8 for i in range(3))
        legend = page.inner_text(".chart-legend")
        searches = page.locator(".chart-table tbody tr td").first.text_content()
        assert re.search(rf"\b{searches}\b", legend) and int(searches) > 0
        assert page.locator(".chart-table tbody tr").count() == 1
