"""Normalised text and its word tokens: what every other step of the analysis starts from."""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

# Soft hyphens, zero-width characters, BOM and bidi controls hide inside copy-pasted words and would split
# them; they go before NFKC so that NFKC sees the joined text (otherwise normalize would not be idempotent).
_FORMAT_RE = re.compile("[\u00ad\u034f\u061c\u180e\ufeff\u200b-\u200f\u202a-\u202e\u2060-\u206f]")


def _post_table() -> dict[str, str]:
    table: dict[str, str] = {}
    # Ukrainian writes the apostrophe in all of these ways; the uk dictionary uses the ASCII one.
    for ch in "\u2019\u02bc`\u2032\u2018\u02b9\uff07":
        table[ch] = "'"
    table["ё"] = "е"
    # Pre-composed Cyrillic vowels with a grave stress mark.
    table["\u0450"] = "е"
    table["\u045d"] = "и"
    # Latin letters with diacritics fold to ASCII (café/cafe, naïve/naive): English Snowball does not fold them.
    for cp in chain(range(0x00C0, 0x0250), range(0x1E00, 0x1F00)):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        if len(decomposed) > 1 and decomposed[0].isascii() and all(unicodedata.combining(c) for c in decomposed[1:]):
            table[chr(cp)] = decomposed[0]
    return table


_POST_CHARS = _post_table()
# A regex finds the few characters to replace much faster than str.translate walks a dict for every character.
_POST_RE = re.compile("[" + "".join(re.escape(c) for c in _POST_CHARS) + "]")
# Combining marks left after NFKC are the ones with no pre-composed letter: Cyrillic stress marks (а́), zalgo.
# й and ї are pre-composed by NFKC, so they are not touched. Marks of other scripts (Devanagari vowel signs)
# are part of their letters and stay.
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _replace_post(match: re.Match) -> str:
    return _POST_CHARS[match.group()]


def normalize(text: str) -> str:
    """NFKC, casefold, ё→е, one apostrophe, no accents or stress marks, single spaces."""
    if not text:
        return ""
    if text.isascii():
        # ASCII is already NFKC; only case, the backtick apostrophe and whitespace can change.
        return " ".join(text.lower().replace("`", "'").split())
    s = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", text))
    # casefold can produce non-NFKC sequences (İ → i + combining dot), hence the second NFKC.
    s = unicodedata.normalize("NFKC", s.casefold())
    s, removed = _MARKS_RE.subn("", _POST_RE.sub(_replace_post, s))
    if removed:
        # Letters the removed marks kept apart may compose now (Hangul jamo): compose them, or a second
        # pass would change the text again.
        s = unicodedata.normalize("NFKC", s)
    return " ".join(s.split())


# Runs of letters/digits; an apostrophe between two of them stays inside (пам'ять, об'єкт, don't).
# Hyphens, underscores, dots and all other punctuation split.
TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
CYRILLIC_RE = re.compile("[\u0400-\u052f]")
LATIN_RE = re.compile("[a-z\u00c0-\u024f]")
UK_ONLY_RE = re.compile("[іїєґ]")
RU_ONLY_RE = re.compile("[ыэъ]")
UK_APOSTROPHE_RE = re.compile("[\u0400-\u052f]'[\u0400-\u052f]")


def tokenize(text: str) -> list[str]:
    """Word tokens of the normalised text."""
    return TOKEN_RE.findall(normalize(text))
