"""Wrong keyboard layout detection: `gfhjkm` → `пароль`, `ghbdsn` → `привіт`, `зфыыцщкв` → `password`.

Key maps (physical key → character), Windows layouts:

    QWERTY (US)       q w e r t y u i o p [ ] a s d f g h j k l ; ' z x c v b n m , . / `
    Russian (ЙЦУКЕН)  й ц у к е н г ш щ з х ъ ф ы в а п р о л д ж э я ч с м и т ь б ю . ё
    Ukrainian         й ц у к е н г ш щ з х ї ф і в а п р о л д ж є я ч с м и т ь б ю . '
    shifted (ru)      { } : " < > ~ → Х Ъ Ж Э Б Ю Ё;   & (Shift+7) → ?
    Ukrainian (Enhanced) also has ґ on the \\ key; ` gives the apostrophe (п'ять = g`znm).

Decision, per query (`fix_layout`):
- en→ru/uk: Latin word tokens (letters plus the punctuation keys that are letters: , . ; ' [ ] `) are converted
  with each map. A converted word is *evidence* when pymorphy3 knows it as a dictionary word (abbreviation
  and initial readings do not count) and the original is not a common English word. The fix is accepted when
  evidence words cover at least half of the Latin words and at least 4 letters; ru vs uk: more evidence
  letters wins, ties go to ru. In an accepted query the evidence words are converted, plus lower-case words
  that cannot be English (no vowel); other Latin words (product names, codes) stay.
- ru/uk→en: Cyrillic tokens that neither dictionary knows and whose key-for-key Latin spelling is a common
  English word (small built-in list + the stop-words package list) are evidence, same thresholds.
- Tokens with digits, @, :// or other symbols (emails, URLs, codes like orb-429) are never candidates.
- The result is re-checked: if the fixed text would itself be "fixed" again, the query is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kb.analysis import morph_for

__all__ = ["LayoutFix", "fix_layout"]


@dataclass(frozen=True)
class LayoutFix:
    text: str  # the corrected query
    source: str  # "en->ru", "en->uk", "ru->en", "uk->en"


_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_RU = "йцукенгшщзхъфывапролджэячсмитьбюё"
_UK = "йцукенгшщзхїфівапролджєячсмитьбю'"
_SHIFT_QWERTY = '{}:"<>~'
_SHIFT_RU = "ХЪЖЭБЮЁ"
_SHIFT_UK = "ХЇЖЄБЮ"


def _forward(cyr: str, shift: str, extra: dict[str, str]) -> dict[str, str]:
    table = {}
    for lat, c in zip(_QWERTY, cyr):
        table[lat] = c
        if lat.isalpha():
            table[lat.upper()] = c.upper()
    for lat, c in zip(_SHIFT_QWERTY, shift):
        table[lat] = c
    table.update(extra)
    return table


_TO_CYR = {
    "ru": _forward(_RU, _SHIFT_RU, {}),
    "uk": _forward(_UK, _SHIFT_UK, {"\\": "ґ", "|": "Ґ"}),
}
# Cyrillic → key, both layouts in one table (they agree on every shared letter).
_TO_LAT: dict[str, str] = {}
for _lang in ("ru", "uk"):
    for _k, _v in _TO_CYR[_lang].items():
        if _v != "'":
            _TO_LAT.setdefault(_v, _k)
_UK_ONLY = frozenset("іїєґІЇЄҐ")

# Keys whose character is a letter on the Cyrillic layouts: part of a word.
_LETTER_KEYS = frozenset(k for t in _TO_CYR.values() for k in t)
# Punctuation that may surround a wrong-layout word and is kept (after mapping, see _EDGE).
_EDGE_PUNCT = frozenset("?!&/()-\"'.,;:«»")
_VOWELS = frozenset("aeiouyAEIOUY")
_CYR_RE = re.compile("[\u0400-\u04ff]")
_WORD_CYR_RE = re.compile("^[\u0400-\u04ff'’ʼ-]+$")
_SPACE_RE = re.compile(r"(\s+)")

# Common English words a support query is made of; with the stop-words package list and simple suffixes.
_EN_EXTRA = """
password passwords reset login logon log sign signup account accounts email mail settings setting profile user
username admin update upgrade install uninstall download upload delete remove change add new create edit file
files folder page error problem issue help support phone app apps web site website browser chrome firefox safari
windows mac linux android iphone ios payment pay billing bill invoice subscription plan card order refund cancel
price pricing team invite share link access permission security code verify verification factor authentication
token key api export import report sync data backup restore search find open close save send receive message
notification call video audio screen camera microphone device network wifi internet connect connection slow fast
work broken fix crash crashes login logout contact number address name language dark mode light theme print
printer keyboard layout mouse free trial license limit storage space disk cloud server client desktop mobile
enable disable turn show hide view list calendar chat meeting invite schedule time zone date transfer
delivery shipping return track tracking status recover recovery forgot lost locked unlock block blocked spam
hello hi thanks thank please test wrong right page pages tab tabs button menu option options feature
a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we
""".split()


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    words = set(_EN_EXTRA)
    try:
        from stop_words import get_stop_words

        # The package list also holds two-letter country codes and fragments (gf, pf, yt): words only.
        for w in get_stop_words("en"):
            w = w.lower()
            if len(w) >= 3 and w.replace("'", "").isalpha() and any(ch in "aeiouy" for ch in w):
                words.add(w)
    except Exception:  # the list is a nicety, not a requirement
        pass
    return frozenset(words)


def _is_english(word: str) -> bool:
    w = word.lower()
    en = _english()
    if w in en:
        return True
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("er", "")):
        if len(w) > len(suffix) + 2 and w.endswith(suffix) and w[: -len(suffix)] + repl in en:
            return True
    return False


@lru_cache(maxsize=1)
def _english_trigrams() -> frozenset[str]:
    """Letter trigrams of English words (word edges marked), from the spell checker's 160k-word list."""
    from search.spelling import english_words

    grams: set[str] = set()
    for w in english_words():
        w = f"^{w}$"
        grams.update(w[i : i + 3] for i in range(len(w) - 2))
    return frozenset(grams)


def _unlike_english(word: str) -> bool:
    """More than a third of the word's letter trigrams occur in no English word: not typed as Latin on purpose.

    Product names and other languages' words keep English-like letter runs (energiprojekt, zapier, okta);
    Cyrillic typed on QWERTY gives runs like "hjl", "jlj", "yb[" that English spelling never has.
    """
    w = f"^{word.lower()}$"
    grams = [w[i : i + 3] for i in range(len(w) - 2) if w[i + 1].isalpha()]
    if len(grams) < 4:
        return False
    known = _english_trigrams()
    return sum(g not in known for g in grams) * 3 > len(grams)


_NOT_WORD = frozenset({"Abbr", "Init", "UNKN"})


@lru_cache(maxsize=1 << 16)
def _known(word: str, lang: str) -> bool:
    """word (lower case, Cyrillic) is a dictionary word of lang, not only an abbreviation or initial."""
    w = word.lower().replace("ё", "е") if lang == "ru" else word.lower()
    if not w or len(w) > 64:
        return False
    morph = morph_for(lang)
    parts = w.split("-") if "-" in w and not morph.word_is_known(w) else [w]
    for part in parts:
        if not part or not morph.word_is_known(part):
            return False
        if not any(p.is_known and _NOT_WORD.isdisjoint(p.tag.grammemes) for p in morph.parse(part)):
            return False
    return True


def _convert(core: str, table: dict[str, str]) -> str:
    return "".join(table.get(ch, ch) for ch in core)


def _letters(word: str) -> int:
    return sum(ch.isalpha() for ch in word)


# ---------------------------------------------------------------------------------------------------------
# Latin typed for Cyrillic


def _latin_candidate(chunk: str) -> bool:
    return any("a" <= ch.lower() <= "z" for ch in chunk) and all(
        ch in _LETTER_KEYS or ch in _EDGE_PUNCT for ch in chunk
    )


def _splits(chunk: str):
    """(prefix, core, suffix) ways to cut edge punctuation off, longest core first."""
    n = len(chunk)
    lead = 0
    while lead < n and not chunk[lead].isalpha() and lead < 2:
        lead += 1
    trail = 0
    while trail < n - lead and not chunk[n - 1 - trail].isalpha() and trail < 2:
        trail += 1
    out = [(chunk[:i], chunk[i : n - j], chunk[n - j :]) for i in range(lead + 1) for j in range(trail + 1)]
    out = [s for s in out if s[1]]
    out.sort(key=lambda s: -len(s[1]))
    return out


def _edge(punct: str, last: bool) -> str:
    """Edge punctuation typed on QWERTY, as it was meant on the Cyrillic layout."""
    out = []
    for ch in punct:
        if ch == "/":
            out.append(".")
        elif ch == "&":
            out.append("?")
        elif ch == "?" and not last:
            out.append(",")  # Shift+/ is the comma on ЙЦУКЕН; a final ? is kept as the user's question mark
        else:
            out.append(ch)
    return "".join(out)


def _plan_cyr(chunk: str, lang: str, last: bool) -> tuple[str, bool, bool]:
    """(converted chunk, is evidence, may convert) of one Latin chunk for lang."""
    table = _TO_CYR[lang]
    splits = _splits(chunk)
    for pre, core, suf in splits:
        if not any(ch.isalpha() for ch in core) or any(ch not in table and ch != "-" for ch in core):
            continue
        conv = _convert(core, table)
        if _known(conv, lang):
            evidence = not _is_english(core)
            # In a query that is clearly mistyped, short words (e → у, yt → не) go along even if English.
            may = evidence or _letters(core) <= 2
            return _edge(pre, False) + conv + _edge(suf, last), evidence, may
    # Not a dictionary word: strip non-letter edges, convert only if it cannot be English.
    core = chunk.strip("".join(_EDGE_PUNCT))
    start = chunk.find(core) if core else 0
    pre, suf = chunk[:start], chunk[start + len(core) :]
    letters = [ch for ch in core if ch.isalpha()]
    impossible = (
        bool(core)
        and all(ch in table or ch == "-" for ch in core)
        and (
            not any(ch in _VOWELS for ch in letters)
            or any(not ch.isalpha() and ch != "-" for ch in core)  # , . ; [ ] inside a word
            or _unlike_english(core)  # hjljabn (родофит), Rbhyb (Кирни): letter runs English does not have
        )
    )
    # Lower case, or a capitalised name (Gbrtnnb → Пикетти): ALL CAPS stays, it is an abbreviation or a code.
    may = impossible and all(p[1:] == p[1:].lower() for p in core.split("-")) and not _is_english(core)
    return _edge(pre, False) + _convert(core, table) + _edge(suf, last), False, may


def _fix_to_cyr(parts: list[str]) -> LayoutFix | None:
    idx = [i for i, p in enumerate(parts) if p.strip() and _latin_candidate(p)]
    if not idx:
        return None
    last_word = max(i for i, p in enumerate(parts) if p.strip())
    best = None
    for lang in ("ru", "uk"):
        plans = {i: _plan_cyr(parts[i], lang, i == last_word) for i in idx}
        ev = [i for i in idx if plans[i][1]]
        letters = sum(_letters(plans[i][0]) for i in ev)
        if letters < 4 or 2 * len(ev) < len(idx):
            continue
        if best is None or letters > best[0]:
            out = list(parts)
            for i in idx:
                if plans[i][2]:
                    out[i] = plans[i][0]
            best = (letters, LayoutFix("".join(out), f"en->{lang}"))
    return best[1] if best else None


# ---------------------------------------------------------------------------------------------------------
# Cyrillic typed for Latin


def _fix_to_lat(parts: list[str]) -> LayoutFix | None:
    idx, plans = [], {}
    for i, chunk in enumerate(parts):
        if not chunk.strip() or not _CYR_RE.search(chunk):
            continue
        core = chunk.strip("".join(_EDGE_PUNCT))
        if not core or not _WORD_CYR_RE.match(core):
            continue
        idx.append(i)
        if _known(core, "ru") or _known(core, "uk"):
            continue
        conv = _convert(core, _TO_LAT)
        if conv.isascii() and _is_english(conv):
            start = chunk.find(core)
            plans[i] = chunk[:start] + conv + chunk[start + len(core) :]
    if not idx:
        return None
    letters = sum(_letters(plans[i]) for i in plans)
    if letters < 4 or 2 * len(plans) < len(idx):
        return None
    out = list(parts)
    uk = False
    for i, text in plans.items():
        uk = uk or any(ch in _UK_ONLY for ch in parts[i])
        out[i] = text
    return LayoutFix("".join(out), "uk->en" if uk else "ru->en")


def _fix(query: str) -> LayoutFix | None:
    if not query or not isinstance(query, str) or len(query) > 1000:
        return None
    parts = _SPACE_RE.split(query)
    to_cyr = _fix_to_cyr(parts)
    to_lat = _fix_to_lat(parts)
    if to_cyr and to_lat:
        return None  # both directions claim the query: too unsure to change anything
    fix = to_cyr or to_lat
    if fix is None or fix.text == query:
        return None
    return fix


def fix_layout(query: str) -> LayoutFix | None:
    """The query retyped on the layout it was meant for, or None when it looks fine as typed."""
    try:
        fix = _fix(query)
        # A fix must be final: if its text would be "fixed" again, the decision was not clear-cut.
        if fix is not None and _fix(fix.text) is not None:
            return None
        return fix
    except Exception:  # a layout guess must never break a search
        return None
