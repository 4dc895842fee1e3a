"""The agent panel in Chromium with the real model over the shipped help center: the blocks keep their places."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from support import REPO, chromium, require_browser, serve_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BLOCKS = {
    "ticket list": ".ticket-list",
    "ticket": ".ticket-view",
    "suggestions": ".agent-suggestions",
    "draft": ".agent-draft",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_retriever):
    require_browser()
    from app.runtime import open_runtime
    from kb.db.accounts import Accounts
    from kb.settings import Settings
    from web.app import create_app

    root = tmp_path_factory.mktemp("agent-panel")
    settings = Settings(
        articles_dir=REPO / "articles", data_dir=root, env="test", database_url=f"sqlite:///{root / 'events.db'}"
    )
    # The session's real index and model (the shipped help center), injected: only the database is opened here.
    with open_runtime(settings, embedder=real_retriever.embedder, store=real_retriever.store) as rt:
        Accounts(rt.events.writer).add_user("panel-agent", "agent", "long enough password")
        rt.search.calibrations.get()  # fit the answered decision now, not inside the server's start-up
        with serve_in_thread(create_app(settings, runtime=rt), start_seconds=300) as base:
            yield base


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def _logged_in_page(browser, base: str, width: int):
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base + "/agent")
    page.fill("#username", "panel-agent")
    page.fill("#password", "long enough password")
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(re.compile(r"/agent$"))
    return page


def _boxes(page) -> dict[str, dict]:
    boxes = {}
    for name, selector in BLOCKS.items():
        box = page.locator(selector).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, f"{name} is not shown"
        boxes[name] = box
    return boxes


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 1
        and b["x"] < a["x"] + a["width"] - 1
        and a["y"] < b["y"] + b["height"] - 1
        and b["y"] < a["y"] + a["height"] - 1
    )


def _shot(page, name: str) -> None:
    folder = os.environ.get("KB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_panels_blocks_never_overlap_nor_leave_the_viewport(server, browser, width):
    page = _logged_in_page(browser, server, width)
    page.goto(server + "/agent?ticket=T-1001")
    page.wait_for_selector(".agent-suggestion")
    _shot(page, f"agent-T-1001-{width}.png")
    boxes = _boxes(page)
    names = list(boxes)
    for i, a in enumerate(names):
        box = boxes[a]
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{a} leaves the viewport: {box}"
        for b in names[i + 1 :]:
            assert not _overlap(boxes[a], boxes[b]), f"{a} overlaps {b}: {boxes[a]} {boxes[b]}"
    # "Mark as sent" sits under the reply, inside the draft's block.
    sent, reply = page.locator(".reply-form button[type=submit]").bounding_box(), page.locator("#reply").bounding_box()
    d = boxes["draft"]
    assert sent and reply and sent["y"] >= reply["y"] + reply["height"] - 1, (sent, reply)
    assert d["x"] <= sent["x"] and sent["x"] + sent["width"] <= d["x"] + d["width"] + 0.5, (sent, d)
    # Nothing on the page is wider than the window (no sideways scrolling on a phone).
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    t, s, d, lst = boxes["ticket"], boxes["suggestions"], boxes["draft"], boxes["ticket list"]
    if width == 1280:
        # Three columns: the list, the ticket with its draft below, the suggestions beside them.
        assert lst["x"] + lst["width"] <= t["x"] and t["x"] + t["width"] <= s["x"]
        assert d["y"] >= t["y"] + t["height"] - 1 and abs(d["x"] - t["x"]) < 1
        assert s["y"] < d["y"]
    else:
        # One column, in reading order: the ticket, the draft, the suggestions, then the other tickets.
        assert t["y"] + t["height"] <= d["y"] + 1 <= s["y"] + 1 <= lst["y"] + 1
        assert all(b["width"] >= width * 0.8 for b in boxes.values())


def test_the_panel_shows_the_drafted_answer_and_the_route(server, browser):
    page = _logged_in_page(browser, server, 1280)
    page.goto(server + "/agent?ticket=T-1001")
    page.wait_for_selector(".agent-routing")
    assert "Accounts & access" in page.inner_text(".agent-routing")
    reply = page.input_value("#reply")
    assert "Send reset link" in reply and "/articles/reset-password#" in reply
    # The autocomplete's list styles must not reach the suggestions (it positions .suggestions absolutely).
    assert page.locator(".agent-suggestions").evaluate("e => getComputedStyle(e).position") == "static"
