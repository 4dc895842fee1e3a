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
    assert shipped is not None and set(shipped.alone) == {"same", "cross"}
    again = confidence.TicketModel.from_json(json.loads(json.dumps(shipped.as_json())))
    assert again == shipped
    # A model written before the combination existed still loads, and combines nothing.
    old = {k: v for k, v in shipped.as_json().items() if k != "alone"}
    assert confidence.TicketModel.from_json(old).with_alone(False, 0.4, 0.6) is None
