"""The embedded backend: a Qdrant Edge shard (the real Qdrant engine, in-process) under the data folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import qdrant_edge as qe

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
    StoreLockedError,
    VectorStore,
    meta_id,
)

# Qdrant Edge writes through memory-mapped files, and a write that finds the disk full there kills the process
# (SIGBUS) instead of raising an error, in the middle of whatever it was doing. So writes that add data start
# only with this much free space (plus an estimate of what they add), and say so clearly when it is missing;
# small bookkeeping writes need less, so an index with nothing to change still opens and serves.
MIN_FREE_BYTES = 64 * 2**20
MIN_FREE_BYTES_SMALL = 4 * 2**20


def _filter(flt: SearchFilter | None) -> qe.Filter:
    must, must_not = (flt or SearchFilter(types=None)).conditions()
    return qe.Filter(
        must=[qe.FieldCondition(key=k, match=qe.MatchAny(any=v)) for k, v in must],
        must_not=[qe.FieldCondition(key=k, match=qe.MatchAny(any=v)) for k, v in must_not] or None,
    )


def _config(dim: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


class EdgeStore(VectorStore):
    """One Qdrant Edge shard; one process owns it (Edge locks its write-ahead log)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.dim = None
        self._shard: qe.EdgeShard | None = None
        if (self.path / "edge_config.json").exists():
            self._shard = self._open(lambda: qe.EdgeShard.load(str(self.path)))
            self.dim = self._read_dim()

    def _open(self, opener):
        try:
            return opener()
        except Exception as e:  # Edge raises plain Exception with the Rust error text
            text = str(e)
            if "WouldBlock" in text or "lock" in text.lower():
                raise StoreLockedError(
                    f"the index at {self.path} is in use by another process (is another `kb` command or the server "
                    f"running?). Wait for it to finish or stop it, then try again."
                ) from None
            if "Read-only" in text or "Permission denied" in text:
                raise StoreError(f"cannot write the index at {self.path}: {text}") from None
            if "No space left" in text:
                raise StoreError(f"not enough free disk space to open the index at {self.path}: {text}") from None
            raise StoreError(f"cannot open the index at {self.path}: {text}") from None

    def _read_dim(self) -> int | None:
        try:
            cfg = json.loads((self.path / "edge_config.json").read_text())
            return int(cfg["vectors"][DENSE]["size"])
        except (OSError, KeyError, ValueError, TypeError):
            return None

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise StoreError("the index is empty: run `kb index` first")
        return self._shard

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except Exception as e:
            text = str(e)
            if "No space left" in text or "Not enough space" in text:
                raise StoreError(
                    f"not enough free disk space for the index at {self.path}: {text}. Free some "
                    "space and run `kb index` again; what is already indexed stays searchable."
                ) from None
            if "Read-only" in text or "Permission denied" in text:
                raise StoreError(f"cannot write the index at {self.path}: {text}") from None
            raise

    def check_space(self, minimum: int = MIN_FREE_BYTES, adding: int = 0) -> None:
        """StoreError unless the disk holding the shard has minimum + 2 * adding bytes free (see MIN_FREE_BYTES)."""
        where = self.path
        while not where.exists() and where != where.parent:
            where = where.parent
        try:
            free = shutil.disk_usage(where).free
        except OSError:
            return  # cannot tell: let the write itself report
        need = minimum + 2 * adding  # the write-ahead log and the segment each hold a copy
        if free < need:
            raise StoreError(
                f"not enough free disk space for the index at {self.path}: {free / 2**20:.1f} MiB free on "
                f"{os.path.realpath(where)}, writing needs at least {need / 2**20:.0f} MiB (a full disk would crash "
                "the index mid-write). Free some space and run `kb index` again; what is already indexed stays "
                "searchable."
            )

    def _update(self, op, minimum: int = MIN_FREE_BYTES_SMALL, adding: int = 0) -> None:
        self.check_space(minimum, adding)
        self._call(self.shard.update, op)

    def ensure_collection(self, dim: int) -> None:
        if self._shard is not None:
            if self.dim not in (None, dim):
                raise StoreError(
                    f"the index at {self.path} holds {self.dim}-dim vectors, the model gives {dim}: "
                    "re-index from scratch (`kb index --rebuild`)"
                )
            return
        self.check_space(MIN_FREE_BYTES)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the index at {self.path}: {e.strerror or e}") from None
        self._shard = self._open(lambda: qe.EdgeShard.create(str(self.path), _config(dim)))
        self.dim = dim
        for name in KEYWORD_FIELDS:
            self._update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
        for name in INTEGER_FIELDS:
            self._update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Integer))

    def reset(self, dim: int) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        shutil.rmtree(self.path, ignore_errors=True)
        self.dim = None
        self.ensure_collection(dim)

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        edge_points = [
            qe.Point(
                p.id,
                {DENSE: list(map(float, p.dense)), SPARSE: qe.SparseVector(p.sparse.indices, p.sparse.values)}
                if p.sparse
                else {DENSE: list(map(float, p.dense))},
                p.payload,
            )
            for p in points
        ]
        adding = sum(
            4 * len(p.dense) + 12 * len(p.sparse.indices) + len(json.dumps(p.payload, default=str)) for p in points
        )
        self._update(qe.UpdateOperation.upsert_points(edge_points), MIN_FREE_BYTES, adding)

    def delete_ids(self, ids: Sequence[str]) -> None:
        if ids:
            self._update(qe.UpdateOperation.delete_points(list(ids)))

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            flt = qe.Filter(must=[qe.FieldCondition(key="article_id", match=qe.MatchAny(any=list(article_ids)))])
            self._update(qe.UpdateOperation.delete_points_by_filter(flt))

    def scroll(self, fields: Sequence[str], only_chunks: bool = True, batch: int = 2048) -> Iterator[Record]:
        if self._shard is None:
            return
        flt = qe.Filter(must=[qe.FieldCondition(key="kind", match=qe.MatchValue("chunk"))]) if only_chunks else None
        offset = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(offset=offset, limit=batch, filter=flt, with_payload=list(fields), with_vector=False)
            )
            for r in records:
                yield Record(str(r.id), r.payload or {})
            if offset is None:
                return

    def records(self, flt: SearchFilter, fields: Sequence[str] | None = None, limit: int = 1000) -> list[Record]:
        if self._shard is None:
            return []
        recs, _ = self._shard.scroll(
            qe.ScrollRequest(
                limit=limit, filter=_filter(flt), with_payload=list(fields) if fields else True, with_vector=False
            )
        )
        return [Record(str(r.id), r.payload or {}) for r in recs]

    def dense_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids or self._shard is None:
            return {}
        out: dict[str, list[float]] = {}
        for r in self._shard.retrieve(list(ids), with_payload=False, with_vector=[DENSE]):
            vec = r.vector.get(DENSE) if isinstance(r.vector, dict) else None
            if isinstance(vec, list):
                out[str(r.id)] = cast(list[float], vec)  # DENSE is a single vector, never a multi-vector
        return out

    def scan_vectors(self, flt: SearchFilter, fields: Sequence[str], batch: int = 1024) -> Iterator[Record]:
        if self._shard is None:
            return
        offset = None
        while True:
            records, offset = self._shard.scroll(
                qe.ScrollRequest(
                    offset=offset,
                    limit=batch,
                    filter=_filter(flt),
                    with_payload=list(fields),
                    with_vector=[DENSE, SPARSE],
                )
            )
            for r in records:
                vec = r.vector if isinstance(r.vector, dict) else {}
                dense, sp = vec.get(DENSE), vec.get(SPARSE)
                yield Record(
                    str(r.id),
                    r.payload or {},
                    cast(list[float], dense) if isinstance(dense, list) else None,  # DENSE is never a multi-vector
                    SparseVec(list(sp.indices), list(sp.values)) if isinstance(sp, qe.SparseVector) else None,
                )
            if offset is None:
                return

    def query(self, vectors: QueryVectors, flt: SearchFilter, limit: int, mode: Side = "dense") -> list[Hit]:
        if self._shard is None:
            return []
        if mode == "dense" and vectors.dense is not None:
            q = qe.Query.Nearest(list(map(float, vectors.dense)), using=DENSE)
        elif mode == "sparse" and vectors.sparse:
            q = qe.Query.Nearest(qe.SparseVector(vectors.sparse.indices, vectors.sparse.values), using=SPARSE)
        else:
            return []
        req = qe.QueryRequest(limit=limit, query=q, filter=_filter(flt), with_payload=list(HIT_FIELDS))
        return [Hit(str(p.id), p.score, p.payload or {}) for p in self._shard.query(req)]

    def count(self, flt: SearchFilter | None = None) -> int:
        if self._shard is None:
            return 0
        return self._shard.count(qe.CountRequest(filter=_filter(flt), exact=True))

    def get_meta(self, name: str = "index") -> dict | None:
        if self._shard is None:
            return None
        recs = self._shard.retrieve([meta_id(name)], with_payload=True, with_vector=False)
        return dict(recs[0].payload or {}) if recs else None

    def set_meta(self, meta: dict, name: str = "index") -> None:
        # The meta point has no vectors, so no vector query can ever return it.
        self._update(qe.UpdateOperation.upsert_points([qe.Point(meta_id(name), {}, {**meta, "kind": "meta"})]))

    def optimize(self) -> None:
        if self._shard is not None:
            self._call(self._shard.optimize)

    def flush(self) -> None:
        if self._shard is not None:
            self._call(self._shard.flush)

    def close(self) -> None:
        if self._shard is not None:
            try:
                self._call(self._shard.flush)
            finally:
                self._shard.close()
                self._shard = None
