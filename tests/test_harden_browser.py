"""The 400 page of a malformed request, in Chromium at desktop and phone widths: it says which fields were refused
and offers the search box, within the viewport (issue 16). Screenshots go to KB_SCREENSHOTS when that is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import CHROMIUM, CHROMIUM_ARGS, index_kb, live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with live_server(index_kb(tmp_path_factory.mktemp("harden-browser"))) as url:
        yield url


@pytest.mark.parametrize("width", [1280, 390])
def test_a_malformed_link_shows_which_fields_were_refused(base, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 800}, locale="ru-RU")
        response = page.goto(base + "/search?q=пароль&category=../../admin%3Fx%3D1")
        assert response is not None and response.status == 400
        message = page.locator(".invalid-fields")
        assert message.text_content() == "Эти поля заполнены неверно: category."
        heading, box = page.locator("h1").bounding_box(), page.locator(".not-found input[name=q]").bounding_box()
        text = message.bounding_box()
        assert heading and box and text
        for b in (heading, text, box):  # all in view, none wider than the screen
            assert 0 <= b["x"] and b["x"] + b["width"] <= width and b["y"] + b["height"] <= 800, b
        assert heading["y"] < text["y"] < box["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if os.environ.get("KB_SCREENSHOTS"):
            page.screenshot(path=str(Path(os.environ["KB_SCREENSHOTS"]) / f"bad-request-{width}.png"), full_page=True)
        browser.close()
