"""Incremental indexing: only what changed is embedded, replaced whole, removed when gone."""

from __future__ import annotations

import pytest

from kb.indexer import Indexer
from kb.store import SearchFilter
from kb.store.base import Hit
from search.retrieval import Retriever, group_by_article

from support import write_article

LONG = "\n\n".join(f"## Part {i}\n" + " ".join(f"word{i}x{j}" for j in range(40)) for i in range(4))


@pytest.fixture
def kb_dir(tmp_path):
    root = tmp_path / "articles"
    write_article(
        root,
        "en/account/reset.md",
        id="reset-password",
        title="Reset your password",
        body="Open Settings and click Reset password.\n\n## If the email does not arrive\nCheck spam.",
    )
    write_article(root, "en/billing/refund.md", id="refund", title="Refunds", body="Refunds within 14 days.\n\n" + LONG)
    write_article(
        root,
        "ru/account/reset.md",
        id="reset-password-ru",
        title="Сброс пароля",
        locale="ru",
        translation_of="reset-password",
        body="Откройте настройки и нажмите «Сбросить пароль».",
    )
    write_article(
        root,
        "en/admin/escalation.md",
        id="escalation",
        title="Escalation matrix",
        visibility="internal",
        body="Escalate ORB-503 outages to on-call.",
    )
    return root


def article_ids(store):
    return {r.payload["article_id"] for r in store.scroll(["article_id"])}


def test_first_index_embeds_every_chunk_once(store, embedder, kb_dir):
    report = Indexer(store, embedder, chunk_tokens=64).run(kb_dir)
    assert (report.articles, report.added, report.updated, report.removed) == (4, 4, 0, 0)
    assert report.chunks_embedded == report.chunks == store.count() == len(embedder.embedded)
    assert report.locales == ["en", "ru"] and report.categories == ["account", "admin", "billing"]
    assert report.errors == []


def test_reindex_without_changes_embeds_nothing(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    embedder.embedded.clear()
    report = indexer.run(kb_dir)
    assert (report.added, report.updated, report.removed, report.unchanged, report.chunks_embedded) == (0, 0, 0, 4, 0)
    assert embedder.embedded == []


def test_editing_one_section_embeds_only_its_new_chunks(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    chunks_before = store.count()
    embedder.embedded.clear()
    path = kb_dir / "en/billing/refund.md"
    path.write_text(path.read_text().replace("word2x5 ", "changed "), encoding="utf-8")
    report = indexer.run(kb_dir)
    assert (report.updated, report.unchanged, report.chunks_embedded) == (1, 3, 1)
    assert len(embedder.embedded) == 1 and "changed" in embedder.embedded[0]
    assert store.count() == chunks_before  # replaced, not added beside the old version
    gens = {
        r.payload["generation"]
        for r in store.scroll(["article_id", "generation"])
        if r.payload["article_id"] == "refund"
    }
    assert len(gens) == 1


def test_metadata_change_rewrites_the_article_without_embedding(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    embedder.embedded.clear()
    write_article(
        kb_dir,
        "en/account/reset.md",
        id="reset-password",
        title="Reset your password",
        visibility="draft",
        body="Open Settings and click Reset password.\n\n## If the email does not arrive\nCheck spam.",
    )
    report = indexer.run(kb_dir)
    # Visibility is payload, not embedded text: the article is rewritten, its vectors reused.
    assert report.updated == 1 and report.chunks_embedded == 0
    assert store.count(SearchFilter(visibilities=["public"], article_ids=["reset-password"])) == 0


def test_deleted_article_disappears(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    (kb_dir / "en/billing/refund.md").unlink()
    report = indexer.run(kb_dir)
    assert report.removed == 1 and "refund" not in article_ids(store)
    assert report.articles == 3


def test_renamed_id_replaces_old_with_new_and_reuses_vectors(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    embedder.embedded.clear()
    text = (kb_dir / "en/billing/refund.md").read_text().replace("id: refund", "id: refund-policy")
    (kb_dir / "en/billing/refund.md").write_text(text, encoding="utf-8")
    report = indexer.run(kb_dir)
    ids = article_ids(store)
    assert "refund" not in ids and "refund-policy" in ids
    assert (report.added, report.removed, report.chunks_embedded) == (1, 1, 0)


def test_broken_edit_keeps_the_last_good_version_and_names_the_problem(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    path = kb_dir / "en/billing/refund.md"
    path.write_text(path.read_text().replace("title: Refunds", "title: [oops"), encoding="utf-8")
    report = indexer.run(kb_dir)
    assert "refund" in article_ids(store)
    (err,) = report.errors
    assert err["path"] == "en/billing/refund.md" and err["line"] == 3 and "stays searchable" in err["message"]


def test_new_broken_and_duplicate_files_are_reported_and_the_rest_indexed(store, embedder, kb_dir):
    write_article(kb_dir, "en/x/dup.md", id="refund", title="Another refund")
    write_article(kb_dir, "en/x/bad.md", id="bad", title="Bad", visibility="secret")
    write_article(kb_dir, "en/x/extra.md", id="extra", title="Extra", owner="me")
    report = Indexer(store, embedder, chunk_tokens=64).run(kb_dir)
    assert report.articles == 5
    by_path = {e["path"]: e for e in report.errors}
    assert "duplicate id 'refund'" in by_path["en/x/dup.md"]["message"]
    assert by_path["en/x/bad.md"]["field"] == "visibility"
    assert [(w["path"], w["field"]) for w in report.warnings] == [("en/x/extra.md", "owner")]


def test_crash_midway_leaves_a_searchable_index_that_the_next_run_completes(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    for rel in ("en/account/reset.md", "en/billing/refund.md"):
        p = kb_dir / rel
        p.write_text(p.read_text() + "\nNew closing line.", encoding="utf-8")

    def crash(article_id):
        raise KeyboardInterrupt  # stands in for kill -9 right after the first article's new version is written

    with pytest.raises(KeyboardInterrupt):
        Indexer(store, embedder, chunk_tokens=64, on_article_written=crash).run(kb_dir)
    # Old and new generations of one article coexist; search shows one version per article.
    hits = Retriever(store, embedder).search("password reset refunds", 10)
    assert len({h.id for h in hits}) == len(hits)
    report = indexer.run(kb_dir)
    assert report.updated == 2 and report.errors == []
    for aid in ("reset-password", "refund"):
        gens = {
            r.payload["generation"]
            for r in store.scroll(["article_id", "generation"])
            if r.payload["article_id"] == aid
        }
        assert len(gens) == 1


def test_grouping_keeps_only_the_newest_generation_of_an_article():
    hits = [
        Hit("1", 0.9, {"article_id": "a", "generation": 1, "text": "old best"}),
        Hit("2", 0.8, {"article_id": "b", "generation": 5, "text": "b"}),
        Hit("3", 0.7, {"article_id": "a", "generation": 2, "text": "new"}),
    ]
    grouped = group_by_article(hits, 10)
    assert [(g.id, g.text) for g in grouped] == [("b", "b"), ("a", "new")]


def test_model_change_rebuilds_everything(store, embedder, kb_dir):
    Indexer(store, embedder, chunk_tokens=64).run(kb_dir)
    embedder.name = "test/another-model"
    embedder.embedded.clear()
    report = Indexer(store, embedder, chunk_tokens=64).run(kb_dir)
    assert report.rebuilt and report.chunks_embedded == report.chunks == len(embedder.embedded)


def test_internal_articles_are_indexed_but_not_public(store, embedder, kb_dir):
    Indexer(store, embedder, chunk_tokens=64).run(kb_dir)
    public = Retriever(store, embedder).search("escalate outages on-call", 10)
    agents = Retriever(store, embedder).search("escalate outages on-call", 10, visibilities=("public", "internal"))
    assert "escalation" not in {h.id for h in public}
    assert agents[0].id == "escalation"


def test_optimized_index_answers_the_same(store, embedder, kb_dir):
    indexer = Indexer(store, embedder, chunk_tokens=64)
    indexer.run(kb_dir)
    before = [h.id for h in Retriever(store, embedder).search("refunds within days", 10)]
    path = kb_dir / "en/billing/refund.md"
    path.write_text(path.read_text() + "\nOne more line.", encoding="utf-8")
    report = indexer.run(kb_dir, optimize=True)
    assert report.updated == 1
    assert [h.id for h in Retriever(store, embedder).search("refunds within days", 10)] == before
