"""Retrieval over a KB whose articles share titles (paragraphs of one page), with the fake embedder."""

from __future__ import annotations

from kb.indexer import Indexer
from kb.store.edge import EdgeStore
from search.retrieval import CANDIDATES, Retriever

from support import CountingEmbedder, write_article


def test_a_query_closest_to_a_shared_title_still_finds_the_paragraph_that_answers(tmp_path):
    # More articles than dense candidates, all under one page title: the query is closer to the title points
    # (which tell no article apart and are dropped) than to any body, so every candidate was a title point.
    for i in range(CANDIDATES + 20):
        body = "The halftime show was headlined by Coldplay" if i == 7 else "Notes on other topics"
        write_article(tmp_path / "articles", f"en/p{i}.md", id=f"p{i}", title="Super Bowl 50", body=body)
    store = EdgeStore(tmp_path / "shard")
    try:
        Indexer(store, CountingEmbedder(), 256).run(tmp_path / "articles")
        retriever = Retriever(store, CountingEmbedder(), rules=lambda: None)
        query = "super bowl 50 super bowl 50 halftime coldplay"
        for mode in ("dense", "hybrid"):
            hits = retriever.search(query, 3, mode=mode)
            assert hits and hits[0].id == "p7", (mode, [h.id for h in hits])
    finally:
        store.close()
