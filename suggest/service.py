"""Suggested answers for a ticket: articles with their passages, a confidence, why, and a draft reply.

Every query built from the ticket (suggest.ticket) is searched over public and internal articles.
An article's score is the sum over queries of weight x confidence x fused score, so what the latest
customer message asks leads and noise (small talk, a quoted old reply) carries little. Agents' accept and
reject feedback on earlier, similar tickets (cosine of the query embeddings) then scales the scores.
"""

from __future__ import annotations

import numpy as np

from kb import analysis
from kb.store import QueryVectors
from search.answer import answering_chunks
from search.answered import ANSWERED_THRESHOLD, AnsweredModel, Evidence, evidence
from search.calibration import CalibrationCache
from search.layout import fix_layout
from search.query import analyse
from search.retrieval import ArticleHit, Retriever
from search.snippets import passage
from suggest import confidence
from suggest.draft import Drafter
from suggest.feedback import FeedbackMemory
from suggest.matched import matched_words
from suggest.models import Passage, Question, SuggestedArticle, SuggestResponse, TicketIn
from suggest.reply import CANNED_TAG, DraftPart, Frames, compose
from suggest.routing import RoutingTable, predict
from suggest.searched import Searched, quotable
from suggest.ticket import Message, asked_alone, ticket_queries

PER_QUERY = 10
SHOWN = 5
LOCALES = ("en", "ru", "uk")
ALONE_SOURCE = ", without its context"  # a question's asking sentences searched alone: its source + this
ALONE_KEYS = ("z_top", "z_gap", "coverage", "cross_language")  # the evidence kept of a question's asking sentences


def _lead_with_quoted(articles: list[SuggestedArticle], parts: list[DraftPart]) -> None:
    """Each quoted article's card shows the section the draft quotes first: its cards rank sections for the query
    that found the article best (often the whole message), the draft for each question, and an agent reading a
    card beside the draft should see the same passage."""
    for part in parts:
        card = next((a for a in articles if part.kind == "article" and a.id == part.article_id), None)
        if card is None:
            continue
        same = next((p for p in card.passages if p.anchor == part.anchor), None)
        if same is None:
            url = f"/articles/{card.id}" + (f"#{part.anchor}" if part.anchor else "")
            same = Passage(part.passage, part.section, part.anchor, url)
        card.passages = [same] + [p for p in card.passages if p is not same][:1]


def _lend_confidence(questions: list[Question], others: list[Question]) -> None:
    """Raise a question's confidence to that of another query of the ticket (the subject, another question,
    an earlier message, the question's own sentences without their context when no fitted combination weighs
    them: SuggestService._with_alone) whose best public article is the same one.

    A question written as a paragraph ("I dont get any push notifcations on my Xiaomi ... I already
    reinstalled the app") scores lower z-scores than the short searches the model is calibrated on, while the
    subject ("No notifications on my phone") names the same article with confidence: two parts of the ticket
    found it independently. Small talk that rides along as context ("Thanks for the quick help last time!")
    blurs a question the same way, so its asking sentences are searched alone too. Each probability is the
    calibrated one of its own query; the higher is kept.
    """
    for q in questions:
        if q.evidence is None:
            continue
        aid = q.evidence["article_id"]
        lenders = [o for o in questions + others if o is not q and o.evidence and o.evidence["article_id"] == aid]
        best = max(lenders, key=lambda o: o.confidence, default=None)
        if best is not None and best.confidence > q.confidence:
            q.confidence = best.confidence
            q.evidence["confidence_from"] = best.source


def _alone_across_languages(
    questions: list[Question],
    asked: list[Searched],
    alone: list[tuple[Question, Searched]],
    model: confidence.TicketModel | None,
) -> list[Searched]:
    """Replace, in place, each question whose article is in another language by its asking sentences searched
    alone when these find another article; returns the searches the draft then quotes from.

    Across languages the statements that ride along (small talk above all) blur the whole question's vector
    most: where the two searches of a noisy ticket's question disagree, the asking sentences alone are right
    far more often across languages, and not within one (docs/agent-draft.md), so there the whole question
    stays. That the two disagree is itself a doubt: the model's fitted `cross_other` combination weighs the
    whole question's probability (for its own article) with that of the asking sentences alone.
    """
    by_source = {q.source: (q, s) for q, s in alone}
    out = []
    for i, (q, s) in enumerate(zip(questions, asked)):
        a, a_searched = by_source.get(q.source + ALONE_SOURCE, (None, None))
        e, ae = q.evidence, a.evidence if a is not None else None
        if (
            a is None
            or a_searched is None
            or e is None
            or ae is None
            or not (e["cross_language"] and ae["cross_language"] and ae["article_id"] != e["article_id"])
        ):
            out.append(s)
            continue
        ae["whole"] = {k: e[k] for k in (*ALONE_KEYS, "agree", "article_id")}
        combined = model.with_other(q.confidence, a.confidence) if model is not None else None
        if combined is not None:
            a.confidence = round(combined, 4)
            ae["confidence_from"] = q.source + " and " + a.source + " (combined)"
        questions[i] = a
        out.append(a_searched)
    return out


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
        self.calibrations = calibrations or CalibrationCache(
            retriever.store, retriever.embedder, reranker=retriever.reranker
        )
        self.memory = FeedbackMemory(ticket_log)
        self.frames = Frames(retriever.store)
        self.base_url = base_url.rstrip("/")
        self.drafter = Drafter(retriever, self.calibrations, self.base_url)

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

    def _search_all(self, queries: list[tuple[str, str, float]], visibilities: tuple[str, ...]) -> list[Searched]:
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
                Searched(text, source, weight, np.asarray(vectors.dense, dtype=np.float32), hits, prob, vectors, e, sd)
            )
        return out

    def _scores(
        self, searched: list[Searched]
    ) -> tuple[dict[str, float], dict[str, tuple[float, Searched, ArticleHit]], dict[str, list[str]]]:
        """Each article's score over the queries (feedback applied), its strongest query, and feedback notes."""
        scores: dict[str, float] = {}
        best: dict[str, tuple[float, Searched, ArticleHit]] = {}
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

    def _ranked(self, searched: list[Searched], locale: str, limit: int) -> list[SuggestedArticle]:
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

    def _suggestion(self, h: ArticleHit, s: Searched, score: float, notes: list[str] | None) -> SuggestedArticle:
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
        bare = [
            (bare_text, q.source + ALONE_SOURCE, 0.0)
            for q in queries
            if q.source.startswith("latest customer message") and (bare_text := asked_alone(q.text)) not in ("", q.text)
        ]
        everything = self._search_all([(q.text, q.source, q.weight) for q in queries] + bare, visibilities)
        searched, alone_searched = everything[: len(queries)], everything[len(queries) :]
        articles = self._ranked(searched, locale, limit) if searched else []
        scored = self._scores(searched)
        agree = self._agreement(scored)
        asked = [s for s in searched if s.source.startswith("latest customer message")]
        questions = [self._question(s, locale, agree) for s in asked]
        lenders = [self._question(s, locale, agree) for s in searched if s not in asked]
        alone = [self._question(s, locale, agree) for s in alone_searched]
        lenders += self._with_alone(questions, alone)
        asked = _alone_across_languages(questions, asked, list(zip(alone, alone_searched)), self.ticket_model)
        _lend_confidence(questions, lenders)
        canned = self._canned(searched[0], locale) if searched else []
        parts = self.drafter.parts(list(zip(questions, asked)), searched, locale)
        _lead_with_quoted(articles, parts)
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

    def _with_alone(self, questions: list[Question], alone: list[Question]) -> list[Question]:
        """Combine each question's confidence with that of its asking sentences searched alone, when both
        found the same article (suggest/confidence.py's fitted `alone`); returns the searches that lend as
        any other query does instead: those of a relation the model has no combination for, within the
        question's language only (the higher kept: across languages the same search judged twice quoted
        many wrong articles, docs/agent-draft.md)."""
        by_source = {a.source: a for a in alone}
        rest = []
        for q in questions:
            a = by_source.pop(q.source + ALONE_SOURCE, None)
            if a is None or a.evidence is None:
                continue
            combined = None
            if q.evidence is not None:
                q.evidence["alone"] = {k: a.evidence[k] for k in (*ALONE_KEYS, "agree", "article_id")}
                if a.evidence["article_id"] == q.evidence["article_id"] and self.ticket_model is not None:
                    cross = q.evidence["cross_language"]
                    combined = self.ticket_model.with_alone(cross, q.confidence, a.confidence)
            if combined is not None and q.evidence is not None:
                q.confidence = round(combined, 4)
                q.evidence["confidence_from"] = a.source + " (combined)"
            elif not a.evidence["cross_language"]:
                rest.append(a)
        return rest + [a for a in by_source.values() if a.evidence and not a.evidence["cross_language"]]

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

    def _question(self, s: Searched, locale: str, agree) -> Question:
        """One question of the latest message, its best articles, and how sure the best public one answers it:
        the ticket-level model when it is there, else the customer search's answered probability."""
        top = self._ranked([s], locale, 3)
        pick = quotable(top, self.drafter.draft_locale(locale))
        conf, facts = s.confidence, None
        if pick is not None and s.evidence is not None:
            hit = next((h for h in s.hits if h.id == pick.id), None)
            share = agree(pick.id, (hit.payload.get("group_id") if hit else None) or pick.id)
            e = self._evidence_for(s, hit) or s.evidence
            facts = {**e.as_dict(), "agree": round(share, 4), "article_id": pick.id}
            if self.ticket_model is not None:
                conf = self.ticket_model.probability(e, share)
        return Question(s.query, s.source, s.weight, round(conf, 4), top, facts)

    def _evidence_for(self, s: Searched, hit: ArticleHit | None) -> Evidence | None:
        """The answered features of the article the draft would quote, not of the query's top hit: when that is
        another public article (in another language, say), its cosine and its language's model would
        vouch for a quote it is not ("Я владелец пространства, но ухожу в декрет." borrowed a Ukrainian
        article's cross-language confidence for a Russian one that does not answer it)."""
        cal = self.calibrations.get()
        if hit is None or cal is None or s.vectors is None or s.vectors.dense is None:
            return s.evidence
        top = s.hits[0]
        if top.visibility != "public" or (top.payload.get("group_id") or top.id) == (
            hit.payload.get("group_id") or hit.id
        ):
            # The article itself or a translation (the same content), or an internal article for agents, which
            # the draft never quotes and which often holds the same answer from the agent's side.
            return s.evidence
        ranked = [hit] + [h for h in s.hits if h is not hit]
        dense = np.asarray(s.vectors.dense)
        return evidence(analyse(s.query), dense, ranked, cal.background) or s.evidence

    def _canned(self, lead: Searched, locale: str) -> list[SuggestedArticle]:
        query = lead.query
        hits = self.retriever.search(
            query, 6, visibilities=("public", "internal"), types=("template",), locales=[locale], vectors=lead.vectors
        )
        s = Searched(query, lead.source, 1.0, lead.vector, [], 0.0, sd=lead.sd)
        out = []
        for h in hits:
            # Fused scores are relative to the best candidate: keep the canned replies close to it.
            if CANNED_TAG in (h.payload.get("tags") or []) and h.score >= 0.6 and lead.vectors is not None:
                s.confidence = self._confidence(query, lead.vectors, [h])[0]
                out.append(self._suggestion(h, s, h.score, None))
        return out[:2]

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
