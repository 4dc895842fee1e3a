"""split_questions: the separate questions and requests of one cleaned message."""

from __future__ import annotations

import re

from kb import analysis
from suggest.matched import WORD_RE, stop_words

_I = re.IGNORECASE

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
_FRAGMENT_WORDS = 1  # a question with at most this many content words says nothing alone ("What can I do?")


def _is_fragment(question: str, lang: str) -> bool:
    """Whether a question carries no content of its own ("How?", "Что делать?", "Is that possible?"): at most
    _FRAGMENT_WORDS words that are neither stop words of the message's language nor numbers."""
    stop = stop_words(lang)
    words = [w for w in WORD_RE.findall(question) if analysis.normalize(w) not in stop and not w.isdigit()]
    return len(words) <= _FRAGMENT_WORDS


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
    lang = analysis.detect_language(text)

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
            # "How?" or "What can I do?" asks about what was just said: searched alone it finds any article.
            fragment = not new_topic and _is_fragment(sentence, lang)
            if fragment and not pending and items:
                items[-1] = items[-1] + " " + sentence
                continue
            if pending and words(pending) > _CONTEXT_WORDS and not fragment:
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


def asked_alone(item: str) -> str:
    """The sentences of a question item that ask (end with "?"), without the statements that ride along."""
    return " ".join(s for s in _segments(item) if s.endswith("?"))
