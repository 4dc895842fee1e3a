"""Turn a support ticket (subject + messages, en/ru/uk) into the searches used to suggest help-center articles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kb.analysis import normalize, tokenize

__all__ = ["Message", "TicketQuery", "clean_message", "split_questions", "ticket_queries"]


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


# ---------------------------------------------------------------------------------------------------------
# clean_message

_I = re.IGNORECASE

# "On Mon, 3 Nov 2026 at 10:00, X wrote:", "В пн, 3 нояб. 2026 г. в 10:00, X пишет:", "пн, 3 лист. 2026 р. о
# 10:00 X пише:". The verb alone is too common in prose, so the header must also carry a date/time digit or an
# address, and end the line.
_QUOTE_HEADER_RE = re.compile(
    r"^.{0,300}?[\d@].{0,300}?\b(?:wrote|пишет|написал|написала|написал\(а\)|пише|написав|написала|написав\(ла\))"
    r"\s*:\s*$",
    _I,
)
_HEADER_START_RE = re.compile(r"^\s*(?:on|в|во|у|о)\s+\S", _I)
_ORIGINAL_RE = re.compile(
    r"^[-_=*\s]*(?:original message|forwarded message|begin forwarded message|исходное сообщение|"
    r"оригинальное сообщение|пересылаемое сообщение|пересылаемое письмо|пересланное сообщение|"
    r"оригінальне повідомлення|вихідне повідомлення|переслане повідомлення|пересланий лист)[-_=*:\s]*$",
    _I,
)
# Outlook quotes the earlier mail under a "From: / Sent: / To: / Subject:" block (localised).
_FROM_RE = re.compile(r"^\s*\**(?:from|от|від|відправник|отправитель)\s*\**\s*:", _I)
_HEADER_FIELD_RE = re.compile(
    r"\b(?:sent|date|to|subject|cc|отправлено|дата|кому|тема|копия|надіслано|копія)\s*\**\s*:", _I
)
_QUOTED_LINE_RE = re.compile(r"^\s*>")
# "-- " is the standard signature delimiter; many clients strip its trailing space.
_SIG_DELIM_RE = re.compile(r"^\s*--\s*$")
_SEPARATOR_RE = re.compile(r"^[\s_=*~-]+$")

_FOOTER_RE = re.compile(
    r"^\s*(?:sent from my [\w .-]{1,40}|sent from (?:outlook|mail|yahoo mail|gmail)\b.{0,40}|"
    r"get outlook for [\w .-]{1,30}|sent via [\w .-]{1,40}|sent from mobile|"
    r"отправлено с (?:моего )?[\w .-]{1,40}|отправлено из [\w .-]{1,40}|"
    r"надіслано з (?:мого )?[\w .-]{1,40}|відправлено з (?:мого )?[\w .-]{1,40})\s*$",
    _I,
)

# Disclaimers: the sentence that starts one, matched inside a line; from there to the end of its paragraph goes.
_DISCLAIMER_RE = re.compile(
    r"(?:\b(?:this|the information in this) (?:e-?mail|message|communication|transmission)\b.{0,120}?"
    r"\b(?:confidential|privileged|intended (?:solely|only)))|"
    r"(?:\bconfidentiality notice\b)|(?:^\s*disclaimer\s*:)|"
    r"(?:\b(?:это|данное|настоящее) (?:электронное )?(?:письмо|сообщение)\b.{0,120}?конфиденциальн)|"
    r"(?:\b(?:цей|даний|це) (?:електронний )?(?:лист|повідомлення)\b.{0,120}?конфіденційн)",
    _I,
)

# Greetings: a whole short line ("Hi team,", "Здравствуйте, Анна!") or a prefix of the first line
# ("Hi team, I can't log in").
_GREETING_WORDS = (
    r"(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening|day)|"
    r"здравствуйте|здравствуй|добрый (?:день|вечер)|доброе утро|доброго (?:дня|утра|вечера|времени суток)|"
    r"добрейший день|привет|приветствую|уважаемая|уважаемые|уважаемый|"
    r"вітаю|добрий (?:день|вечір)|добридень|доброго ранку|доброго вечора|доброї днини|привіт|"
    r"шановна|шановні|шановний|здрастуйте)"
)
_GREETING_LINE_RE = re.compile(rf"^\s*{_GREETING_WORDS}(?:[\s,]+[^\s,!.?:;]+){{0,4}}\s*[,!.:]*\s*$", _I)
_GREETING_PREFIX_RE = re.compile(rf"^\s*{_GREETING_WORDS}(?:\s+[^\s,!.?:;]+){{0,2}}?\s*[,!.]\s+(?=\S)", _I)

# Sign-offs: a whole line, optionally with a name on it ("Thanks, John"); lines after it are name/title/phone.
_SIGNOFF_RE = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)? ?regards|best(?: wishes)?|all the best|cheers|sincerely|"
    r"yours(?: sincerely| truly)?|respectfully|"
    r"(?:many |big )?thanks?(?: you)?(?: (?:a lot|so much|very much|in advance|again))?(?: for (?:your|the) "
    r"(?:help|time|support|assistance))?(?: in advance)?|thx|ty|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|хорошего дня|"
    r"(?:заранее )?спасибо(?: заранее| большое| за помощь| за ответ)*|(?:заранее )?благодарю(?: за помощь)?|"
    r"з повагою|з найкращими побажаннями|гарного дня|всього найкращого|"
    r"(?:заздалегідь )?дякую(?: заздалегідь| за допомогу| за відповідь)*)"
    r"(?:\s*[,!.]*\s*(?:[^\s,!.?]+\s*){0,3})?[,!.)]*\s*$",
    _I,
)
_NAME_LINE_RE = re.compile(r"^\s*[A-ZА-ЯЁІЇЄҐ][^\W\d_]*\.?(?:[ -][A-ZА-ЯЁІЇЄҐ][^\W\d_']*\.?){0,2}\s*$")
_SIGNATURE_TAIL_LINES = 6  # name, title, company, phone, site: longer tails are not a signature
_SIGNATURE_LINE_MAX = 80


def _tidy(text: str) -> str:
    """Lines stripped, inner whitespace single, at most one blank line between paragraphs."""
    out: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _cut_quoted(lines: list[str]) -> list[str]:
    """Lines before the first reply header, original-message marker, Outlook header block or "-- "."""
    for i, line in enumerate(lines):
        if _SIG_DELIM_RE.match(line) or _ORIGINAL_RE.match(line):
            return lines[:i]
        if _QUOTE_HEADER_RE.match(line):
            return lines[:i]
        # Gmail wraps long headers: "On Mon, 3 Nov 2026 at 10:00, John <\njohn@x.com> wrote:".
        if i + 1 < len(lines) and _HEADER_START_RE.match(line) and _QUOTE_HEADER_RE.match(line + " " + lines[i + 1]):
            return lines[:i]
        if _FROM_RE.match(line):
            window = " ".join(lines[i : i + 5])
            if len(_HEADER_FIELD_RE.findall(window)) >= 2:
                return lines[:i]
    return lines


def _drop_disclaimers(lines: list[str]) -> list[str]:
    """Without disclaimer paragraphs (from the disclaimer's first sentence to the paragraph end)."""
    out: list[str] = []
    skipping = False
    for line in lines:
        if not line.strip():
            skipping = False
            out.append(line)
            continue
        if skipping:
            continue
        m = _DISCLAIMER_RE.search(line)
        if m:
            skipping = True
            # Keep what precedes the disclaimer's sentence on the same line.
            head = line[: m.start()]
            cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
            head = head[: cut + 1] if cut >= 0 else ""
            if head.strip():
                out.append(head)
            continue
        out.append(line)
    return out


def _drop_greeting(lines: list[str]) -> list[str]:
    """Without the greeting at the start."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _GREETING_LINE_RE.match(line) and "?" not in line:
            return lines[i + 1 :]
        m = _GREETING_PREFIX_RE.match(line)
        if m:
            return [line[m.end() :]] + lines[i + 1 :]
        return lines[i:]
    return lines


def _drop_signoff(lines: list[str]) -> list[str]:
    """Without the sign-off line and the short name/title lines after it."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    cut = None
    for n, i in enumerate(reversed(content)):
        line = lines[i]
        if n > _SIGNATURE_TAIL_LINES or "?" in line or len(line.strip()) > _SIGNATURE_LINE_MAX:
            break
        if _SIGNOFF_RE.match(line):
            cut = i  # keep looking: "Thanks in advance!\nBest regards,\nJohn" goes as a whole
    if cut is not None:
        return lines[:cut]
    # A bare name as the last paragraph ("...Google Drive?\n\nAnna"): 1-3 capitalised words, nothing else.
    if len(content) >= 2 and content[-1] - content[-2] > 1 and _NAME_LINE_RE.match(lines[content[-1]]):
        return lines[: content[-1]]
    return lines


def _clean_once(text: str) -> str:
    lines = _tidy(text).split("\n")
    lines = _cut_quoted(lines)
    lines = [ln for ln in lines if not _QUOTED_LINE_RE.match(ln) and not _FOOTER_RE.match(ln)]
    lines = _drop_disclaimers(lines)
    lines = _drop_greeting(lines)
    lines = _drop_signoff(lines)
    # Outlook's "______" line that stood above a removed header block.
    while lines and (not lines[-1].strip() or _SEPARATOR_RE.match(lines[-1])):
        lines.pop()
    return _tidy("\n".join(lines))


def clean_message(text: str) -> str:
    """The customer's own words: no quoted replies, greetings, sign-offs, signatures, disclaimers or footers."""
    if not text or not text.strip():
        return ""
    # Repeat until nothing changes: removing a footer can expose a sign-off, a greeting line another greeting.
    # Each pass only removes, so this ends, and the result is a fixed point (clean_message is idempotent).
    current = text
    for _ in range(100):
        cleaned = _clean_once(current)
        if not cleaned:
            # A message that is nothing but "Thanks!" is still what the customer said: keep it searchable.
            return text.strip()
        if cleaned == current:
            break
        current = cleaned
    return current


# ---------------------------------------------------------------------------------------------------------
# split_questions

_CONNECTOR_RE = re.compile(
    r"^(?:also|and also|plus|additionally|in addition|another question|one more (?:thing|question)|"
    r"and another thing|second(?:ly)?|third(?:ly)?|"
    r"и ещё|и еще|ещё|еще|также|кроме того|во-вторых|в-третьих|ещё вопрос|еще вопрос|и ещё вопрос|"
    r"і ще|також|ще|крім того|по-друге|по-третє|ще одне питання|ще питання)"
    r"(?:\s*(?:one|вопрос|питання|одне))?\s*[,:;.\-–—]*\s+",
    _I,
)
_LEADING_RE = re.compile(r"^(?:first(?:ly)?|во-первых|по-перше)\s*[,:;]\s*", _I)
_LIST_MARKER_RE = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•–])\s+")
# A sentence ends at . ! ? … followed by space and a capital, digit or opening quote; abbreviations
# ("e.g. the", "т. е. так") are followed by lower case and do not split.
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+(?=[\"'«“(\[]?[A-ZА-ЯЁІЇЄҐ0-9])|(?<=\?)\s+")
_CONTEXT_WORDS = 30  # statements up to this long ride along with the neighbouring question
_MAX_ITEMS = 5


def _segments(text: str) -> list[str]:
    """Sentences; paragraphs and list items always end one, wrapped lines do not."""
    chunks: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in para.splitlines():
            if _LIST_MARKER_RE.match(line):
                if current:
                    chunks.append(" ".join(current))
                current = [_LIST_MARKER_RE.sub("", line, count=1)]
            elif line.strip():
                current.append(line.strip())
        if current:
            chunks.append(" ".join(current))
    out: list[str] = []
    for chunk in chunks:
        out.extend(s.strip() for s in _SENTENCE_RE.split(chunk) if s.strip())
    return out


def _strip_connector(sentence: str) -> tuple[str, bool]:
    m = _CONNECTOR_RE.match(sentence)
    if not m or m.end() >= len(sentence):
        return _LEADING_RE.sub("", sentence) or sentence, False
    rest = sentence[m.end() :]
    return rest[:1].upper() + rest[1:], True


def split_questions(text: str) -> list[str]:
    """One string per question or request of a cleaned message, short context kept with its question."""
    if not text or not text.strip():
        return []
    items: list[str] = []
    pending: list[str] = []  # statements waiting for the question they explain

    def words(parts: list[str]) -> int:
        return sum(len(p.split()) for p in parts)

    def flush_pending() -> None:
        # Statements with no question after them: a short one explains the previous question ("Can I pay by
        # invoice? We are a company in Kyiv."), a longer one is a request of its own.
        if not pending:
            return
        if items and words(pending) <= _CONTEXT_WORDS:
            items[-1] = items[-1] + " " + " ".join(pending)
        else:
            items.append(" ".join(pending))
        pending.clear()

    for sentence in _segments(text):
        sentence, new_topic = _strip_connector(sentence)
        if new_topic:
            flush_pending()
        if sentence.endswith("?"):
            if pending and words(pending) > _CONTEXT_WORDS:
                items.append(" ".join(pending))
                pending.clear()
            items.append(" ".join([*pending, sentence]))
            pending.clear()
        elif new_topic:
            pending.append(sentence)
            items.append(" ".join(pending))  # "Also, please send the March invoice." is a request of its own
            pending.clear()
        else:
            pending.append(sentence)
    flush_pending()
    items = [" ".join(i.split()) for i in items if i.strip()]
    if len(items) > _MAX_ITEMS:
        # Nothing is dropped: the tail rides in the last item.
        items = items[: _MAX_ITEMS - 1] + [" ".join(items[_MAX_ITEMS - 1 :])]
    return items


# ---------------------------------------------------------------------------------------------------------
# ticket_queries

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
            return sorted(messages, key=lambda m: m.time)
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
