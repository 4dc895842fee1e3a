"""How many legitimate customer queries autocomplete's internal-text filter would withhold. Prints numbers.

    python benchmarks/autocomplete_filter.py [../shared/data/stackfaq ../shared/data/xquad_r_ru ...] [--hidden 0.3]

Autocomplete never offers a query with a term that only internal or draft articles have
(search.catalog.hidden_only_terms). The price is a query a customer legitimately typed that happens to use such a
term: it is withheld too. Measured on the shipped help center (articles/, its own internal and draft articles,
tests/data/helpcenter_queries.jsonl as the customers' queries) and on each BEIR set given, with a seeded share
`--hidden` of the corpus made internal and only the queries whose relevant documents all stay public counted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.article_folder import load_articles  # noqa: E402
from search.catalog import has_any_term, hidden_only_terms  # noqa: E402
from search.evaluation import load_beir  # noqa: E402


def withheld(public: list[str], hidden: list[str], queries: list[str]) -> tuple[int, int, list[str]]:
    terms = hidden_only_terms(public, hidden)
    dropped = [q for q in queries if has_any_term(q, terms)]
    return len(dropped), len(queries), dropped


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="*", type=Path)
    ap.add_argument("--hidden", type=float, default=0.3, help="share of a BEIR corpus made internal")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    loaded = load_articles(ROOT / "articles").articles
    public = [f"{a.title}\n{a.body}" for a in loaded if a.visibility == "public"]
    hidden = [f"{a.title}\n{a.body}" for a in loaded if a.visibility != "public"]
    lines = (ROOT / "tests" / "data" / "helpcenter_queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line)["text"] for line in lines if line.strip()]
    n, total, dropped = withheld(public, hidden, queries)
    print(f"{'set':<28}{'hidden docs':>12}{'queries':>9}{'withheld':>10}{'share':>8}")
    print(f"{'shipped help center':<28}{len(hidden):>12}{total:>9}{n:>10}{n / total:>8.3f}   e.g. {dropped[:3]}")
    for root in args.sets:
        corpus, qs, qrels = load_beir(root)
        rng = random.Random(args.seed)
        ids = [str(d["_id"]) for d in corpus]
        internal = set(rng.sample(ids, int(len(ids) * args.hidden)))
        texts = {str(d["_id"]): f"{d.get('title', '')}\n{d.get('text', '')}" for d in corpus}
        kept = [text for qid, text in qs.items() if qrels.get(qid) and not qrels[qid] & internal]
        n, total, dropped = withheld(
            [t for i, t in texts.items() if i not in internal], [texts[i] for i in internal], kept
        )
        print(f"{root.name:<28}{len(internal):>12}{total:>9}{n:>10}{n / total:>8.3f}   e.g. {dropped[:3]}")


if __name__ == "__main__":
    main()
