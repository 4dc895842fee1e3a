"""What suggestions take and give: the ticket as the helpdesk sends it, and the suggested articles, passages,
questions and draft (POST /api/suggest's request and response)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 20_000
MAX_MESSAGES = 100


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern="^(customer|agent)$", description="customer or agent")
    text: str = Field(max_length=MAX_TEXT)
    time: datetime | None = None


class TicketIn(BaseModel):
    """A ticket as the helpdesk sends it."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = Field(default=None, max_length=255)
    subject: str = Field(default="", max_length=1000)
    messages: list[MessageIn] = Field(default_factory=list, max_length=MAX_MESSAGES)
    locale: str | None = Field(default=None, pattern="^[a-z]{2}(-[a-z]{2,4})?$", description="the customer's language")
    tags: list[str] = Field(default_factory=list, max_length=50)
    customer_name: str | None = Field(default=None, max_length=200)

    def has_text(self) -> bool:
        return bool(self.subject.strip() or any(m.text.strip() for m in self.messages))


@dataclass
class Passage:
    text: str
    section: str
    anchor: str
    url: str


@dataclass
class SuggestedArticle:
    id: str
    title: str
    url: str
    locale: str
    visibility: str
    type: str
    score: float
    confidence: float
    passages: list[Passage]
    reason: dict  # which part of the ticket matched: source, query, matched words
    feedback: str | None = None  # how agents' earlier feedback on similar tickets changed this one


@dataclass
class Question:
    text: str
    source: str
    weight: float
    confidence: float  # P(the best public suggestion answers it), calibrated on tickets (suggest/confidence.py)
    suggestions: list[SuggestedArticle]
    evidence: dict | None = None  # what the confidence was read from: z_top, z_gap, coverage, agree


@dataclass
class SuggestResponse:
    """What POST /api/suggest returns (its response model too)."""

    suggestion_id: str  # send it back with accept/reject feedback
    locale: str  # the ticket's language; the draft is written in it
    articles: list[SuggestedArticle]  # public and internal articles, best first
    questions: list[Question]  # each question of the latest customer message, with its answers
    canned: list[SuggestedArticle]  # canned replies that fit
    draft: str  # a reply to send after a glance: greeting, passages with links, closing
    draft_articles: list[str] = field(default_factory=list)
    draft_parts: list[dict] = field(default_factory=list)  # per question: what the draft quotes, or a placeholder
    routing: dict | None = None  # {"category", "confidence", "group"}: where the ticket should go

    def as_api(self) -> dict:
        return asdict(self)
