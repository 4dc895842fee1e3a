"""Vector storage behind one interface: an embedded Qdrant Edge shard or a Qdrant server."""

from kb.settings import Settings
from kb.store.base import (
    ChunkPoint,
    Hit,
    QueryVectors,
    Record,
    SearchFilter,
    SparseVec,
    StoreError,
    StoreLockedError,
    VectorStore,
)


def open_store(settings: Settings) -> VectorStore:
    """The backend the settings ask for: `KB_QDRANT_URL` set means a server, otherwise Edge under `KB_DATA_DIR`."""
    if settings.qdrant_url:
        from kb.store.remote import QdrantStore

        return QdrantStore(
            settings.qdrant_url,
            settings.collection,
            settings.qdrant_api_key,
            shards=settings.qdrant_shards,
            replicas=settings.qdrant_replicas,
        )
    from kb.store.edge import EdgeStore

    return EdgeStore(settings.shard_dir)


__all__ = [
    "ChunkPoint",
    "Hit",
    "QueryVectors",
    "Record",
    "SearchFilter",
    "SparseVec",
    "StoreError",
    "StoreLockedError",
    "VectorStore",
    "open_store",
]
