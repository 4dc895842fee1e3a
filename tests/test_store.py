"""The same store behaviour on both backends: Qdrant Edge and qdrant-client."""

from __future__ import annotations

import uuid

import pytest

from kb.store import ChunkPoint, QueryVectors, SearchFilter, SparseVec, StoreError, StoreLockedError
from kb.store.base import META_ID


def point(article: str, n: int, dense, sparse, **payload) -> ChunkPoint:
    base = {
        "kind": "chunk",
        "article_id": article,
        "locale": "en",
        "visibility": "public",
        "category": "account",
        "type": "article",
        "generation": 1,
        "chunk_index": n,
        "text": f"{article} chunk {n}",
    }
    return ChunkPoint(
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{article}/{n}")), dense, SparseVec(*sparse), {**base, **payload}
    )


@pytest.fixture
def filled(store):
    store.ensure_collection(3)
    store.upsert(
        [
            point("pw", 0, [1, 0, 0], ([1, 2], [1.0, 1.0])),
            point("pw-ru", 0, [0.9, 0.1, 0], ([1, 3], [1.0, 1.0]), locale="ru"),
            point("refund", 0, [0, 1, 0], ([4], [1.0]), category="billing"),
            point("internal", 0, [0.95, 0, 0.05], ([1], [1.0]), visibility="internal"),
            point("draft", 0, [1, 0, 0.01], ([1, 2], [1.0, 1.0]), visibility="draft"),
        ]
    )
    return store


def ids(hits):
    return [h.payload["article_id"] for h in hits]


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_each_side_ranks_the_matching_chunk_first(filled, mode):
    hits = filled.query(
        QueryVectors([1, 0, 0], SparseVec([2], [1.0])), SearchFilter(visibilities=["public"]), 3, mode=mode
    )
    assert ids(hits)[0] == "pw"


@pytest.mark.parametrize(
    "flt, expected",
    [
        (SearchFilter(visibilities=["public"]), {"pw", "pw-ru", "refund"}),
        (SearchFilter(visibilities=["public", "internal"]), {"pw", "pw-ru", "refund", "internal"}),
        (SearchFilter(locales=["ru"]), {"pw-ru"}),
        (SearchFilter(categories=["billing"]), {"refund"}),
        (SearchFilter(visibilities=["public"], exclude_article_ids=["pw"]), {"pw-ru", "refund"}),
    ],
)
def test_filters_decide_what_can_be_found(filled, flt, expected):
    for mode in ("dense", "sparse"):
        hits = filled.query(QueryVectors([1, 1, 1], SparseVec([1, 2, 3, 4], [1.0] * 4)), flt, 10, mode=mode)
        assert set(ids(hits)) == expected
    assert filled.count(flt) == len(expected)


def test_sparse_scores_use_idf(filled):
    # Term 1 is in four chunks, term 3 in one: the rare term must weigh more.
    hits = filled.query(QueryVectors(None, SparseVec([1, 3], [1.0, 1.0])), SearchFilter(), 5, mode="sparse")
    assert ids(hits)[0] == "pw-ru"
    assert hits[0].score > hits[1].score


def test_delete_by_article_and_by_id(filled):
    filled.delete_articles(["pw", "refund"])
    assert filled.count(SearchFilter(types=None)) == 3
    one = next(iter(filled.scroll(["article_id"])))
    filled.delete_ids([one.id])
    assert filled.count(SearchFilter(types=None)) == 2


def test_scroll_returns_only_the_named_fields_and_skips_meta(filled):
    filled.set_meta({"model": "m", "dim": 3})
    recs = list(filled.scroll(["article_id"], batch=2))
    assert len(recs) == 5 and all(set(r.payload) == {"article_id"} for r in recs)
    assert filled.get_meta()["model"] == "m"
    # The meta point has no vectors, so no query ever returns it.
    for mode in ("dense", "sparse"):
        hits = filled.query(QueryVectors([1, 0, 0], SparseVec([1], [1.0])), SearchFilter(types=None), 10, mode=mode)
        assert hits and META_ID not in {h.id for h in hits}


def test_dense_vectors_round_trip(filled):
    rec = next(r for r in filled.scroll(["article_id"]) if r.payload["article_id"] == "refund")
    vec = filled.dense_vectors([rec.id])[rec.id]
    assert vec == pytest.approx([0, 1, 0], abs=1e-6)


def test_dimension_mismatch_is_a_clear_error(filled):
    with pytest.raises(StoreError, match="3-dim"):
        filled.ensure_collection(5)


def test_reset_empties_the_store(filled):
    filled.reset(4)
    assert filled.count() == 0 and filled.get_meta() is None
    filled.ensure_collection(4)


def test_empty_store_answers_queries_with_nothing(store):
    assert store.query(QueryVectors([1, 0, 0], SparseVec([1], [1.0])), SearchFilter(), 5) == []
    assert store.count() == 0 and list(store.scroll(["article_id"])) == []


def test_second_opener_of_an_edge_shard_gets_a_clear_message(tmp_path):
    from kb.store.edge import EdgeStore

    first = EdgeStore(tmp_path / "shard")
    first.ensure_collection(3)
    first.flush()
    with pytest.raises(StoreLockedError, match="in use by another process"):
        EdgeStore(tmp_path / "shard")
    first.close()
    EdgeStore(tmp_path / "shard").close()  # free again once the owner closes it


def test_edge_reopens_with_its_data(tmp_path):
    from kb.store.edge import EdgeStore

    s = EdgeStore(tmp_path / "shard")
    s.ensure_collection(3)
    s.upsert([point("pw", 0, [1, 0, 0], ([1], [1.0]))])
    s.close()
    s = EdgeStore(tmp_path / "shard")
    assert s.dim == 3 and s.count() == 1
    s.close()


def test_records_by_filter_with_groups_and_title_points(store):
    store.ensure_collection(3)
    store.upsert(
        [
            point("pw", -1, [1, 0, 0], ([], []), group_id="pw", body="# full body"),
            point("pw", 0, [1, 0, 0], ([1], [1.0]), group_id="pw"),
            point("pw-ru", -1, [1, 0, 0], ([], []), group_id="pw", locale="ru"),
            point("refund", -1, [0, 1, 0], ([], []), group_id="refund"),
        ]
    )
    recs = store.records(SearchFilter(group_ids=["pw"], title_points=True), ["article_id", "locale"])
    assert sorted((r.payload["article_id"], r.payload["locale"]) for r in recs) == [("pw", "en"), ("pw-ru", "ru")]
    (full,) = store.records(SearchFilter(article_ids=["pw"], title_points=True))
    assert full.payload["body"] == "# full body"
    assert {r.payload["article_id"] for r in store.records(SearchFilter(title_points=False), ["article_id"])} == {"pw"}
