"""Snippets and passages read as plain sentences: no Markdown table pipes, list markers or code show through."""

from __future__ import annotations

import re

import pytest

from kb import analysis
from kb.sections import split_sections
from search.snippets import passage, plain, snippet

from support import REPO, index_kb, serve_app

ERROR_TABLE = """Find your code in the table below.

| Code | Message | Cause | Fix |
|---|---|---|---|
| ORB-401 | "Your session has expired." | You were signed out, or the API token expired | Sign in again |
| ORB-403 | "You don't have access." | Your role does not allow it | Ask an admin |
"""

API_GUIDE = """To list tasks, call the API with your token:

```bash
curl -s "https://api.orbita.example/v1/tasks?project=WEB" \\
  -H "Authorization: Bearer orb_pat_3f9c1e7b2a"
```

A successful response looks like this:

```json
{
  "data": [{"id": "tsk_01", "title": "Prepare release notes"}]
}
```

\\* Admins can allow Members to invite others.
"""


def section_text(body: str) -> str:
    return "\n".join(b for s in split_sections(body) for b in s.blocks)


def test_table_rows_read_as_sentences():
    text = plain(section_text(ERROR_TABLE))
    assert "|" not in text
    assert 'ORB-401: "Your session has expired."; You were signed out, or the API token expired; Sign in again.' in text
    shown = snippet(section_text(ERROR_TABLE), set(analysis.terms("signed session", "en")), "en")
    assert "|" not in shown and "<mark>signed</mark>" in shown


def test_code_and_list_markers_stay_out_of_snippets():
    text = plain(section_text(API_GUIDE))
    assert text == (
        "To list tasks, call the API with your token: A successful response looks like this: "
        "Admins can allow Members to invite others."
    )
    for shown in (snippet(section_text(API_GUIDE), {"token"}, "en"), passage(section_text(API_GUIDE), {"token"}, "en")):
        assert "curl" not in shown and "{" not in shown and "\\*" not in shown and "*" not in shown


def test_a_section_of_code_only_still_has_a_snippet():
    only_code = section_text("```\ncurl https://api.orbita.example/invoices\n```\n")
    assert plain(only_code) == "curl https://api.orbita.example/invoices"


def test_no_shipped_article_shows_markdown_in_a_snippet():
    """Every section of the shipped help center, as snippets and answer-card passages see it."""
    import frontmatter

    leaks = []
    for path in sorted((REPO / "articles").rglob("*.md")):
        for sec in split_sections(frontmatter.load(path).content):
            text = plain(sec.text)
            if (
                re.search(r"\S \| \S.* \| \S", text)
                or "```" in text
                or re.search(r"(?:^|\. )(?:\\?[-*+]|\d+\.) \w", text)
            ):
                leaks.append(f"{path.relative_to(REPO)} › {sec.heading}: {text[:120]}")
    assert leaks == []


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serve_app(index_kb(tmp_path_factory.mktemp("snippetkb"))) as c:
        yield c


def test_search_results_show_no_table_pipes_or_code(client):
    results = client.get("/api/search", params={"q": "Business plan price invoices"}).json()["results"]
    invoices = next(r for r in results if r["id"] == "invoices")
    assert "|" not in invoices["snippet"] and "curl" not in invoices["snippet"]
    assert "Business: 15." in re.sub(r"</?mark>", "", invoices["snippet"])


def test_a_sentence_that_starts_with_import_is_prose_not_code():
    from search.snippets import plain

    text = "Step 3 of part 2:\nimport contacts from your old tool marker-v1.\nimport os, sys"
    # The sentence stays in the snippet; the Python import line is code and is left out beside prose.
    assert plain(text) == "Step 3 of part 2: import contacts from your old tool marker-v1."
