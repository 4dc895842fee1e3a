"""The terms of a text: lemmas (ru, uk) or stems (en) of its tokens, stop words left out."""

from __future__ import annotations

from functools import lru_cache

from kb.analysis.language import SUPPORTED
from kb.analysis.morphology import morph_for, pick_parse, stem_en
from kb.analysis.normal_form import CYRILLIC_RE, LATIN_RE, RU_ONLY_RE, TOKEN_RE, UK_ONLY_RE, normalize
from kb.analysis.stopwords import AUXILIARY, EN_CLITICS, EN_NT_BASE, EN_STOP, KEEP, is_function, stop_sets

# Longer "words" are hashes, base64 or glued garbage: morphology on them is wasted work and a 100k-char
# token would sit in the caches forever, so they are cut and kept verbatim.
_MAX_TOKEN = 64


def cyrillic_term(word: str, lang: str) -> str | None:
    """The lemma of word in lang, or None for a stop word."""
    if word in KEEP[lang]:
        return word
    parses = morph_for(lang).parse(word)
    if not parses:
        return word
    chosen = pick_parse(parses, word, lang)
    lemma = chosen.normal_form.replace("ё", "е")
    if lemma in AUXILIARY:
        return None
    words, lemmas = stop_sets(lang)
    if word in words or (is_function(chosen) and lemma in lemmas):
        return None
    return lemma


def latin_terms(word: str) -> tuple[str, ...]:
    for clitic in EN_CLITICS:
        if word.endswith(clitic) and len(word) > len(clitic):
            word = word[: -len(clitic)]
            break
    negated = False
    if word == "cannot":
        word, negated = "can", True
    elif word.endswith("n't"):
        base = word[:-3]
        word = EN_NT_BASE.get(base, base)
        negated = True
    out = () if (word in EN_STOP or not word) else (stem_en(word),)
    return out + ("not",) if negated else out


@lru_cache(maxsize=1 << 18)
def token_terms(token: str, mode: str) -> tuple[str, ...]:
    """Terms of one normalised token; mode is en, ru, uk or any (query of unknown language). Memoised: hot path."""
    if len(token) > _MAX_TOKEN:
        return (token[:_MAX_TOKEN],)
    if token.isdigit():
        return (token,)
    if CYRILLIC_RE.search(token):
        # A letter that exists in one language only decides for that token, whatever the document says:
        # a Russian word quoted in a Ukrainian article should not be lemmatised by the Ukrainian dictionary.
        langs: tuple[str, ...]
        if UK_ONLY_RE.search(token):
            langs = ("uk",)
        elif RU_ONLY_RE.search(token):
            langs = ("ru",)
        elif mode in ("ru", "uk"):
            other = "uk" if mode == "ru" else "ru"
            # Same for a word only the other dictionary knows ("интеграции" in a Ukrainian article).
            unknown_here = not morph_for(mode).word_is_known(token)
            langs = (other,) if unknown_here and morph_for(other).word_is_known(token) else (mode,)
        else:
            # Unknown language (or Cyrillic in an English text): ask both dictionaries, but trust only those
            # that know the word, so that a Russian word does not also bring a made-up Ukrainian lemma.
            known = tuple(lang for lang in ("ru", "uk") if morph_for(lang).word_is_known(token))
            langs = known or ("ru", "uk")
        out: list[str] = []
        for lang in langs:
            term = cyrillic_term(token, lang)
            if term is None:
                return ()  # a function word in either language is not worth a term
            if term not in out:
                out.append(term)
        return tuple(out)
    if LATIN_RE.search(token):
        return latin_terms(token)
    return (token,)


def _mode(lang: str | None) -> str:
    if not lang or not isinstance(lang, str):
        return "any"
    code = lang.strip().lower()[:2]
    if code == "ua":
        code = "uk"
    return code if code in SUPPORTED else "any"


def analyze(text: str, lang: str | None) -> list[tuple[str, ...]]:
    """One tuple of terms per token that was not a stop word."""
    if not text or not isinstance(text, str):
        return []
    mode = _mode(lang)
    out = []
    for token in TOKEN_RE.findall(normalize(text)):
        group = token_terms(token, mode)
        if group:
            out.append(group)
    return out


def terms(text: str, lang: str | None) -> list[str]:
    """Analysed terms in text order; lang None means a query of unknown language (ru and uk lemmas)."""
    return [t for group in analyze(text, lang) for t in group]


def highlight_terms(text: str, lang: str | None) -> set[str]:
    """The analysed terms of text: a snippet word is a hit when terms(word, doc_lang) meets this set."""
    return set(terms(text, lang))
