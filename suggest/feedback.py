"""Agents' accept/reject feedback on earlier tickets, turned into score multipliers for similar new ones."""

from __future__ import annotations

import threading

import numpy as np

# Cosine of two query embeddings above which earlier feedback counts for a new ticket. e5 puts unrelated
# support questions at 0.75-0.85 and paraphrases of one need above ~0.9.
SIMILAR = 0.9
# Score multipliers from one piece of feedback on a similar ticket (scaled by how similar it was).
FEEDBACK_EFFECT = {"accepted": 1.5, "not_related": 0.2, "does_not_answer": 0.5, "outdated": 0.4}


class FeedbackMemory:
    """Agents' verdicts with the query embeddings they were given for.

    The log (shared by every web process) is the truth; each process keeps a copy of the vectors and
    reads only the rows added since it last looked, so feedback given anywhere counts everywhere at once.
    """

    def __init__(self, log=None):
        self.log = log
        self._lock = threading.Lock()
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._items: list[tuple[str, str]] = []  # (article_id, effect key)
        self._last_id = 0

    def _add(self, vector: np.ndarray, article_id: str, effect: str) -> None:
        v = np.asarray(vector, dtype=np.float32)[None, :]
        v = v / (np.linalg.norm(v) or 1.0)
        self._vectors = v if not self._items else np.vstack([self._vectors, v])
        self._items.append((article_id, effect))

    def _refresh(self) -> None:
        if self.log is None:
            return
        for f in self.log.feedback(after_id=self._last_id):
            self._last_id = max(self._last_id, f.id)
            effect = f.reason if f.verdict == "rejected" else "accepted"
            if f.vector is not None and effect in FEEDBACK_EFFECT:  # a row another version wrote counts for nothing
                self._add(f.vector, f.article_id, effect)

    def record(
        self,
        vector: np.ndarray,
        article_id: str,
        verdict: str,
        reason: str | None,
        query: str,
        suggestion_id: str | None = None,
        user: str | None = None,
    ) -> None:
        effect = "accepted" if verdict == "accepted" else reason or ""
        if (
            effect not in FEEDBACK_EFFECT
        ):  # the API checks this; a caller in code gets told too, before anything is kept
            raise ValueError(
                f"reason: a rejection needs one of {', '.join(k for k in FEEDBACK_EFFECT if k != 'accepted')}"
            )
        if self.log is not None:
            self.log.log_feedback(
                article_id=article_id,
                verdict=verdict,
                reason=reason,
                query=query,
                vector=vector,
                suggestion_id=suggestion_id,
                user=user,
            )
        else:
            with self._lock:
                self._add(vector, article_id, effect)

    def effects(self, vector: np.ndarray) -> dict[str, tuple[float, list[str]]]:
        """Per article: the score multiplier from feedback on similar queries, and the verdicts behind it."""
        with self._lock:
            self._refresh()
            if not self._items:
                return {}
            vecs, items = self._vectors, list(self._items)
        q = np.asarray(vector, dtype=np.float32)
        sims = vecs @ (q / (np.linalg.norm(q) or 1.0))
        out: dict[str, tuple[float, list[str]]] = {}
        for i in np.flatnonzero(sims >= SIMILAR):
            aid, effect = items[i]
            strength = (sims[i] - SIMILAR) / (1 - SIMILAR) * 0.5 + 0.5  # 0.5 at the threshold, 1 for the same query
            factor = 1 + (FEEDBACK_EFFECT[effect] - 1) * strength
            mult, why = out.get(aid, (1.0, []))
            out[aid] = (mult * factor, why + [effect])
        return out
