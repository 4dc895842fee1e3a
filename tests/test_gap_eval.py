"""`kb eval-gaps`: the CLINC150 protocol end to end on a tiny CLINC-shaped file."""

from __future__ import annotations

import json

import pytest

from kb.articles import ID_RE
from reports.gap_eval import (
    IntentSetError,
    article_ids,
    evaluate,
    intent_title,
    load_intent_set,
    split_intents,
    topic_quality,
    write_articles,
)

INTENTS = {
    "reset_password": (
        [
            "i forgot my password",
            "how do i reset my password",
            "reset my password please",
            "password reset",
            "i can't remember my password",
            "help me change a forgotten password",
            "my password does not work",
            "i need a new password",
        ],
        ["what do i do if i forgot my password", "can you reset my password", "forgot password help"],
    ),
    "refund": (
        [
            "i want my money back",
            "how do i get a refund",
            "refund my order",
            "can i return this for a refund",
            "request a refund",
            "i was charged twice, refund me",
            "when will my refund arrive",
            "refund status",
        ],
        ["please refund me", "how can i get my money back", "i need a refund for my purchase"],
    ),
    "dark_mode": (
        [
            "turn on dark mode",
            "is there a dark theme",
            "switch to dark mode",
            "make the app dark",
            "enable night mode",
            "dark mode please",
            "how do i change the theme to dark",
            "the screen is too bright",
        ],
        ["can i use a dark theme", "how to enable dark mode", "switch the app to night mode"],
    ),
    "delete_account": (
        [
            "delete my account",
            "how do i close my account",
            "remove my account permanently",
            "cancel my account",
            "i want to delete my profile",
            "erase all my data",
            "close account",
            "how to delete an account",
        ],
        ["i want to delete my account", "please close my account", "how can i remove my account"],
    ),
    "change_email": (
        [
            "change my email",
            "update my email address",
            "use a different email",
            "how do i change the email",
            "my email changed",
            "edit my email",
            "new email address for my account",
            "replace my email",
        ],
        ["how can i change my email", "update the email on my account", "i have a new email address"],
    ),
}
OOS = ["what is the capital of peru", "tell me a joke about cats", "how tall is mount everest"]


@pytest.fixture
def clinc(tmp_path):
    data = {
        "train": [[u, i] for i, (train, _) in INTENTS.items() for u in train],
        "val": [],
        "test": [[u, i] for i, (_, test) in INTENTS.items() for u in test],
        "oos_train": [],
        "oos_val": [],
        "oos_test": [[u, "oos"] for u in OOS],
    }
    (tmp_path / "data_full.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_held_out_intents_are_a_seeded_fifth():
    intents = [f"i{n}" for n in range(150)]
    held = split_intents(intents, seed=1)
    assert len(held) == 30 and held == split_intents(list(reversed(intents)), seed=1) != split_intents(intents, seed=2)


def test_articles_are_titled_from_the_intent_and_hold_eight_utterances(clinc, tmp_path):
    out = tmp_path / "articles"
    out.mkdir()
    data = json.loads((clinc / "data_full.json").read_text())
    assert write_articles(data, out, {"refund"}) == 4
    text = (out / "reset-password.md").read_text()
    assert 'title: "Reset password"' in text and text.count("\n- ") == 8
    assert not (out / "refund.md").exists()
    assert intent_title("change_user_name") == "Change user name"


def test_intents_with_punctuation_get_valid_distinct_article_ids():
    # BANKING77's names carry punctuation; two names that differ only by it must not share an article.
    names = ["reverted_card_payment?", "card_payment_fee_charged", "Top_Up_Failed!", "what_is_this?", "what_is_this!"]
    ids = article_ids(names)
    assert all(ID_RE.match(a) for a in ids.values()), ids
    assert len(set(ids.values())) == len(names), ids
    assert ids["reverted_card_payment?"] == "reverted-card-payment"


def test_an_intent_set_with_punctuated_names_is_written_as_loadable_articles(tmp_path):
    from kb.articles import parse_article

    data = {"train": [["my card payment was reverted", "reverted_card_payment?"], ["hi", "greeting!"]]}
    out = tmp_path / "articles"
    out.mkdir()
    assert write_articles(data, out, set()) == 2
    ids = {parse_article(f.read_bytes(), f.name)[0].id for f in out.glob("*.md")}  # raises on an invalid id
    assert ids == {"reverted-card-payment", "greeting"}


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "is missing"),
        ('{"train": [["a", "x"],\n ["b" "y"]]}', ":2: not valid JSON"),
        ("[1, 2]", "expected an object"),
        ('{"train": [["a", "x"], ["b", "y"]]}', "field 'test' must be a non-empty list"),
        ('{"train": [["a", "x"], ["b"]], "test": [["a", "x"]]}', "train[1] is"),
        ('{"train": [["a", "x"]], "test": [["a", "x"]]}', "fewer than two intents"),
    ],
)
def test_bad_intent_sets_are_reported_in_a_sentence(tmp_path, content, said):
    if content is not None:
        (tmp_path / "data_full.json").write_text(content, encoding="utf-8")
    with pytest.raises(IntentSetError) as e:
        load_intent_set(tmp_path)
    assert said in str(e.value) and "data_full.json" in str(e.value)


def test_kb_eval_gaps_says_what_is_wrong_without_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    (tmp_path / "data_full.json").write_text('{"train": [["a", 1]], "test": []}', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval-gaps", str(tmp_path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "train[0]" in result.output, result.output


def test_topic_quality_counts_found_intents_and_precision_of_the_top_n():
    held = {"a", "b", "c"}
    topics = [["a", "a", "x"], ["(out of scope)"], ["x", "x", "b"], ["b", "b"], ["c"]]  # ranked best first
    q = topic_quality(topics, held)
    # Top 3: a (held out), out of scope (counts as a real gap), x (an answered intent: a false topic).
    assert q["topic_precision_at_n"] == pytest.approx(2 / 3, abs=1e-4)
    assert q["intents_found"] == 1.0  # a, b and c are each the majority of some absent topic
    assert topic_quality([["x"]], held)["intents_found"] == 0.0


KEYS = {
    "intents_found",
    "topic_precision_at_n",
    "precision",
    "recall",
    "f1",
    "v_measure",
    "ari",
    "purity",
    "held_out_intents",
    "held_out_found",
    "topics",
    "searches",
    "flagged_searches",
    "unanswered_searches",
    "seconds",
    "calibration",
    "clustering_all_flagged",
}


def test_evaluate_returns_every_metric(clinc, embedder):
    from kb.settings import Settings

    result = evaluate(clinc, Settings(chunk_tokens=64), embedder=embedder)
    assert KEYS <= set(result)
    assert result["searches"] == 15 + 3 and len(result["held_out_intents"]) == 1
    assert result["unanswered_searches"] == 3 + 3
    p, r = result["precision"], result["recall"]
    assert result["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=1e-3)
    assert json.loads(json.dumps(result)) == result  # what `kb eval-gaps --json` prints is the whole result


@pytest.mark.slow
def test_evaluate_with_the_real_model_flags_real_gaps_only(clinc):
    from kb.settings import Settings

    result = evaluate(clinc, Settings())
    assert KEYS <= set(result)
    # Four articles are too few for the protocol's numbers to mean much; what must hold is that what the
    # report flags is unanswered traffic (the out-of-scope questions are nowhere near the four articles).
    # The search-time decision it also requires is fitted on the KB's own 12 pseudo-queries here, and says
    # "answered" to the two closest of the six unanswerable questions ("please close my account" is near
    # "change my email"), so two of six are flagged, never an answerable one.
    assert result["flagged_searches"] >= 2 and result["precision"] == 1.0, result
    assert result["search_time_answered_flag"]["precision"] == 1.0, result
    cal = result["calibration"]
    # The threshold fitted on the four articles separates what they answer from what they do not.
    assert cal["fitted"] and cal["unanswered_mean"] < cal["threshold"] < cal["answered_mean"], cal
    assert result["topics"] >= 1, result
