"""The gap report's view of the KB is kept in the index: embedded once, again only for changed lines."""

from __future__ import annotations

import numpy as np

from kb.indexer import Indexer
from reports import kb_view

from support import QueryRecorder, write_article


def test_units_are_embedded_once_and_only_changed_lines_again(store, tmp_path):
    root = tmp_path / "articles"
    write_article(root, "en/a.md", id="a", title="Reset your password", body="Open Settings.\n\nClick Reset.")
    write_article(root, "en/b.md", id="b", title="Dark mode", body="Dark mode is in Appearance.", visibility="draft")
    embedder = QueryRecorder()
    Indexer(store, embedder, chunk_tokens=64).run(root)
    first = kb_view.load(store, embedder)
    assert {a.id for a in first} == {"a", "b"} and set(embedder.queries) >= {"Reset your password", "Open Settings."}
    assert [a.id for a in kb_view.load(store, embedder, ["public"])] == ["a"]  # drafts are left out on request
    embedder.queries.clear()
    Indexer(store, embedder, chunk_tokens=64).run(root)  # nothing changed
    again = kb_view.load(store, embedder)
    assert embedder.queries == []
    assert np.allclose(again[0].vectors, first[0].vectors)
    write_article(root, "en/a.md", id="a", title="Reset your password", body="Open Settings.\n\nPress the button.")
    Indexer(store, embedder, chunk_tokens=64).run(root)
    edited = {a.id: a for a in kb_view.load(store, embedder)}
    assert embedder.queries == ["Press the button."], embedder.queries  # the one new line, nothing else
    assert "Click Reset." not in edited["a"].texts and "Press the button." in edited["a"].texts
    (root / "en" / "b.md").unlink()
    Indexer(store, embedder, chunk_tokens=64).run(root)
    assert [a.id for a in kb_view.load(store, embedder)] == ["a"]  # a removed article's units go too
