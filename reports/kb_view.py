"""The gap report's view of the KB kept in the store: each article's units and their vectors, embedded once.

Units are an article's title and lines (reports/evidence.py compares queries with them). They
are kept as one vectorless document per article beside the chunks (a named meta document: no search ever sees
it), stamped with the article's content hash, so a report reads them instead of embedding the KB again, and a
changed article is embedded again only for the texts that no stored unit already has (like the chunks).
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.embedder import Embedder
from kb.store import SearchFilter, VectorStore
from kb.store.base import TITLE_INDEX

log = logging.getLogger(__name__)

META_NAME = "gap_units"  # the stamp: which index state and model the documents were made for
DOC = "gap_units"  # the `doc` field of each article's document
VERSION = 3  # 3: section headings are no units of their own (as before the view was kept)
MAX_UNITS_PER_ARTICLE = 64  # a long article is still described well by 64 of its lines
MIN_UNIT_CHARS = 3
# Without "section": the units are the title and the chunks' lines, as the report measured them (docs/gap-detection.md);
# adding each section heading as a heading unit raised the shipped KB's equal error rate from under 0.30 to 0.38.
_CHUNK_FIELDS = ["article_id", "group_id", "generation", "chunk_index", "title", "text", "locale"]
_SPLIT = re.compile(r"(?<=[.!?…;])\s+|\n+")
_MARKUP = re.compile(r"^\s*(?:[-*+>]|\d+[.)]|#+)\s*")


def split_units(text: str) -> list[str]:
    """Lines and sentences of a chunk, without list or heading markers."""
    out = []
    for part in _SPLIT.split(text or ""):
        part = _MARKUP.sub("", part).strip()
        if len(part) >= MIN_UNIT_CHARS:
            out.append(part)
    return out


@dataclass
class ArticleUnits:
    """One article's units as the report compares queries with them."""

    id: str
    title: str
    group: str
    locale: str
    visibility: str
    texts: list[str]
    heading: list[bool]  # a title or section heading (the other pseudo-query pool)
    vectors: np.ndarray  # raw e5 query-prompt vectors, one row per text


def units_of(chunks: list[dict]) -> tuple[list[str], list[bool]]:
    """The units of one article's chunk payloads (one generation): its title and lines, deduplicated."""
    chunks = sorted(chunks, key=lambda p: p.get("chunk_index", 0))
    title = chunks[0].get("title", "") if chunks else ""
    units = [title] if title else []
    headings = {title.lower()}
    for p in chunks:
        if p.get("chunk_index") == TITLE_INDEX:
            continue
        units.extend(split_units(p.get("text", "")))
    seen: set[str] = set()
    kept = [u for u in units if not (u.lower() in seen or seen.add(u.lower()))][:MAX_UNITS_PER_ARTICLE]  # type: ignore[func-returns-value]
    return kept, [u.lower() in headings for u in kept]


def _pack(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: str, n: int) -> np.ndarray:
    a = np.frombuffer(base64.b64decode(text), dtype="<f4")
    return a.reshape(n, -1) if n else np.zeros((0, 0), np.float32)


def _newest(store: VectorStore, fields: list[str], article_ids: list[str] | None = None) -> dict[str, list[dict]]:
    """The chunk payloads of each article's newest generation (articles of type `article`, any visibility)."""
    recs = store.records(SearchFilter(article_ids=article_ids), fields, limit=10_000_000)
    by: dict[str, list[dict]] = {}
    newest: dict[str, int] = {}
    for r in recs:
        aid, gen = r.payload.get("article_id"), int(r.payload.get("generation", 0))
        if aid and gen >= newest.get(aid, -1):
            if gen > newest.get(aid, -1):
                by[aid], newest[aid] = [], gen
            by[aid].append(r.payload)
    return by


def _documents(store: VectorStore, fields: list[str] | None) -> list[dict]:
    flt = SearchFilter(kind="meta", types=None)
    return [r.payload for r in store.records(flt, fields, limit=10_000_000) if r.payload.get("doc") == DOC]


def _stamp(store: VectorStore, embedder: Embedder) -> dict:
    return {"version": VERSION, "embedder": embedder.name, "indexed_at": (store.get_meta() or {}).get("indexed_at")}


def refresh(store: VectorStore, embedder: Embedder, *, force: bool = False) -> dict:
    """Bring the unit documents in line with the index; embeds only texts no stored unit has. Returns counts."""
    t0 = time.perf_counter()
    stamp = _stamp(store, embedder)
    kept = store.get_meta(META_NAME) or {}
    if not force and all(kept.get(k) == v for k, v in stamp.items()):
        return {"articles": 0, "embedded": 0, "unchanged": True, "seconds": 0.0}
    heads = _newest(store, ["article_id", "generation", "article_hash"])
    have = {d["article_id"]: d for d in _documents(store, ["doc", "article_id", "article_hash", "version", "embedder"])}
    current = {aid: ps[0].get("article_hash", "") for aid, ps in heads.items()}
    stale = sorted(
        aid
        for aid, h in current.items()
        if aid not in have
        or have[aid].get("article_hash") != h
        or have[aid].get("version") != VERSION
        or have[aid].get("embedder") != embedder.name
    )
    gone = sorted(set(have) - set(current))
    embedded = 0
    if stale:
        # Vectors already made for a text (by any article, this model) are reused: an edit re-embeds its own lines.
        known: dict[str, np.ndarray] = {}
        for d in _documents(store, None):
            if d.get("embedder") == embedder.name and d.get("version") == VERSION and d.get("texts"):
                known.update(zip(d["texts"], _unpack(d["vectors"], len(d["texts"]))))
        chunks = _newest(store, _CHUNK_FIELDS + ["visibility", "article_hash"], stale)
        plans = {aid: units_of(chunks.get(aid, [])) for aid in stale}
        todo = sorted({t for texts, _ in plans.values() for t in texts if t not in known}, key=len)
        for start in range(0, len(todo), 256):
            batch = todo[start : start + 256]
            known.update(zip(batch, np.asarray(embedder.embed_queries(batch), np.float32)))
        embedded = len(todo)
        for aid, (texts, heading) in plans.items():
            p = chunks[aid][0] if chunks.get(aid) else {}
            vectors = np.stack([known[t] for t in texts]) if texts else np.zeros((0, embedder.dim), np.float32)
            doc = {
                "doc": DOC,
                "version": VERSION,
                "embedder": embedder.name,
                "article_id": aid,
                "article_hash": current[aid],
                "group_id": p.get("group_id") or aid,
                "title": p.get("title", ""),
                "locale": p.get("locale", ""),
                "visibility": p.get("visibility", ""),
                "texts": texts,
                "heading": heading,
                "vectors": _pack(vectors),
            }
            store.set_meta(doc, _name(aid))
    if gone:
        from kb.store.base import meta_id

        store.delete_ids([meta_id(_name(aid)) for aid in gone])
    store.set_meta(stamp, META_NAME)
    store.flush()
    seconds = round(time.perf_counter() - t0, 2)
    log.info("gap units: %d articles refreshed, %d texts embedded, %.1fs", len(stale), embedded, seconds)
    return {"articles": len(stale), "removed": len(gone), "embedded": embedded, "unchanged": False, "seconds": seconds}


def _name(article_id: str) -> str:
    return f"{DOC}:{article_id}"


def load(store: VectorStore, embedder: Embedder, visibilities: Sequence[str] | None = None) -> list[ArticleUnits]:
    """Every article's units with their vectors, refreshed first when the index changed since; sorted by id."""
    refresh(store, embedder)
    out = []
    for d in _documents(store, None):
        if visibilities is not None and d.get("visibility") not in visibilities:
            continue
        texts = list(d.get("texts") or [])
        if not texts:
            continue
        out.append(
            ArticleUnits(
                d["article_id"],
                d.get("title", ""),
                d.get("group_id") or d["article_id"],
                d.get("locale", ""),
                d.get("visibility", ""),
                texts,
                [bool(h) for h in d.get("heading") or [False] * len(texts)],
                _unpack(d["vectors"], len(texts)),
            )
        )
    return sorted(out, key=lambda a: a.id)
