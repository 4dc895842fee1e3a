"""Snippets and highlights: the passage of a chunk that best matches the query, its words marked.

A chunk's text is its section's blocks, one a line, as kb.sections writes them: paragraphs and list items as
plain text, table rows as cells joined by " | ", code blocks verbatim. Snippets and passages are read as
sentences, so `plain` turns rows into sentences and leaves code out (kept only when a chunk is nothing else).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from kb import analysis

_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*", re.UNICODE)
_CELL_SEP = " | "  # kb.sections joins a table row's cells with it
_LIST_MARK = re.compile(r"^(?:\\?[-*+•]|\d{1,3}[.)])\s+")  # a marker typed as text ("\* Admins can…")
_CODE_START = re.compile(
    r"^(?:[{}\[\]<>#$]|//|--?[A-Za-z]|curl\s|def\s|[\w.]+\s*=\s|\"[^\"]*\"\s*:"
    # An import statement, not a sentence that starts with the word ("import contacts from a CSV file").
    r"|import\s+[\w.]+(?:\s*,\s*[\w.]+)*(?:\s+as\s+\w+)?;?$|from\s+[\w.]+\s+import\s)"
)
_CODE_END = re.compile(r"(?:[{\[(,;\\]|=>)$")
_END = re.compile(r"[.!?…:;]$")


def _is_code(line: str) -> bool:
    """A line of a code block: kb.sections strips every other block, so indentation or code punctuation tells."""
    if line[:1].isspace():
        return True
    stripped = line.strip()
    if _CODE_START.match(stripped) or _CODE_END.search(stripped):
        return True
    letters = sum(c.isalpha() or c.isspace() for c in stripped)
    return len(stripped) >= 8 and letters / len(stripped) < 0.6


def _row_sentence(line: str) -> str:
    """'ORB-401 | Your session has expired | Sign in again' → 'ORB-401: Your session has expired; Sign in again.'"""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    cells = [c for c in cells if c and c not in ("—", "–", "-")]
    if not cells:
        return ""
    text = cells[0] if len(cells) == 1 else f"{cells[0].rstrip(':')}: " + "; ".join(c.rstrip(".;") for c in cells[1:])
    return text if _END.search(text) else text + "."


def plain(text: str) -> str:
    """A chunk's text as running sentences: table rows read as sentences, list markers and code left out."""
    prose: list[str] = []
    code: list[str] = []
    lines = [line for line in text.split("\n") if line.strip()]
    cuts = [line.count(_CELL_SEP) for line in lines]
    for i, line in enumerate(lines):
        # A row has its neighbours' number of cells, or three cells at least: prose with one " | " stays prose.
        near = {cuts[j] for j in (i - 1, i + 1) if 0 <= j < len(lines)}
        if cuts[i] >= 2 or (cuts[i] and cuts[i] in near):
            prose.append(_row_sentence(line))
        elif _is_code(line):
            code.append(line.strip())
        else:
            prose.append(_LIST_MARK.sub("", line.strip()))
    return re.sub(r"\s+", " ", " ".join(p for p in (prose or code) if p)).strip()


@lru_cache(maxsize=200_000)
def _word_terms(word: str, lang: str | None) -> frozenset[str]:
    # Snippets analyse the same words over and over (every result, every query): remember them.
    return frozenset(analysis.terms(word, lang))


class _Matcher:
    """Tells which words of a text analyse to one of the query's terms."""

    def __init__(self, query_terms: set[str], lang: str | None):
        self.terms, self.lang = query_terms, lang
        # Lemmas and stems keep their word's first letters (пароля → пароль, resets → reset): a word whose
        # first three letters start no query term is skipped without the morphology lookup, which is the
        # costly part when most words have never been seen before.
        self.heads = {t[:3] for t in query_terms if len(t) >= 3}
        self.short = {t for t in query_terms if len(t) < 3}

    def word(self, w: str) -> bool:
        head = w[:3].casefold().replace("ё", "е")
        if head not in self.heads and not any(head.startswith(t) for t in self.short):
            return False
        return not self.terms.isdisjoint(_word_terms(w, self.lang))

    def token(self, token: str) -> bool:
        return any(self.word(w) for w in _WORD.findall(token))

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text) if self.word(m.group())]


def matched_terms(text: str, query_terms: set[str], lang: str | None) -> set[str]:
    """The query terms that some word of the text analyses to."""
    m = _Matcher(query_terms, lang)
    found: set[str] = set()
    for w in _WORD.findall(text):
        if m.word(w):
            found |= query_terms & _word_terms(w, lang)
    return found


def highlight(text: str, query_terms: set[str], lang: str | None) -> str:
    """HTML-escaped text with every matching word in <mark>."""
    out, pos = [], 0
    for start, end in _Matcher(query_terms, lang).spans(text):
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _window(text: str, query_terms: set[str], lang: str | None, words: int) -> tuple[str, bool, bool]:
    """The run of about `words` words of plain text with the most matches: (text, cut before, cut after)."""
    tokens = list(re.finditer(r"\S+", text))
    if len(tokens) <= words:
        return text, False, False
    matcher = _Matcher(query_terms, lang)
    hits = [i for i, t in enumerate(tokens) if matcher.token(t.group())]
    best, best_count = 0, -1
    for start in {max(0, i - words // 4) for i in hits} or {0}:
        count = sum(1 for i in hits if start <= i < start + words)
        if count > best_count:
            best, best_count = start, count
    best = min(best, len(tokens) - words)
    a, b = tokens[best].start(), tokens[best + words - 1].end()
    return text[a:b], best > 0, best + words < len(tokens)


def snippet(text: str, query_terms: set[str], lang: str | None, words: int = 32) -> str:
    """The window of about `words` words with the most matches, escaped and highlighted, with ellipses."""
    window, before, after = _window(plain(text), query_terms, lang, words)
    return ("… " if before else "") + highlight(window, query_terms, lang) + (" …" if after else "")


def passage(text: str, query_terms: set[str], lang: str | None, words: int = 70) -> str:
    """Plain text of the best-matching window, widened to whole sentences where that stays short."""
    flat = plain(text)
    window, before, after = _window(flat, query_terms, lang, words)
    if not (before or after):
        return window
    start = flat.find(window)
    if before:
        cut = max(flat.rfind(". ", 0, start), flat.rfind("\n", 0, start))
        if start - cut < 200:  # cut = -1: the text's own first sentence, widened to its start
            start = cut + 2 if cut != -1 else 0
    end = flat.find(window) + len(window)
    if after:
        stop = flat.find(". ", end)
        end = stop + 1 if stop != -1 and stop - end < 200 else end
    return (
        ("… " if before and start > 0 and flat[start - 2 : start] != ". " else "")
        + flat[start:end].strip()
        + ("" if flat[end - 1 : end] == "." or end >= len(flat) else " …")
    )
