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
from search.answer import LEAD_MARGIN, answering_chunks
from search.answered import ANSWERED_THRESHOLD, AnsweredModel, Evidence, evidence
from search.calibration import CalibrationCache
from search.layout import fix_layout
from search.query import analyse
from search.retrieval import ArticleHit, Retriever
from search.snippets import matched_terms, passage
from suggest import confidence
from suggest.draft import CANNED_TAG, DraftPart, Frames, compose
from suggest.feedback import FeedbackMemory
from suggest.matched import matched_words
from suggest.models import Passage, Question, SuggestedArticle, SuggestResponse, TicketIn
from suggest.routing import RoutingTable, predict
from suggest.ticket import Message, ticket_queries

PER_QUERY = 10
SHOWN = 5
LOCALES = ("en", "ru", "uk")
CANNED_OVERLAP = 1 / 3  # rarity-weighted share of the answering passage's terms a canned reply must repeat
DRAFT_WORDS = 120  # a whole short section (the steps, the condition) rather than the 70-word passage shown


@dataclass
class _Searched:
    query: str
    source: str
    weight: float
    vector: np.ndarray
    hits: list[ArticleHit]
    confidence: float
    vectors: QueryVectors | None = None  # dense and sparse, to search other article types without embedding again
    evidence: Evidence | None = None  # the answered model's features of this query's hits
    sd: float = 1.0  # the spread of the query's similarity to the KB (search/background.py)


def _quotable(suggestions: list[SuggestedArticle], locale: str | None) -> SuggestedArticle | None:
    """The best suggestion a draft may quote: public, with a passage, and in `locale` unless it is None (the
    draft is written in the ticket's language; an article in another one stays a suggestion for the agent)."""
    return next(
        (a for a in suggestions if a.visibility == "public" and a.passages and locale in (None, a.locale)), None
    )


class SuggestService:
    """Turns a ticket into ranked articles, passages, canned replies and a draft reply."""

    def __init__(
        self,
        retriever: Retriever,
        ticket_log=None,
        answered: AnsweredModel | None = None,
        base_url: str = "",
        calibrations: CalibrationCache | None = None,
        ticket_model: confidence.TicketModel | None = None,
        routing: RoutingTable | None = None,
    ):
        """`answered` replaces the KB's fitted decision (tests); `calibrations` shares the search service's;
        `ticket_model` replaces the shipped ticket-level confidence (benchmarks/draft_bench.py fits it)."""
        self.retriever = retriever
        self.store = retriever.store
        self.log = ticket_log
        self.fixed_model = answered
        self.ticket_model = ticket_model or confidence.shipped()
        self.routing = routing or RoutingTable(None)
        self.calibrations = calibrations or CalibrationCache(retriever.store, retriever.embedder)
        self.memory = FeedbackMemory(ticket_log)
        self.frames = Frames(retriever.store)
        self.base_url = base_url.rstrip("/")

    # -- searching ------------------------------------------------------------------------------

    def _confidence(
        self, text: str, vectors: QueryVectors, hits: list[ArticleHit]
    ) -> tuple[float, Evidence | None, float]:
        """The answered probability of one query's hits as the customer search would judge them, its evidence,
        and the query's similarity spread."""
        cal = self.calibrations.get()
        model = self.fixed_model or (cal.model if cal is not None else None)
        if cal is None or model is None or not hits or vectors.dense is None:
            return 0.0, None, 1.0
        dense = np.asarray(vectors.dense)
        e = evidence(analyse(text), dense, hits, cal.background)
        _, sd = cal.background.stats(dense, hits[0].locale)
        return model.probability(e), e, sd

    def _search_all(self, queries: list[tuple[str, str, float]], visibilities: tuple[str, ...]) -> list[_Searched]:
        """Search each (text, source, weight); the texts are embedded together in one batch."""
        texts = []
        for text, _, _ in queries:
            fix = fix_layout(text)
            texts.append(fix.text if fix else text)
        out = []
        for text, (_, source, weight), vectors in zip(texts, queries, self.retriever.vectors_many(texts)):
            hits = self.retriever.search(text, PER_QUERY, visibilities=visibilities, vectors=vectors)
            prob, e, sd = self._confidence(text, vectors, hits)
            out.append(
                _Searched(text, source, weight, np.asarray(vectors.dense, dtype=np.float32), hits, prob, vectors, e, sd)
            )
        return out

    def _scores(
        self, searched: list[_Searched]
    ) -> tuple[dict[str, float], dict[str, tuple[float, _Searched, ArticleHit]], dict[str, list[str]]]:
        """Each article's score over the queries (feedback applied), its strongest query, and feedback notes."""
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
        return scores, best, notes

    def _ranked(self, searched: list[_Searched], locale: str, limit: int) -> list[SuggestedArticle]:
        """The best `limit` articles over all the ticket's queries, one per translation group, the reader's
        language first; passages are cut only for those shown."""
        scores, best, notes = self._scores(searched)
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
        # The chunks that answer the query best first (search/answer.py: a section before the opening), then
        # those found by keywords alone.
        for chunk in answering_chunks(h, s.sd) + h.chunks:
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
        cal = self.calibrations.get()
        common = cal.background.common if cal is not None else None
        words = matched_words(h.title + "\n" + " ".join(p.text for p in passages), q_terms, lang, common)
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
        scored = self._scores(searched)
        agree = self._agreement(scored)
        asked = [s for s in searched if s.source.startswith("latest customer message")]
        questions = [self._question(s, locale, agree) for s in asked]
        canned = self._canned(searched[0], locale) if searched else []
        parts = self._draft_parts(list(zip(questions, asked)), searched, locale)
        draft = compose(
            self.frames.get(locale), locale, parts, customer_name=ticket.customer_name, agent_name=agent_name
        )
        used = list(dict.fromkeys(p.article_id for p in parts if p.article_id))
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
        route = self._route(scored) if searched else None
        return SuggestResponse(
            sid,
            locale,
            articles,
            questions,
            canned,
            draft,
            used,
            [p.as_api() for p in parts],
            route.as_api() if route else None,
        )

    def _route(self, scored, limit: int = SHOWN):
        """The predicted category and skill group, voted by the ticket's best articles (one per translation group)."""
        scores, best, _ = scored
        seen: set[str] = set()
        votes = []
        for aid in sorted(scores, key=lambda a: -scores[a]):
            h = best[aid][2]
            group = h.payload.get("group_id") or aid
            if group not in seen:
                seen.add(group)
                votes.append((h.category, scores[aid]))
            if len(votes) == limit:
                break
        return predict(votes, self.routing.groups())

    def _agreement(self, scored):
        """article id → its translation group's share of the ticket's score against the ticket's best group."""
        scores, best, _ = scored
        group_of = {aid: best[aid][2].payload.get("group_id") or aid for aid in scores}
        groups: dict[str, float] = {}
        for aid, score in scores.items():
            groups[group_of[aid]] = max(groups.get(group_of[aid], 0.0), score)
        top = max(groups.values(), default=0.0)

        def agree(aid: str, group: str | None) -> float:
            return groups.get(group or aid, 0.0) / top if top > 0 else 0.0

        return agree

    def _draft_locale(self, locale: str) -> str | None:
        """The language the draft may quote: the ticket's when the KB has articles in it, else any."""
        cal = self.calibrations.get()
        return locale if cal is None or locale in cal.background.languages else None

    def _question(self, s: _Searched, locale: str, agree) -> Question:
        """One question of the latest message, its best articles, and how sure the best public one answers it:
        the ticket-level model when it is there, else the customer search's answered probability."""
        top = self._ranked([s], locale, 3)
        pick = _quotable(top, self._draft_locale(locale))
        conf, facts = s.confidence, None
        if pick is not None and s.evidence is not None:
            hit = next((h for h in s.hits if h.id == pick.id), None)
            share = agree(pick.id, (hit.payload.get("group_id") if hit else None) or pick.id)
            facts = {**s.evidence.as_dict(), "agree": round(share, 4), "article_id": pick.id}
            if self.ticket_model is not None:
                conf = self.ticket_model.probability(s.evidence, share)
        return Question(s.query, s.source, s.weight, round(conf, 4), top, facts)

    def _canned(self, lead: _Searched, locale: str) -> list[SuggestedArticle]:
        query = lead.query
        hits = self.retriever.search(
            query, 6, visibilities=("public", "internal"), types=("template",), locales=[locale], vectors=lead.vectors
        )
        s = _Searched(query, lead.source, 1.0, lead.vector, [], 0.0, sd=lead.sd)
        out = []
        for h in hits:
            # Fused scores are relative to the best candidate: keep the canned replies close to it.
            if CANNED_TAG in (h.payload.get("tags") or []) and h.score >= 0.6 and lead.vectors is not None:
                s.confidence = self._confidence(query, lead.vectors, [h])[0]
                out.append(self._suggestion(h, s, h.score, None))
        return out[:2]

    @staticmethod
    def _answering_chunk(aid: str, s: _Searched, searched: list[_Searched]) -> dict | None:
        """The chunk of article `aid` that answers question `s` in the context of the whole ticket.

        A question alone can be vague ("How can I get back into my account?"); the subject and the other
        questions say what it is about. Each chunk scores the weighted sum of its cosines to all the ticket's
        queries, the question itself counted with the highest weight; then search.answer.answering_chunks'
        rule applies: a section goes before the opening unless the opening wins by more than LEAD_MARGIN spreads.
        """
        top_weight = max(t.weight for t in searched)
        scores: dict[tuple, float] = {}
        payloads: dict[tuple, dict] = {}
        total = 0.0
        for t in [s] + [t for t in searched if t is not s]:
            weight = top_weight if t is s else t.weight
            total += weight
            hit = next((h for h in t.hits if h.id == aid), None)
            for p in answering_chunks(hit, t.sd) if hit is not None else []:
                key = (p.get("anchor", ""), p.get("chunk_index"))
                payloads.setdefault(key, p)
            for sc, p in hit.passages if hit is not None else []:
                key = (p.get("anchor", ""), p.get("chunk_index"))
                if key in payloads:
                    scores[key] = scores.get(key, 0.0) + weight * sc
        if not scores:
            return None
        ranked = sorted(scores, key=lambda k: -scores[k])
        best = ranked[0]
        if not payloads[best].get("section"):
            section = next((k for k in ranked if payloads[k].get("section")), None)
            if section is not None and scores[section] >= scores[best] - LEAD_MARGIN * s.sd * total:
                best = section
        return payloads[best]

    def _draft_parts(
        self, asked: list[tuple[Question, _Searched]], searched: list[_Searched], locale: str
    ) -> list[DraftPart]:
        """One part per question: the canned reply that fits it, else the passage of the best public article
        that answers it, with its link; a placeholder for the agent when no answer is confident enough.

        Only public articles are quoted or linked (canned replies are written for customers): internal ones
        are for the agent's eyes.
        """
        parts: list[DraftPart] = []
        done: set[tuple[str, str]] = set()
        for q, s in asked:
            pick = _quotable(q.suggestions, self._draft_locale(locale))
            if pick is None or q.confidence < ANSWERED_THRESHOLD:
                parts.append(DraftPart(q.text, "", "", "", kind="placeholder"))
                continue
            hit = next((h for h in s.hits if h.id == pick.id), None)
            chunk = self._answering_chunk(pick.id, s, searched) if hit is not None else None
            anchor = chunk.get("anchor", "") if chunk else pick.passages[0].anchor
            if (pick.id, anchor) in done:
                continue  # an earlier question of the ticket is already answered by the same section
            done.add((pick.id, anchor))
            url = self.base_url + f"/articles/{pick.id}" + (f"#{anchor}" if anchor else "")
            canned = self._canned_for(s, locale, hit, chunk)
            if canned is not None:
                parts.append(DraftPart(q.text, canned[1], pick.title, url, pick.id, anchor, "canned", canned[0]))
                continue
            text = passage(chunk["text"], set(analyse(s.query).terms), pick.locale) if chunk else ""
            if chunk and len(text.split()) < DRAFT_WORDS:
                text = passage(chunk["text"], set(analyse(s.query).terms), pick.locale, words=DRAFT_WORDS)
            parts.append(DraftPart(q.text, text or pick.passages[0].text, pick.title, url, pick.id, anchor))
        return parts

    def _canned_for(
        self, s: _Searched, locale: str, hit: ArticleHit | None, chunk: dict | None
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
