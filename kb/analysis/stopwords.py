"""Which words carry no meaning in a support question: the stop words of en, ru and uk (policy: docs/stop-words.md)."""

from __future__ import annotations

from kb.analysis.morphology import morph_for
from kb.analysis.normal_form import normalize

EN_STOP = frozenset(
    """
    a an the it its this that these those
    of at by for with about against between into through during to from in on
    and or but if because as until while so than then
    am is are was were be been being
    """.split()
)
# Bases of n't contractions whose spelling differs from the verb.
EN_NT_BASE = {"ca": "can", "wo": "will", "sha": "shall", "ai": "be"}
EN_CLITICS = ("'s", "'re", "'ve", "'ll", "'d", "'m")

KEEP = {
    "ru": frozenset({"не", "ни", "нет", "ничего", "никогда", "без"}),
    "uk": frozenset({"не", "ні", "немає", "нічого", "ніколи", "без"}),
}
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ"})
_FUNCTION_GRAMMEMES = frozenset({"Apro", "Ques"})
AUXILIARY = frozenset({"быть", "бути"})
_stop_data: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def is_function(parse) -> bool:
    tag = parse.tag
    return tag.POS in _FUNCTION_POS or not _FUNCTION_GRAMMEMES.isdisjoint(tag.grammemes)


def stop_sets(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """Listed function words of lang and their lemmas."""
    data = _stop_data.get(lang)
    if data is None:
        from stop_words import get_stop_words

        morph = morph_for(lang)
        words: set[str] = set()
        lemmas: set[str] = set()
        for w in get_stop_words(lang):
            w = normalize(w)
            if " " in w or w in KEEP[lang]:
                continue
            parses = morph.parse(w)
            function = [p for p in (parses[:1] if lang == "ru" else parses) if is_function(p)]
            if function:
                words.add(w)
                lemmas.update(p.normal_form.replace("ё", "е") for p in function)
        data = _stop_data[lang] = (frozenset(words), frozenset(lemmas - KEEP[lang]))
    return data
