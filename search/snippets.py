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


def _matches(token: str, query_terms: set[str], lang: str | None) -> bool:
    return any(not query_terms.isdisjoint(_word_terms(w, lang)) for w in _WORD.findall(token))


def _marks(text: str, query_terms: set[str], lang: str | None) -> list[tuple[int, int]]:
    """Spans of words whose analysed term is one of the query's (пароля matches пароль)."""
    return [m.span() for m in _WORD.finditer(text) if not query_terms.isdisjoint(_word_terms(m.group(), lang))]


def highlight(text: str, query_terms: set[str], lang: str | None) -> str:
    """HTML-escaped text with every matching word in <mark>."""
    out, pos = [], 0
    for start, end in _marks(text, query_terms, lang):
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
    hits = [i for i, t in enumerate(tokens) if _matches(t.group(), query_terms, lang)]
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
