"""How sure a ticket's question is answered by the article the draft would quote, calibrated on tickets.

A question taken from a ticket is longer and noisier than a search typed into the help center, so the
customer search's answered model (search/answered.py, fitted on the KB's own short pseudo-queries) misjudges
it: "How can I get back into my account?" found the right article at 27%. This model reads the same features
of the question's own search (z_top, z_gap, coverage; search/answered.py's Evidence) plus one a ticket adds:

  agree - the article's share of the whole ticket's score against the ticket's best article (1.0 when the
          ticket as a whole, all its queries together, also puts it first).

A question whose asking sentences ride with statements ("I'm writing from my phone, so sorry for any typos.")
is searched twice, whole and asking sentences alone (suggest/service.py); when both find the same article,
`alone` combines the two probabilities, logistic over their log-odds, fitted on the same tickets. Keeping
the higher of the two is biased upward (the same question judged twice, which across languages quoted many
wrong articles); the fit decides how much the second search adds, and across languages it trusts the asking
sentences alone (small talk blurs a cross-language search most). Across languages, when the asking sentences
alone find another article, the draft quotes theirs (suggest/service.py), and `cross_other` weighs the same two
probabilities, each for its own article: the disagreement is a doubt the fit prices.

Its weights are fitted by benchmarks/draft_bench.py on the noisy tickets of benchmarks/noisy_tickets.py over
every public set in ../shared/data, 30% of each set's documents removed so that some tickets have no answer,
on other seeds of the tickets than those it is reported on (docs/agent-draft.md). The features are z-scores
and shares measured against the KB at hand, so the weights mean the same in any KB; the file is shipped
beside this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from search.answered import Evidence, Logistic

SAME_FEATURES = ("z_top", "z_gap", "coverage", "agree")
CROSS_FEATURES = ("z_top", "z_gap", "agree")
ALONE_FEATURES = ("log_odds_whole", "log_odds_alone")
MODEL_FILE = "ticket_confidence.json"


def log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def features(e: Evidence, agree: float) -> list[float]:
    """The model's inputs for one question, in the order of SAME_FEATURES or CROSS_FEATURES."""
    if e.cross:
        return [e.z_top, e.z_gap, agree]
    return [e.z_top, e.z_gap, e.coverage, agree]


@dataclass(frozen=True)
class TicketModel:
    """P(the question's best article answers it), one logistic model per language relation as in AnsweredModel."""

    same: Logistic
    cross: Logistic
    # "same" / "cross" (the whole question's relation to its article) → logistic over the log-odds of the whole
    # question and of its asking sentences alone; a relation without one lends only within the language (max).
    # "cross_other": the same two across languages when the asking sentences alone found another article.
    alone: dict[str, Logistic] = field(default_factory=dict)

    def probability(self, e: Evidence | None, agree: float) -> float:
        if e is None:
            return 0.0
        return (self.cross if e.cross else self.same).probability(features(e, agree))

    def with_alone(self, cross: bool, p_whole: float, p_alone: float) -> float | None:
        """P(right) of a question whose asking sentences alone found the same article, or None when no
        combination was fitted for its relation (`cross`: the article is in another language)."""
        model = self.alone.get("cross" if cross else "same")
        return model.probability([log_odds(p_whole), log_odds(p_alone)]) if model is not None else None

    def with_other(self, p_whole: float, p_alone: float) -> float | None:
        """P(right) of the article a cross-language question's asking sentences alone found first when the whole
        question found another one (p_whole: the whole question's probability for its own), or None when no
        such combination was fitted."""
        model = self.alone.get("cross_other")
        return model.probability([log_odds(p_whole), log_odds(p_alone)]) if model is not None else None

    def as_json(self) -> dict:
        return {
            "same": self.same.as_json(),
            "cross": self.cross.as_json(),
            "alone": {k: m.as_json() for k, m in sorted(self.alone.items())},
            "features": {"same": list(SAME_FEATURES), "cross": list(CROSS_FEATURES), "alone": list(ALONE_FEATURES)},
        }

    @classmethod
    def from_json(cls, d: dict) -> TicketModel:
        same, cross = Logistic.from_json(d["same"]), Logistic.from_json(d["cross"])
        alone = {k: Logistic.from_json(m) for k, m in (d.get("alone") or {}).items()}
        if len(same.weights) != len(SAME_FEATURES) or len(cross.weights) != len(CROSS_FEATURES):
            raise ValueError(f"{MODEL_FILE}: weights do not match the features {SAME_FEATURES} / {CROSS_FEATURES}")
        if any(len(m.weights) != len(ALONE_FEATURES) for m in alone.values()):
            raise ValueError(f"{MODEL_FILE}: the alone weights do not match {ALONE_FEATURES}")
        return cls(same, cross, alone)


@lru_cache(maxsize=1)
def shipped() -> TicketModel | None:
    """The model fitted on the public sets, or None before benchmarks/draft_bench.py --fit has written it."""
    path = resources.files("suggest").joinpath(MODEL_FILE)
    if not path.is_file():
        return None
    return TicketModel.from_json(json.loads(path.read_text(encoding="utf-8")))
