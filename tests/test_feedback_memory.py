"""Agents' verdicts turned into score multipliers: what counts, and what is refused before it is kept."""

from __future__ import annotations

import numpy as np
import pytest

from suggest.feedback import FeedbackMemory


def test_a_rejection_lowers_and_an_acceptance_lifts_the_article_for_the_same_query():
    memory = FeedbackMemory()
    v = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    memory.record(v, "refund-policy", "rejected", "outdated", "refund")
    memory.record(v, "reset-password", "accepted", None, "refund")
    effects = memory.effects(v)
    assert effects["refund-policy"][0] < 1.0 < effects["reset-password"][0]
    assert effects["refund-policy"][1] == ["outdated"]
    assert memory.effects(np.array([0.0, 1.0, 0.0], dtype=np.float32)) == {}, "an unrelated query is untouched"


@pytest.mark.parametrize("reason", [None, "", "because"])
def test_a_rejection_without_a_known_reason_is_refused_and_nothing_is_kept(reason):
    memory = FeedbackMemory()
    v = np.array([1.0, 0.0], dtype=np.float32)
    with pytest.raises(ValueError, match="reason: a rejection needs one of not_related, does_not_answer, outdated"):
        memory.record(v, "refund-policy", "rejected", reason, "refund")
    assert memory.effects(v) == {}
