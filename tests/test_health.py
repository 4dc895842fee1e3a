"""Content health: duplicates, translations, broken links and unseen articles, on the page and in `kb health`."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.runtime import open_runtime
from reports.health import content_health

from support import (
    CountingEmbedder,
    chromium,
    index_kb,
    live_server,
    login,
    require_browser,
    serve_app,
    write_article,
)

RESET_BODY = (
    "If you forgot your password, you can reset it from the sign-in page. Click Forgot password and follow the "
    "link we email you. The password reset link is valid for one hour. Check the spam folder."
)


def _kb(tmp_path):
    settings = index_kb(tmp_path)
    a = settings.articles_dir
    write_article(a, "en/account/password-help.md", id="password-help", title="Password help", body=RESET_BODY)
    write_article(a, "en/account/password-again.md", id="password-again", title="Forgot password", body=RESET_BODY)
    write_article(
        a, "en/billing/guide.md", id="guide", title="Billing guide", updated="2026-05-01",
        body="See [plans](../billing/no-such-article.md) and [invoices](invoices.md) and [x](/articles/gone).",
    )  # fmt: skip
    write_article(
        a, "ru/billing/guide.md", id="guide-ru", title="Оплата", locale="ru", translation_of="guide",
        updated="2026-01-10", body="Счета и оплата картой.",
    )  # fmt: skip
    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        assert not rt.indexer().run(a).errors
        now = datetime.now(UTC)
        for _ in range(6):  # invoices: shown and clicked; guide: shown six times, never clicked
            sid = rt.events.log_search(
                query="invoice", normalized="invoice", locale="en", answered=True, latency_ms=1.0,
                results=[{"id": "invoices", "score": 0.9, "rank": 1}, {"id": "guide", "score": 0.5, "rank": 2}],
            )  # fmt: skip
            rt.events.log_click(sid, "invoices", rank=1)
        report = content_health(rt.store, rt.embedder, rt.events, now - timedelta(days=7), now + timedelta(minutes=1))
    return settings, report


def test_content_health_finds_each_kind_with_its_evidence(tmp_path):
    _, report = _kb(tmp_path)
    kinds = report.by_kind()
    dup = {(f.article, f.other) for f in kinds.get("duplicate", [])}
    assert dup & {("password-again", "password-help"), ("password-help", "password-again")}, report.findings
    assert not any(
        f.article.startswith("reset-password") and f.other == "reset-password-ru" for f in kinds["duplicate"]
    )
    stale = kinds["stale_translation"]
    assert [(f.article, f.other) for f in stale] == [("guide-ru", "guide")]
    assert stale[0].facts == {"updated": "2026-01-10", "source": "guide", "source_updated": "2026-05-01"}
    broken = sorted(f.facts["href"] for f in kinds["broken_link"] if f.article == "guide")
    assert broken == ["../billing/no-such-article.md", "/articles/gone"]
    assert {"locale": "uk", "clicks": 6} in [f.facts for f in kinds["missing_translation"] if f.article == "invoices"]
    assert [(f.article, f.facts) for f in kinds["never_clicked"]] == [("guide", {"shown": 6})]
    never = {f.article for f in kinds["never_shown"]}
    assert "invoices" not in never and "password-help" in never
    hidden = {f.article for f in report.findings if f.kind in ("never_shown", "never_clicked")}
    assert "refund-approval-internal" not in hidden  # internal articles are never in customers' searches anyway


def test_the_health_page_lists_findings_with_links_to_fix(tmp_path):
    settings, _ = _kb(tmp_path)
    with serve_app(settings) as client:
        client.app.state.services.accounts.add_user("root", "admin", "admin password 1")
        assert login(client, "root", "admin password 1", "/admin/health").status_code == 303
        page = client.get("/admin/health")
    assert page.status_code == 200
    assert "Broken links between articles" in page.text and "Translations older than their source" in page.text
    assert re.search(r'href="/articles/guide-ru">Open to fix', page.text)
    assert "updated 2026-01-10; its source guide was updated 2026-05-01" in page.text
    assert "shown 6 times, never clicked" in page.text


def test_the_evidence_is_in_the_pages_language_with_its_plurals_and_numbers(tmp_path):
    settings, _ = _kb(tmp_path)
    with serve_app(settings) as client:
        client.app.state.services.accounts.add_user("root", "admin", "admin password 1")
        assert login(client, "root", "admin password 1", "/admin/health").status_code == 303
        ru = client.get("/admin/health", params={"lang": "ru"}).text
        uk = client.get("/admin/health", params={"lang": "uk"}).text
    assert "показана 6 раз, ни разу не открыта" in ru and "нет версии (украинский); открыта 6 раз за период" in ru
    assert "ссылка на /articles/gone, но такой статьи нет" in ru
    assert "обновлена 2026-01-10; оригинал guide обновлён 2026-05-01" in ru
    assert re.search(r"косинус \d,\d\d к «[^»]+» \(порог \d,\d\d\)", ru)  # a decimal comma, as Russian writes it
    assert "показана 6 разів, жодного разу не відкрита" in uk
    for page in (ru, uk):
        assert "never clicked" not in page and "in the window" not in page
        assert '<span lang="en">in no customer' not in page and page.count('class="finding-evidence"') >= 6
    # An English article's title inside Russian evidence says which language it is in.
    assert re.search(r'к «<span lang="en">[^<]+</span>»', ru)


def test_kb_health_json_keeps_the_facts_as_data(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from cli.main import app

    settings, _ = _kb(tmp_path)
    for name in ("articles_dir", "data_dir", "database_url", "model", "cache_dir"):
        monkeypatch.setenv(f"KB_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setattr("app.runtime.Runtime.embedder", CountingEmbedder())
    out = CliRunner().invoke(app, ["health", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["findings"]
    clicked = [r for r in rows if r["kind"] == "never_clicked"]
    assert clicked == [
        {
            "kind": "never_clicked", "article": "guide", "title": "Billing guide", "facts": {"shown": 6},
            "fix_url": "/articles/guide", "other": None, "locale": "en", "evidence": "shown 6 times, never clicked",
        }
    ]  # fmt: skip


def _shot(page, name: str) -> None:
    folder = os.environ.get("KB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.browser
def test_the_health_page_is_a_table_on_a_wide_screen_and_cards_on_a_phone(tmp_path):
    require_browser()
    settings, _ = _kb(tmp_path)
    with open_runtime(settings) as rt:
        rt.accounts.add_user("root", "admin", "admin password 1")
    with live_server(settings) as base, chromium() as browser:
        for width, lang in ((1280, "en"), (390, "en"), (1280, "ru"), (390, "ru")):
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.goto(f"{base}/login?next=/admin/health")
            page.fill("#username", "root")
            page.fill("#password", "admin password 1")
            page.click("form.stack-form button[type=submit]")
            page.goto(f"{base}/admin/health?lang={lang}")
            _shot(page, f"health-{lang}-{width}.png")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, lang)
            rows = page.locator("tr.finding")
            assert rows.count() >= 6
            for i in range(rows.count()):
                row = rows.nth(i)
                card = row.bounding_box()
                art, ev, fix = (
                    row.locator(c).bounding_box() for c in (".finding-article", ".finding-evidence", ".finding-fix a")
                )
                assert card and art and ev and fix
                assert card["x"] >= 0 and card["x"] + card["width"] <= width + 0.5, (width, lang, card)
                assert art["width"] >= 220, f"the article's name is squeezed to {art['width']:.0f} px ({width}, {lang})"
                if width == 1280:  # one row: the article, its evidence, the fix link side by side
                    assert art["x"] + art["width"] <= ev["x"] + 1 and ev["x"] + ev["width"] <= fix["x"] + 1
                    assert abs(art["y"] - ev["y"]) < 2
                else:  # a card: the article over the full width, the evidence under it, then the link
                    assert art["width"] >= 0.9 * (card["width"] - 30), (art, card)
                    assert ev["y"] >= art["y"] + art["height"] - 1 and fix["y"] >= ev["y"] + ev["height"] - 1
            page.context.close()
