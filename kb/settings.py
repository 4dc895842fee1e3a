"""The one settings class: every knob is a `KB_*` environment variable with a working default."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kb"


class Settings(BaseSettings):
    """Service settings, read from `KB_*` environment variables (and a `.env` file if present)."""

    model_config = SettingsConfigDict(env_prefix="KB_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    articles_dir: Path = Path("articles")
    data_dir: Path = Path("data")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="where rebuilt models are kept")

    # Embedding model: a known name resolves offline from a pinned package; anything else is
    # handed to sentence-transformers as a name or path.
    model: str = "intfloat/multilingual-e5-small"
    query_prompt: str | None = Field(default=None, description="default: 'query: ' for e5 models, none otherwise")
    passage_prompt: str | None = Field(default=None, description="default: 'passage: ' for e5 models, none otherwise")
    embed_batch_size: int = Field(default=32, ge=1, le=1024)
    chunk_tokens: int = Field(default=256, ge=32, le=512, description="max model tokens per chunk, prompt included")

    # Storage: an embedded Qdrant Edge shard under data_dir unless a server URL is set.
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    collection: str = "kb_chunks"

    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the event log; default SQLite in data_dir")
    # Visitors' IP addresses are stored only as an HMAC with this secret (unset: not stored at all).
    ip_salt: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def shard_dir(self) -> Path:
        return self.data_dir / "shard"


@lru_cache
def get_settings() -> Settings:
    return Settings()
