"""The optional cross-encoder (KB_RERANKER): it orders the first results, joins the answered fit, fails clearly."""

from __future__ import annotations

import math

import pytest

from kb.indexer import Indexer
from kb.settings import Settings
from search import calibration
from search.answered import SAME_FEATURES
from search.rerank import DEPTH, Reranker, RerankerError, load_reranker, passage_text
from search.retrieval import Retriever
from search.rules import Pin, Rules
from search.service import SearchService

from support import write_article, write_topic_articles

TOPICS = ["reset password", "export csv", "invoices vat", "slack channel", "mobile push", "offline mode", "dark theme"]


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory) -> Reranker:
    """A tiny BERT cross-encoder saved as a sentence-transformers folder: no pinned package ships a real one, so
    the tests check what the product does with a reranker's scores, not how good they are."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("cross-encoder")
    words = sorted({w for t in TOPICS for w in t.split()} | {"how", "to", "open", "settings", "steps", "for", "the"})
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]))
    torch.manual_seed(7)
    config = BertConfig(
        vocab_size=5 + len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
        num_labels=1,
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.mul_(50.0)  # random weights give near-equal scores; spread them
    model.save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    return Reranker(str(folder))


@pytest.fixture
def kb(store, embedder, tmp_path):
    root = tmp_path / "articles"
    write_topic_articles(root, TOPICS)
    Indexer(store, embedder, chunk_tokens=64).run(root)
    return store


def test_a_configured_reranker_orders_the_first_results_by_its_own_scores(kb, embedder, cross_encoder):
    query = "how to reset password settings"
    fused = Retriever(kb, embedder).search(query, 5)
    reranked = Retriever(kb, embedder, reranker=cross_encoder).search(query, 5)
    assert len(reranked) == 5
    logits = [h.rerank_score for h in reranked]
    assert all(s is not None for s in logits) and logits == sorted(logits, reverse=True)
    # The order is the reranker's own judgement of each result's title, section and passage.
    again = cross_encoder.scores(query, [passage_text(h) for h in reranked])
    assert again == pytest.approx(logits, abs=1e-4)
    # Scores become probabilities, so what reweighs scores later keeps the reranker's order.
    assert [h.score for h in reranked] == pytest.approx([1 / (1 + math.exp(-s)) for s in logits])
    assert [h.id for h in reranked] != [h.id for h in fused], "this model reorders these results"
    assert all(h.rerank_score is None for h in fused)


def test_a_longer_list_reranks_only_its_first_page_and_keeps_the_rest_below_in_the_fused_order(
    store, embedder, cross_encoder, tmp_path, monkeypatch
):
    topics = TOPICS + ["api token", "audit log", "team invite", "vat number", "sso okta", "calendar sync"]
    write_topic_articles(tmp_path / "more", topics)
    Indexer(store, embedder, chunk_tokens=64).run(tmp_path / "more")
    scored: list[int] = []
    real = cross_encoder.scores
    monkeypatch.setattr(cross_encoder, "scores", lambda q, ps: scored.append(len(ps)) or real(q, ps))
    query = "how to open settings and save the form"
    fused = Retriever(store, embedder).search(query, 12)
    hits = Retriever(store, embedder, reranker=cross_encoder).search(query, 12)
    assert scored == [DEPTH], "one forward pass per passage of the first page, not of everything asked for"
    head, tail = hits[:DEPTH], hits[DEPTH:]
    assert len(tail) == 2 and all(h.rerank_score is None for h in tail)
    assert [h.id for h in tail] == [h.id for h in fused if h.id not in {x.id for x in head}]
    assert max(h.score for h in tail) <= min(h.score for h in head), "a later sort by score keeps the order"


def test_a_pinned_article_stays_first_whatever_the_reranker_says(kb, embedder, cross_encoder):
    query = "export csv"
    plain = Retriever(kb, embedder, reranker=cross_encoder).search(query, 5)
    last = plain[-1].id
    rules = Rules(pins=[Pin(queries=(query,), article=last)])
    pinned = Retriever(kb, embedder, rules=lambda: rules, reranker=cross_encoder).search(query, 5)
    assert pinned[0].id == last and pinned[0].pinned


def test_the_answered_fit_reads_the_rerankers_score_and_is_redone_when_the_reranker_changes(
    kb, embedder, cross_encoder
):
    with_reranker = calibration.ensure(kb, embedder, reranker=cross_encoder)
    assert with_reranker is not None and with_reranker.reranker == cross_encoder.name
    assert with_reranker.model.same.inputs == (*SAME_FEATURES, "rerank")
    assert calibration.current(kb, embedder, cross_encoder) is not None
    assert calibration.current(kb, embedder) is None, "a fit made through a reranker must not judge searches without"
    without = calibration.ensure(kb, embedder)
    assert without is not None and without.model.same.inputs == SAME_FEATURES and without.reranker == ""
    # A search through the reranker is judged with its score, and says so.
    service = SearchService(kb, Retriever(kb, embedder, reranker=cross_encoder))
    response = service.search("how to reset password", log=False)
    assert "rerank" in (response.features or {})
    assert service.calibrations.get().model.same.inputs[-1] == "rerank"


def test_a_reranker_that_cannot_be_loaded_is_named_in_the_error(tmp_path):
    assert load_reranker(Settings(reranker="")) is None
    with pytest.raises(RerankerError, match=r"KB_RERANKER: no such folder: .*missing"):
        load_reranker(Settings(reranker=str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RerankerError, match=r"KB_RERANKER: cannot load a cross-encoder from .*empty"):
        load_reranker(Settings(reranker=str(tmp_path / "empty")))


def test_kb_index_stops_on_a_reranker_it_cannot_load_before_touching_the_index(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    write_article(tmp_path / "articles", "en/a.md", id="a", title="Reset your password", body="Open Settings.")
    monkeypatch.setenv("KB_ARTICLES_DIR", str(tmp_path / "articles"))
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KB_RERANKER", str(tmp_path / "no-such-model"))
    result = CliRunner().invoke(app, ["index"])
    assert result.exit_code == 2
    assert "KB_RERANKER: no such folder" in result.output and "no-such-model" in result.output
    assert not (tmp_path / "data" / "shard").exists(), "nothing indexed with a configuration that cannot search"
