"""The ticket-level confidence (suggest/confidence.py): how a question's two searches are weighed together."""

from __future__ import annotations

import json

from search.answered import Logistic
from suggest import confidence


def model(alone: dict[str, Logistic]) -> confidence.TicketModel:
    return confidence.TicketModel(Logistic((1.0, 1.0, 1.0, 0.0), -4.0), Logistic((1.0, 1.0, 0.0), -3.0), alone)


def test_a_cross_language_question_trusts_its_asking_sentence_alone_as_the_fit_says():
    # Fitted on the public sets: across languages the small talk around a question blurs its search, so the
    # asking sentence alone decides and the whole question counts against (weights -1.0 / +1.6).
    m = model({"cross": Logistic((-1.0, 1.6), -0.9)})
    assert m.with_alone(True, 0.3, 0.9) > 0.5 > m.with_alone(True, 0.9, 0.3)
    # A relation without a fitted combination says so: the service then keeps the higher within the language.
    assert m.with_alone(False, 0.3, 0.9) is None


def test_the_shipped_model_combines_both_searches_and_reads_back_what_it_wrote():
    shipped = confidence.shipped()
    assert shipped is not None and set(shipped.alone) == {"same", "cross", "cross_other"}
    again = confidence.TicketModel.from_json(json.loads(json.dumps(shipped.as_json())))
    assert again == shipped
    # A model written before the combination existed still loads, and combines nothing.
    old = {k: v for k, v in shipped.as_json().items() if k != "alone"}
    assert confidence.TicketModel.from_json(old).with_alone(False, 0.4, 0.6) is None


def test_a_cross_language_question_is_answered_from_its_asking_sentences_when_its_two_searches_disagree():
    import numpy as np

    from suggest.models import Question
    from suggest.searched import Searched
    from suggest.service import ALONE_SOURCE, _alone_across_languages

    def pair(text, source, article, cross):
        facts = {
            "z_top": 2.0,
            "z_gap": 0.1,
            "coverage": 0.0,
            "cross_language": cross,
            "agree": 1.0,
            "article_id": article,
        }
        return Question(text, source, 1.0, 0.4, [], facts), Searched(text, source, 1.0, np.zeros(2), [], 0.4)

    chatty = "Who won Super Bowl XLIX? I'm writing from my phone, so sorry for any typos."
    cases = [  # (the whole question's article, its asking sentences' article, across languages, replaced)
        ("p0_3", "p0_1", True, True),
        ("p0_1", "p0_1", True, False),  # the same article: the fitted combination weighs the two
        ("p0_3", "p0_1", False, False),  # within a language the whole question, context and all, stays
    ]
    for whole_article, alone_article, cross, replaced in cases:
        whole = pair(chatty, "latest customer message", whole_article, cross)
        alone = pair("Who won Super Bowl XLIX?", "latest customer message" + ALONE_SOURCE, alone_article, cross)
        questions = [whole[0]]
        doubt = model({"cross_other": Logistic((1.0, 1.0), -1.0)})  # the disagreement lowers the confidence
        asked = _alone_across_languages(questions, [whole[1]], [alone], doubt)
        expected = alone if replaced else whole
        assert questions[0] is expected[0] and asked[0] is expected[1], (whole_article, alone_article, cross)
        if replaced:
            assert questions[0].evidence["whole"]["article_id"] == whole_article
            assert questions[0].confidence < 0.4  # both searches at 0.4, and they disagree
