"""The answer card: when a search is answered with high confidence, the passage of the top article that answers.

Extractive and offline. The passage comes from the section whose own text is closest to the query (the
steps, the condition, the number), not from the article's opening, which summarises the whole article and so
resembles every query about it: the opening is used only when it is clearly the better match, or the article
has nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from kb.store.base import TITLE_INDEX
from search.query import Query
from search.retrieval import ArticleHit
from search.snippets import highlight, passage

CARD_CONFIDENCE = (
    0.8  # answered probability above which the card is shown: wrong answers shown as *the* answer cost most
)
LEAD_MARGIN = 1.0  # how many background standard deviations the opening must win by to be the card
CARD_WORDS = 50


@dataclass
class Answer:
    text: str  # plain text
    html: str  # escaped, query words in <mark>
    article_id: str
    title: str
    section: str
    anchor: str
    url: str
    confidence: float
    locale: str = ""  # the article's language, which the passage is in

    def as_api(self) -> dict:
        d = asdict(self)
        d["confidence"] = round(self.confidence, 4)
        return d


def answering_chunks(hit: ArticleHit, sd: float) -> list[dict]:
    """The article's body chunks that matched the query, the one that answers best first.

    Ranked by each chunk's own cosine to the query; a section goes before the opening unless the opening wins
    by more than LEAD_MARGIN spreads `sd` (the opening summarises the article, so it resembles every query).
    """
    body = [(score, p) for score, p in hit.passages if p.get("chunk_index") != TITLE_INDEX and p.get("text")]
    if not body or body[0][1].get("section"):
        return [p for _, p in body]
    lead_score = body[0][0]
    sections = [(s, p) for s, p in body if p.get("section")]
    if sections and sections[0][0] >= lead_score - LEAD_MARGIN * sd:
        first = sections[0][1]
        return [first] + [p for _, p in body if p is not first]
    return [p for _, p in body]


def answer_card(query: Query, hit: ArticleHit, confidence: float, sd: float) -> Answer | None:
    """The card for the top result, or None when it must not be shown (not public, not confident, no text).

    `sd` is the spread of the query's similarity to the KB (search/background.py), the unit the opening's
    margin is measured in.
    """
    if confidence < CARD_CONFIDENCE or hit.visibility != "public" or hit.payload.get("type", "article") != "article":
        return None
    ranked = answering_chunks(hit, sd)
    if not ranked:
        return None
    best = ranked[0]
    lang = best.get("locale") or hit.locale or None
    text = passage(best["text"], set(query.terms), lang, words=CARD_WORDS)
    if not text.strip():
        return None
    anchor = best.get("anchor", "")
    return Answer(
        text=text,
        html=highlight(text, set(query.terms), lang),
        article_id=hit.id,
        title=hit.title,
        section=best.get("section", ""),
        anchor=anchor,
        url=f"/articles/{hit.id}" + (f"#{anchor}" if anchor else ""),
        confidence=confidence,
        locale=lang or "",
    )
