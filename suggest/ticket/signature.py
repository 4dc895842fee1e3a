"""Sign-offs and signature blocks at the end of a message: names, titles, companies, contact data."""

from __future__ import annotations

import re

_I = re.IGNORECASE

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


def drop_signoff(lines: list[str]) -> list[str]:
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
