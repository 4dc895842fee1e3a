"""Gap topics: log aggregation, KB units and calibration, and (real model) what an administrator would notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from kb.db import EventLog, SearchEvent
from kb.indexer import Indexer
from kb.store.edge import EdgeStore
from reports import aggregate_searches, analyse_gaps, kb_view
from reports.evidence import KnowledgeEvidence
from reports.gap_calibration import DEFAULT_CLUSTER_DISTANCE, DEFAULT_THRESHOLD, GapCalibration, logistic_fit
from reports.kb_view import split_units
from reports.topics import cluster_labels

from support import write_article


def _event(query: str, normalized: str, at: datetime, locale: str | None = "en", answered: bool = False) -> SearchEvent:
    return SearchEvent(
        search_id="x",
        at=at,
        query=query,
        normalized=normalized,
        locale=locale,
        answered=answered,
        result_ids=(),
        top_score=None,
        latency_ms=1.0,
        clicked=False,
        audience="customer",
        session=None,
    )


def test_aggregate_counts_each_normalized_query_once_with_its_commonest_form():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    stats = aggregate_searches(
        [
            _event("Dark mode?", "dark mode", t),
            _event("dark mode", "dark mode", t + timedelta(days=2), "ru"),
            _event("Dark mode?", "dark mode", t + timedelta(days=1), answered=True),
            _event("refund", "refund", t),
        ]
    )
    assert [(s.normalized, s.count) for s in stats] == [("dark mode", 3), ("refund", 1)]
    dark = stats[0]
    assert dark.text == "Dark mode?" and dark.locales == {"en": 2, "ru": 1}
    assert (dark.first_seen, dark.last_seen) == (t, t + timedelta(days=2))
    assert dark.answered == 1 and dark.answered_share == pytest.approx(1 / 3)


def test_aggregate_streams_from_the_event_log():
    log = EventLog("sqlite://")
    log.log_searches_bulk(
        {"query": q, "normalized": q.lower(), "locale": "en", "results": [], "answered": False, "latency_ms": 1.0}
        for q in ["A", "a", "b"] * 5
    )
    stats = aggregate_searches(log.iter_searches(batch=4))
    assert [(s.normalized, s.count) for s in stats] == [("a", 10), ("b", 5)]


@pytest.mark.parametrize(
    "text, units",
    [
        ("- how do I reset it\n- forgot my password", ["how do I reset it", "forgot my password"]),
        ("Open settings. Then press Reset! Done?", ["Open settings.", "Then press Reset!", "Done?"]),
        ("## Steps\n1. Open the app", ["Steps", "Open the app"]),
        ("ok\n\n  \n- x", []),
    ],
)
def test_split_units(text, units):
    assert split_units(text) == units


def test_a_kb_too_small_to_calibrate_falls_back_to_the_documented_threshold(tmp_path, embedder):
    write_article(tmp_path / "a", "one.md", id="one", title="Reset password", body="Open settings.")
    store = EdgeStore(tmp_path / "shard")
    Indexer(store, embedder, 64).run(tmp_path / "a")
    ev = KnowledgeEvidence.from_store(store, embedder)
    cal = ev.fit_space(embedder.embed_queries(["reset password", "refund"])).calibrate_threshold()
    assert cal.threshold == DEFAULT_THRESHOLD and not cal.fitted
    assert ev.unit_texts == ["Reset password", "Open settings."]
    store.close()


def test_a_near_miss_counts_as_less_likely_a_gap_than_a_query_far_from_every_article():
    # Pseudo-queries: lines scored against their own article (answered) and with it removed (unanswered).
    rng = np.random.default_rng(0)
    answered, unanswered = 0.62 + 0.06 * rng.standard_normal(400), 0.40 + 0.06 * rng.standard_normal(400)
    slope, intercept = logistic_fit(answered, unanswered)
    cal = GapCalibration(0.5, DEFAULT_CLUSTER_DISTANCE, unanswered_slope=slope, unanswered_intercept=intercept)
    near, middle, far = cal.unanswered_probability(np.array([0.49, 0.45, 0.30]))
    assert far > 0.99 and far > middle > near and 0.3 < near < 0.8  # near the equal-error point: a coin toss
    assert cal.unanswered_probability(np.array([0.1])) == pytest.approx([1.0], abs=0.01)
    unfitted = GapCalibration(DEFAULT_THRESHOLD, DEFAULT_CLUSTER_DISTANCE)
    assert unfitted.unanswered_probability(np.array([0.49, 0.2])).tolist() == [1.0, 1.0]
    assert unfitted.unanswered_log_odds(np.array([0.49, 0.2])).tolist() == [1.0, 1.0]  # rank by size alone
    odds = cal.unanswered_log_odds(np.array([0.49, 0.45, 0.30]))
    assert odds == pytest.approx(np.log(np.array([near, middle, far]) / (1 - np.array([near, middle, far]))))


class _Vectors:
    """Stands in for the model: each query text's vector is given (so where a query falls is designed)."""

    dim = 48

    def __init__(self, table: dict[str, np.ndarray]):
        self.table = table

    def embed_queries(self, texts):
        return np.stack([self.table[t] for t in texts])


def test_few_searches_far_from_every_article_outrank_many_near_misses_of_one():
    # Eight articles of eight lines each around their own direction; twelve failed wordings leaning toward
    # article 0 (just under the threshold: an article that exists but is worded differently) and five far from
    # every article (a need nobody wrote about). By searches × P(no article) the near-misses came first
    # (12 × 0.70 against 5 × 0.97); by the evidence summed over the searches the missing article does.
    rng = np.random.default_rng(7)
    axis = np.eye(_Vectors.dim, dtype=np.float32)

    def unit(v: np.ndarray) -> np.ndarray:
        return (v / np.linalg.norm(v)).astype(np.float32)

    arts = []
    for a in range(8):
        texts = [f"article {a} line {k}" for k in range(8)]
        vectors = np.stack([unit(axis[a] + 0.09 * rng.standard_normal(_Vectors.dim)) for _ in texts])
        arts.append(kb_view.ArticleUnits(f"a{a}", f"Article {a}", f"a{a}", "en", "public", texts, [False] * 8, vectors))
    near = [f"near miss wording {k}" for k in range(12)]
    far = [f"far away need {k}" for k in range(5)]
    table = {t: unit(0.65 * axis[0] + axis[10] + 0.05 * rng.standard_normal(_Vectors.dim)) for t in near}
    table |= {t: unit(axis[12] + 0.05 * rng.standard_normal(_Vectors.dim)) for t in far}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    result = analyse_gaps(
        aggregate_searches([_event(t, t, at) for t in near + far]),
        store=None,  # type: ignore[arg-type]  # the evidence is given
        embedder=_Vectors(table),  # type: ignore[arg-type]
        evidence=KnowledgeEvidence.from_units(arts, _Vectors.dim),
    )
    first, second = result.topics
    assert set(first.members) == set(far) and set(second.members) == set(near)
    assert max(second.scores.values()) < result.calibration.threshold  # every near-miss was judged unanswered
    assert second.size * second.confidence > first.size * first.confidence  # the old order
    assert first.evidence > second.evidence > 0
    assert first.as_dict()["evidence"] == round(first.evidence, 2)


def test_past_the_cap_a_sample_is_clustered_and_the_rest_joins_the_nearest_topic():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 16)
    X = np.concatenate([c + 0.05 * rng.standard_normal((40, 16)) for c in centres])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = cluster_labels(X, np.ones(len(X)), 0.3, max_cluster=30, seed=0)
    truth = np.repeat(np.arange(3), 40)
    # Every point lands with its own group and no two groups share a label.
    assert all(len(set(labels[truth == g])) == 1 for g in range(3))
    assert len(set(labels)) == 3


def test_wordings_in_two_languages_join_up_to_the_cross_language_distance():
    # One need: two English wordings 0.3 apart (cosine distance) and a Russian one 0.5 from both; another
    # need in Russian far from all three. With the cut at 0.4 for everything, the need splits by language.
    half = np.arccos(0.7) / 2
    mid = np.array([np.cos(half), np.sin(half), 0.0])
    lift = np.arccos(0.5 / np.cos(half))
    X = np.array(
        [
            [1.0, 0.0, 0.0],
            [0.7, np.sqrt(1 - 0.49), 0.0],
            np.cos(lift) * mid + [0.0, 0.0, np.sin(lift)],
            [0.25, -np.sqrt(1 - 0.0625), 0.0],
        ]
    )
    d = 1 - X @ X.T
    assert np.allclose([d[0, 1], d[0, 2], d[1, 2]], [0.3, 0.5, 0.5]) and d[3, :3].min() > 0.7
    langs = np.array(["en", "en", "ru", "ru"], dtype=object)
    w = np.ones(4)
    plain = cluster_labels(X, w, 0.4, 100, 0)
    assert plain[0] == plain[1] != plain[2]
    joined = cluster_labels(X, w, 0.4, 100, 0, langs, 0.55)
    assert joined[0] == joined[1] == joined[2] != joined[3]
    assert len(set(cluster_labels(X, w, 0.4, 100, 0, langs, 0.45))) == 3  # 0.5 apart: farther than 0.45 allows


# --- the real model --------------------------------------------------------------------------------------

ARTICLES = {
    "reset-password": (
        "How to reset your password",
        [
            "I forgot my password",
            "How do I reset my password?",
            "I can't log in, my password is wrong",
            "Open Settings › Security and choose Reset password.",
        ],
    ),
    "refunds": (
        "Refunds",
        [
            "Can I get my money back?",
            "How do I request a refund?",
            "Refunds are paid within 14 days.",
            "I was charged twice and want a refund",
        ],
    ),
    "change-email": (
        "Change the email address of your account",
        [
            "How do I change my email?",
            "I want to use a different email address",
            "Update the email on my profile",
            "Open Profile and edit the email field.",
        ],
    ),
    "two-factor": (
        "Two-factor authentication",
        [
            "How do I turn on two-factor authentication?",
            "Set up 2FA with an authenticator app",
            "I lost my phone with the authenticator",
            "Use a backup code to sign in.",
        ],
    ),
    "delete-account": (
        "Delete your account",
        [
            "How can I delete my account?",
            "Close my account permanently",
            "Remove all my data and the account",
            "Deleting an account cannot be undone.",
        ],
    ),
}

EXPORT = [
    "how do I export my contacts to a csv file",
    "export contacts as csv",
    "как экспортировать контакты в csv файл",
    "як експортувати контакти у csv файл",
]
DARK = [
    "is there a dark mode",
    "how to switch the app to a dark theme",
    "как включить тёмную тему в приложении",
    "як увімкнути темну тему в застосунку",
]
ANSWERED = ["i forgot my password", "забыл пароль, как его сбросить", "how do i get a refund"]


@pytest.fixture(scope="module")
def real_embedder():
    from kb.embedder import load_embedder
    from kb.settings import Settings

    return load_embedder(Settings())


@pytest.fixture(scope="module")
def gap_analysis(real_embedder, tmp_path_factory):
    root = tmp_path_factory.mktemp("gaps")
    for aid, (title, lines) in ARTICLES.items():
        write_article(root / "articles", f"{aid}.md", id=aid, title=title, body="\n".join(f"- {x}" for x in lines))
    store = EdgeStore(root / "shard")
    Indexer(store, real_embedder, 256).run(root / "articles")
    log = EventLog("sqlite://")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "query": q,
            "normalized": q.lower(),
            "locale": loc,
            "results": [],
            "answered": False,
            "latency_ms": 1.0,
            "at": now + timedelta(hours=k),
        }
        for k, (q, loc) in enumerate([(q, "en") for q in EXPORT + DARK + ANSWERED] * 2)
    ]
    log.log_searches_bulk(rows)
    result = analyse_gaps(aggregate_searches(log.iter_searches()), store=store, embedder=real_embedder)
    store.close()
    return result


def _topic_of(result, query: str):
    return next((t for t in result.topics if query.lower() in t.members), None)


@pytest.mark.slow
def test_the_same_need_in_english_russian_and_ukrainian_is_one_topic(gap_analysis):
    for need in (EXPORT, DARK):
        topics = {_topic_of(gap_analysis, q).id if _topic_of(gap_analysis, q) else None for q in need}
        assert len(topics) == 1 and None not in topics, [(q, _topic_of(gap_analysis, q)) for q in need]
        topic = _topic_of(gap_analysis, need[0])
        assert topic.size == 2 * len(need) and topic.distinct == len(need)


@pytest.mark.slow
def test_unrelated_needs_are_different_topics(gap_analysis):
    assert _topic_of(gap_analysis, EXPORT[0]).id != _topic_of(gap_analysis, DARK[0]).id


@pytest.mark.slow
def test_answered_queries_are_not_flagged(gap_analysis):
    for q in ANSWERED:
        assert q.lower() not in gap_analysis.unanswered, (q, gap_analysis.scores[q.lower()], gap_analysis.calibration)


@pytest.mark.slow
def test_a_topic_names_itself_and_points_at_the_nearest_articles(gap_analysis):
    topic = _topic_of(gap_analysis, EXPORT[0])
    assert topic.title and topic.title[0].isupper() and not topic.title.endswith("?")
    assert len(topic.nearest_articles) == 3 and topic.nearest_articles[0].id in ARTICLES
    assert 0.5 < topic.confidence <= 1.0 and len(topic.centroid) == 384  # far from every article: a likely gap
    assert topic.first_seen <= topic.last_seen
    assert gap_analysis.calibration.fitted


def test_a_query_search_answered_most_times_is_not_a_gap_unless_asked_to_judge_alone(tmp_path, embedder):
    for aid, title in [("pw", "Reset password"), ("refund", "Refunds and money back"), ("mail", "Change email")]:
        write_article(tmp_path / "a", f"{aid}.md", id=aid, title=title, body=f"- {title} now\n- how to {title}")
    store = EdgeStore(tmp_path / "shard")
    Indexer(store, embedder, 64).run(tmp_path / "a")
    t = datetime(2026, 1, 1, tzinfo=UTC)
    stats = aggregate_searches(
        [
            _event("zebra quantum violin", "zebra quantum violin", t, answered=True),
            _event("zebra quantum violin", "zebra quantum violin", t, answered=True),
            _event("zebra quantum violin", "zebra quantum violin", t, answered=False),
        ]
    )
    alone = analyse_gaps(stats, store=store, embedder=embedder, use_search_time=False)
    both = analyse_gaps(stats, store=store, embedder=embedder)
    store.close()
    assert alone.unanswered == {"zebra quantum violin"} and [t.size for t in alone.topics] == [3]
    assert both.unanswered == set() and both.topics == []
