"""Gap report build time and memory on event logs of 10k, 100k and 1M searches. Prints numbers.

    OMP_NUM_THREADS=1 python benchmarks/gaps_bench.py [--sizes 10000,100000,1000000] [--json]
        [--data DIR] [--workdir DIR] [--profile] [--keep]

Each size runs in a fresh process (so its peak RSS is its own): the log is generated into a SQLite file with
EventLog.log_searches_bulk, streamed (never held in memory), then GapReporter.build() runs over it with the
shipped articles indexed with the real model: `kb index` once into --data (a KB_DATA_DIR; the demo's
`/tmp/admin2-demo` of benchmarks/gaps_demo.py will do), or into a temporary folder. `kb index` also keeps the
report's view of the KB (reports/kb_view.py) and the answered decision, as a served index has them; the child
imports what the report needs before timing it, as the web app does at start-up (reports.gaps.preload).

The synthetic log, eight weeks of it, in time order:
- ~60% frequent, answered help-center questions: the titles and section headings of the shipped public
  articles in en/ru/uk (a few hundred wordings, Zipf-distributed), most of them clicked;
- ~25% a need the KB does not cover: ~40 missing features, each asked in en/ru/uk with several paraphrases,
  Zipf-distributed across needs, some rising or falling over the weeks; nearly all unanswered;
- ~15% a long tail of one-off queries (recombined article words, error codes, ticket numbers), half answered;
- visits of 1-3 searches in one session, seconds apart, some reformulating the previous query, some typing on;
- a few agent-rejected suggestions and contact forms sent after a deflection (logged at the current time:
  TicketLog has no timestamp parameter).
Clicks are written per chunk of the bulk insert (log_searches_bulk returns no ids; the chunk's ids are the
row ids it added to a fresh file).

Per size it prints: searches, distinct queries, log build time, report build time (GapReporter.build), peak
RSS before and after the report (resource.getrusage), topics found and the report's totals.
With --profile, the report build of each size runs under cProfile and the top functions are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEEKS = 8
CHUNK = 20_000  # rows per log_searches_bulk call (clicks are written after each)

# Features the shipped help center does not cover (checked: no article mentions them): en, ru, uk.
NEEDS = [
    ("gantt chart", "диаграмма Ганта", "діаграма Ганта"),
    ("dark mode", "тёмная тема", "темна тема"),
    ("recurring tasks", "повторяющиеся задачи", "повторювані задачі"),
    ("time tracking", "учёт рабочего времени", "облік робочого часу"),
    ("formulas in custom fields", "формулы в пользовательских полях", "формули в користувацьких полях"),
    ("swimlanes on the kanban board", "дорожки на канбан-доске", "доріжки на канбан-дошці"),
    ("import from trello", "импорт из Trello", "імпорт з Trello"),
    ("import from asana", "импорт из Asana", "імпорт з Asana"),
    ("task dependencies", "зависимости между задачами", "залежності між задачами"),
    ("guest access for clients", "гостевой доступ для клиентов", "гостьовий доступ для клієнтів"),
    ("apple watch app", "приложение для Apple Watch", "застосунок для Apple Watch"),
    ("linux desktop app", "приложение для Linux", "застосунок для Linux"),
    ("create a task from an email", "создать задачу из письма", "створити задачу з листа"),
    ("team workload view", "загрузка сотрудников", "завантаження співробітників"),
    ("project budget tracking", "бюджет проекта", "бюджет проєкту"),
    ("bill clients for tracked hours", "выставить счёт клиенту по часам", "виставити рахунок клієнту за години"),
    ("online whiteboard", "онлайн-доска для рисования", "онлайн-дошка для малювання"),
    ("video calls", "видеозвонки", "відеодзвінки"),
    (
        "custom domain for the client portal",
        "свой домен для клиентского портала",
        "власний домен для клієнтського порталу",
    ),
    ("task templates", "шаблоны задач", "шаблони задач"),
    ("subtasks", "подзадачи", "підзадачі"),
    ("bulk edit tasks", "массовое редактирование задач", "масове редагування задач"),
    ("print the task list", "распечатать список задач", "роздрукувати список задач"),
    ("merge two workspaces", "объединить два рабочих пространства", "об'єднати два робочі простори"),
    ("ip allowlist", "доступ только с определённых IP", "доступ лише з певних IP"),
    ("right-to-left hebrew interface", "интерфейс на иврите", "інтерфейс івритом"),
    ("kazakh interface language", "казахский язык интерфейса", "казахська мова інтерфейсу"),
    ("voice notes", "голосовые заметки", "голосові нотатки"),
    ("okr goals", "цели OKR", "цілі OKR"),
    ("mind map", "интеллект-карта", "інтелект-карта"),
    ("zoom integration", "интеграция с Zoom", "інтеграція з Zoom"),
    ("import from notion", "импорт из Notion", "імпорт з Notion"),
    ("pay with cryptocurrency", "оплата криптовалютой", "оплата криптовалютою"),
    ("student discount", "скидка для студентов", "знижка для студентів"),
    ("sprint planning", "планирование спринтов", "планування спринтів"),
    ("burndown chart", "диаграмма сгорания задач", "діаграма згоряння задач"),
    ("pomodoro timer", "таймер помодоро", "таймер помодоро в задачах"),
    ("habit tracker", "трекер привычек", "трекер звичок"),
    ("custom email notifications sound", "звук уведомлений на компьютере", "звук сповіщень на комп'ютері"),
    ("signature on documents in tasks", "электронная подпись документов в задачах", "підпис документів у задачах"),
]
TEMPLATES = {
    "en": [
        "{s}",
        "{s} in orbita",
        "is there {s}",
        "how to use {s}",
        "does orbita have {s}",
        "where is {s}",
        "{s} not available",
        "enable {s}",
    ],
    "ru": ["{s}", "{s} в orbita", "есть ли {s}", "как настроить {s}", "где найти {s}", "нужна {s}", "{s} не работает"],
    "uk": ["{s}", "{s} в orbita", "чи є {s}", "як налаштувати {s}", "де знайти {s}", "потрібна {s}"],
}
LOCALE_SHARE = (("en", 0.55), ("ru", 0.25), ("uk", 0.20))


def zipf_weights(n: int, s: float = 1.05) -> list[float]:
    return [1.0 / (k + 1) ** s for k in range(n)]


def help_center_questions() -> list[tuple[str, str, str]]:
    """(question, locale, article id): titles and section headings of the shipped public articles."""
    out = []
    for path in sorted((ROOT / "articles").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        fm = text.split("---", 2)[1] if text.startswith("---") else ""
        if re.search(r"^visibility:\s*(internal|draft)", fm, re.M):
            continue
        aid = re.search(r"^id:\s*(\S+)", fm, re.M)
        locale = path.relative_to(ROOT / "articles").parts[0]
        article = aid.group(1) if aid else path.stem
        title = re.search(r"^title:\s*(.+)$", fm, re.M)
        lines = ([title.group(1).strip().strip('"')] if title else []) + re.findall(r"^##+\s+(.+?)\s*$", text, re.M)
        for line in lines:
            line = re.sub(r"[*`]", "", line).strip()
            if len(line) >= 6 and not re.match(r"^(step \d|шаг \d|крок \d)", line, re.I):
                out.append((line, locale, article))
    return out


def article_words() -> dict[str, list[str]]:
    words: dict[str, set[str]] = {"en": set(), "ru": set(), "uk": set()}
    for path in (ROOT / "articles").rglob("*.md"):
        locale = path.relative_to(ROOT / "articles").parts[0]
        words[locale].update(w.lower() for w in re.findall(r"[^\W\d_]{4,}", path.read_text(encoding="utf-8")))
    return {k: sorted(v) for k, v in words.items()}


class Traffic:
    """Seeded, streamed synthetic traffic in time order (see the module docstring)."""

    def __init__(self, size: int, start: datetime, seed: int = 7):
        self.size, self.start, self.rng = size, start, random.Random(seed)
        self.questions = help_center_questions()
        self.rng.shuffle(self.questions)
        self.q_weights = zipf_weights(len(self.questions))
        self.needs = []  # per need: wordings [(text, locale)], and a weekly growth factor
        for k, subjects in enumerate(NEEDS):
            wordings = [
                (t.format(s=subj), loc) for subj, loc in zip(subjects, ("en", "ru", "uk")) for t in TEMPLATES[loc]
            ]
            growth = (1.35, 1.0, 0.75)[k % 3]  # rising, steady, falling
            self.needs.append((wordings, growth))
        self.need_weights = zipf_weights(len(self.needs), 0.9)
        self.words = article_words()
        self.clicked: list[int] = []  # row numbers (0-based, in insertion order) that get a click

    def _need_weights(self, week: int) -> list[float]:
        return [w * growth ** (week - WEEKS / 2) for w, (_, growth) in zip(self.need_weights, self.needs)]

    def _locale(self) -> str:
        r, acc = self.rng.random(), 0.0
        for loc, share in LOCALE_SHARE:
            acc += share
            if r < acc:
                return loc
        return "en"

    def _tail(self) -> tuple[str, str]:
        loc = self._locale()
        words = self.words[loc] or self.words["en"]
        parts = self.rng.sample(words, self.rng.randint(2, 4))
        r = self.rng.random()
        if r < 0.15:
            parts.append(f"error {self.rng.randint(1000, 9999)}")
        elif r < 0.25:
            parts.append(f"#{self.rng.randint(10000, 99999)}")
        return " ".join(parts), loc

    def _search(self, week: int) -> tuple[str, str, bool, str | None, float]:
        """(query, locale, answered, article shown, click probability)."""
        r = self.rng.random()
        if r < 0.60:
            text, loc, article = self.rng.choices(self.questions, self.q_weights)[0]
            if self.rng.random() < 0.3:
                text = text.lower()
            return text, loc, self.rng.random() < 0.95, article, 0.7
        if r < 0.85:
            wordings, _ = self.rng.choices(self.needs, self._need_weights(week))[0]
            text, loc = self.rng.choice(wordings)
            answered = self.rng.random() < 0.08
            return text, loc, answered, "keyboard-shortcuts" if answered else None, 0.05
        text, loc = self._tail()
        answered = self.rng.random() < 0.5
        return text, loc, answered, "sync-problems" if answered else None, 0.2

    def rows(self):
        from kb.analysis import normalize

        span = WEEKS * 7 * 86400
        n, visit = 0, 0
        # Visits arrive in time order; each is 1-3 searches seconds apart (1.57 on average).
        mean_gap = span / (self.size / 1.57)
        t = 0.0
        while n < self.size:
            t += self.rng.expovariate(1.0 / mean_gap)
            at = self.start + timedelta(seconds=min(t, span - 600))
            week = min(WEEKS - 1, int(t // (7 * 86400)))
            visit += 1
            session, prev = f"v{visit:x}", ""
            for step in range(self.rng.choice((1, 1, 1, 1, 2, 2, 3))):
                if n >= self.size:
                    break
                text, loc, answered, article, p_click = self._search(week)
                if step and self.rng.random() < 0.15:  # typing on: the previous query, extended
                    text = f"{prev} {self.rng.choice(self.words[loc] or ['help'])}"
                clicked = answered and self.rng.random() < p_click
                if clicked:
                    self.clicked.append(n)
                results = [{"id": article, "score": round(self.rng.uniform(0.55, 0.9), 3)}] if article else []
                if answered and self.rng.random() < 0.5:
                    results.append({"id": "offline-mode", "score": 0.4})
                yield {
                    "query": text,
                    "normalized": normalize(text),
                    "locale": loc,
                    "results": results,
                    "answered": answered,
                    "latency_ms": round(self.rng.uniform(8, 60), 1),
                    "session": session,
                    "at": at + timedelta(seconds=step * self.rng.randint(4, 70)),
                }
                prev = text
                n += 1


def build_log(path: Path, size: int, start: datetime) -> tuple[float, int]:
    """Write `size` searches (and their clicks, rejections and deflections) into a fresh SQLite log."""
    from sqlalchemy import func, insert, select

    from kb.db.events import EventLog
    from kb.db.schema import clicks, searches
    from kb.db.tickets import TicketLog

    t0 = time.perf_counter()
    events = EventLog(f"sqlite:///{path}")
    traffic = Traffic(size, start)
    stream = traffic.rows()
    done = 0
    while done < size:
        chunk = []
        for row in stream:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                break
        if not chunk:
            break
        with events.engine.connect() as conn:
            base = conn.execute(select(func.coalesce(func.max(searches.c.id), 0))).scalar_one()
        events.log_searches_bulk(chunk)
        picked = [i for i in traffic.clicked if done <= i < done + len(chunk)]
        traffic.clicked = [i for i in traffic.clicked if i >= done + len(chunk)]
        if picked:
            with events.writer.begin() as conn:
                conn.execute(
                    insert(clicks),
                    [
                        {
                            "search_pk": base + 1 + i - done,
                            "article_id": chunk[i - done]["results"][0]["id"],
                            "rank": 1,
                            "at": chunk[i - done]["at"] + timedelta(seconds=15),
                        }
                        for i in picked
                    ],
                )
        done += len(chunk)
    tickets = TicketLog(events)
    rng = random.Random(11)
    for k in range(max(5, size // 2000)):
        wordings, _ = rng.choices(traffic.needs, traffic.need_weights)[0]
        text, loc = rng.choice(wordings)
        tickets.log_feedback(article_id="keyboard-shortcuts", verdict="rejected", reason="does_not_answer", query=text)
        did = tickets.log_deflection(query=text, articles=["create-workspace"], answered=True, locale=loc)
        if k % 2 == 0:
            tickets.submit_contact(query=text, email="c@example.com", message=text, locale=loc, deflection_id=did)
    with events.engine.connect() as conn:
        distinct = conn.execute(select(func.count(func.distinct(searches.c.normalized)))).scalar_one()
    events.close()
    return time.perf_counter() - t0, distinct


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_one(size: int, shard: Path, workdir: Path, profile: bool) -> dict:
    from kb.db.events import EventLog
    from kb.db.tickets import TicketLog
    from kb.embedder import load_embedder
    from kb.settings import Settings
    from kb.store.edge import EdgeStore
    from reports.gaps import GapReporter, preload
    from search.retrieval import Retriever

    preload()
    embedder = load_embedder(Settings())
    store = EdgeStore(shard)
    rss_model = rss_mb()
    now = datetime.now(UTC)
    since = now - timedelta(weeks=WEEKS)
    db = workdir / f"events-{size}.db"
    db.unlink(missing_ok=True)
    log_s, distinct = build_log(db, size, since)
    rss_log = rss_mb()
    events = EventLog(f"sqlite:///{db}")
    reporter = GapReporter(events, Retriever(store, embedder), TicketLog(events))
    # After the log: its rejections and deflections are stamped when written, minutes after `now` at 1M.
    until = datetime.now(UTC) + timedelta(minutes=5)
    t0 = time.perf_counter()
    if profile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        report = prof.runcall(reporter.build, since, until)
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    else:
        report = reporter.build(since, until)
    build_s = time.perf_counter() - t0
    events.close()
    store.close()
    return {
        "searches": report.totals.get("searches", 0),
        "distinct_queries": distinct,
        "log_build_s": round(log_s, 1),
        "report_build_s": round(build_s, 1),
        "rss_model_mb": round(rss_model),
        "peak_rss_before_report_mb": round(rss_log),
        "peak_rss_mb": round(rss_mb()),
        "db_mb": round(db.stat().st_size / 2**20, 1),
        "topics": len(report.topics),
        "open": sum(t.status == "open" for t in report.topics),
        "absent": sum(t.coverage == "absent" for t in report.topics),
        "totals": report.totals,
        "top_topics": [
            f"{t.title} [{t.coverage}, {'/'.join(t.locales)}, {t.failures}, {t.trend}]" for t in report.topics[:5]
        ],
    }


def index_articles(data: Path) -> None:
    """`kb index` of the shipped articles into data (the chunks, the report's view of the KB, the calibration)."""
    env = {**os.environ, "KB_DATA_DIR": str(data), "KB_ARTICLES_DIR": str(ROOT / "articles")}
    subprocess.run([sys.executable, "-m", "cli.main", "index"], env=env, cwd=ROOT, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    ap.add_argument("--data", type=Path, help="KB_DATA_DIR of `kb index` of the shipped articles (default: built)")
    ap.add_argument("--shard", type=Path, help=argparse.SUPPRESS)  # the child's: data/shard
    ap.add_argument("--workdir", type=Path, help="where the SQLite logs go (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite logs")
    ap.add_argument("--profile", action="store_true", help="cProfile the report build (top functions to stderr)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:  # the child: one size, JSON on stdout
        print(json.dumps(run_one(args.one, args.shard, args.workdir, args.profile)))
        return

    tmp = tempfile.TemporaryDirectory(prefix="gaps-bench-")
    workdir = args.workdir or Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    data = args.data or workdir / "data"
    shard = data / "shard"
    if not shard.exists():
        t0 = time.perf_counter()
        index_articles(data)
        print(f"indexed the shipped articles in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    results = {}
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        cmd = [sys.executable, __file__, "--one", str(size), "--shard", str(shard), "--workdir", str(workdir)]
        if args.profile:
            cmd.append("--profile")
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"size {size} failed (exit {proc.returncode})")
        results[size] = r = json.loads(proc.stdout.strip().splitlines()[-1])
        if not args.keep:
            (workdir / f"events-{size}.db").unlink(missing_ok=True)
        if not args.json:
            print(
                f"{size:>9,} searches: {r['distinct_queries']:,} distinct queries, log {r['log_build_s']} s "
                f"({r['db_mb']} MB), report {r['report_build_s']} s, peak RSS {r['peak_rss_before_report_mb']} MB "
                f"before the report, {r['peak_rss_mb']} MB after (model loaded: {r['rss_model_mb']} MB); "
                f"{r['topics']} topics ({r['absent']} absent)",
                flush=True,
            )
            print(f"          totals {r['totals']}", flush=True)
            for line in r["top_topics"]:
                print(f"          - {line}", flush=True)
    if args.json:
        print(json.dumps({"sizes": results}, ensure_ascii=False, indent=2))
    tmp.cleanup()


if __name__ == "__main__":
    main()
