"""The reply text: the reply frame (greeting, closing) from `type: template` articles, one part per question."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass

from kb.store import SearchFilter, VectorStore

FRAME_TAG = "reply-frame"
RELOAD_SECONDS = 60
CANNED_TAG = "canned"
_SECTION_RE = re.compile(r"^##\s+(Greeting|Closing)\s*$", re.MULTILINE)
_NAME_SLOT = re.compile(r"[ \t,]*\{customer_name\}")

# The lines around each answer, per language; the greeting and closing come from the reply-frame articles.
PHRASES = {
    "en": {"more": "More details: {title} ({url})", "question": 'About "{question}":'},
    "ru": {"more": "Подробнее: {title} ({url})", "question": "По вопросу «{question}»:"},
    "uk": {"more": "Детальніше: {title} ({url})", "question": "Щодо питання «{question}»:"},
}
FALLBACK_FRAME = {"greeting": "Hi {customer_name},", "closing": "Best regards,\n{agent_name}"}


@dataclass
class Frame:
    greeting: str
    closing: str
    template_id: str | None = None


@dataclass
class DraftPart:
    """One question's block of the draft: what it quotes and where from (kind "article", "canned"), or the
    marked line that tells the agent to write it ("placeholder")."""

    question: str
    passage: str
    title: str
    url: str
    article_id: str = ""  # the public article quoted or linked
    anchor: str = ""  # its section ("" for the opening)
    kind: str = "article"
    canned_id: str = ""
    section: str = ""  # the quoted section's heading ("" for the opening)

    def as_api(self) -> dict:
        return asdict(self)


PLACEHOLDER = "[add: answer about “{question}”]"
PLACEHOLDER_WORDS = 14


def placeholder(question: str) -> str:
    """The marked line a draft holds for a question nothing answers confidently (for the agent, never sent)."""
    words = question.rstrip("?.! ").split()
    short = " ".join(words[:PLACEHOLDER_WORDS]) + (" …" if len(words) > PLACEHOLDER_WORDS else "")
    return PLACEHOLDER.format(question=short)


def parse_frame(body: str) -> dict[str, str]:
    """The Greeting and Closing sections of a reply-frame article body."""
    parts = _SECTION_RE.split(body)
    return {name.lower(): text.strip() for name, text in zip(parts[1::2], parts[2::2])}


class Frames:
    """Reply frames per locale, read from the index (so editing the template article and re-indexing updates them)."""

    def __init__(self, store: VectorStore):
        self.store = store
        self._cache: dict[str, Frame] | None = None
        self._loaded = 0.0

    def _load(self) -> dict[str, Frame]:
        recs = self.store.records(
            SearchFilter(types=["template"], visibilities=["internal", "public"], title_points=True),
            ["article_id", "locale", "tags", "body", "generation"],
            limit=10_000,
        )
        newest: dict[str, dict] = {}
        for r in recs:
            p = r.payload
            if FRAME_TAG in (p.get("tags") or []) and p.get("generation", 0) >= newest.get(p["locale"], {}).get(
                "generation", -1
            ):
                newest[p["locale"]] = p
        frames = {}
        for locale, p in newest.items():
            sections = parse_frame(p.get("body") or "")
            if "greeting" in sections and "closing" in sections:
                frames[locale] = Frame(sections["greeting"], sections["closing"], p["article_id"])
        return frames

    def get(self, locale: str) -> Frame:
        # Re-read now and then: another process may have re-indexed an edited template.
        if self._cache is None or time.monotonic() - self._loaded > RELOAD_SECONDS:
            self._cache, self._loaded = self._load(), time.monotonic()
        return self._cache.get(locale) or self._cache.get("en") or Frame(**FALLBACK_FRAME)

    def invalidate(self) -> None:
        self._cache = None


def compose(
    frame: Frame, locale: str, parts: list[DraftPart], *, customer_name: str | None, agent_name: str | None
) -> str:
    """The reply text: greeting, one block per question (passage + link, or the placeholder), closing."""
    phrases = PHRASES.get(locale, PHRASES["en"])
    greeting = (
        frame.greeting.replace("{customer_name}", customer_name)
        if customer_name
        else _NAME_SLOT.sub("", frame.greeting)
    )
    closing = frame.closing.replace("{agent_name}", agent_name or "").rstrip()
    blocks = [greeting]
    for part in parts:
        if part.kind == "placeholder":
            blocks.append(placeholder(part.question))
            continue
        lines = []
        if len(parts) > 1:
            lines.append(phrases["question"].format(question=part.question.rstrip("?.! ")))
        lines.append(part.passage)
        lines.append(phrases["more"].format(title=part.title, url=part.url))
        blocks.append("\n".join(lines))
    blocks.append(closing)
    return "\n\n".join(b for b in blocks if b.strip())
