"""The scale-out backend: a Qdrant server or cluster through qdrant-client (`:memory:` stands in for it in tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

from qdrant_client import QdrantClient, models

from kb.store.base import (
    DENSE,
    HIT_FIELDS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    SPARSE,
    ChunkPoint,
    Hit,
    QueryVectors,
    Record,
    SearchFilter,
    Side,
    SparseVec,
    StoreError,
    VectorStore,
    meta_id,
)


def _filter(flt: SearchFilter | None) -> models.Filter:
    must, must_not = (flt or SearchFilter(types=None)).conditions()
    return models.Filter(
        must=[models.FieldCondition(key=k, match=models.MatchAny(any=v)) for k, v in must],
        must_not=[models.FieldCondition(key=k, match=models.MatchAny(any=v)) for k, v in must_not] or None,
    )


class QdrantStore(VectorStore):
    """One collection on a Qdrant server; shards and replicas are the cluster's business."""

    def __init__(
        self,
        url: str,
        collection: str,
        api_key: str | None = None,
        shards: int | None = None,
        replicas: int | None = None,
    ):
        self.collection = collection
        self.shards, self.replicas = shards, replicas
        self.local = url == ":memory:"
        self.client = QdrantClient(location=":memory:") if self.local else QdrantClient(url=url, api_key=api_key)
        self.dim = None
        try:
            if self.client.collection_exists(collection):
                params = self.client.get_collection(collection).config.params.vectors
                self.dim = params[DENSE].size if isinstance(params, dict) else None
        except Exception as e:
            raise StoreError(f"cannot reach Qdrant at {url}: {e}") from None

    def ensure_collection(self, dim: int) -> None:
        if self.dim is not None:
            if self.dim != dim:
                raise StoreError(
                    f"collection {self.collection!r} holds {self.dim}-dim vectors, the model gives {dim}: "
                    "re-index from scratch (`kb index --rebuild`)"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            shard_number=self.shards,
            replication_factor=self.replicas,
        )
        if not self.local:  # the in-process stand-in ignores payload indexes (and warns about them)
            for name in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
            for name in INTEGER_FIELDS:
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.INTEGER)
        self.dim = dim

    def reset(self, dim: int) -> None:
        self.client.delete_collection(self.collection)
        self.dim = None
        self.ensure_collection(dim)

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        self.client.upsert(
            self.collection,
            wait=True,
            points=[
                models.PointStruct(
                    id=p.id,
                    vector={
                        DENSE: list(map(float, p.dense)),
                        **(
                            {SPARSE: models.SparseVector(indices=p.sparse.indices, values=p.sparse.values)}
                            if p.sparse
                            else {}
                        ),
                    },
                    payload=p.payload,
                )
                for p in points
            ],
        )

    def delete_ids(self, ids: Sequence[str]) -> None:
        if ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            flt = models.Filter(
                must=[models.FieldCondition(key="article_id", match=models.MatchAny(any=list(article_ids)))]
            )
            self.client.delete(self.collection, points_selector=models.FilterSelector(filter=flt), wait=True)

    def scroll(self, fields: Sequence[str], only_chunks: bool = True, batch: int = 2048) -> Iterator[Record]:
        if self.dim is None:
            return
        flt = (
            models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="chunk"))])
            if only_chunks
            else None
        )
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection,
                scroll_filter=flt,
                limit=batch,
                offset=offset,
                with_payload=list(fields),
                with_vectors=False,
            )
            for r in records:
                yield Record(str(r.id), r.payload or {})
            if offset is None:
                return

    def records(self, flt: SearchFilter, fields: Sequence[str] | None = None, limit: int = 1000) -> list[Record]:
        if self.dim is None:
            return []
        recs, _ = self.client.scroll(
            self.collection,
            scroll_filter=_filter(flt),
            limit=limit,
            with_payload=list(fields) if fields else True,
            with_vectors=False,
        )
        return [Record(str(r.id), r.payload or {}) for r in recs]

    def dense_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids or self.dim is None:
            return {}
        recs = self.client.retrieve(self.collection, ids=list(ids), with_payload=False, with_vectors=[DENSE])
        # DENSE is a single vector, never a multi-vector.
        return {
            str(r.id): cast(list[float], vec)
            for r in recs
            if isinstance(r.vector, dict) and isinstance(vec := r.vector.get(DENSE), list)
        }

    def scan_vectors(self, flt: SearchFilter, fields: Sequence[str], batch: int = 1024) -> Iterator[Record]:
        if self.dim is None:
            return
        offset = None
        while True:
            recs, offset = self.client.scroll(
                self.collection,
                scroll_filter=_filter(flt),
                limit=batch,
                offset=offset,
                with_payload=list(fields),
                with_vectors=[DENSE, SPARSE],
            )
            for r in recs:
                vec = r.vector if isinstance(r.vector, dict) else {}
                dense, sp = vec.get(DENSE), vec.get(SPARSE)
                yield Record(
                    str(r.id),
                    r.payload or {},
                    cast(list[float], dense) if isinstance(dense, list) else None,  # DENSE is never a multi-vector
                    SparseVec(list(sp.indices), list(sp.values)) if isinstance(sp, models.SparseVector) else None,
                )
            if offset is None:
                return

    def query(self, vectors: QueryVectors, flt: SearchFilter, limit: int, mode: Side = "dense") -> list[Hit]:
        if self.dim is None:
            return []
        query: list[float] | models.SparseVector
        if mode == "dense" and vectors.dense is not None:
            query, using = list(map(float, vectors.dense)), DENSE
        elif mode == "sparse" and vectors.sparse:
            query, using = models.SparseVector(indices=vectors.sparse.indices, values=vectors.sparse.values), SPARSE
        else:
            return []
        res = self.client.query_points(
            self.collection,
            query=query,
            using=using,
            query_filter=_filter(flt),
            limit=limit,
            with_payload=list(HIT_FIELDS),
        )
        return [Hit(str(p.id), p.score, p.payload or {}) for p in res.points]

    def count(self, flt: SearchFilter | None = None) -> int:
        if self.dim is None:
            return 0
        return self.client.count(self.collection, count_filter=_filter(flt), exact=True).count

    def get_meta(self, name: str = "index") -> dict | None:
        if self.dim is None:
            return None
        recs = self.client.retrieve(self.collection, ids=[meta_id(name)], with_payload=True, with_vectors=False)
        return dict(recs[0].payload or {}) if recs else None

    def set_meta(self, meta: dict, name: str = "index") -> None:
        self.client.upsert(
            self.collection,
            wait=True,
            points=[models.PointStruct(id=meta_id(name), vector={}, payload={**meta, "kind": "meta"})],
        )

    def close(self) -> None:
        self.client.close()
