"""Replay evaluation of suggestions: past tickets with known right articles → precision@1, precision@3, MRR, and
on tickets with a known `category`, how often routing predicts it.

An article counts as right when it is one of the ticket's `expected` ids or a translation of one (the
panel shows one version per translation group). Feedback is neither used nor recorded while replaying.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.indexer import Indexer
from kb.store import SearchFilter, VectorStore
from kb.store.edge import EdgeStore
from search.evaluation import load_beir, percentile, write_articles
from search.retrieval import Retriever
from suggest.models import TicketIn
from suggest.routing import RoutingTable
from suggest.service import SuggestService


@dataclass
class SuggestReport:
    tickets: str
    count: int
    precision_at_1: float
    precision_at_3: float
    mrr: float  # reciprocal rank of the first right article within the top 10
    latency_ms_p50: float
    latency_ms_p95: float
    categorised: int = 0  # tickets with a known category
    category_accuracy: float | None = None  # share of those whose predicted category is it

    def as_dict(self) -> dict:
        return asdict(self)


def load_tickets(path: Path) -> list[tuple[TicketIn, list[str], str | None]]:
    """Tickets with their `expected` article ids and `category` (None when not given); a bad line is reported
    with its number and field."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            expected = data.get("expected")
            if not isinstance(expected, list) or not expected or not all(isinstance(e, str) for e in expected):
                raise ValueError("field 'expected': a non-empty list of article ids is needed")
            category = data.get("category")
            if category is not None and (not isinstance(category, str) or not category.strip()):
                raise ValueError("field 'category': a category name (text) is needed")
            out.append((TicketIn.model_validate(data), expected, category))
        except ValueError as e:
            raise ValueError(f"{path}:{n}: {e}") from None
    if not out:
        raise ValueError(f"{path}: no tickets")
    return out


def translation_groups(store: VectorStore) -> dict[str, str]:
    """article id → its translation group (its own id when it has no translations)."""
    recs = store.records(
        SearchFilter(title_points=True, visibilities=["public", "internal", "draft"], types=None),
        ["article_id", "group_id"],
        limit=1_000_000,
    )
    return {r.payload["article_id"]: r.payload.get("group_id") or r.payload["article_id"] for r in recs}


def replay(
    service: SuggestService,
    tickets: list[tuple[TicketIn, list[str], str | None]],
    name: str,
    id_map: dict[str, str] | None = None,
) -> SuggestReport:
    groups = translation_groups(service.store)
    p1 = p3 = mrr = 0.0
    latencies = []
    categorised = routed = 0
    for ticket, expected, category in tickets:
        right = {groups.get(e, e) for e in expected}
        t = time.perf_counter()
        response = service.suggest(ticket, log=False, limit=10)
        latencies.append((time.perf_counter() - t) * 1000)
        ranked = [groups.get(a.id, a.id) for a in response.articles]
        if id_map:
            ranked = [id_map.get(a, a) for a in ranked]
        hits = [a in right for a in ranked]
        p1 += hits[0] if hits else 0
        p3 += sum(hits[:3]) / 3
        mrr += next((1 / (i + 1) for i, h in enumerate(hits[:10]) if h), 0.0)
        if category is not None:
            categorised += 1
            routed += bool(response.routing and response.routing["category"] == category)
    n = len(tickets)
    return SuggestReport(
        name,
        n,
        round(p1 / n, 4),
        round(p3 / n, 4),
        round(mrr / n, 4),
        round(percentile(latencies, 50), 1),
        round(percentile(latencies, 95), 1),
        categorised,
        round(routed / categorised, 4) if categorised else None,
    )


def evaluate(
    tickets_path: Path,
    *,
    store: VectorStore | None = None,
    embedder=None,
    corpus: Path | None = None,
    chunk_tokens: int = 256,
    progress: bool = False,
    routing: RoutingTable | None = None,
) -> SuggestReport:
    """Replay over the given index (routed with `routing`), or over a throwaway KB built from a BEIR folder's
    corpus."""
    tickets = load_tickets(tickets_path)
    if corpus is None:
        if store is None:
            raise ValueError("an index (store) or a BEIR corpus is needed")
        return replay(SuggestService(Retriever(store, embedder), routing=routing), tickets, tickets_path.name)
    docs, _, _ = load_beir(corpus)
    with tempfile.TemporaryDirectory(prefix="kb-eval-suggest-") as tmp:
        articles = Path(tmp) / "articles"
        articles.mkdir()
        id_map = write_articles(docs, articles)
        own = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(own, embedder, chunk_tokens, progress=progress).run(articles)
            return replay(SuggestService(Retriever(own, embedder)), tickets, tickets_path.name, id_map)
        finally:
            own.close()
