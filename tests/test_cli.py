"""The `kb` command as a user runs it: index --json, search, clear errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from kb.store.edge import EdgeStore

from support import write_article

pytestmark = pytest.mark.slow
REQUIRED_KEYS = {
    "articles",
    "locales",
    "categories",
    "added",
    "updated",
    "removed",
    "unchanged",
    "chunks_embedded",
    "errors",
    "seconds",
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    root = tmp_path / "articles"
    write_article(
        root,
        "en/account/reset.md",
        id="reset-password",
        title="Reset your password",
        body="Open Settings → Security and click Reset password.",
    )
    write_article(root, "en/billing/refund.md", id="refund", title="Refunds", body="Refunds within 14 days of payment.")
    write_article(root, "en/billing/broken.md", id="broken", title="Broken", visibility="secret")
    monkeypatch.setenv("KB_ARTICLES_DIR", str(root))
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KB_MODEL", "sentence-transformers/all-MiniLM-L6-v2")  # the light model keeps this quick
    return tmp_path


def test_index_json_has_the_summary_keys_and_names_the_broken_file(env):
    result = CliRunner().invoke(app, ["index", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert REQUIRED_KEYS <= set(report)
    assert (report["articles"], report["added"], report["locales"]) == (2, 2, ["en"])
    (err,) = report["errors"]
    assert (err["path"], err["field"], err["line"]) == ("en/billing/broken.md", "visibility", 4)
    again = json.loads(CliRunner().invoke(app, ["index", "--json"]).stdout)
    assert (again["unchanged"], again["chunks_embedded"]) == (2, 0)


def test_search_prints_ranked_articles(env):
    CliRunner().invoke(app, ["index"])
    result = CliRunner().invoke(app, ["search", "how do I get my money back", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["id"] == "refund" and hits[0]["url"] == "/articles/refund"


def test_a_held_shard_gives_a_clear_message_not_a_traceback(env):
    CliRunner().invoke(app, ["index"])
    holder = EdgeStore(env / "data" / "shard")
    try:
        result = CliRunner().invoke(app, ["index"])
    finally:
        holder.close()
    assert result.exit_code == 2
    assert "in use by another process" in result.output and "Traceback" not in result.output


def test_missing_articles_folder_is_named(env, monkeypatch):
    monkeypatch.setenv("KB_ARTICLES_DIR", str(env / "nowhere"))
    result = CliRunner().invoke(app, ["index"])
    assert result.exit_code == 2 and "nowhere" in result.output


def test_search_fixes_a_wrong_keyboard_layout_and_says_so(env):
    CliRunner().invoke(app, ["index"])
    result = CliRunner().invoke(app, ["search", "куыуе зфыыцщкв"])
    assert result.exit_code == 0, result.output
    assert "showing results for: reset password" in result.output
    assert "reset-password" in result.output.splitlines()[1]


def test_index_checks_and_publishes_the_search_rules(env):
    rules = env / "articles" / "_rules.yaml"
    rules.write_text(
        "pins:\n  - queries: [money back]\n    article: reset-password\n  - queries: [x]\n    match: fuzzy\n"
    )
    report = json.loads(CliRunner().invoke(app, ["index", "--json"]).stdout)
    bad = [e for e in report["errors"] if e["path"] == "_rules.yaml"]
    assert [(e["line"], e["field"]) for e in bad] == [(4, "pins[1].article"), (5, "pins[1].match")], bad
    result = CliRunner().invoke(app, ["search", "money back", "--json"])
    assert json.loads(result.stdout)[0]["id"] == "reset-password"  # the valid pin is in force, over "Refunds"
