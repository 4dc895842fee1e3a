"""The vector store interface that both backends (Qdrant Edge, qdrant-client) implement."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

DENSE = "dense"
SPARSE = "sparse"
# Payload fields with an index: the ones searches filter on and the indexer looks up by.
KEYWORD_FIELDS = ("article_id", "locale", "visibility", "category", "kind", "group_id", "type")
INTEGER_FIELDS = ("generation", "chunk_index")
# What a search hit carries: everything but the article body (kept once per article for its page).
HIT_FIELDS = (
    "article_id",
    "group_id",
    "generation",
    "chunk_index",
    "title",
    "locale",
    "category",
    "visibility",
    "type",
    "tags",
    "updated",
    "translation_of",
    "section",
    "anchor",
    "heading_path",
    "text",
)
TITLE_INDEX = -1  # the chunk_index of the one point per article that embeds its title alone
META_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kb:index-meta"))


def meta_id(name: str) -> str:
    """The id of a named meta document: "index" is the index's own, others hold what is fitted on it."""
    return META_ID if name == "index" else str(uuid.uuid5(uuid.NAMESPACE_URL, f"kb:{name}-meta"))


Side = Literal["dense", "sparse"]


class StoreError(Exception):
    """A storage problem explained for the person running the service."""


class StoreLockedError(StoreError):
    """Another process holds the embedded index."""


@dataclass
class SparseVec:
    indices: list[int]
    values: list[float]

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass
class ChunkPoint:
    id: str
    dense: Sequence[float]
    sparse: SparseVec
    payload: dict


@dataclass
class Hit:
    id: str
    score: float
    payload: dict


@dataclass
class Record:
    id: str
    payload: dict
    dense: list[float] | None = None
    sparse: SparseVec | None = None


@dataclass
class SearchFilter:
    """Conditions every result must meet; None means no condition on that field."""

    locales: list[str] | None = None
    visibilities: list[str] | None = None
    categories: list[str] | None = None
    article_ids: list[str] | None = None
    exclude_article_ids: list[str] = field(default_factory=list)
    types: list[str] | None = field(default_factory=lambda: ["article"])
    group_ids: list[str] | None = None
    title_points: bool | None = None  # True: one point per article (the title point); False: body chunks only
    kind: str = "chunk"  # what kind of point: "chunk", or a document kept beside the chunks (reports' "gap_units")

    def conditions(self) -> tuple[list[tuple[str, list]], list[tuple[str, list]]]:
        """(must match any of, must not match any of) pairs, always restricted to one kind of point (chunks)."""
        must: list[tuple[str, list]] = [("kind", [self.kind])]
        for key, values in (
            ("locale", self.locales),
            ("visibility", self.visibilities),
            ("category", self.categories),
            ("article_id", self.article_ids),
            ("type", self.types),
        ):
            if values is not None:
                must.append((key, list(values)))
        if self.group_ids is not None:
            must.append(("group_id", list(self.group_ids)))
        if self.title_points:
            must.append(("chunk_index", [TITLE_INDEX]))
        must_not: list[tuple[str, list]] = (
            [("article_id", list(self.exclude_article_ids))] if self.exclude_article_ids else []
        )
        if self.title_points is False:
            must_not.append(("chunk_index", [TITLE_INDEX]))
        return must, must_not


@dataclass
class QueryVectors:
    dense: Sequence[float] | None
    sparse: SparseVec | None


class VectorStore(ABC):
    """Chunks with a dense and a sparse named vector, payload-filtered, fused in Qdrant."""

    dim: int | None

    @abstractmethod
    def ensure_collection(self, dim: int) -> None:
        """Create the collection and its payload indexes if missing; a dimension mismatch is an error."""

    @abstractmethod
    def reset(self, dim: int) -> None:
        """Drop everything and start an empty collection of this dimension."""

    @abstractmethod
    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        """Write points in one operation."""

    @abstractmethod
    def delete_ids(self, ids: Sequence[str]) -> None: ...

    @abstractmethod
    def delete_articles(self, article_ids: Sequence[str]) -> None: ...

    @abstractmethod
    def scroll(self, fields: Sequence[str], only_chunks: bool = True, batch: int = 2048) -> Iterator[Record]:
        """Every point's id and the named payload fields."""

    @abstractmethod
    def records(self, flt: SearchFilter, fields: Sequence[str] | None = None, limit: int = 1000) -> list[Record]:
        """Points matching a filter with the named payload fields (all fields when None)."""

    @abstractmethod
    def dense_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]: ...

    @abstractmethod
    def scan_vectors(self, flt: SearchFilter, fields: Sequence[str], batch: int = 1024) -> Iterator[Record]:
        """Every point matching a filter, with the named payload fields and both vectors."""

    @abstractmethod
    def query(self, vectors: QueryVectors, flt: SearchFilter, limit: int, mode: Side = "dense") -> list[Hit]:
        """Best chunks by one vector: `dense` (cosine) or `sparse` (BM25 weights with Qdrant's IDF).

        The two sides are fused per article in search.retrieval, not here: fusing chunks inside Qdrant
        (RRF) lets an article's many weak chunks outvote one strong chunk of another article, and lets
        same-language chunks outvote an answer in another language (measured with `kb eval`).
        """

    @abstractmethod
    def count(self, flt: SearchFilter | None = None) -> int: ...

    @abstractmethod
    def get_meta(self, name: str = "index") -> dict | None:
        """A named meta document (see meta_id), or None."""

    @abstractmethod
    def set_meta(self, meta: dict, name: str = "index") -> None: ...

    def optimize(self) -> None:  # noqa: B027 (a no-op default that backends override)
        """Build search indexes for what was written (a no-op where a server does it in the background).

        Qdrant Edge holds the GIL for the whole run (seconds to minutes at 100k points), so this is called
        only by `kb index` and before `kb serve` starts serving, never while requests are served.
        """

    def flush(self) -> None:  # noqa: B027 (a no-op default)
        """Make written data durable (a no-op where the backend does it itself)."""

    def close(self) -> None:  # noqa: B027 (a no-op default)
        """Release files and locks."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
