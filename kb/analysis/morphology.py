"""Dictionaries and stemmers: pymorphy3 for ru and uk, Snowball for en, and which reading of a word to index."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_morph: dict[str, object] = {}
_stemmers = threading.local()


def morph_for(lang: str):
    """The pymorphy3 analyzer of ru or uk, built once per process (a web server may ask from several threads)."""
    m = _morph.get(lang)
    if m is None:
        with _lock:
            m = _morph.get(lang)
            if m is None:
                import pymorphy3

                m = pymorphy3.MorphAnalyzer(lang=lang)
                _morph[lang] = m
    return m


def stem_en(word: str) -> str:
    """The English Snowball stem of word."""
    # PyStemmer objects are documented as not thread-safe: one per thread.
    stemmer = getattr(_stemmers, "en", None)
    if stemmer is None:
        import Stemmer

        stemmer = _stemmers.en = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


# Readings that are rarely meant in support text: proper names, abbreviations, archaic/slang/alternative spellings.
_RARE_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Abbr", "Infr", "Slng", "Arch", "Dist", "alt", "Orgn", "Geox"})


def pick_parse(parses, word: str, lang: str):
    """The reading whose lemma to index."""
    if lang == "ru" or len(parses) == 1:
        return parses[0]  # pymorphy3 orders ru readings by corpus probability
    # The uk dictionary has no probabilities and lists readings in arbitrary order ("рік" → "ріка" first,
    # "поле" → the name "Пол"), so different forms of one word would get different lemmas. Take the lemma
    # most readings agree on, names discounted, and prefer the word itself when it is a dictionary form.
    # Over all forms of 70 common support nouns/verbs this maps 94.6% of forms to their own lemma (first
    # reading: 94.4%; ru with its probabilities: 93.7%) and fixes forms people type most: рік, поле, меню.
    score: dict[str, float] = {}
    for p in parses:
        rare = not _RARE_GRAMMEMES.isdisjoint(p.tag.grammemes)
        gain = 0.01 if rare else (2.5 if p.normal_form == word else 1.0)
        score[p.normal_form] = score.get(p.normal_form, 0.0) + gain
    best = max(score.values())
    return next(p for p in parses if score[p.normal_form] == best)
