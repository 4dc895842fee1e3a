"""Suggested answers for a ticket: articles with their passages, a confidence, why, and a draft reply.

Every query built from the ticket (suggest.ticket) is searched over public and internal articles.
An article's score is the sum over queries of weight x confidence x fused score, so what the latest
customer message asks leads and noise (small talk, a quoted old reply) carries little. Agents' accept and
reject feedback on earlier, similar tickets (cosine of the query embeddings) then scales the scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb import analysis
from kb.store import QueryVectors
from search.answered import ANSWERED_THRESHOLD, AnsweredModel, evidence
from search.calibration import CalibrationCache
from search.layout import fix_layout
from search.query import analyse
from search.retrieval import ArticleHit, Retriever
from search.snippets import matched_terms, passage
from suggest.draft import CANNED_TAG, DraftPart, Frames, compose
from suggest.feedback import FeedbackMemory
from suggest.models import Passage, Question, SuggestedArticle, SuggestResponse, TicketIn
from suggest.ticket import Message, ticket_queries

PER_QUERY = 10
SHOWN = 5
LOCALES = ("en", "ru", "uk")


@dataclass
class _Searched:
    query: str
    source: str
    weight: float
    vector: np.ndarray
    hits: list[ArticleHit]
    confidence: float
    vectors: QueryVectors | None = None  # dense and sparse, to search other article types without embedding again


class SuggestService:
    """Turns a ticket into ranked articles, passages, canned replies and a draft reply."""

    def __init__(
        self,
        retriever: Retriever,
        ticket_log=None,
        answered: AnsweredModel | None = None,
        base_url: str = "",
        calibrations: CalibrationCache | None = None,
    ):
        """`answered` replaces the KB's fitted decision (tests); `calibrations` shares the search service's."""
        self.retriever = retriever
        self.store = retriever.store
        self.log = ticket_log
        self.fixed_model = answered
        self.calibrations = calibrations or CalibrationCache(retriever.store, retriever.embedder)
        self.memory = FeedbackMemory(ticket_log)
        self.frames = Frames(retriever.store)
        self.base_url = base_url.rstrip("/")

    # -- searching ------------------------------------------------------------------------------

    def _confidence(self, text: str, vectors: QueryVectors, hits: list[ArticleHit]) -> float:
        """The answered probability of one query's hits, as the customer search would judge them."""
        cal = self.calibrations.get()
        model = self.fixed_model or (cal.model if cal is not None else None)
        if cal is None or model is None or not hits or vectors.dense is None:
            return 0.0
        return model.probability(evidence(analyse(text), np.asarray(vectors.dense), hits, cal.background))

    def _search_all(self, queries: list[tuple[str, str, float]], visibilities: tuple[str, ...]) -> list[_Searched]:
        """Search each (text, source, weight); the texts are embedded together in one batch."""
        texts = []
        for text, _, _ in queries:
            fix = fix_layout(text)
            texts.append(fix.text if fix else text)
        out = []
        for text, (_, source, weight), vectors in zip(texts, queries, self.retriever.vectors_many(texts)):
            hits = self.retriever.search(text, PER_QUERY, visibilities=visibilities, vectors=vectors)
            prob = self._confidence(text, vectors, hits)
            out.append(
                _Searched(text, source, weight, np.asarray(vectors.dense, dtype=np.float32), hits, prob, vectors)
            )
        return out

    def _ranked(self, searched: list[_Searched], locale: str, limit: int) -> list[SuggestedArticle]:
        """The best `limit` articles over all the ticket's queries, one per translation group, the reader's
        language first; passages are cut only for those shown."""
        scores: dict[str, float] = {}
        best: dict[str, tuple[float, _Searched, ArticleHit]] = {}
        for s in searched:
            for h in s.hits:
                part = s.weight * max(s.confidence, 0.05) * h.score
                scores[h.id] = scores.get(h.id, 0.0) + part
                if h.id not in best or part > best[h.id][0]:
                    best[h.id] = (part, s, h)
        notes: dict[str, list[str]] = {}
        lead = max(searched, key=lambda s: s.weight * max(s.confidence, 0.05))
        for aid, (mult, why) in self.memory.effects(lead.vector).items():
            if aid in scores:
                scores[aid] *= mult
                notes[aid] = why
        groups: dict[str, str] = {}
        for aid in sorted(scores, key=lambda a: -scores[a]):
            h = best[aid][2]
            g = h.payload.get("group_id") or aid
            cur = groups.get(g)
            if cur is None:
                groups[g] = aid
            elif h.locale == locale and best[cur][2].locale != locale and scores[aid] >= 0.5 * scores[cur]:
                scores[aid] = max(scores[aid], scores[cur])
                groups[g] = aid
        ranked = sorted(groups.values(), key=lambda a: -scores[a])[:limit]
        total = sum(s.weight for s in searched) or 1.0
        out = []
        for aid in ranked:
            _, s, h = best[aid]
            out.append(self._suggestion(h, s, scores[aid] / total, notes.get(aid)))
        return out

    def _suggestion(self, h: ArticleHit, s: _Searched, score: float, notes: list[str] | None) -> SuggestedArticle:
        lang = h.locale or None
        q_terms = analysis.highlight_terms(s.query, None)
        passages, seen = [], set()
        for chunk in h.chunks:
            key = chunk.get("anchor", ""), chunk.get("chunk_index")
            if chunk.get("chunk_index", 0) < 0 or key in seen or not chunk.get("text"):
                continue
            seen.add(key)
            anchor = chunk.get("anchor", "")
            passages.append(
                Passage(
                    passage(chunk["text"], q_terms, lang),
                    chunk.get("section", ""),
                    anchor,
                    f"/articles/{h.id}" + (f"#{anchor}" if anchor else ""),
                )
            )
            if len(passages) == 2:
                break
        words = sorted(matched_terms(h.title + "\n" + " ".join(p.text for p in passages), q_terms, lang))
        return SuggestedArticle(
            id=h.id,
            title=h.title,
            url=h.url,
            locale=h.locale,
            visibility=h.visibility,
            type=h.payload.get("type", "article"),
            score=round(score, 4),
            confidence=round(s.confidence, 4),
            passages=passages,
            reason={"source": s.source, "query": s.query, "matched": words},
            feedback=", ".join(notes) if notes else None,
        )

    # -- the whole ticket -----------------------------------------------------------------------

    def suggest(
        self, ticket: TicketIn, *, agent_name: str | None = None, log: bool = True, limit: int = SHOWN
    ) -> SuggestResponse:
        messages = [Message(m.role, m.text, m.time) for m in ticket.messages]
        queries = ticket_queries(ticket.subject, messages)
        customer = [m.text for m in ticket.messages if m.role == "customer"]
        locale = (
            ticket.locale
            if ticket.locale in LOCALES
            else analysis.detect_language(customer[-1] if customer else ticket.subject)
        )
        visibilities = ("public", "internal")
        searched = self._search_all([(q.text, q.source, q.weight) for q in queries], visibilities)
        articles = self._ranked(searched, locale, limit) if searched else []
        questions = []
        for s in searched:
            if s.source.startswith("latest customer message"):
                top = self._ranked([s], locale, 3)
                questions.append(Question(s.query, s.source, s.weight, round(s.confidence, 4), top))
        canned = self._canned(searched[0], locale) if searched else []
        draft, used = self._draft(questions, articles, locale, ticket.customer_name, agent_name)
        confidence = max((q.confidence for q in questions), default=0.0)
        sid = ""
        if log and self.log is not None and searched:
            lead = max(searched, key=lambda s: s.weight * max(s.confidence, 0.05))
            sid = self.log.log_suggestion(
                query=lead.query,
                vector=lead.vector,
                articles=[a.id for a in articles],
                confidence=confidence,
                ticket_id=ticket.id,
                user=agent_name,
                locale=locale,
            )
        return SuggestResponse(sid, locale, articles, questions, canned, draft, used)

    def _canned(self, lead: _Searched, locale: str) -> list[SuggestedArticle]:
        query = lead.query
        hits = self.retriever.search(
            query, 6, visibilities=("public", "internal"), types=("template",), locales=[locale], vectors=lead.vectors
        )
        s = _Searched(query, lead.source, 1.0, lead.vector, [], 0.0)
        out = []
        for h in hits:
            # Fused scores are relative to the best candidate: keep the canned replies close to it.
            if CANNED_TAG in (h.payload.get("tags") or []) and h.score >= 0.6:
                s.confidence = self._confidence(query, lead.vectors, [h])
                out.append(self._suggestion(h, s, h.score, None))
        return out[:2]

    def _draft(
        self,
        questions: list[Question],
        articles: list[SuggestedArticle],
        locale: str,
        customer_name: str | None,
        agent_name: str | None,
    ) -> tuple[str, list[str]]:
        """Only public articles go into a reply to a customer: internal ones are for the agent's eyes."""
        parts, used = [], []
        for q in questions:
            if q.confidence < ANSWERED_THRESHOLD:
                continue
            pick = next(
                (s for s in q.suggestions if s.visibility == "public" and s.passages and s.id not in used), None
            )
            if pick is None:
                continue
            used.append(pick.id)
            parts.append(DraftPart(q.text, pick.passages[0].text, pick.title, self.base_url + pick.passages[0].url))
        if not parts:
            pick = next((a for a in articles if a.visibility == "public" and a.passages), None)
            if pick is not None and pick.confidence >= ANSWERED_THRESHOLD:
                used.append(pick.id)
                parts.append(
                    DraftPart(
                        pick.reason["query"], pick.passages[0].text, pick.title, self.base_url + pick.passages[0].url
                    )
                )
        return compose(self.frames.get(locale), locale, parts, customer_name=customer_name, agent_name=agent_name), used

    def deflect(
        self, subject: str, description: str, locale: str | None, limit: int = 3
    ) -> tuple[list[SuggestedArticle], bool]:
        """Public articles for what a customer is writing to support, and whether they likely answer it."""
        queries = ticket_queries(subject, [Message("customer", description)])
        if not queries:
            return [], False
        locale = locale if locale in LOCALES else analysis.detect_language(description or subject)
        searched = self._search_all([(q.text, q.source, q.weight) for q in queries], ("public",))
        shown = self._ranked(searched, locale, limit)
        return shown, any(s.confidence >= ANSWERED_THRESHOLD for s in searched)

    # -- feedback -------------------------------------------------------------------------------

    def feedback(
        self,
        suggestion_id: str,
        article_id: str,
        verdict: str,
        reason: str | None = None,
        user: str | None = None,
        query: str | None = None,
    ) -> None:
        """Record an agent's verdict; later similar tickets rank that article up (accepted) or down (rejected)."""
        known = self.log.suggestion_query(suggestion_id) if self.log is not None and suggestion_id else None
        if known is None:
            if not query:
                raise LookupError("unknown suggestion_id: send the query the suggestion was for")
            vector = np.asarray(self.retriever.vectors(query, mode="dense").dense, dtype=np.float32)
        else:
            query, vector = known
        self.memory.record(vector, article_id, verdict, reason, query, suggestion_id=suggestion_id or None, user=user)
