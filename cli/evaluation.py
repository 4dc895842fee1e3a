"""`kb eval`, `kb eval-suggest` and `kb eval-gaps`: quality numbers for search, suggestions and the gap report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from app.runtime import open_runtime
from cli.common import fail, settings_for
from kb.store import StoreError
from search.rerank import RerankerError

if TYPE_CHECKING:
    from search.retrieval import Mode


def eval_(
    dataset: Annotated[Path, typer.Argument(help="a BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels.tsv")],
    mode: Annotated[str | None, typer.Option(help="hybrid, dense or sparse (default: all three)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    answered: Annotated[
        bool,
        typer.Option(
            "--answered",
            help="the answered protocol instead: a seeded 30% of "
            "documents removed, 400 queries, answered rates and unanswered F1",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="which documents the answered protocol removes")] = 0,
) -> None:
    """Build a throwaway KB from a retrieval set and print nDCG@10, Recall@10, MRR@10 and latency."""
    from search.evaluation import evaluate, evaluate_answered

    if answered:
        settings = settings_for()
        try:
            with open_runtime(settings) as rt:
                rep = evaluate_answered(
                    dataset,
                    rt.embedder,
                    seed=seed,
                    chunk_tokens=settings.chunk_tokens,
                    progress=sys.stderr.isatty(),
                    reranker=rt.reranker,
                )
        except (FileNotFoundError, ValueError, RerankerError) as e:
            fail(str(e))
        if as_json:
            typer.echo(json.dumps(rep.as_dict()))
            return
        typer.echo(
            f"{rep.dataset} (seed {rep.seed}, {rep.removed_share:.0%} of documents removed, "
            f"{rep.documents_kept} kept): answered {rep.answered_when_answerable:.3f} of {rep.answerable} "
            f"answerable, {rep.answered_when_unanswerable:.3f} of {rep.unanswerable} unanswerable; "
            f"unanswered P/R/F1 {rep.unanswered_precision:.3f}/{rep.unanswered_recall:.3f}/{rep.unanswered_f1:.3f}; "
            f"answer cards {rep.answer_cards} of {rep.answerable + rep.unanswerable} searches, "
            f"{rep.answer_cards_right} from a relevant document"
        )
        return

    if mode and mode not in ("hybrid", "dense", "sparse"):
        fail(f"unknown mode {mode!r}: use hybrid, dense or sparse")
    modes = cast("list[Mode]", [mode] if mode else ["hybrid", "dense", "sparse"])
    settings = settings_for()
    try:
        with open_runtime(settings) as rt:
            reports = evaluate(
                dataset, rt.embedder, modes, settings.chunk_tokens, progress=sys.stderr.isatty(), reranker=rt.reranker
            )
    except (FileNotFoundError, ValueError, RerankerError) as e:
        fail(str(e))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports]))
        return
    typer.echo(f"{'set':<14}{'mode':<8}{'nDCG@10':>9}{'R@10':>8}{'MRR@10':>8}{'p50 ms':>8}{'p95 ms':>8}{'queries':>9}")
    for r in reports:
        typer.echo(
            f"{r.dataset:<14}{r.mode:<8}{r.ndcg_at_10:>9.3f}{r.recall_at_10:>8.3f}{r.mrr_at_10:>8.3f}"
            f"{r.latency_ms_p50:>8.1f}{r.latency_ms_p95:>8.1f}{r.queries:>9}"
        )


def eval_suggest(
    tickets: Annotated[Path, typer.Argument(help="JSONL: one ticket per line with `expected` article ids")],
    corpus: Annotated[
        Path | None, typer.Option(help="a BEIR folder: replay over a throwaway KB of its corpus instead of the index")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay past tickets and print precision@1, precision@3 and MRR of the suggested articles."""
    from suggest.evaluation import evaluate
    from suggest.routing import ROUTING_FILE, RoutingTable

    settings = settings_for()
    try:
        with open_runtime(settings) as rt:
            if corpus is not None:
                report = evaluate(
                    tickets,
                    embedder=rt.embedder,
                    corpus=corpus,
                    chunk_tokens=settings.chunk_tokens,
                    progress=sys.stderr.isatty(),
                )
            else:
                routing = RoutingTable(settings.articles_dir / ROUTING_FILE)
                report = evaluate(tickets, store=rt.store, embedder=rt.embedder, routing=routing)
                if routing.error:
                    typer.echo(f"warning: {routing.error}", err=True)
    except (OSError, ValueError, StoreError) as e:
        fail(str(e))
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    typer.echo(f"{'tickets':<24}{'count':>7}{'P@1':>8}{'P@3':>8}{'MRR':>8}{'p50 ms':>8}{'p95 ms':>8}{'category':>10}")
    accuracy = f"{report.category_accuracy:.3f}" if report.category_accuracy is not None else "-"
    typer.echo(
        f"{report.tickets:<24}{report.count:>7}{report.precision_at_1:>8.3f}{report.precision_at_3:>8.3f}"
        f"{report.mrr:>8.3f}{report.latency_ms_p50:>8.1f}{report.latency_ms_p95:>8.1f}{accuracy:>10}"
    )
    if report.categorised:
        typer.echo(f"category accuracy on the {report.categorised} tickets with a known category: {accuracy}")


def eval_gaps(
    data_dir: Annotated[Path, typer.Argument(help="a folder holding CLINC150's data_full.json")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The CLINC150 gap protocol: unanswered-detection precision/recall/F1 and topic V-measure/ARI."""
    from reports.gap_eval import IntentSetError, evaluate, load_intent_set

    try:
        load_intent_set(data_dir)  # bad input said in a sentence before the model loads
        result = evaluate(data_dir, settings_for(), progress=sys.stderr.isatty())
    except IntentSetError as e:
        fail(str(e))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    typer.echo(
        f"unanswered detection: precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
        f"F1 {result['f1']:.3f}"
    )
    typer.echo(
        f"topics: V-measure {result['v_measure']:.3f}  ARI {result['ari']:.3f}"
        + (f"  purity {result['purity']:.3f}" if "purity" in result else "")
    )
    typer.echo(
        f"ranked absent topics: intents found {result['intents_found']:.3f}  "
        f"precision@{len(result['held_out_intents'])} {result['topic_precision_at_n']:.3f}"
    )
