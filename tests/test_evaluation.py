"""`kb eval`'s harness: BEIR loading, the metrics, and an end-to-end run on a tiny set."""

from __future__ import annotations

import json

import pytest

from search.evaluation import evaluate, load_beir, ndcg_at_10, percentile


@pytest.mark.parametrize(
    "ranked, relevant, expected",
    [
        (["a", "b"], {"a"}, 1.0),
        (["b", "a"], {"a"}, 0.6309),
        (["x", "y"], {"a"}, 0.0),
        (["a", "b"], {"a", "b"}, 1.0),
        (["b", "x", "a"], {"a", "b"}, 0.9197),
    ],
)
def test_ndcg(ranked, relevant, expected):
    assert ndcg_at_10(ranked, relevant) == pytest.approx(expected, abs=1e-4)


def test_percentile_picks_the_nearest_rank():
    assert percentile(list(range(1, 101)), 50) == 50 and percentile([3.0], 95) == 3.0 and percentile([], 50) == 0.0


@pytest.fixture
def tiny(tmp_path):
    docs = [
        ("d1", "Reset password", "Open settings and reset the password."),
        ("d2", "Refunds", "Money back within fourteen days."),
        ("d3", "Slack", "Connect Slack channels to projects."),
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in docs))
    (tmp_path / "queries.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": q, "text": t})
            for q, t in [("q1", "reset password"), ("q2", "money back refunds"), ("q3", "unjudged")]
        )
    )
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return tmp_path


def test_load_beir_skips_the_header_and_missing_files_are_named(tiny, tmp_path):
    corpus, queries, qrels = load_beir(tiny)
    assert len(corpus) == 3 and len(queries) == 3 and qrels == {"q1": {"d1"}, "q2": {"d2"}}
    with pytest.raises(FileNotFoundError, match="qrels.tsv"):
        load_beir(tmp_path / "nothing")


@pytest.mark.parametrize("mode", ["hybrid", "sparse"])
def test_evaluate_runs_judged_queries_through_search(tiny, embedder, mode):
    (report,) = evaluate(tiny, embedder, [mode], chunk_tokens=64)
    assert (report.queries, report.documents) == (2, 3)
    assert report.ndcg_at_10 == report.mrr_at_10 == report.recall_at_10 == 1.0
