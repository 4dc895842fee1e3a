"""Typo correction against the help center's own words (SymSpell), for "showing results for …"."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from symspellpy import SymSpell, Verbosity

from kb import analysis
from kb.store import SearchFilter, VectorStore

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
MIN_LEN = 4  # shorter words have too many neighbours one edit away to guess safely


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The spell checker's English word list (160k words), loaded once, on first use."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def _real_word(word: str) -> bool:
    """A word of the language (not a typo) even if no article uses it: "crossed" must not become "closed"."""
    if re.search("[а-яіїєґ]", word):
        return any(analysis.morph_for(lang).parse(word)[0].is_known for lang in ("ru", "uk"))
    return word in english_words()


class SpellCorrector:
    """Suggests, for a word that is neither in the knowledge base nor in a dictionary, its nearest KB word."""

    def __init__(self, vocabulary: Counter[str]):
        self.vocabulary = vocabulary
        self._sym = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in vocabulary.items():
            if len(word) >= MIN_LEN - 1:
                self._sym.create_dictionary_entry(word, count)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> SpellCorrector:
        return cls(Counter(w for t in texts for w in _WORD.findall(analysis.normalize(t))))

    @classmethod
    def from_store(cls, store: VectorStore) -> SpellCorrector:
        """Vocabulary of public articles only, so a suggestion never reveals a word of an internal article."""
        recs = store.records(SearchFilter(visibilities=["public"]), ["title", "text"], limit=10_000_000)
        return cls.from_texts(r.payload.get("title", "") + "\n" + r.payload.get("text", "") for r in recs)

    def correct(self, query: str) -> str | None:
        """The query with unknown words replaced by their closest known word, or None when nothing changed."""
        text = analysis.normalize(query)
        changed = False

        def fix(m: re.Match) -> str:
            nonlocal changed
            word = m.group()
            if len(word) < MIN_LEN or word in self.vocabulary or _real_word(word):
                return word
            found = self._sym.lookup(word, Verbosity.CLOSEST, max_edit_distance=1 if len(word) <= 6 else 2)
            if not found:
                return word
            best = max(found, key=lambda s: (-s.distance, s.count))
            changed = changed or best.term != word
            return best.term

        fixed = _WORD.sub(fix, text)
        return fixed if changed else None
