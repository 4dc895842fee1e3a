"""`kb eval-gaps`: the CLINC150 gap-detection protocol run through the product's own search, log and gap report.

A fifth of the intents (seeded) are held out as articles nobody wrote, the rest become articles; every test
utterance is searched and logged, the report's own steps run on the log, and detection (precision/recall/F1)
and topics (V-measure/ARI/purity over held-out intents) are scored. The protocol and its results:
docs/gap-eval-clinc150.md.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from tqdm import tqdm

from kb.db.events import EventLog
from kb.embedder import Embedder, load_embedder
from kb.indexer import Indexer
from kb.settings import Settings
from kb.store.edge import EdgeStore
from reports.queries import aggregate_searches
from reports.topics import analyse_gaps
from search.retrieval import Retriever
from search.service import SearchService
from search.spelling import SpellCorrector

SEED = 20260505
HELD_OUT_SHARE = 0.2
UTTERANCES_PER_ARTICLE = 8
OOS_SEARCHES = 1000


class IntentSetError(ValueError):
    """An intent set that cannot be evaluated, said in a sentence naming the file and what is wrong."""


def article_id(intent: str) -> str:
    """A valid article id (ID_RE) from an intent: `reverted_card_payment?` → `reverted-card-payment`."""
    slug = re.sub(r"[^a-z0-9._]+", "-", intent.replace("_", "-").lower()).strip("-._")
    return re.sub(r"-{2,}", "-", slug) or "intent"


def article_ids(intents: list[str]) -> dict[str, str]:
    """Distinct valid ids for every intent; names that differ only in punctuation get -2, -3, … in sorted order."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for intent in sorted(intents):
        base = article_id(intent)
        aid, n = base, 1
        while aid in used:
            n += 1
            aid = f"{base}-{n}"
        used.add(aid)
        out[intent] = aid
    return out


def load_intent_set(data_dir: Path) -> dict:
    """DATA_DIR/data_full.json checked: `train` and `test` lists of [text, intent] pairs (`oos_test` optional)."""
    path = Path(data_dir) / "data_full.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntentSetError(f"{path} is missing: pass the folder holding an intent set's data_full.json") from None
    except UnicodeDecodeError as e:
        raise IntentSetError(f"{path} is not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise IntentSetError(f"{path}:{e.lineno}: not valid JSON ({e.msg}, column {e.colno})") from None
    if not isinstance(data, dict):
        raise IntentSetError(f"{path}: expected an object with 'train' and 'test' lists, found {type(data).__name__}")
    for key in ("train", "test", "oos_test"):
        rows = data.get(key)
        if rows is None and key == "oos_test":
            continue
        if not isinstance(rows, list) or (key != "oos_test" and not rows):
            raise IntentSetError(f"{path}: field '{key}' must be a non-empty list of [text, intent] pairs")
        for i, row in enumerate(rows):
            if not (
                isinstance(row, list | tuple)
                and len(row) == 2
                and isinstance(row[0], str)
                and isinstance(row[1], str)
                and row[1].strip()
            ):
                raise IntentSetError(
                    f"{path}: {key}[{i}] is {json.dumps(row, ensure_ascii=False)[:80]}, not a [text, intent] pair"
                )
    if len({i for _, i in data["train"]}) < 2:
        raise IntentSetError(f"{path}: 'train' has fewer than two intents, nothing to hold out")
    return data


def intent_title(intent: str) -> str:
    return intent.replace("_", " ").strip().capitalize()


def split_intents(intents: list[str], seed: int = SEED) -> set[str]:
    """The held-out intents: a seeded draw of len // 5 (at least one when there are two or more)."""
    n = max(1, round(len(intents) * HELD_OUT_SHARE)) if len(intents) > 1 else 0
    return set(random.Random(seed).sample(sorted(intents), n))


def write_articles(data: dict, root: Path, held_out: set[str]) -> int:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        by_intent[intent].append(text)
    ids = article_ids(list(by_intent))
    n = 0
    for intent, texts in sorted(by_intent.items()):
        if intent in held_out:
            continue
        body = "\n".join(f"- {t}" for t in texts[:UTTERANCES_PER_ARTICLE])
        (root / f"{ids[intent]}.md").write_text(
            f"---\nid: {json.dumps(ids[intent])}\ntitle: {json.dumps(intent_title(intent))}\n"
            "locale: en\ncategory: eval\n---\n"
            f"{body}\n",
            encoding="utf-8",
        )
        n += 1
    return n


def _prf(flags: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(f and t for f, t in zip(flags, truth))
    p = tp / max(sum(flags), 1)
    r = tp / max(sum(truth), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _clustering(labels: list[str], clusters: list[str]) -> dict:
    from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure
    from sklearn.metrics.cluster import contingency_matrix

    if not labels:
        return {"v_measure": 0.0, "ari": 0.0, "purity": 0.0, "homogeneity": 0.0, "completeness": 0.0, "searches": 0}
    h, c, v = homogeneity_completeness_v_measure(labels, clusters)
    m = contingency_matrix(labels, clusters)
    return {
        "v_measure": round(float(v), 4),
        "ari": round(float(adjusted_rand_score(labels, clusters)), 4),
        "purity": round(float(m.max(axis=0).sum() / m.sum()), 4),
        "homogeneity": round(float(h), 4),
        "completeness": round(float(c), 4),
        "searches": len(labels),
    }


OOS_LABEL = "(out of scope)"


def topic_quality(topics: list[list[str]], held_out: set[str]) -> dict:
    """intents_found and topic_precision_at_n over absent topics, best-ranked first, each the labels of its searches."""
    majorities = [Counter(labels).most_common(1)[0][0] for labels in topics if labels]
    n = len(held_out)
    top = majorities[:n]
    good = sum(m in held_out or m == OOS_LABEL for m in top)
    return {
        "intents_found": round(len(held_out & set(majorities)) / n, 4) if n else 0.0,
        "topic_precision_at_n": round(good / len(top), 4) if top else 0.0,
        "absent_topics": len(majorities),
    }


def evaluate(
    data_dir: Path, settings: Settings, progress: bool = False, *, seed: int = SEED, embedder: Embedder | None = None
) -> dict:
    """Run the protocol on DATA_DIR/data_full.json; returns the metrics, counts and what was found."""
    t0 = time.perf_counter()
    data = load_intent_set(data_dir)
    intents = sorted({i for _, i in data["train"]})
    held_out = split_intents(intents, seed)
    stream = [(t, i) for t, i in data["test"]] + [(t, None) for t, _ in data.get("oos_test", [])[:OOS_SEARCHES]]
    embedder = embedder or load_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="kb-eval-gaps-") as tmp:
        arts = Path(tmp) / "articles"
        arts.mkdir()
        n_articles = write_articles(data, arts, held_out)
        store = EdgeStore(Path(tmp) / "shard")
        events = EventLog(f"sqlite:///{Path(tmp) / 'events.db'}")
        try:
            t = time.perf_counter()
            report = Indexer(store, embedder, settings.chunk_tokens, progress=progress).run(arts)
            if report.errors:
                raise ValueError(f"{len(report.errors)} articles failed to load, first: {report.errors[0]}")
            index_seconds = time.perf_counter() - t
            service = SearchService(
                store, Retriever(store, embedder), events=events, speller=SpellCorrector.from_store(store)
            )
            t = time.perf_counter()
            for text, _ in tqdm(stream, desc="searching", unit="search", disable=not progress):
                service.search(text, limit=10)
            search_seconds = time.perf_counter() - t
            t = time.perf_counter()
            logged = list(events.iter_searches())  # in id order = stream order; the report itself streams
            stats = aggregate_searches(iter(logged))
            result = analyse_gaps(stats, store=store, embedder=embedder)
            report_seconds = time.perf_counter() - t
        finally:
            events.close()
            store.close()
    if len(logged) != len(stream):
        raise RuntimeError(f"{len(stream)} searches streamed but {len(logged)} logged")
    topic_of = {q.normalized: t.id for t in result.topics for q in t.queries}
    truth = [intent is None or intent in held_out for _, intent in stream]
    flags = [e.normalized in result.unanswered for e in logged]
    search_time = [not e.answered for e in logged]
    p, r, f = _prf(flags, truth)
    sp, sr, sf = _prf(search_time, truth)
    both = _prf([a and b for a, b in zip(flags, search_time)], truth)
    either = _prf([a or b for a, b in zip(flags, search_time)], truth)
    held = [
        (intent, topic_of[e.normalized])
        for (_, intent), e, fl in zip(stream, logged, flags)
        if fl and intent in held_out
    ]
    main = _clustering([h[0] for h in held], [h[1] for h in held])
    every = [
        ((intent or f"oos:{k}"), topic_of[e.normalized])
        for k, ((_, intent), e, fl) in enumerate(zip(stream, logged, flags))
        if fl
    ]
    # A held-out intent is found when some topic is mostly that intent and holds at least a third of its searches.
    per_topic: dict[str, Counter] = defaultdict(Counter)
    for intent, tid in every:
        per_topic[tid][intent] += 1
    totals = Counter(i for _, i in stream if i in held_out)
    found = sorted(
        {
            lab
            for c in per_topic.values()
            for lab, n in c.most_common(1)
            if lab in held_out and n * 2 > sum(c.values()) and n * 3 >= totals[lab]
        }
    )
    absent = result.topics  # every topic of unanswered queries is absent, in the report's order
    labels_of = defaultdict(list)
    for (_, intent), e in zip(stream, logged):
        labels_of[e.normalized].append(intent if intent is not None else OOS_LABEL)
    topic_labels = [[lab for q in t.queries for lab in labels_of[q.normalized]] for t in absent]
    tq = topic_quality(topic_labels, held_out)
    return {
        "dataset": Path(data_dir).name,
        **tq,
        "seed": seed,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "v_measure": main["v_measure"],
        "ari": main["ari"],
        "purity": main["purity"],
        "homogeneity": main["homogeneity"],
        "completeness": main["completeness"],
        "clustering_all_flagged": _clustering([e[0] for e in every], [e[1] for e in every]),
        "search_time_answered_flag": {"precision": round(sp, 4), "recall": round(sr, 4), "f1": round(sf, 4)},
        "report_and_search_time": dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in both))),
        "report_or_search_time": dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in either))),
        "searches": len(stream),
        "unanswered_searches": sum(truth),
        "flagged_searches": sum(flags),
        "distinct_queries": len(stats),
        "articles": n_articles,
        "intents": len(intents),
        "held_out_intents": sorted(held_out),
        "held_out_found": found,
        "topics": len(result.topics),
        "topics_with_3_or_more": sum(t.size >= 3 for t in result.topics),
        "top_topics": [
            {
                "title": t.title,
                "size": t.size,
                "confidence": round(t.confidence, 3),
                "evidence": round(t.evidence, 2),
                "nearest": t.nearest_articles[0].id if t.nearest_articles else None,
            }
            for t in result.topics[:15]
        ],
        "calibration": result.calibration.as_dict(),
        "index_seconds": round(index_seconds, 1),
        "search_seconds": round(search_seconds, 1),
        "report_seconds": round(report_seconds, 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
