"""From a gap topic to its fix: the pin that sends a weak topic's wordings to its article, and a draft article
for an absent topic. Extractive and offline: the draft holds the customers' wordings and what agents already
answered with (the articles they accepted, the replies they sent), never generated text.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from slugify import slugify

from kb.analysis import normalize, terms
from kb.articles import ID_RE, LOCALE_RE
from kb.store import SearchFilter, VectorStore
from reports.escaping import md_text
from reports.gap_report import GapTopic

MAX_PIN_QUERIES = 8  # the topic's representative wordings (the report keeps eight)
MAX_AGENT_ANSWERS = 3
MAX_AGENT_REPLIES = 3


class DraftError(ValueError):
    """A draft that was not written, said in a sentence."""


@dataclass
class ProposedPin:
    """The rule that would send a weak topic's wordings to the article that exists for them."""

    queries: list[str]
    article: str
    title: str

    def as_dict(self) -> dict:
        return {"queries": self.queries, "article": self.article, "title": self.title}


def proposed_pin(topic: GapTopic, already: set[str] = frozenset()) -> ProposedPin | None:  # type: ignore[assignment]
    """For a weak topic: pin its wordings (less those `already` pinned, by normalized text) to its nearest article."""
    if topic.coverage != "weak" or not topic.nearest:
        return None
    queries = [q["text"] for q in topic.queries if normalize(q["text"]) not in already][:MAX_PIN_QUERIES]
    if not queries:
        return None
    return ProposedPin(queries, topic.nearest[0].id, topic.nearest[0].title)


def asks_topic(topic: GapTopic) -> Callable[[str], bool]:
    """Whether a ticket's query asks one of the topic's wordings: the same text, or every analysed term (ru and uk
    lemmas) of a wording in it. A ticket's query is a sentence ("Can I export the Gantt chart as a PDF?") where a
    search is a few words ("gantt chart export"), so equal texts alone would almost never meet."""
    wordings = {normalize(q["text"]) for q in topic.queries}
    term_sets = [t for t in (frozenset(terms(w, None)) for w in wordings) if t]

    def asks(query: str) -> bool:
        if normalize(query) in wordings:
            return True
        have = set(terms(query, None))
        return any(t <= have for t in term_sets)

    return asks


def agent_answers(tickets, store: VectorStore, topic: GapTopic) -> list[dict]:
    """Public or internal articles agents accepted for tickets asking this topic's wordings, with their opening."""
    if tickets is None:
        return []
    asks = asks_topic(topic)
    accepted: dict[str, int] = {}
    for f in tickets.feedback():
        if f.verdict == "accepted" and f.article_id and asks(f.query or ""):
            accepted[f.article_id] = accepted.get(f.article_id, 0) + 1
    if not accepted:
        return []
    ids = sorted(accepted, key=lambda a: (-accepted[a], a))[:MAX_AGENT_ANSWERS]
    recs = store.records(
        SearchFilter(article_ids=ids, visibilities=["public", "internal"], title_points=False),
        ["article_id", "title", "chunk_index", "text", "section"],
        limit=200,
    )
    first: dict[str, dict] = {}
    for r in sorted(recs, key=lambda r: r.payload.get("chunk_index", 0)):
        first.setdefault(r.payload["article_id"], r.payload)
    return [
        {"id": a, "title": first[a].get("title", a), "text": first[a].get("text", ""), "times": accepted[a]}
        for a in ids
        if a in first
    ]


def agent_replies(tickets, topic: GapTopic) -> list[dict]:
    """The replies agents sent to tickets asking this topic's wordings, newest first, each text once."""
    if tickets is None:
        return []
    asks = asks_topic(topic)
    found: dict[str, dict] = {}
    for r in tickets.replies():  # oldest first: a later copy of the same text keeps the later date
        if asks(r.query):
            found.pop(r.reply, None)
            found[r.reply] = {"query": r.query, "text": r.reply, "at": r.at.date().isoformat()}
    return list(reversed(found.values()))[:MAX_AGENT_REPLIES]


def _quoted(text: str) -> list[str]:
    """A Markdown quote of what someone typed: every line escaped, so no markup, link or HTML comes of it."""
    return ["> " + md_text(ln) if ln.strip() else ">" for ln in text.strip().splitlines()]


def draft_text(
    topic: GapTopic, locale: str, category: str, answers: list[dict], replies: list[dict] | None = None
) -> str:
    """The draft's Markdown: front matter with visibility: draft, the wordings to answer, the articles agents
    accepted and the replies they sent, quoted as the starting body."""
    front = {"title": topic.title, "locale": locale, "category": category, "visibility": "draft"}
    lines = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    lines += [
        "<!-- Draft from the gap report: replace this with the answer, then set visibility: public. -->",
        "",
        "## What customers asked",
        "",
    ]
    lines += [f"- {md_text(q['text'])}" for q in topic.queries]
    if replies:
        lines += ["", "## What agents replied"]
        for r in replies:
            lines += ["", f"An agent's reply to “{md_text(r['query'])}”, {r['at']}:", "", *_quoted(r["text"])]
    if answers:
        lines += ["", "## What agents answered with", ""]
        for a in answers:
            lines += [f"From [{a['title']}](/articles/{a['id']}), accepted {a['times']}×:", ""]
            lines += ["> " + ln if ln.strip() else ">" for ln in a["text"].strip().splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_draft(
    articles_dir: Path,
    topic: GapTopic,
    locale: str,
    category: str,
    answers: list[dict] | None = None,
    replies: list[dict] | None = None,
) -> Path:
    """Write articles/<locale>/<category>/<slug>.md (never over an existing file); returns its path."""
    if topic.coverage != "absent":
        raise DraftError(f"topic {topic.title!r} has an article already: pin its wordings to it instead")
    if not LOCALE_RE.match(locale or ""):
        raise DraftError(f"{locale!r} is not a language code such as en, ru or uk")
    if not ID_RE.match(category or "") or "/" in category:
        raise DraftError(f"{category!r} is not a category name (lowercase letters, digits, '-')")
    slug = slugify(topic.title, max_length=60, word_boundary=True) or "draft"
    folder = Path(articles_dir) / locale / category
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{slug}.md", 1
    while path.exists():
        n += 1
        path = folder / f"{slug}-{n}.md"
    text = draft_text(topic, locale, category, answers or [], replies)
    fd, tmp = tempfile.mkstemp(prefix=".draft-", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
