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
# Gmail-ru and Yandex write no verb: "вт, 3 нояб. 2026 г. в 23:01, Поддержка <support@x.com>:",
# "03.11.2026, 03:37, "Support" <support@x.com>:". An address in angle brackets right before the final colon,
# with a time or a year on the line, is a header; prose almost never ends like that.
_NOVERB_HEADER_RE = re.compile(
    r"^(?=.*(?:\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b)).{0,300}<\s*[^\s<>@]+@[^\s<>]+\s*>\s*:\s*$"
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
# ("Hi team, I can't log in"). A reply often opens by thanking for the answer ("Thanks for your reply.",
# "Дякую за відповідь."): as search text that is as empty as a greeting.
_GREETING_WORDS = (
    r"(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening|day)|"
    r"здравствуйте|здравствуй|добрый (?:день|вечер)|доброе утро|доброго (?:дня|утра|вечера|времени суток)|"
    r"добрейший день|привет|приветствую|уважаемая|уважаемые|уважаемый|"
    r"вітаю|добрий (?:день|вечір)|добридень|доброго ранку|доброго вечора|доброї днини|привіт|"
    r"шановна|шановні|шановний|здрастуйте|"
    r"(?:thanks|thank you|many thanks)(?: (?:a lot|so much|very much))? for (?:your|the) "
    r"(?:quick |fast |prompt )?(?:reply|answer|response)|"
    r"(?:спасибо|благодарю)(?: большое)? за (?:быстрый )?ответ|дякую(?: дуже)? за (?:швидку )?відповідь)"
)
# The agent's name may come first: "Екатерина, добрый день.", "Олеже, дякую за відповідь." (a capitalised
# word, case-sensitive even inside the case-insensitive patterns).
_VOCATIVE = r"(?:(?-i:[A-ZА-ЯЁІЇЄҐ])[\w'’-]*\s*,\s*)?"
_GREETING_START_RE = re.compile(rf"^\s*{_VOCATIVE}{_GREETING_WORDS}(?![\w'])(?P<rest>.*)$", _I)
_GREETING_PREFIX_RE = re.compile(
    rf"^\s*{_VOCATIVE}{_GREETING_WORDS}(?:\s+[^\s,!.?:;]+){{0,2}}?\s*[,!.]\s+(?=\S)", _I
)
# Who a greeting line may address besides a capitalised name: "Hello support team,", "Добрый день, коллеги!".
# Any other lower-case word means the line goes on with the customer's own words ("Hi, contacting someone on
# github."), and only the greeting words are dropped.
_ADDRESSEE_WORDS = frozenset(
    """team support all everyone everybody there folks guys friends colleagues sir madam or and to you again
    customer service help desk helpdesk care
    коллеги поддержка поддержки служба техподдержка команда всем все друзья господа уважаемая уважаемый
    уважаемые ещё еще раз снова
    колеги підтримко підтримка підтримки служба команда всім усім друзі панове шановна шановний шановні ще
    раз знову""".split()
)
_GREETING_ADDRESSEE_MAX = 4

# Sign-offs: a whole line, optionally with a name on it ("Thanks, John"); lines after it are name/title/phone.
_SIGNOFF_RE = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)? ?regards|best(?: wishes)?|all the best|cheers|sincerely|"
    r"yours(?: sincerely| truly)?|respectfully|"
    r"(?:many |big )?thanks?(?: you)?(?: (?:a lot|so much|very much|in advance|again))?(?: for (?:your|the) "
    r"(?:help|time|support|assistance))?(?: in advance)?|thx|ty|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|хорошего дня|"
    r"(?:заранее )?спасибо(?: заранее| большое| за помощь| за ответ)*|(?:заранее )?благодарю(?: за помощь)?|"
    r"з повагою|з найкращими побажаннями|гарного дня|всього найкращого|"
    r"(?:заздалегідь )?дякую(?: заздалегідь| за допомогу| за відповідь)*|"
    # Other languages customers switch to at the end, and chat slang ("спс").
    r"danke(?: schön| sehr)?(?: und)?(?: (?:viele|liebe|beste) grü(?:ß|ss)e)?|(?:viele|liebe|beste) grü(?:ß|ss)e|"
    r"mit freundlichen grü(?:ß|ss)en|(?:merci|cordialement|saludos|gracias)|thanx|thnx|tnx|"
    r"спс|спасибки|пасиб(?:о|ки)?|сенкс|дяки)"
    r"(?:\s*[,!.]*\s*(?:[^\s,!.?]+\s*){0,3})?[,!.)]*\s*$",
    _I,
)
_NAME_LINE_RE = re.compile(r"^\s*[A-ZА-ЯЁІЇЄҐ][^\W\d_]*\.?(?:[ -][A-ZА-ЯЁІЇЄҐ][^\W\d_']*\.?){0,2}\s*$")
_SIGNATURE_TAIL_LINES = 6  # name, title, company, phone, site: longer tails are not a signature
_SIGNATURE_LINE_MAX = 80

# A signature block without a sign-off ("John Smith / Office Manager / Acme Ltd / +1 555 0100"): the lines
# under the name must each look like contact data, a company or a job title, or be a short label-like line.
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|(?<![@\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|io|co|biz|info|app|dev|ru|ua|by|kz|de|uk|eu|fr|nl|pl|it|es|ch|at|example)\b",
    _I,
)
_PHONE_RE = re.compile(r"(?:\+|\(|\b)\d[\d\s().\-/]{5,}\d")
_PHONE_MIN_DIGITS = 7
# Legal forms; case-sensitive, or "co", "as", "ab" would match ordinary words.
_COMPANY_RE = re.compile(
    r"(?<!\w)(?:Ltd|LLC|LLP|Inc|GmbH|AG|KG|B\.V|BV|N\.V|Corp|Corporation|Co|PLC|Pty|S\.A|SARL|S\.r\.l|Oy|"
    r"ООО|ОАО|АО|ЗАО|ПАО|ИП|ТОО|ТОВ|ПАТ|ПрАТ|ФОП|ЧП)(?!\w)"
)
_JOB_TITLE_RE = re.compile(
    r"\b(?:manager|engineer|developer|director|head of|lead|officer|accountant|accounting|administrator|admin|"
    r"designer|analyst|consultant|specialist|coordinator|assistant|founder|co-founder|owner|ceo|cto|cfo|coo|cio|"
    r"vp|president|partner|architect|executive|supervisor|devops|"
    r"менеджер|бухгалтер|руководитель|начальник|инженер|программист|разработчик|директор|администратор|"
    r"аналитик|специалист|консультант|дизайнер|маркетолог|юрист|ассистент|основатель|владелец|отдел|"
    r"керівни|інженер|програміст|розробни|адміністратор|фахів|засновни|власни|відділ)",
    _I,
)
_SIGNATURE_DETAIL_WORDS = 8  # "Head of Finance, Corp Inc. | +1 555 0100": longer lines are sentences
_PLAIN_DETAIL_WORDS = 6  # an unrecognised line ("Studio Quattro", "Buchhaltung / Accounting") must be shorter


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


def _is_header(line: str) -> bool:
    return bool(_QUOTE_HEADER_RE.match(line) or _NOVERB_HEADER_RE.match(line))


def _header_length(lines: list[str], i: int) -> int:
    """How many lines the reply header starting at line i spans: 0 (no header), 1 or 2."""
    line = lines[i]
    if _is_header(line):
        return 1
    # Gmail wraps long headers: "On Mon, 3 Nov 2026 at 10:00, John <\njohn@x.com> wrote:".
    wrapped = i + 1 < len(lines) and (_HEADER_START_RE.match(line) or line.rstrip().endswith("<"))
    return 2 if wrapped and _is_header(line + " " + lines[i + 1]) else 0


def _cut_quoted(lines: list[str]) -> list[str]:
    """Without quoted replies: a reply header with the ">" block under it goes wherever it is (the customer may
    answer above or below the quote), and everything from an original-message marker, an Outlook header block,
    a "-- " delimiter or a header with an unquoted original under it.

    ">" lines stay here (they are dropped with the other quoted lines later): a header inside them belongs to
    the quote ("> On ..., Support wrote:") and says nothing about where the customer's text ends.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _QUOTED_LINE_RE.match(line):
            out.append(line)
            i += 1
            continue
        if _SIG_DELIM_RE.match(line) or _ORIGINAL_RE.match(line):
            return out
        if _FROM_RE.match(line):
            window = " ".join(lines[i : i + 5])
            if len(_HEADER_FIELD_RE.findall(window)) >= 2:
                return out
        n = _header_length(lines, i)
        if n:
            j = i + n
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j == len(lines) or not _QUOTED_LINE_RE.match(lines[j]):
                return out  # the original follows unquoted: nothing after the header is the customer's
            # Skip the quoted block (">" lines and blank lines between them); the customer's text may follow.
            while j < len(lines) and (_QUOTED_LINE_RE.match(lines[j]) or not lines[j].strip()):
                j += 1
            out.append("")
            i = j
            continue
        out.append(line)
        i += 1
    return out


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


def _is_greeting_line(line: str) -> bool:
    """A line that is only a greeting and whom it addresses: "Hi team,", "Здравствуйте, Анна!"."""
    m = _GREETING_START_RE.match(line)
    if not m or "?" in line:
        return False
    words = [w for w in re.split(r"[\s,!.:;]+", m.group("rest")) if w]
    if len(words) > _GREETING_ADDRESSEE_MAX:
        return False
    # One word after the greeting is a name even in lower case ("hi anna"); longer tails must be names or
    # addressee words, else they are the customer's first sentence.
    return len(words) <= 1 or all(w[:1].isupper() or w.lower() in _ADDRESSEE_WORDS for w in words)


def _drop_greeting(lines: list[str]) -> list[str]:
    """Without the greeting at the start."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _is_greeting_line(line):
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
    block = _signature_block_start(lines, content)
    if block is not None:
        return lines[:block]
    # A bare name as the last paragraph ("...Google Drive?\n\nAnna"): 1-3 capitalised words, nothing else.
    if len(content) >= 2 and content[-1] - content[-2] > 1 and _NAME_LINE_RE.match(lines[content[-1]]):
        return lines[: content[-1]]
    return lines


def _is_contact(line: str) -> bool:
    if _EMAIL_RE.search(line) or _URL_RE.search(line):
        return True
    m = _PHONE_RE.search(line)
    return bool(m and sum(ch.isdigit() for ch in m.group()) >= _PHONE_MIN_DIGITS)


def _signature_detail(line: str) -> str | None:
    """What a line under a signature's name line is: "strong" (contact data, company, job title), "plain" (a short
    label-like line such as "Studio Quattro") or None (a question or a sentence: not a signature)."""
    text = line.strip()
    if not text or "?" in text or len(text) > _SIGNATURE_LINE_MAX:
        return None
    if "|" in text:
        # "Summit Logistics B.V. | Tel: +1 555 010 7954": each part on its own (a phone alone is 4-5 "words").
        kinds = [_signature_detail(part) for part in text.split("|") if part.strip()]
        if not kinds or None in kinds:
            return None
        return "strong" if "strong" in kinds else "plain"
    if len(text.split()) > _SIGNATURE_DETAIL_WORDS:
        return None
    if _is_contact(text) or _COMPANY_RE.search(text) or _JOB_TITLE_RE.search(text):
        return "strong"
    if len(text.split()) <= _PLAIN_DETAIL_WORDS and not re.search(r"[.!:;]$", text):
        return "plain"
    return None


def _signature_name(line: str) -> str | None:
    """For a name line ("Anna Smith", "Сергей, программист 1С", "Arjun Mehta | Product Designer"): None if it
    is not one, else the kind of detail that follows the name on the line ("" when nothing does)."""
    head, *rest = re.split(r"\s*[,|]\s*", line.strip(), maxsplit=1)
    if not _NAME_LINE_RE.match(head):
        return None
    return _signature_detail(rest[0]) if rest else ""


def _signature_block_start(lines: list[str], content: list[int]) -> int | None:
    """Index of the name line of a trailing signature block without a sign-off, or None.

    Conservative: the block is a run of at most _SIGNATURE_TAIL_LINES short lines at the end of the last
    paragraph, starting with a name line, with at least one line of contact data, a company or a job title; a
    question, a sentence or a blank line ends the run (so a list of names above the signature stays). The name
    must not continue a sentence (a blank line or a finished sentence is above it; "Please add:" is not), and
    something must stay above it.
    """
    run: list[int] = []  # indices into lines, bottom-up
    for i in reversed(content):
        if len(run) == _SIGNATURE_TAIL_LINES or (run and run[-1] != i + 1):
            break
        if _signature_detail(lines[i]) is None and _signature_name(lines[i]) is None:
            break
        run.append(i)
    start = None
    strong = False
    for i in run:  # bottom-up, so `strong` says whether a strong line is below (or on) the name line
        name_kind = _signature_name(lines[i])
        if name_kind is not None and (strong or name_kind == "strong") and i != content[0]:
            # Titles and companies look like names too ("Office Manager", "Acme Ltd"): the topmost name-like
            # line of the run is where the block starts, so keep looking upwards.
            above = lines[i - 1].strip()
            if not above or re.search(r"[.!?…)»\"']$", above):
                start = i
        strong = strong or _signature_detail(lines[i]) == "strong"
    return start


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

# A connector starts a new question or request ("Also, ...", "Second question: ...", "Друге питання: ...").
# Ordinals in ru/uk count only with the noun: "Второй месяц не работает" is not a second question.
_CONNECTOR_RE = re.compile(
    r"^(?:also|and also|plus|additionally|in addition|another question|one more (?:thing|question)|"
    r"and another thing|second(?:ly)?|third(?:ly)?|(?:next|other|last|final) question|"
    r"my (?:second|other|next) question(?: is)?|"
    r"question (?:two|three|2|3|#2|#3)|"
    r"и ещё|и еще|ещё|еще|также|кроме того|во-вторых|в-третьих|ещё вопрос|еще вопрос|и ещё вопрос|"
    r"(?:второй|третий|следующий|другой|последний) вопрос|вопрос (?:2|3|№ ?2|№ ?3)|"
    r"і ще|також|ще|крім того|по-друге|по-третє|ще одне питання|ще питання|"
    r"(?:друге|третє|наступне|інше|останнє) питання|питання (?:2|3|№ ?2|№ ?3))"
    r"(?:\s*(?:one|question|вопрос|питання|одне))?\s*[,:;.\-–—]*\s+",
    _I,
)
# Labels on the first question say nothing to search for: "First question: ...", "Вопрос: ...".
_LEADING_RE = re.compile(
    r"^(?:(?:first(?:ly)?|во-первых|по-перше)|(?:(?:first|my) )?question|(?:первый )?вопрос|(?:перше )?питання)"
    r"\s*[,:;]\s*",
    _I,
)
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
