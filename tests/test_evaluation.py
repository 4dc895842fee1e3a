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


SUPPORT_DOCS = [
    (
        "reset",
        "Reset your password",
        "Open Settings, then Security, and click Reset password. The link expires in 24 hours.",
    ),
    ("refund", "Refunds", "We refund payments made in the last 14 days. Write to billing with the invoice number."),
    ("slack", "Connect Slack", "Open Integrations and click Slack. Pick the channels that get project updates."),
    ("export", "Export your data", "Admins export all projects as CSV or JSON from Settings, then Data export."),
    ("2fa", "Two-factor authentication", "Turn on two-factor sign-in under Security with an authenticator app."),
    ("invoice", "Download invoices", "Every invoice is a PDF under Billing, then Invoices, one per month."),
    ("offline", "Offline mode", "The mobile app keeps your tasks offline and syncs them when you are online again."),
    ("delete", "Delete your account", "The owner deletes the workspace under Settings; data is erased after 30 days."),
    ("roles", "Roles and permissions", "Admins invite members and set each one's role: owner, admin, member or guest."),
    ("shortcuts", "Keyboard shortcuts", "Press ? to see every shortcut; N creates a task and / focuses search."),
]
SUPPORT_QUERIES = [
    ("reset", "how do I change a forgotten password"),
    ("refund", "can I get my money back"),
    ("slack", "send project updates to a slack channel"),
    ("export", "download all my projects as a spreadsheet"),
    ("2fa", "set up an authenticator app for login"),
    ("invoice", "where are my monthly invoices"),
    ("offline", "does the phone app work without internet"),
    ("delete", "how to close the workspace for good"),
    ("roles", "make a colleague an admin"),
    ("shortcuts", "key to create a new task"),
]


@pytest.mark.slow
def test_kb_eval_answered_prints_the_rates_and_where_the_answer_cards_came_from(tmp_path, monkeypatch, real_retriever):
    from typer.testing import CliRunner

    from cli.main import app
    from search.evaluation import evaluate_answered

    lines = [json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in SUPPORT_DOCS]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines))
    (tmp_path / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": f"q-{d}", "text": t}) for d, t in SUPPORT_QUERIES)
    )
    qrels = "".join(f"q-{d}\t{d}\t1\n" for d, _ in SUPPORT_QUERIES)
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    rep = evaluate_answered(tmp_path, real_retriever.embedder, queries_n=10, chunk_tokens=64)
    # Three of the ten documents are removed: their queries are the unanswerable ones.
    assert (rep.documents_kept, rep.answerable, rep.unanswerable) == (7, 7, 3)
    assert rep.answered_when_answerable > rep.answered_when_unanswerable
    assert 0 <= rep.answer_cards_right <= rep.answer_cards <= 10, rep
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--answered", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["answer_cards"] == rep.answer_cards and printed["answer_cards_right"] == rep.answer_cards_right
    assert printed["answered_when_answerable"] == rep.answered_when_answerable  # the same seed removes the same
