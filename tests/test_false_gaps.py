"""No false gaps: over the shipped articles, what a public article answers never becomes an "absent" topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kb.db.events import EventLog
from reports.gaps import GapReporter
from search.answered import AnsweredModel, Logistic
from search.service import SearchService

pytestmark = pytest.mark.slow

TARIFF = "Как поменять тариф"  # "Тарифы и цены Orbita" answers it
FOP = "how do i pay as a FOP"  # the ФОП payment article answers it
LAYOUT = "Ghbdtn yt vjue djqnb"  # "Привет не могу войти" typed on the English layout
GANTT = ["gantt chart view", "диаграмма ганта для задач", "діаграма ганта", "is there a gantt diagram"]  # no article
# Says "unanswered" to everything: the log then holds only the customer's own signals (clicks, votes).
NEVER = AnsweredModel(Logistic((0.0, 0.0, 0.0), -10.0), Logistic((0.0, 0.0), -10.0))


def _log(service: SearchService, texts: list[str], times: int = 3) -> dict[str, list]:
    responses: dict[str, list] = {}
    for k in range(times):
        for i, text in enumerate(texts):
            responses.setdefault(text, []).append(service.search(text, session=f"s{k}-{i}"))
    return responses


def _absent(report) -> dict[str, str]:
    """Every wording listed under an absent topic, with the topic's title."""
    return {q["text"].lower(): t.title for t in report.topics if t.coverage == "absent" for q in t.queries}


def _build(events, retriever):
    now = datetime.now(UTC)
    return GapReporter(events, retriever).build(now - timedelta(days=7), now + timedelta(minutes=1))


def test_queries_the_search_answers_are_no_absent_topic(real_retriever, tmp_path):
    events = EventLog(f"sqlite:///{tmp_path}/e.db")
    service = SearchService(real_retriever.store, real_retriever, events)  # the decision fitted on the shipped KB
    responses = _log(service, [TARIFF, FOP, *GANTT])
    assert responses[TARIFF][0].results[0].id == "plans-and-pricing-ru"
    report = _build(events, real_retriever)
    absent = _absent(report)
    assert TARIFF.lower() not in absent and FOP.lower() not in absent, absent
    assert any(g in absent for g in GANTT), absent  # what no article answers still is absent
    events.close()


def test_a_clicked_or_helpful_top_article_keeps_an_unanswered_query_out_of_absent(real_retriever, tmp_path):
    events = EventLog(f"sqlite:///{tmp_path}/e.db")
    service = SearchService(real_retriever.store, real_retriever, events, answered=NEVER)
    responses = _log(service, [TARIFF, FOP, LAYOUT, *GANTT])
    for r in responses[TARIFF]:  # the customer opened the top result
        events.log_click(r.search_id, r.results[0].id, rank=1)
    for r in responses[FOP]:  # read it and said it helped
        events.log_vote(r.results[0].id, True, search_id=r.search_id)
    report = _build(events, real_retriever)
    absent = _absent(report)
    assert TARIFF.lower() not in absent and FOP.lower() not in absent, absent
    assert any(g in absent for g in GANTT), absent
    # The layout-corrected query is reported as search read it, with what was typed kept beside it.
    listed = [q for t in report.topics for q in t.queries]
    assert not any("ghbdtn" in t.title.lower() for t in report.topics), [t.title for t in report.topics]
    mine = [q for q in listed if q.get("typed") == LAYOUT]
    assert mine and mine[0]["text"].lower() == "привет не могу войти", listed
    events.close()
