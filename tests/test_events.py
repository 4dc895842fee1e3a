"""The event log: searches, clicks and votes round-trip, and the reads built on them are right."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kb.db import EventLog, SearchEvent, database_url
from kb.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SALT = "test-salt"
IP = "203.0.113.7"


def res(*ids: str) -> list[dict]:
    return [{"id": a, "score": 1.0 - i / 10, "rank": i + 1} for i, a in enumerate(ids)]


def search(
    log: EventLog,
    query: str = "reset password",
    *,
    locale: str | None = "en",
    results=None,
    answered: bool = True,
    at: datetime | None = None,
    **kw,
) -> str:
    results = res("reset-password") if results is None else results
    return log.log_search(
        query=query,
        normalized=query.lower(),
        locale=locale,
        results=results,
        answered=answered,
        latency_ms=5.0,
        at=at,
        **kw,
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/events.sqlite3"


@pytest.fixture
def log(db_url: str):
    with EventLog(db_url, ip_salt=SALT) as lg:
        yield lg


def round_trip(log: EventLog) -> None:
    """Search, click, vote and read it all back (shared by the SQLite and PostgreSQL tests)."""
    art = f"art-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC) - timedelta(seconds=1)
    sid = log.log_search(
        query="How do I Reset my password?",
        normalized="how do i reset my password",
        locale="en",
        results=[{"id": art, "score": 0.93, "rank": 1}, {"id": "other", "score": 0.41, "rank": 2}],
        answered=True,
        latency_ms=12.5,
        corrected=None,
        session="sess-1",
        ip=IP,
        category="account",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", sid), sid
    again = log.log_search(
        query="How do I Reset my password?",
        normalized="how do i reset my password",
        locale="en",
        results=[],
        answered=False,
        latency_ms=1.0,
    )
    assert again != sid  # every search has an id of its own: clicks and votes land on the right one
    assert not log.get_search(sid).clicked
    log.log_click(sid, art)
    log.log_vote(art, True, reason="clear steps", search_id=sid, session="sess-1", ip=IP)
    log.log_vote(art, False)
    ev = log.get_search(sid)
    assert ev == SearchEvent(
        search_id=sid,
        at=ev.at,
        query="How do I Reset my password?",
        normalized="how do i reset my password",
        locale="en",
        answered=True,
        result_ids=(art, "other"),
        top_score=0.93,
        latency_ms=12.5,
        clicked=True,
        top_clicked=True,  # the click was on the first result
        helpful=True,  # and that article was voted helpful from this search
        audience="customer",
        session="sess-1",
    )
    assert ev.at.tzinfo is not None and ev.at.utcoffset() == timedelta(0) and ev.at >= start
    assert sid in [e.search_id for e in log.iter_searches(since=start)]
    assert log.helpfulness(art) == (1, 1)
    assert (art, 1) in log.popular_articles(limit=1000)


def test_search_click_vote_round_trip(log):
    round_trip(log)


def test_click_rank_defaults_to_the_rank_shown(log, db_url):
    sid = search(log, results=res("a", "b", "c"))
    log.log_click(sid, "c")
    log.log_click(sid, "zzz")  # not among the results (e.g. a related link): logged, rank unknown
    log.log_click(sid, "a", rank=7)
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("select article_id, rank from clicks order by id").fetchall() == [
            ("c", 3),
            ("zzz", None),
            ("a", 7),
        ]


def test_postgres_round_trip():
    url = os.environ.get("KB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set KB_TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db to run against PostgreSQL")
    with EventLog(url, ip_salt=SALT) as lg:
        round_trip(lg)
        # NUL and lone surrogates are not storable in PostgreSQL text: they must not break logging.
        sid = search(lg, "nul\x00 and \ud800 surrogate")
        assert lg.get_search(sid).query == "nul\ufffd and \ufffd surrogate"


def test_stats_on_a_hand_built_history(log):
    # en: 4 searches, 3 answered, 1 with no results, 2 clicked; ru: 2 searches, 1 answered, none clicked.
    a = search(log, "a", at=T0)
    b = search(log, "b", at=T0 + timedelta(hours=1))
    search(log, "c", at=T0 + timedelta(hours=2))
    search(log, "d", results=[], answered=False, at=T0 + timedelta(hours=3))
    search(log, "e", locale="ru", at=T0 + timedelta(hours=4))
    search(log, "f", locale="ru", results=[], answered=False, at=T0 + timedelta(hours=5))
    search(log, "g", locale=None, at=T0 - timedelta(days=1))  # outside the window below
    log.log_click(a, "reset-password", at=T0)
    log.log_click(a, "reset-password", at=T0)  # a second click on the same search: CTR counts searches
    log.log_click(b, "reset-password", at=T0)
    log.log_vote("reset-password", True, at=T0)
    log.log_vote("reset-password", False, at=T0)
    log.log_vote("reset-password", True, at=T0 - timedelta(days=1))

    s = log.dashboard.stats(since=T0, until=T0 + timedelta(days=1))
    assert s["searches"] == 6 and s["answered"] == 4 and s["clicked"] == 2 and s["zero_result"] == 2
    assert s["answered_rate"] == pytest.approx(4 / 6)
    assert s["click_through_rate"] == pytest.approx(2 / 6)
    assert s["votes"] == {"helpful": 1, "not_helpful": 1}
    assert s["by_locale"] == {
        "en": {"searches": 4, "answered_rate": 0.75, "click_through_rate": 0.5, "zero_result": 1},
        "ru": {"searches": 2, "answered_rate": 0.5, "click_through_rate": 0.0, "zero_result": 1},
    }
    everything = log.dashboard.stats()
    assert everything["searches"] == 7 and None in everything["by_locale"]
    assert everything["votes"] == {"helpful": 2, "not_helpful": 1}
    empty = log.dashboard.stats(since=T0 + timedelta(days=10))
    assert empty["searches"] == 0 and empty["answered_rate"] == 0.0 and empty["by_locale"] == {}


def test_popular_queries_counts_only_successful_queries(log):
    for i in range(3):
        search(log, "Reset Password", ip=f"198.51.100.{i}")
    for i in range(5):
        search(log, "refund policy", ip=f"198.51.100.{i}", results=[], answered=False)  # never answered
    for i in range(2):
        search(log, "reset email", ip=f"198.51.100.{i}")
    search(log, "rare query", ip="198.51.100.9")
    for i in range(4):
        search(log, "сбросить пароль", locale="ru", ip=f"203.0.113.{i}")
    for i in range(6):  # one visitor repeating it, with a new cookie every time
        search(log, "my email is jane@example.com", session=f"fresh{i}", ip="192.0.2.1")
    for i in range(3):  # one IPv6 subscriber: every address of its /64 is the same visitor
        search(log, "reset via ipv6", ip=f"2001:db8:0:1::{i + 1}")
    for i in range(3):
        search(log, "internal runbook", audience="agent", ip=f"198.51.100.{i}")
    for i in range(4):
        search(log, "no address known", session=f"n{i}")  # nobody counted
    for i in range(2):  # not answered, but the results were clicked: a success
        sid = search(log, "billing address change", answered=False, ip=f"198.51.100.{i}")
        log.log_click(sid, "reset-password", 1)

    assert log.popular_queries(min_count=2) == [
        ("сбросить пароль", 4),
        ("reset password", 3),
        ("billing address change", 2),
        ("reset email", 2),
    ]
    assert log.popular_queries() == [("сбросить пароль", 4), ("reset password", 3)]
    assert log.popular_queries(locale="en", min_count=2) == [
        ("reset password", 3),
        ("billing address change", 2),
        ("reset email", 2),
    ]
    assert log.popular_queries(prefix="RES", min_count=2) == [("reset password", 3), ("reset email", 2)]
    assert log.popular_queries(prefix="СБР") == [("сбросить пароль", 4)]
    assert log.popular_queries(prefix="ref", min_count=1) == []
    assert log.popular_queries(prefix="re", limit=1) == [("reset password", 3)]
    assert ("rare query", 1) in log.popular_queries(min_count=1, limit=100)
    assert ("my email is jane@example.com", 1) in log.popular_queries(min_count=1, limit=100)
    assert ("reset via ipv6", 1) in log.popular_queries(min_count=1, limit=100)
    assert not [q for q, _ in log.popular_queries(min_count=1, limit=100) if q == "no address known"]
    assert log.popular_queries(prefix="%", min_count=1) == [] and log.popular_queries(prefix="_", min_count=1) == []
    assert log.popular_queries(audience="agent") == [("internal runbook", 3)]


def test_iter_searches_streams_across_batches_in_order_with_filters(log):
    ids = [
        search(log, f"q{i}", answered=i % 2 == 0, results=res("a") if i % 2 == 0 else [], at=T0 + timedelta(minutes=i))
        for i in range(10)
    ]
    events = list(log.iter_searches(batch=3))
    assert [e.search_id for e in events] == ids
    assert all(isinstance(e, SearchEvent) and e.at.tzinfo is not None for e in events)
    assert [e.search_id for e in log.iter_searches(answered=False, batch=3)] == ids[1::2]
    assert [e.result_ids for e in log.iter_searches(answered=True, batch=3)] == [("a",)] * 5
    window = list(log.iter_searches(T0 + timedelta(minutes=2), T0 + timedelta(minutes=8), batch=3))
    assert [e.search_id for e in window] == ids[2:8]
    assert [
        e.query for e in log.iter_searches(T0 + timedelta(minutes=2), T0 + timedelta(minutes=8), answered=True, batch=3)
    ] == ["q2", "q4", "q6"]
    assert list(log.iter_searches(since=T0 + timedelta(days=1))) == []


def test_iter_searches_is_a_generator_that_holds_no_connection(log):
    for i in range(10):
        search(log, f"q{i}")
    it = log.iter_searches(batch=3)
    first = next(it)
    assert log.engine.pool.checkedout() == 0  # between batches nothing is held
    search(log, "written while streaming")  # a writer is not blocked by the open stream
    assert [first.query] + [e.query for e in it] == [f"q{i}" for i in range(10)]  # the stream is bounded at start


def test_ip_is_never_stored_in_clear(log, db_url):
    search(log, ip=IP)
    log.log_vote("reset-password", True, ip=IP)
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:
        dump = "\n".join(raw.iterdump())
        stored = {r[0] for r in raw.execute("select ip_hash from searches union select ip_hash from votes")}
    plain = hashlib.sha256(IP.encode()).hexdigest()
    assert IP not in dump and plain not in dump and plain[:16] not in dump
    assert stored == {hmac.new(SALT.encode(), IP.encode(), hashlib.sha256).hexdigest()[:16]}


def test_ip_hash_is_stable_per_salt_and_counts_visitors(tmp_path):
    with (
        EventLog(f"sqlite:///{tmp_path}/a.db", ip_salt=SALT) as a,
        EventLog(f"sqlite:///{tmp_path}/b.db", ip_salt="other") as b,
    ):
        for lg in (a, b):
            search(lg, ip=IP)
            search(lg, ip=IP)
            search(lg, ip="2001:DB8::1")
            search(lg, ip="2001:db8::1")  # the same address spelled differently
            search(lg, ip="::ffff:203.0.113.7")  # IPv4-mapped: the same visitor as IP
            search(lg)
        assert a.dashboard.stats()["visitors"] == 2
        hashes = [
            {r[0] for r in sqlite3.connect(p).execute("select ip_hash from searches")}
            for p in (tmp_path / "a.db", tmp_path / "b.db")
        ]
    assert hashes[0].isdisjoint(hashes[1] - {None})


def test_without_a_salt_no_ip_hash_is_stored(tmp_path):
    # An unsalted hash of an IPv4 address is reversed by trying all 2^32 of them.
    with EventLog(f"sqlite:///{tmp_path}/e.db") as lg:
        search(lg, ip=IP)
    assert sqlite3.connect(tmp_path / "e.db").execute("select ip_hash from searches").fetchall() == [(None,)]


def test_unknown_search_id_is_a_clear_error(log):
    with pytest.raises(ValueError, match="unknown search_id 'nope'"):
        log.log_click("nope", "reset-password")
    with pytest.raises(ValueError, match="unknown search_id"):
        log.log_vote("reset-password", True, search_id="nope")
    assert log.dashboard.stats()["votes"] == {"helpful": 0, "not_helpful": 0}


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("query", {"query": 42}),
        ("normalized", {"normalized": None}),
        ("locale", {"locale": 3}),
        ("results", {"results": "a,b"}),
        (r"results\[0\]\.id", {"results": [{"id": None, "score": 1.0}]}),
        (r"results\[0\]\.score", {"results": [{"id": "a", "score": "high"}]}),
        (
            r"results\[1\]\.rank",
            {"results": [{"id": "a", "score": 1.0, "rank": 1}, {"id": "b", "score": 1.0, "rank": 1}]},
        ),
        ("answered", {"answered": "yes"}),
        ("latency_ms", {"latency_ms": float("nan")}),
        ("latency_ms", {"latency_ms": -1}),
        ("session", {"session": 123}),
        ("ip", {"ip": 1234}),
        ("at", {"at": datetime(2026, 1, 1)}),
        ("at", {"at": "2026-01-01"}),
    ],
)
def test_bad_types_name_the_field(log, field, kwargs):
    args = dict(query="q", normalized="q", locale="en", results=[], answered=False, latency_ms=1.0) | kwargs
    with pytest.raises(ValueError, match=field):
        log.log_search(**args)


def test_limits_truncate_free_text(log, db_url):
    sid = search(log, "x" * 2000)
    assert log.get_search(sid).query == "x" * 500
    log.log_vote("reset-password", False, reason="y" * 5000)
    with pytest.raises(ValueError, match="helpful"):
        log.log_vote("reset-password", "no")
    with pytest.raises(ValueError, match="article_id"):
        log.log_vote("a" * 300, True)
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("select length(reason) from votes").fetchall() == [(1000,)]


def test_two_logs_on_one_file_see_each_others_writes(db_url):
    with EventLog(db_url, ip_salt=SALT) as a, EventLog(db_url, ip_salt=SALT) as b:
        sid = search(a)
        b.log_click(sid, "reset-password")
        b.log_vote("reset-password", True, search_id=sid)
        assert a.get_search(sid).clicked
        assert a.helpfulness("reset-password") == (1, 0)
        assert b.dashboard.stats()["searches"] == a.dashboard.stats()["searches"] == 1


def test_eight_threads_logging_concurrently_lose_nothing(log):
    per_thread, errors, ids = 40, [], []
    lock, barrier = threading.Lock(), threading.Barrier(8)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                sid = search(log, f"t{t} q{i}", session=f"t{t}")
                log.log_click(sid, "reset-password")
                log.log_vote("reset-password", i % 2 == 0, search_id=sid)
                with lock:
                    ids.append(sid)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    events = list(log.iter_searches(batch=50))
    assert len(ids) == len(set(ids)) == 8 * per_thread
    assert {e.search_id for e in events} == set(ids) and all(e.clicked for e in events)
    s = log.dashboard.stats()
    assert s["searches"] == 8 * per_thread and s["click_through_rate"] == 1.0
    assert s["votes"] == {"helpful": 4 * per_thread, "not_helpful": 4 * per_thread}


def test_bulk_path(log):
    rows = [
        dict(
            query=f"q{i % 7}",
            normalized=f"q{i % 7}",
            locale="en",
            results=res("a", "b"),
            answered=True,
            latency_ms=1.0,
            session=f"s{i}",
            ip=f"10.0.{i // 200}.{i % 200}",
            at=T0 + timedelta(seconds=i),
        )
        for i in range(2500)
    ]
    assert log.log_searches_bulk(iter(rows)) == 2500
    events = list(log.iter_searches(batch=1000))
    assert len(events) == 2500 and all(e.result_ids == ("a", "b") for e in events)
    assert [e.at for e in events] == [r["at"] for r in rows]
    assert log.popular_queries(limit=1)[0][1] == 358
    with pytest.raises(ValueError, match=r"rows\[1\]: query"):
        log.log_searches_bulk([rows[0], {**rows[0], "query": None}])


def test_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path):
    assert database_url(SimpleNamespace(database_url=None, data_dir=tmp_path)) == f"sqlite:///{tmp_path}/events.sqlite3"
    assert (
        database_url(SimpleNamespace(database_url="postgresql+psycopg://h/db", data_dir=tmp_path))
        == "postgresql+psycopg://h/db"
    )
    settings = Settings(database_url=None, data_dir=tmp_path / "new" / "dir", ip_salt="s")
    with EventLog.from_settings(settings) as lg:
        search(lg)
    assert (tmp_path / "new" / "dir" / "events.sqlite3").exists()


def test_timestamps_are_utc(log):
    sid = search(log, at=datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=3))))
    assert log.get_search(sid).at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert log.get_search(sid).at.tzinfo == UTC


def test_unstorable_characters_are_replaced(log):
    sid = search(log, "a\x00b \ud83d\ude00 \udc80")
    assert log.get_search(sid).query == "a\ufffdb \U0001f600 \ufffd"


@pytest.fixture(scope="module")
def shared_log():
    with tempfile.TemporaryDirectory() as d, EventLog(f"sqlite:///{d}/e.db", ip_salt=SALT) as lg:
        yield lg


@hsettings(max_examples=150, deadline=None)
@given(text=st.text())
def test_any_query_text_round_trips(shared_log, text):
    sid = shared_log.log_search(query=text, normalized=text, locale=None, results=[], answered=False, latency_ms=0.0)
    ev = shared_log.get_search(sid)
    expected = text[:500].replace("\x00", "\ufffd")
    assert ev.query == expected
    assert ev.normalized == expected.casefold()[:500]


# -- the query's own language ------------------------------------------------------------------------


def test_query_lang_is_stored_and_by_locale_counts_the_customers_language(log):
    # Two readers of the English interface typing Russian, one of the Russian interface typing English, one
    # whose language was not detected: "by locale" says what language customers asked in.
    ru1 = search(log, "сбросить пароль", locale="en", query_lang="ru", at=T0)
    search(log, "забыл пароль", locale="en", query_lang="ru", at=T0)
    search(log, "reset password", locale="ru", query_lang="en", at=T0)
    plain = search(log, "2fa", locale="uk", at=T0)
    assert log.get_search(ru1).query_lang == "ru" and log.get_search(plain).query_lang is None
    assert [e.query_lang for e in log.iter_searches()] == ["ru", "ru", "en", None]
    by_locale = log.dashboard.stats()["by_locale"]
    assert {k: v["searches"] for k, v in by_locale.items()} == {"en": 1, "ru": 2, "uk": 1}
    assert (
        log.log_searches_bulk(
            [
                {
                    "query": "q",
                    "normalized": "q",
                    "locale": "en",
                    "results": [],
                    "answered": False,
                    "latency_ms": 1.0,
                    "query_lang": "uk",
                    "at": T0,
                }
            ]
        )
        == 1
    )
    assert log.dashboard.stats()["by_locale"]["uk"]["searches"] == 2
    with pytest.raises(ValueError, match="query_lang"):
        search(log, "x", query_lang="")


OLD_SEARCHES = """CREATE TABLE searches (
    id INTEGER PRIMARY KEY, search_id VARCHAR(32) NOT NULL UNIQUE, at TIMESTAMP NOT NULL, query VARCHAR(500) NOT NULL,
    normalized VARCHAR(500) NOT NULL, corrected VARCHAR(500), locale VARCHAR(16), category VARCHAR(100),
    audience VARCHAR(32) NOT NULL, answered BOOLEAN NOT NULL, result_count INTEGER NOT NULL, top_score FLOAT,
    latency_ms FLOAT NOT NULL, session VARCHAR(128), ip_hash VARCHAR(16))"""
OLD_ROW = (
    "INSERT INTO searches (search_id, at, query, normalized, locale, audience, answered, result_count, "
    "latency_ms) VALUES ('0123456789abcdef0123456789abcdef', '2026-01-01 00:00:00', 'old', 'old', 'ru', "
    "'customer', true, 0, 1.0)"
)


def opens_a_database_from_before_query_lang(url: str, create_old) -> None:
    """A database whose searches table predates query_lang opens, gains the column, keeps its rows."""
    create_old()
    with EventLog(url) as lg:
        old = lg.get_search("0123456789abcdef0123456789abcdef")
        assert (old.query, old.locale, old.query_lang) == ("old", "ru", None)
        sid = search(lg, "new one", locale="ru", query_lang="en")
        assert lg.get_search(sid).query_lang == "en"
        assert lg.dashboard.stats()["by_locale"].keys() == {"ru", "en"}
    with EventLog(url) as lg:  # opening it again finds the column there: nothing to add
        assert lg.get_search(sid).query_lang == "en"


def test_a_sqlite_database_from_before_query_lang_gets_the_column(tmp_path):
    path = tmp_path / "old.sqlite3"

    def create_old():
        with sqlite3.connect(path) as db:
            db.execute(OLD_SEARCHES)
            db.execute(OLD_ROW)

    opens_a_database_from_before_query_lang(f"sqlite:///{path}", create_old)


def test_a_postgres_database_from_before_query_lang_gets_the_column():
    url = os.environ.get("KB_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set KB_TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db to run against PostgreSQL")
    from sqlalchemy import create_engine, text

    schema = f"kb_old_{uuid.uuid4().hex[:12]}"  # a schema of its own: the other tests' tables stay apart
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"

    def create_old():
        with admin.begin() as conn:
            conn.execute(text(f"SET search_path TO {schema}"))
            conn.execute(
                text(
                    OLD_SEARCHES.replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY").replace(
                        "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"
                    )
                )
            )
            conn.execute(text(OLD_ROW.replace("'2026-01-01 00:00:00'", "'2026-01-01 00:00:00+00'")))

    try:
        opens_a_database_from_before_query_lang(scoped, create_old)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
