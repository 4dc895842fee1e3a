"""Content health: duplicates, translations, broken links and unseen articles, on the page and in `kb health`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.runtime import open_runtime
from reports.health import content_health

from support import CountingEmbedder, index_kb, login, serve_app, write_article

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
    assert "2026-05-01" in stale[0].evidence
    broken = sorted(f.evidence for f in kinds["broken_link"] if f.article == "guide")
    assert len(broken) == 2 and "no-such-article.md" in broken[0] + broken[1] and "/articles/gone" in " ".join(broken)
    assert any(f.article == "invoices" and "uk" in f.evidence for f in kinds["missing_translation"])  # clicked
    assert [f.article for f in kinds["never_clicked"]] == ["guide"]
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
