"""Does the agent's draft hold the answer? Fits and measures the ticket-level confidence (suggest/confidence.py).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/draft_bench.py [--sets stackfaq xquad_r_ru xquad_r_en_ru]
        [--tickets 100] [--removed 0.3] [--seed 7] [--fit suggest/ticket_confidence.json] [--records FILE]
        [--fit-from FILE ...] [--failures FILE]

Per public set in ../shared/data: noisy tickets from benchmarks/noisy_tickets.py (a random --tickets of them),
over a KB of the set's documents with --removed of them held out, so that some tickets have no answer in it.
Every ticket runs through SuggestService; per question of its latest message the script keeps the features of
suggest/confidence.py and whether the question's best public article is a relevant document. Then:

- with --fit, one model is fitted on all sets together and written to the file the service ships with; with
  --fit-from, on the --records files of other runs (other seeds) instead of this one, so that what is
  reported on this seed was not fitted on it;
- every set is scored with the model fitted on the OTHER sets (leave one set out), and with the shipped one:
  quotes   = share of answerable tickets (a relevant document kept) whose draft quotes a relevant document
  wrong    = share of all tickets whose draft quotes a document that is not relevant
  held     = share of unanswerable tickets whose draft quotes nothing (only placeholders)
  and "quoting every question" (threshold 0), the ceiling no confidence model can pass; then how many answerable
  tickets find a relevant article first from some question of the noisy ticket and from its bare query alone
  (the ceiling of removing the ticket's noise);
- the sample tickets (suggest/sample_tickets.jsonl) over the shipped articles, scored on their labelled
  answering sections (`answers`: article#anchor, or a translation's).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from noisy_tickets import build  # noqa: E402

from kb.embedder import load_embedder  # noqa: E402
from kb.indexer import Indexer  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store.edge import EdgeStore  # noqa: E402
from search.answered import ANSWERED_THRESHOLD, Evidence, Logistic  # noqa: E402
from search.calibration import fit_logistic  # noqa: E402
from search.evaluation import load_beir, write_articles  # noqa: E402
from search.retrieval import Retriever  # noqa: E402
from suggest import confidence  # noqa: E402
from suggest.evaluation import load_tickets, translation_groups  # noqa: E402
from suggest.models import SuggestResponse  # noqa: E402
from suggest.service import SuggestService  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def _evidence(e: dict) -> Evidence:
    return Evidence(e["z_top"], e["z_gap"], e["coverage"], e["cross_language"])


def question_rows(response: SuggestResponse, right) -> list[tuple]:
    """(evidence, agree, whether the article the draft would quote is right, its id, (evidence, agree) of the
    question's asking sentences searched alone when they found the same article, else None, (evidence, agree) of
    the whole question when the draft quotes what its asking sentences alone found instead, else None) per
    question."""
    rows = []
    for q in response.questions:
        if q.evidence is None:
            continue  # no article the draft could quote
        e, a, w = q.evidence, q.evidence.get("alone"), q.evidence.get("whole")
        alone = (_evidence(a), a["agree"]) if a and a["article_id"] == e["article_id"] else None
        whole = (_evidence(w), w["agree"]) if w else None  # the asking sentences alone found another article
        rows.append((_evidence(e), e["agree"], right(e["article_id"]), e["article_id"], alone, whole))
    return rows


def probability(model: confidence.TicketModel, row: tuple) -> float:
    """The question's probability as the service decides it from its own search and its asking sentences alone
    (lending from other queries of the ticket is left out: noisy tickets have no subject)."""
    e, agree, _, _, alone, *rest = row
    p = model.probability(e, agree)
    whole = rest[0] if rest else None
    if whole is not None:
        other = model.with_other(model.probability(*whole), p)
        return other if other is not None else p
    if alone is None:
        return p
    p_alone = model.probability(*alone)
    combined = model.with_alone(e.cross, p, p_alone)
    if combined is not None:
        return combined
    return max(p, p_alone) if not alone[0].cross else p


def run_set(name: str, emb, settings, n_tickets: int, removed: float, seed: int) -> list[dict]:
    """One record per ticket: its question rows and whether any relevant document stayed in the KB."""
    folder = DATA / name
    corpus, _, _ = load_beir(folder)
    rng = random.Random(f"{seed}/{name}")
    gone = {str(d["_id"]) for d in rng.sample(corpus, round(len(corpus) * removed))}
    kept = [d for d in corpus if str(d["_id"]) not in gone]
    with tempfile.TemporaryDirectory(prefix="kb-draft-bench-") as tmp:
        build(folder, Path(tmp) / "tickets", seed=seed)
        tickets = load_tickets(Path(tmp) / "tickets" / "noisy.jsonl")
        bare = {t.id: t.messages[0].text for t, _, _ in load_tickets(Path(tmp) / "tickets" / "bare.jsonl")}
        tickets = rng.sample(tickets, min(n_tickets, len(tickets)))
        (Path(tmp) / "articles").mkdir()
        id_map = write_articles(kept, Path(tmp) / "articles")
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, emb, settings.chunk_tokens).run(Path(tmp) / "articles")
            retriever = Retriever(store, emb)
            service = SuggestService(retriever)
            out = []
            for ticket, expected, _ in tickets:
                relevant = set(expected)
                response = service.suggest(ticket, log=False)
                rows = question_rows(response, lambda aid, rel=relevant: id_map.get(aid, aid) in rel)
                detail = {
                    "id": ticket.id,
                    "query": bare.get(ticket.id),
                    "expected": sorted(relevant - gone),
                    "questions": [
                        (q.text, id_map.get(a, a) if (a := (q.evidence or {}).get("article_id")) else None)
                        for q in response.questions
                    ],
                    "suggested": [id_map.get(a.id, a.id) for a in response.articles],
                    # what each question's asking sentences alone found first, when they were searched alone
                    "alone": [
                        id_map.get(a, a) if (a := ((q.evidence or {}).get("alone") or {}).get("article_id")) else None
                        for q in response.questions
                    ],
                }
                # the ceiling of retrieval: does the ticket's bare query (no greeting, no story) find it first?
                top = retriever.search(bare[ticket.id], 1) if ticket.id in bare else []
                detail["bare_right"] = bool(top) and id_map.get(top[0].id, top[0].id) in relevant
                quoted = [id_map.get(p["article_id"], p["article_id"]) for p in response.draft_parts if p["article_id"]]
                detail["quoted"] = [(aid, aid in relevant) for aid in quoted]
                out.append({"answerable": bool(relevant - gone), "rows": rows, "detail": detail})
            return out
        finally:
            store.close()


def dump_failures(name: str, records: list[dict], model: confidence.TicketModel, path: Path) -> None:
    """Append the answerable tickets whose draft quotes no relevant document to `path` (JSON lines), with why."""
    with open(path, "a", encoding="utf-8") as f:
        for r in records:
            d = r.get("detail")
            if not r["answerable"] or d is None:
                continue
            probs = [(probability(model, row), row[2], row[3]) for row in r["rows"]]
            if any(p >= ANSWERED_THRESHOLD and ok for p, ok, _ in probs):
                continue
            why = (
                "held back though right"
                if any(ok for _, ok, _ in probs)
                else "right article suggested, not first for any question"
                if any(x in d["expected"] for x in d["suggested"])
                else "wrong article retrieved"
            )
            f.write(json.dumps({"set": name, **d, "rows": probs, "why": why}, ensure_ascii=False) + "\n")


def score(records: list[dict], model: confidence.TicketModel, threshold: float = ANSWERED_THRESHOLD) -> dict:
    """quotes / wrong / held as the module docstring defines them, deciding each question with `model`
    (threshold 0: every question quotes its best article, the ceiling of any confidence model)."""
    answerable = [r for r in records if r["answerable"]]
    missing = [r for r in records if not r["answerable"]]

    def quoted(r):
        return [row[2] for row in r["rows"] if probability(model, row) >= threshold]

    def share(rs, test):
        return round(sum(1 for r in rs if test(quoted(r))) / len(rs), 3) if rs else None

    return {
        "tickets": len(records),
        "quotes": share(answerable, any),
        "wrong": share(records, lambda q: not all(q)),
        "held": share(missing, lambda q: not q),
    }


def score_drafts(records: list[dict]) -> dict:
    """quotes / wrong / held read from the drafts the service wrote (its own confidence and choices)."""
    answerable = [r for r in records if r["answerable"]]
    missing = [r for r in records if not r["answerable"]]

    def share(rs, test):
        return round(sum(1 for r in rs if test([ok for _, ok in r["detail"]["quoted"]])) / len(rs), 3) if rs else None

    return {
        "tickets": len(records),
        "quotes": share(answerable, any),
        "wrong": share(records, lambda q: not all(q)),
        "held": share(missing, lambda q: not q),
    }


def fit(records: list[dict]) -> confidence.TicketModel:
    rows = [row for r in records for row in r["rows"]]
    same = [(confidence.features(e, a), int(ok)) for e, a, ok, *_ in rows if not e.cross]
    cross = [(confidence.features(e, a), int(ok)) for e, a, ok, *_ in rows if e.cross]
    # Not balanced: P(the quoted article is right) at the tickets' own odds, so 0.5 means "more likely right than
    # not", which is what an agent who reads the draft before sending needs (the customer's answer card, which
    # nobody checks, uses the stricter balanced fit).
    same_model = fit_logistic(same, balanced=False) or Logistic((1.0, 1.0, 1.0, 1.0), -4.0)
    cross_model = fit_logistic(cross, balanced=False) or Logistic(
        tuple(same_model.weights[i] for i in (0, 1, 3)), same_model.bias
    )
    base = confidence.TicketModel(same_model, cross_model)
    # Then how a question's asking sentences searched alone add to its whole search, per relation of the question.
    alone: dict[str, Logistic] = {}
    for relation in ("same", "cross"):
        pairs = [
            ([confidence.log_odds(base.probability(e, a)), confidence.log_odds(base.probability(*lone))], int(ok))
            for e, a, ok, _, lone, *_ in rows
            if lone is not None and e.cross == (relation == "cross")
        ]
        if (m := fit_logistic(pairs, balanced=False)) is not None:
            alone[relation] = m
    # And, across languages, what the whole question's doubt says when its asking sentences found another article.
    other = [
        ([confidence.log_odds(base.probability(*rest[0])), confidence.log_odds(base.probability(e, a))], int(ok))
        for e, a, ok, _, _, *rest in rows
        if rest and rest[0] is not None
    ]
    if (m := fit_logistic(other, balanced=False)) is not None:
        alone["cross_other"] = m
    return confidence.TicketModel(same_model, cross_model, alone)


def sample_tickets(emb, settings, model: confidence.TicketModel | None) -> dict:
    """The shipped help center's sample tickets, scored on their labelled answering sections."""
    lines = [json.loads(x) for x in (REPO / "suggest" / "sample_tickets.jsonl").read_text().splitlines() if x]
    with tempfile.TemporaryDirectory(prefix="kb-draft-bench-") as tmp:
        store = EdgeStore(Path(tmp) / "shard")
        try:
            Indexer(store, emb, settings.chunk_tokens).run(REPO / "articles")
            service = SuggestService(Retriever(store, emb), ticket_model=model)
            groups = translation_groups(store)
            quotes = wrong = placeholders = 0
            for (ticket, expected, _), raw in zip(load_tickets(REPO / "suggest" / "sample_tickets.jsonl"), lines):
                answers = set(raw.get("answers") or [])
                right = {groups.get(e, e) for e in expected}
                parts = [p for p in service.suggest(ticket, log=False).draft_parts if p["kind"] != "placeholder"]
                hit = any(f"{p['article_id']}#{p['anchor']}" in answers for p in parts)
                bad = any(groups.get(p["article_id"], p["article_id"]) not in right for p in parts)
                quotes += hit
                wrong += bad
                placeholders += not parts
                print(f"  {ticket.id}: {'quotes' if hit else 'MISSES'} the answer{' WRONG' if bad else ''}", end="")
                print("  " + ", ".join(f"{p['article_id']}#{p['anchor']}" for p in parts))
            n = len(lines)
            return {"tickets": n, "quotes": round(quotes / n, 3), "wrong": round(wrong / n, 3), "empty": placeholders}
        finally:
            store.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=["stackfaq", "xquad_r_ru", "xquad_r_en_ru"])
    ap.add_argument("--tickets", type=int, default=100)
    ap.add_argument("--removed", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fit", type=Path, help="write the model fitted on all sets here")
    ap.add_argument(
        "--fit-from", type=Path, nargs="+", help="fit on these --records files (other seeds) instead of this run's"
    )
    ap.add_argument("--records", type=Path, help="keep the questions' features here; reused when the file exists")
    ap.add_argument("--failures", type=Path, help="write the answerable tickets the draft misses here (JSON lines)")
    args = ap.parse_args(argv)
    settings = Settings()
    emb = load_embedder(settings)
    records: dict[str, list[dict]] = {}
    if args.records and args.records.is_file():
        with open(args.records, "rb") as f:
            records = pickle.load(f)
    for name in args.sets:
        if name not in records:
            records[name] = run_set(name, emb, settings, args.tickets, args.removed, args.seed)
            print(f"{name}: {len(records[name])} tickets run", file=sys.stderr)
    if args.records:
        with open(args.records, "wb") as f:
            pickle.dump(records, f)
    records = {n: records[n] for n in args.sets}
    fitting = records
    if args.fit_from:
        fitting = {}
        for path in args.fit_from:
            with open(path, "rb") as f:
                for n, rs in pickle.load(f).items():
                    if n in args.sets:
                        fitting.setdefault(n, []).extend(rs)
    everything = [r for rs in fitting.values() for r in rs]
    model = fit(everything)
    if args.fit:
        args.fit.write_text(json.dumps(model.as_json(), indent=2) + "\n", encoding="utf-8")
        print(f"fitted on {len(everything)} tickets -> {args.fit}: {json.dumps(model.as_json())}")
    shipped = confidence.shipped()
    if args.failures:
        args.failures.write_text("", encoding="utf-8")
        for name, rs in records.items():
            dump_failures(name, rs, shipped or model, args.failures)
    print(f"{'set':<16} {'model':<22} tickets quotes wrong  held")
    for name, rs in records.items():
        others = [r for n, x in fitting.items() if n != name for r in x]
        rows = [("fitted on other sets", fit(others) if others else model)]
        if args.fit_from:
            rows.append(("fitted on --fit-from", model))
        if shipped is not None:
            rows.append(("shipped", shipped))
        scored = [(label, score(rs, m)) for label, m in rows]
        if all("quoted" in (r.get("detail") or {}) for r in rs):
            scored.append(("the service's drafts", score_drafts(rs)))
        scored.append(("quoting every question", score(rs, model, threshold=0.0)))
        for label, s in scored:
            print(f"{name:<16} {label:<22} {s['tickets']:>7} {s['quotes']!s:>6} {s['wrong']!s:>5} {s['held']!s:>5}")
    print("answerable tickets whose first article is relevant: for some question of the noisy ticket / its bare query")
    for name, rs in records.items():
        answerable = [r for r in rs if r["answerable"]]
        if answerable and all("bare_right" in (r.get("detail") or {}) for r in answerable):
            noisy = sum(any(row[2] for row in r["rows"]) for r in answerable)
            bare = sum(r["detail"]["bare_right"] for r in answerable)
            print(f"{name:<16} {noisy} / {bare} of {len(answerable)}")
    print("sample tickets (shipped articles, labelled sections):")
    print(sample_tickets(emb, settings, shipped or model))


if __name__ == "__main__":
    main()
