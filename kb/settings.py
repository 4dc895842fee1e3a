"""The one settings class: every knob is a `KB_*` environment variable with a working default."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kb"


DEMO_PASSWORD = "orbita-demo"
PLACEHOLDERS = {
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "password",
    "passw0rd",
    "demo",
    "dev",
    "test",
    "example",
    "placeholder",
    "postgres",
    "admin",
    "qwerty",
    "123456",
    "12345678",
    "xxx",
    "todo",
    DEMO_PASSWORD,
}


class SettingsError(ValueError):
    """A setting that must not be used as it is; the message names the variable."""


def _placeholder(value: str, min_length: int) -> bool:
    v = value.strip().lower()
    return len(v) < min_length or v in PLACEHOLDERS or any(p in v for p in ("change-me", "changeme", "change_me"))


class Settings(BaseSettings):
    """Service settings, read from `KB_*` environment variables (and a `.env` file if present)."""

    # populate_by_name: Settings(embed_threads=1) works beside the field's two environment names.
    model_config = SettingsConfigDict(env_prefix="KB_", env_file=".env", extra="ignore", populate_by_name=True)

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
    # torch | onnx | onnx-int8. Unset: onnx (ONNX Runtime, the same vectors as torch, faster) for the bundled e5
    # and MiniLM, torch for any other model. onnx-int8 only when asked for: faster still, vectors ~0.995 cosine.
    embed_backend: Literal["torch", "onnx", "onnx-int8"] | None = None
    # Threads per embedding call. Unset: 1 in the web server, where requests already run side by side
    # (torch: the same latency for one client, +28 % req/s at 8 clients, +37 % at 32), and every core for batch
    # work such as `kb index`. KB_TORCH_THREADS, its old name, still works.
    embed_threads: int | None = Field(
        default=None, ge=1, le=256, validation_alias=AliasChoices("KB_EMBED_THREADS", "KB_TORCH_THREADS")
    )
    chunk_tokens: int = Field(default=256, ge=32, le=512, description="max model tokens per chunk, prompt included")
    # A cross-encoder (sentence-transformers CrossEncoder folder, or a name where a hub is reachable) that re-orders the
    # first results and joins the answered decision. No pinned package ships one, so the default is none.
    reranker: str = Field(default="", description="a local cross-encoder folder; empty: no reranking")

    # Storage: an embedded Qdrant Edge shard under data_dir unless a server URL is set.
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    collection: str = "kb_chunks"
    # Used when `kb index` creates the collection on a cluster: shards spread the points over nodes,
    # replicas keep a copy on other nodes (search goes on when a node is down). Unset: the server's defaults.
    qdrant_shards: int | None = Field(default=None, ge=1, le=1024)
    qdrant_replicas: int | None = Field(default=None, ge=1, le=16)

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the event log; default SQLite in data_dir"
    )
    # Visitors' IP addresses are stored only as an HMAC with this secret (unset: not stored at all).
    ip_salt: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    # Every absolute URL the service writes (sitemap, draft replies) starts with this, never with a request's Host.
    # Unset: http://host:port from the two settings above; read it as `site_url`.
    public_url: str = Field(default="", description="the help center's address, for links in replies and the sitemap")
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated addresses or
    # networks, "*" for any. Empty: nobody's, so a client cannot pick the address it is rate-limited under.
    forwarded_allow_ips: str = ""
    # The largest request body accepted; a larger one gets 413 before it is parsed. 1 MiB, nginx's own default: every
    # public form and JSON call fits many times over; only a ticket for POST /api/suggest near its field limits
    # (100 messages of 20,000 characters) could need more.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # A query becomes an autocomplete suggestion once this many distinct visitors (client addresses, hashed; an IPv6
    # /64 counts as one) searched it and it was answered or clicked: below that, a few clients could choose what
    # every customer is offered.
    autocomplete_min_visitors: int = Field(default=3, ge=2)

    # Development only: create the demo logins `agent` and `admin` (password DEMO_PASSWORD) when no user exists.
    demo_accounts: bool = True
    # Requests per minute per client address on the public search, autocomplete, feedback and contact endpoints,
    # and login attempts per minute. `rate_limit_storage` is a `limits` storage URI: memory:// is per process;
    # use redis://host:6379 to share the counts between several web processes.
    rate_limit_search: int = Field(default=120, ge=1)
    rate_limit_feedback: int = Field(default=30, ge=1)
    rate_limit_login: int = Field(default=10, ge=1)
    # Failed logins per hour per user name, whichever address they come from (known and unknown names alike).
    rate_limit_login_account: int = Field(default=20, ge=1)
    rate_limit_storage: str = "memory://"

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, v: str) -> str:
        from urllib.parse import urlsplit

        if not v.strip():
            return ""
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://help.example.com, without ?query")
        return v.strip().rstrip("/")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, v: str) -> str:
        import ipaddress

        items = [item.strip() for item in v.split(",") if item.strip()]
        for item in items:
            if item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an address or network (e.g. 10.0.0.5, 10.0.0.0/24, *)") from None
        return ",".join(items)

    def check_secrets(self) -> None:
        """Refuse placeholder secrets outside development: raises SettingsError naming the variable."""
        if self.env == "development":
            return
        problems = []
        if self.ip_salt is not None and _placeholder(self.ip_salt.get_secret_value(), 16):
            problems.append("KB_IP_SALT is a placeholder or shorter than 16 characters")
        if self.qdrant_api_key is not None and _placeholder(self.qdrant_api_key, 16):
            problems.append("KB_QDRANT_API_KEY is a placeholder or shorter than 16 characters")
        if self.database_url:
            from sqlalchemy.engine import make_url

            password = make_url(self.database_url).password
            if password is not None and _placeholder(str(password), 12):
                problems.append("the password in KB_DATABASE_URL is a placeholder or shorter than 12 characters")
        if problems:
            raise SettingsError(f"refusing to start with KB_ENV={self.env}: " + "; ".join(problems))

    @property
    def site_url(self) -> str:
        """KB_PUBLIC_URL, else http://host:port (derived when read, so `kb serve --port` changes it too)."""
        if self.public_url:
            return self.public_url
        # An unspecified listening address (0.0.0.0, ::) is reachable on loopback; set KB_PUBLIC_URL for the rest.
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else "::1" if self.host == "::" else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}" + ("" if self.port == 80 else f":{self.port}")

    @property
    def shard_dir(self) -> Path:
        return self.data_dir / "shard"


@lru_cache
def env_settings() -> Settings:
    """The settings from the environment, read once per process."""
    return Settings()
