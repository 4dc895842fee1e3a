"""ticket_queries: the weighted searches built from a whole ticket, latest customer message first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kb.analysis import normalize, tokenize
from suggest.ticket.cleaning import clean_message
from suggest.ticket.questions import split_questions

_I = re.IGNORECASE


@dataclass(frozen=True)
class Message:
    """One message of a ticket."""

    role: str  # "customer" | "agent"
    text: str
    time: datetime | None = None


@dataclass(frozen=True)
class TicketQuery:
    """One search built from a ticket."""

    text: str  # what to search for
    weight: float  # how much it counts (latest customer message highest)
    source: str  # e.g. "subject", "latest customer message", "earlier customer message #2"


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|ответ|отв|пересл|переслано|відповідь|відп|пересл)\s*(?:\[\d+\]|\(\d+\))?\s*:|"
    r"\[[^\]]{0,40}\]|\(#?\d+\))\s*",
    _I,
)
# Subjects made only of these words say nothing a search could use.
_GENERIC_WORDS = frozenset(
    """help question questions issue issues problem problems support urgent request inquiry enquiry please need
    hi hello hey a an the some i have quick small ticket contact no subject asap important
    вопрос вопросы помощь помогите проблема проблемы срочно запрос обращение поддержка здравствуйте нужна
    нужен есть у меня без темы тема добрый день привет
    питання допомога допоможіть проблема проблеми терміново запит звернення підтримка вітаю потрібна є в мене
    без теми добрий привіт""".split()
)
_LATEST_WEIGHT = 1.0
_SUBJECT_WEIGHT = 0.6
_EARLIER_WEIGHT = 0.4
_EARLIER_DECAY = 0.5  # each older message counts half the next newer one
_MAX_EARLIER = 3  # beyond this, old messages only add noise
_AGENT_FALLBACK_WEIGHT = 0.2


def _strip_subject(subject: str) -> str:
    s = " ".join((subject or "").split())
    while True:
        stripped = _SUBJECT_PREFIX_RE.sub("", s, count=1)
        if stripped == s:
            return s.strip()
        s = stripped


def _is_generic(subject: str) -> bool:
    toks = tokenize(subject)
    return not toks or all(t in _GENERIC_WORDS or t.isdigit() for t in toks)


def _chronological(messages: list[Message]) -> list[Message]:
    # Sort by time only when every message has one; otherwise the given order is the conversation order.
    if messages and all(m.time is not None for m in messages):
        try:
            return sorted(messages, key=lambda m: m.time or datetime.min)  # every one has a time (checked above)
        except TypeError:  # naive and aware datetimes mixed
            pass
    return list(messages)


def ticket_queries(subject: str, messages: list[Message]) -> list[TicketQuery]:
    """The weighted searches for a ticket, strongest first."""
    ordered = _chronological(messages or [])
    customer = [m for m in ordered if m.role == "customer" and m.text and m.text.strip()]
    candidates: list[TicketQuery] = []
    if customer:
        questions = split_questions(clean_message(customer[-1].text))
        for n, q in enumerate(questions, 1):
            source = "latest customer message" if len(questions) == 1 else f"latest customer message, question {n}"
            candidates.append(TicketQuery(q, _LATEST_WEIGHT, source))
    subj = _strip_subject(subject)
    if subj and not _is_generic(subj):
        candidates.append(TicketQuery(subj, _SUBJECT_WEIGHT, "subject"))
    # #1 is the customer message just before the latest one, #2 the one before that.
    for k, m in enumerate(reversed(customer[:-1][-_MAX_EARLIER:]), 1):
        cleaned = " ".join(clean_message(m.text).split())
        if cleaned:
            weight = round(_EARLIER_WEIGHT * _EARLIER_DECAY ** (k - 1), 4)
            candidates.append(TicketQuery(cleaned, weight, f"earlier customer message #{k}"))
    if not candidates:
        # Never search for nothing: a generic subject beats no query; an agent-started ticket has only agent text.
        if subj:
            candidates.append(TicketQuery(subj, _SUBJECT_WEIGHT, "subject"))
        else:
            agent = [m for m in ordered if m.text and m.text.strip()]
            if agent:
                text = " ".join(clean_message(agent[-1].text).split())
                candidates.append(TicketQuery(text, _AGENT_FALLBACK_WEIGHT, "agent message (no customer text)"))
    seen: set[str] = set()
    out: list[TicketQuery] = []
    for c in candidates:
        key = normalize(c.text).rstrip("?!.… ")
        if key and key not in seen:
            seen.add(key)
            out.append(c)
    return out
