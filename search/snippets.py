"""Snippets and highlights: the passage of a chunk that best matches the query, its words marked."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from kb import analysis

_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*", re.UNICODE)


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


def snippet(text: str, query_terms: set[str], lang: str | None, words: int = 32) -> str:
    """The window of about `words` words with the most matches, escaped and highlighted, with ellipses."""
    text = re.sub(r"\s+", " ", text).strip()
    tokens = list(re.finditer(r"\S+", text))
    if len(tokens) <= words:
        return highlight(text, query_terms, lang)
    matcher = _Matcher(query_terms, lang)
    hits = [i for i, t in enumerate(tokens) if matcher.token(t.group())]
    best, best_count = 0, -1
    for start in ({max(0, i - words // 4) for i in hits} or {0}):
        count = sum(1 for i in hits if start <= i < start + words)
        if count > best_count:
            best, best_count = start, count
    best = min(best, len(tokens) - words)
    a, b = tokens[best].start(), tokens[best + words - 1].end()
    prefix = "… " if best > 0 else ""
    suffix = " …" if best + words < len(tokens) else ""
    return prefix + highlight(text[a:b], query_terms, lang) + suffix
