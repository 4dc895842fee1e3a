"""A search query analysed once: as typed, corrected, its language and terms, for every part of search."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb import analysis
from search.layout import fix_layout
from search.spelling import SpellCorrector

MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class Query:
    """What retrieval, the answered decision, snippets and the event log all receive."""

    raw: str  # as typed, capped at MAX_QUERY_CHARS
    text: str  # what the model embeds: whitespace collapsed, a wrong keyboard layout fixed
    searched: str  # what the keywords come from: `text` with spelling fixed too
    correction: str | None  # "spelling", a layout pair ("en->ru", …), or None
    lang: str  # the detected language of `searched` (en, ru, uk)
    terms: frozenset[str]  # analysed terms of `searched` (ru and uk lemmas both, the language unknown to them)
    normalized: str  # `searched` normalised, for grouping queries in reports

    @property
    def corrected(self) -> str | None:
        """The query actually searched, when it differs from what was typed."""
        return self.searched if self.correction else None

    def __bool__(self) -> bool:
        return bool(self.searched)


def analyse(raw: str, speller: SpellCorrector | None = None) -> Query:
    """Collapse whitespace, fix a wrong layout (for both sides) or typos (for keywords only), detect language.

    A wrong keyboard layout is unreadable to every part of search, so the fixed text replaces the query. A
    spelling fix feeds only the keywords and highlights: the dense model reads typos fine and should see what
    the customer wrote.
    """
    text = re.sub(r"\s+", " ", raw or "").strip()[:MAX_QUERY_CHARS]
    fix = fix_layout(text)
    correction = None
    if fix:
        text, correction = fix.text, fix.source
    searched = text
    if speller is not None and not fix and text:
        spelled = speller.correct(text)
        if spelled:
            searched, correction = spelled, "spelling"
    return Query(
        raw=(raw or "")[:MAX_QUERY_CHARS],
        text=text,
        searched=searched,
        correction=correction,
        lang=analysis.detect_language(searched),
        terms=frozenset(analysis.terms(searched, None)),
        normalized=analysis.normalize(searched),
    )
