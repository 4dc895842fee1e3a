"""Late interaction: a passage that holds each part of the question scores above one that is only on its topic."""

from __future__ import annotations

import pytest

from search.late import LateInteraction, passage_text

from support import CountingEmbedder


class TokenCounter(CountingEmbedder):
    def __init__(self):
        super().__init__()
        self.token_calls: list[str] = []

    def token_vectors(self, texts, passage=True):
        self.token_calls.extend(texts)
        return super().token_vectors(texts, passage)


def chunk(title: str, text: str) -> dict:
    return {"title": title, "heading_path": [], "text": text}


def test_a_passage_holding_every_query_word_scores_above_one_holding_half_and_is_embedded_once():
    embedder = TokenCounter()
    late = LateInteraction(embedder)
    full = chunk("Refunds", "refund takes fourteen days after cancel")
    half = chunk("Refunds", "refund policy overview")
    assert late.score("refund fourteen days cancel", full) == pytest.approx(1.0)
    assert late.score("refund fourteen days cancel", half) < 0.7
    late.score("refund cancel", full)
    assert embedder.token_calls.count(passage_text(full)) == 1  # kept for the next search


@pytest.mark.slow
def test_e5_token_states_find_the_paragraph_that_holds_the_asked_fact_across_languages():
    from kb.embedder import load_embedder
    from kb.settings import Settings

    embedder = load_embedder(Settings())
    text = "Московский университет был основан в 1755 году по проекту Ломоносова."
    states = embedder.token_vectors([text], passage=True)[0]
    # One unit vector per token of the text itself: no prompt, no <s> or </s>.
    assert states.shape[0] == len(embedder.token_ids(text)) - 2
    assert abs(float((states**2).sum(axis=1).mean()) - 1.0) < 1e-4
    late = LateInteraction(embedder)
    question = "In what year was Moscow University founded?"
    holds = chunk("Московский университет", text)
    topic = chunk("Московский университет", "В Московском университете учатся студенты из многих стран мира.")
    assert late.score(question, holds) > late.score(question, topic)
