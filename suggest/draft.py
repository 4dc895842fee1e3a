"""The draft reply's content: for each question the section that answers it, or the canned reply that fits,
with its link, or a placeholder for the agent (docs/agent-draft.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from kb import analysis
from search.answer import LEAD_MARGIN, answering_chunks
from search.answered import ANSWERED_THRESHOLD
from search.calibration import CalibrationCache
from search.query import analyse
from search.retrieval import ArticleHit, Retriever
from search.snippets import matched_terms, passage
from suggest.matched import stop_words
from suggest.models import Question
from suggest.reply import CANNED_TAG, DraftPart
from suggest.searched import Searched, quotable
from suggest.sentences import SentenceScorer

CANNED_OVERLAP = 1 / 3  # rarity-weighted share of the answering passage's terms a canned reply must repeat
CONTEXT_TIE = 0.5  # spreads within which the ticket's other queries choose between a question's best sections
DRAFT_WORDS = 120  # a whole short section (the steps, the condition) rather than the 70-word passage shown


_WORD_RE = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=4096)
def heading_terms(heading: str, lang: str) -> frozenset[str]:
    """The analysed terms of a heading's words that are not stop words ("Check settings in Orbita" → check, set,
    orbita)."""
    stop = stop_words(lang)
    words = [w for w in _WORD_RE.findall(heading) if analysis.normalize(w) not in stop and not w.isdigit()]
    return frozenset(analysis.terms(" ".join(words), None)) if words else frozenset()


def named(chunk: dict, terms: frozenset[str], common: Callable[[str], bool] | None) -> bool:
    """Whether the question's `terms` name the chunk's section: each word of its heading that tells something
    (not a stop word, not a term most of the KB's articles hold: `common`) is among them. The KB's author put
    under that heading what the customer named (the platform, the plan, the error); the cosine of a message
    that says much else blurs it."""
    if not chunk.get("section"):
        return False
    own = {t for t in heading_terms(chunk["section"], chunk.get("locale") or "en") if common is None or not common(t)}
    return bool(own) and own <= terms


class Drafter:
    """Chooses what the draft quotes for each question of the latest customer message."""

    def __init__(self, retriever: Retriever, calibrations: CalibrationCache, base_url: str = ""):
        self.retriever = retriever
        self.calibrations = calibrations
        self.base_url = base_url.rstrip("/")
        self.sentences = SentenceScorer(retriever.embedder)

    def draft_locale(self, locale: str) -> str | None:
        """The language the draft may quote: the ticket's when the KB has articles in it, else any."""
        cal = self.calibrations.get()
        return locale if cal is None or locale in cal.background.languages else None

    def answering_chunk(self, aid: str, s: Searched, searched: list[Searched]) -> dict | None:
        """The chunk of article `aid` that answers question `s`, the rest of the ticket breaking near-ties.

        The question ranks the chunks by their cosine, a section's the mean with its best sentence's
        (suggest/sentences.py), through search.answer.answering_chunks (a section before the opening unless the
        opening wins by more than LEAD_MARGIN spreads). Among the sections within CONTEXT_TIE spreads of the
        best, one whose heading the question names wins (`named`: "my Xiaomi (Android 14)" and "Android"), else
        the one closest to the ticket's other queries (the subject, the other questions): "How can I get back
        into my account?" is about a forgotten password when the message says so. Both only break ties: counted
        in full, the context made every question of a ticket quote the section the whole ticket is about, and a
        heading named anywhere in the question ("Chris, who originally connected Slack") made it quote "Connect
        Slack" for a question about notifications that stopped.
        """
        hit = next((h for h in s.hits if h.id == aid), None)
        if hit is None:
            return None
        hit = self.sentences.rescored(hit, s.vector)
        ranked = answering_chunks(hit, s.sd)
        if not ranked:
            return None
        own = {id(p): sc for sc, p in hit.passages}
        near = [
            p
            for p in ranked
            if p is ranked[0] or (p.get("section") and own[id(p)] >= own[id(ranked[0])] - CONTEXT_TIE * s.sd)
        ]
        if len(near) == 1:
            return ranked[0]
        cal = self.calibrations.get()
        terms = frozenset(analysis.terms(s.query, None))
        names = [p for p in near if named(p, terms, cal.background.common if cal is not None else None)]
        if names:
            return names[0]
        context: dict[tuple, float] = {}
        for t in searched:
            other = next((h for h in t.hits if h.id == aid), None) if t is not s else None
            for sc, p in self.sentences.rescored(other, t.vector).passages if other is not None else []:
                key = (p.get("anchor", ""), p.get("chunk_index"))
                context[key] = context.get(key, 0.0) + t.weight * sc
        return max(near, key=lambda p: (context.get((p.get("anchor", ""), p.get("chunk_index")), 0.0), own[id(p)]))

    def parts(self, asked: list[tuple[Question, Searched]], searched: list[Searched], locale: str) -> list[DraftPart]:
        """One part per question: the canned reply that fits it, else the passage of the best public article
        that answers it, with its link; a placeholder for the agent when no answer is confident enough.

        Only public articles are quoted or linked (canned replies are written for customers): internal ones
        are for the agent's eyes.
        """
        parts: list[DraftPart] = []
        done: set[tuple[str, str]] = set()
        for q, s in asked:
            pick = quotable(q.suggestions, self.draft_locale(locale))
            if pick is None or q.confidence < ANSWERED_THRESHOLD:
                parts.append(DraftPart(q.text, "", "", "", kind="placeholder"))
                continue
            hit = next((h for h in s.hits if h.id == pick.id), None)
            chunk = self.answering_chunk(pick.id, s, searched) if hit is not None else None
            anchor = chunk.get("anchor", "") if chunk else pick.passages[0].anchor
            if (pick.id, anchor) in done:
                continue  # an earlier question of the ticket is already answered by the same section
            done.add((pick.id, anchor))
            url = self.base_url + f"/articles/{pick.id}" + (f"#{anchor}" if anchor else "")
            canned = self.canned_for(s, locale, hit, chunk)
            if canned is not None:
                parts.append(DraftPart(q.text, canned[1], pick.title, url, pick.id, anchor, "canned", canned[0]))
                continue
            text = passage(chunk["text"], set(analyse(s.query).terms), pick.locale) if chunk else ""
            if chunk and len(text.split()) < DRAFT_WORDS:
                text = passage(chunk["text"], set(analyse(s.query).terms), pick.locale, words=DRAFT_WORDS)
            section = chunk.get("section", "") if chunk else pick.passages[0].section
            parts.append(
                DraftPart(q.text, text or pick.passages[0].text, pick.title, url, pick.id, anchor, section=section)
            )
        return parts

    def canned_for(
        self, s: Searched, locale: str, hit: ArticleHit | None, chunk: dict | None
    ) -> tuple[str, str] | None:
        """(id, text) of the canned reply in the ticket's language that fits the question, if one does: it is
        as close to the question as the best passage, within LEAD_MARGIN spreads (preferred: it is written
        for customers)."""
        if s.vectors is None or hit is None or chunk is None:
            return None
        hits = self.retriever.search(
            s.query, 3, visibilities=("public", "internal"), types=("template",), locales=[locale], vectors=s.vectors
        )
        chunk_score = next((sc for sc, p in hit.passages if p is chunk), None)
        h = next((h for h in hits if CANNED_TAG in (h.payload.get("tags") or [])), None)
        if h is None or h.dense_score is None or chunk_score is None:
            return None
        if h.dense_score < chunk_score - LEAD_MARGIN * s.sd:
            return None
        pieces = {c["chunk_index"]: c["text"] for c in h.chunks if c.get("chunk_index", -1) >= 0}
        if not pieces:
            return None
        # Generic replies ("we are looking into it") are close to many questions: the canned reply must also
        # hold the question's rare words at least as well as the passage it replaces, and say much of what that
        # passage says (a refund reply is no answer that a password section was picked for).
        cal = self.calibrations.get()
        if cal is not None:
            terms = set(analyse(s.query).terms)
            text = "\n".join(pieces.values())
            mine = cal.background.coverage(terms, matched_terms(text, terms, locale))
            theirs = cal.background.coverage(terms, matched_terms(chunk["text"], terms, hit.locale))
            said = set(analysis.terms(chunk["text"], hit.locale))
            if mine < theirs or cal.background.coverage(said, matched_terms(text, said, locale)) < CANNED_OVERLAP:
                return None
        return h.id, "\n\n".join(pieces[i] for i in sorted(pieces))
