"""A section's sentences, as suggest/sentences.py embeds them to find the one that answers."""

from __future__ import annotations

import numpy as np

from search.retrieval import ArticleHit
from suggest.sentences import SentenceScorer, sentences


def test_steps_and_bullets_are_sentences_of_their_own_and_markup_is_not():
    text = (
        "- Notifications stopped arriving in Slack. The person who connected it may have left. Reconnect it.\n"
        "1. Open Settings → Integrations.\n2. Click Save.\n|---|"
    )
    assert sentences(text) == [
        "Notifications stopped arriving in Slack.",
        "The person who connected it may have left.",
        "Reconnect it.",
        "Open Settings → Integrations.",
        "Click Save.",
    ]


class _Embedder:
    """Sentences about Slack point one way, everything else the other."""

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += 1
        return np.array([[1.0, 0.0] if "Slack" in t.split("\n")[-1] else [0.0, 1.0] for t in texts])


def test_a_section_is_scored_with_its_best_sentence_and_the_opening_is_not():
    opening = {"chunk_index": 0, "section": "", "text": "Slack posts updates. It is great.", "title": "T"}
    section = {"chunk_index": 1, "section": "Help", "text": "Other things. Slack stopped? Reconnect.", "title": "T"}
    hit = ArticleHit("a", "T", "en", "", "public", 1.0, "", "", "", {}, passages=[(0.8, opening), (0.6, section)])
    emb = _Embedder()
    scorer = SentenceScorer(emb)  # type: ignore[arg-type]
    again = scorer.rescored(hit, np.array([1.0, 0.0]))
    assert again.passages == [(0.8, opening), (0.8, section)]  # (0.6 + 1.0) / 2; the opening keeps its own
    scorer.rescored(hit, np.array([0.0, 1.0]))
    assert emb.calls == 1  # a chunk's sentences are embedded once


def test_a_heading_is_named_when_each_of_its_telling_words_is_in_the_question():
    from kb import analysis
    from suggest.draft import named

    question = frozenset(analysis.terms("No push notifications on my Xiaomi (Android 14). What can I check?", None))
    common = {"orbita"}.__contains__  # a term most of the KB's articles hold tells no section apart
    assert named({"section": "Android", "locale": "en"}, question, common)
    assert not named({"section": "Check settings in Orbita", "locale": "en"}, question, common)  # "settings" not
    assert not named({"section": "", "locale": "en"}, question, common)  # the opening has no heading
    assert not named({"section": "Still nothing?", "locale": "en"}, question, common)  # stop words only
    ru = frozenset(analysis.terms("Windows 10, открываю встроенным проводником. Как распаковать?", None))
    assert named({"section": "Windows", "locale": "ru"}, ru, common)
    assert not named({"section": "macOS", "locale": "ru"}, ru, common)
