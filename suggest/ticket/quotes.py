"""Quoted replies, reply headers, mail-client footers and disclaimers: text in a message that the customer did
not write."""

from __future__ import annotations

import re

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
QUOTED_LINE_RE = re.compile(r"^\s*>")
# "-- " is the standard signature delimiter; many clients strip its trailing space.
_SIG_DELIM_RE = re.compile(r"^\s*--\s*$")
SEPARATOR_RE = re.compile(r"^[\s_=*~-]+$")

FOOTER_RE = re.compile(
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


def cut_quoted(lines: list[str]) -> list[str]:
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
        if QUOTED_LINE_RE.match(line):
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
            if j == len(lines) or not QUOTED_LINE_RE.match(lines[j]):
                return out  # the original follows unquoted: nothing after the header is the customer's
            # Skip the quoted block (">" lines and blank lines between them); the customer's text may follow.
            while j < len(lines) and (QUOTED_LINE_RE.match(lines[j]) or not lines[j].strip()):
                j += 1
            out.append("")
            i = j
            continue
        out.append(line)
        i += 1
    return out


def drop_disclaimers(lines: list[str]) -> list[str]:
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
