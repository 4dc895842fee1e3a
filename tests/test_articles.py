"""Loading articles: front matter, validation messages that name file, line and field, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.article_folder import load_articles
from kb.articles import ArticleLoadError, parse_article
from kb.sections import slugify, split_sections

from support import write_article

GOOD = b"""---
id: reset-password
title: How to reset your password
locale: en
category: account
tags: [login, security]
visibility: public
updated: 2026-11-01
---
Intro.

## Steps
1. Open Settings.
"""


def test_good_article_parses_with_every_field():
    a, warnings = parse_article(GOOD, "en/account/reset-password.md")
    assert (a.id, a.title, a.locale, a.category, a.visibility) == (
        "reset-password",
        "How to reset your password",
        "en",
        "account",
        "public",
    )
    assert a.tags == ("login", "security") and str(a.updated) == "2026-11-01"
    assert a.body_line == 10 and warnings == []


@pytest.mark.parametrize(
    "raw, line, field, words",
    [
        (b"---\ntitle: T\nvisibility: secret\n---\nBody", 3, "visibility", "unknown value 'secret'"),
        (b"---\ntitle: T\nupdated: someday\n---\nBody", 3, "updated", "date"),
        (b"---\ntitle: T\nid: Bad Id!\n---\nBody", 3, "id", "lowercase"),
        (b"---\ntitle: T\ntype: faq\n---\nBody", 3, "type", "unknown value 'faq'"),
        (b"---\ntitle: [unclosed\n---\nBody", 2, None, "not valid YAML"),
        (b"---\ntitle: T\n  bad: indent\n---\nBody", 3, None, "not valid YAML"),
        (b"---\ntitle: T\n---\n   \n\n", 4, None, "body is empty"),
        (b"---\nlocale: en\n---\nno heading here", 1, "title", "no title"),
        (b"---\n- a\n- b\n---\nBody", 2, None, "mapping"),
    ],
    ids=["visibility", "date", "id", "type", "yaml-unclosed", "yaml-indent", "empty-body", "no-title", "list-fm"],
)
def test_bad_front_matter_names_line_and_field(raw, line, field, words):
    with pytest.raises(ArticleLoadError) as e:
        parse_article(raw, "en/x.md")
    p = e.value.problems[0]
    assert p.path == "en/x.md" and p.line == line and p.field == field
    assert words in p.message
    assert str(p).startswith(f"en/x.md:{line}: error")


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"\x00\x01binary", "binary"),
        (b"---\ntitle: \xff\xfe\n---\nx", "UTF-8"),
        (b"x" * 1_000_001, "larger than"),
    ],
)
def test_binary_and_huge_files_are_refused(raw, words):
    with pytest.raises(ArticleLoadError, match=words):
        parse_article(raw, "en/x.md")


def test_unknown_field_is_a_warning_not_an_error():
    a, warnings = parse_article(b"---\ntitle: T\nauthor: me\n---\nBody", "en/x.md")
    assert a.title == "T"
    assert [(w.field, w.line, w.severity) for w in warnings] == [("author", 3, "warning")]


def test_defaults_come_from_path_and_first_heading():
    a, _ = parse_article(
        "# Как сбросить пароль\nОткройте настройки.".encode(),
        "ru/account/sbros.md",
        default_locale="ru",
        default_category="account",
    )
    assert (a.id, a.title, a.locale, a.category) == ("ru/account/sbros", "Как сбросить пароль", "ru", "account")


def test_folder_loading_reports_broken_and_duplicate_files_and_keeps_the_rest(tmp_path):
    write_article(tmp_path, "en/a.md", id="a", title="A")
    write_article(tmp_path, "en/b.md", id="a", title="B")  # duplicate id
    write_article(tmp_path, "en/c.md", id="c", title="C", visibility="nope")
    (tmp_path / "en" / "d.md").write_bytes(b"\x00\x00")
    write_article(tmp_path, "en/e.md", id="e", title="E")
    result = load_articles(tmp_path)
    assert sorted(a.id for a in result.articles) == ["a", "e"]
    msgs = {e.path: e.message for e in result.errors}
    assert "duplicate id 'a'" in msgs["en/b.md"] and "en/a.md" in msgs["en/b.md"]
    assert "visibility" in str([e for e in result.errors if e.path == "en/c.md"][0])
    assert "binary" in msgs["en/d.md"]


def test_symlink_outside_the_folder_is_not_read(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: Secret\n---\nroot password", encoding="utf-8")
    root = tmp_path / "articles"
    root.mkdir()
    (root / "link.md").symlink_to(outside)
    result = load_articles(root)
    assert result.articles == [] and "outside" in result.errors[0].message


def test_sections_have_heading_paths_anchors_and_plain_text():
    body = (
        "Intro with [a link](x.md).\n\n## Steps\n1. Open **Settings**.\n\n"
        "### Під-крок\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Steps\nagain"
    )
    secs = split_sections(body)
    assert [(s.heading_path, s.anchor) for s in secs] == [
        ([], ""),
        (["Steps"], "steps"),
        (["Steps", "Під-крок"], "під-крок"),
        (["Steps"], "steps-1"),
    ]
    assert secs[0].text == "Intro with a link." and secs[1].text == "Open Settings."
    assert secs[2].blocks == ["a | b", "1 | 2"]


def test_slugify_keeps_cyrillic():
    assert slugify("Змінити пароль (швидко)") == "змінити-пароль-швидко"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: ("---\n" + t).encode("utf-8", "surrogatepass")))
def test_parser_never_crashes_on_arbitrary_bytes(raw):
    try:
        article, _ = parse_article(raw, "en/fuzz.md", default_locale="en")
    except ArticleLoadError as e:
        assert e.problems and all(p.path == "en/fuzz.md" and p.message for p in e.problems)
    else:
        assert article.title and article.body.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_sections_never_crash_and_keep_the_words(body):
    secs = split_sections(body)
    assert all(s.blocks for s in secs)
