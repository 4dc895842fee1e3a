"""Text analysis for en/ru/uk: normalisation, tokens, language, stems/lemmas and BM25-style sparse vectors."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import chain

__all__ = [
    "ANALYZER_VERSION",
    "SUPPORTED",
    "K1",
    "B",
    "AVGLEN",
    "normalize",
    "tokenize",
    "detect_language",
    "terms",
    "sparse_doc_vector",
    "sparse_query_vector",
    "term_id",
    "highlight_terms",
]

SUPPORTED = ("en", "ru", "uk")
# Bump whenever the same text would get different terms or weights (tokenizer, stop words, lemma choice, k1, b,
# avglen, term ids): stored sparse vectors are then stale and the index must be rebuilt.
ANALYZER_VERSION = 1

# BM25 saturation/length parameters baked into stored document vectors (Qdrant adds only the IDF).
K1 = 1.2
B = 0.75
# Fixed average length, in analysed tokens (stop words removed), instead of the corpus mean: a stored vector
# must never change when other documents are added, or incremental indexing would have to re-embed everything.
# A chunk is at most 256 model tokens (~150-200 words), sections are often shorter, and ~75% of words survive
# stop-word removal. nDCG@10 is flat for 50-150 on both benchmark sets (benchmarks/analyzer_bm25.py --sweep).
AVGLEN = 100.0

# Longer "words" are hashes, base64 or glued garbage: morphology on them is wasted work and a 100k-char
# token would sit in the caches forever, so they are cut and kept verbatim.
_MAX_TOKEN = 64

# ---------------------------------------------------------------------------------------------------------
# normalisation

# Soft hyphens, zero-width characters, BOM and bidi controls hide inside copy-pasted words and would split
# them; they go before NFKC so that NFKC sees the joined text (otherwise normalize would not be idempotent).
_FORMAT_RE = re.compile("[\u00ad\u034f\u061c\u180e\ufeff\u200b-\u200f\u202a-\u202e\u2060-\u206f]")


def _post_table() -> dict[str, str]:
    table: dict[str, str] = {}
    # Ukrainian writes the apostrophe in all of these ways; the uk dictionary uses the ASCII one.
    for ch in "\u2019\u02bc`\u2032\u2018\u02b9\uff07":
        table[ch] = "'"
    table["ё"] = "е"
    # Pre-composed Cyrillic vowels with a grave stress mark.
    table["\u0450"] = "е"
    table["\u045d"] = "и"
    # Latin letters with diacritics fold to ASCII (café/cafe, naïve/naive): English Snowball does not fold them.
    for cp in chain(range(0x00C0, 0x0250), range(0x1E00, 0x1F00)):
        decomposed = unicodedata.normalize("NFD", chr(cp))
        if len(decomposed) > 1 and decomposed[0].isascii() and all(unicodedata.combining(c) for c in decomposed[1:]):
            table[chr(cp)] = decomposed[0]
    return table


_POST_CHARS = _post_table()
# A regex finds the few characters to replace much faster than str.translate walks a dict for every character.
_POST_RE = re.compile("[" + "".join(re.escape(c) for c in _POST_CHARS) + "]")
# Combining marks left after NFKC are the ones with no pre-composed letter: Cyrillic stress marks (а́), zalgo.
# й and ї are pre-composed by NFKC, so they are not touched. Marks of other scripts (Devanagari vowel signs)
# are part of their letters and stay.
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _replace_post(match: re.Match) -> str:
    return _POST_CHARS[match.group()]


def normalize(text: str) -> str:
    """NFKC, casefold, ё→е, one apostrophe, no accents or stress marks, single spaces."""
    if not text:
        return ""
    if text.isascii():
        # ASCII is already NFKC; only case, the backtick apostrophe and whitespace can change.
        return " ".join(text.lower().replace("`", "'").split())
    s = unicodedata.normalize("NFKC", _FORMAT_RE.sub("", text))
    # casefold can produce non-NFKC sequences (İ → i + combining dot), hence the second NFKC.
    s = unicodedata.normalize("NFKC", s.casefold())
    s, removed = _MARKS_RE.subn("", _POST_RE.sub(_replace_post, s))
    if removed:
        # Letters the removed marks kept apart may compose now (Hangul jamo): compose them, or a second
        # pass would change the text again.
        s = unicodedata.normalize("NFKC", s)
    return " ".join(s.split())


# ---------------------------------------------------------------------------------------------------------
# tokens

# Runs of letters/digits; an apostrophe between two of them stays inside (пам'ять, об'єкт, don't).
# Hyphens, underscores, dots and all other punctuation split.
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CYRILLIC_RE = re.compile("[\u0400-\u052f]")
_LATIN_RE = re.compile("[a-z\u00c0-\u024f]")
_UK_ONLY_RE = re.compile("[іїєґ]")
_RU_ONLY_RE = re.compile("[ыэъ]")
_UK_APOSTROPHE_RE = re.compile("[\u0400-\u052f]'[\u0400-\u052f]")


def tokenize(text: str) -> list[str]:
    """Word tokens of the normalised text."""
    return _TOKEN_RE.findall(normalize(text))


# ---------------------------------------------------------------------------------------------------------
# heavy resources: built once, on first use, under a lock (a web server may hit them from several threads)

_lock = threading.Lock()
_morph: dict[str, object] = {}
_detector_box: list[object] = []
_stemmers = threading.local()


def _morph_for(lang: str):
    m = _morph.get(lang)
    if m is None:
        with _lock:
            m = _morph.get(lang)
            if m is None:
                import pymorphy3

                m = pymorphy3.MorphAnalyzer(lang=lang)
                _morph[lang] = m
    return m


def _stem_en(word: str) -> str:
    # PyStemmer objects are documented as not thread-safe: one per thread.
    stemmer = getattr(_stemmers, "en", None)
    if stemmer is None:
        import Stemmer

        stemmer = _stemmers.en = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)


def _detector():
    if not _detector_box:
        with _lock:
            if not _detector_box:
                from lingua import Language, LanguageDetectorBuilder

                languages = (Language.ENGLISH, Language.RUSSIAN, Language.UKRAINIAN)
                _detector_box.append(LanguageDetectorBuilder.from_languages(*languages).build())
    return _detector_box[0]


# ---------------------------------------------------------------------------------------------------------
# stop words
#
# Policy: drop only words that carry no meaning in a support question; keep anything that might name a thing,
# an action or a place in the UI. Measured with benchmarks/analyzer_bm25.py (nDCG@10, stackfaq / xquad_r_ru).
# - English: the stop-words package list (1,300 entries) drops "click", "fix", "free", "bill", "date", "copy",
#   "computer", "help", "show", "up", "off"... exactly what support queries are about (stackfaq 0.828). A full
#   function-word list (pronouns, wh-words, auxiliaries too) gave 0.853; dropping only the glue below gives 0.863
#   (nothing dropped: 0.869). Pronouns, wh-words and modals stay because FAQ questions and article titles share
#   that frame ("how do I", "why does my", "can I") and Qdrant's IDF already makes them cheap; the glue goes
#   because it is in every chunk (longest posting lists, so slowest sparse search) and tells nothing apart.
# - ru/uk: a word is dropped when pymorphy3 tags it as a function word (PREP, CONJ, PRCL, NPRO, INTJ, and for ru
#   pronominal adjectives "Apro" and question adverbs "Ques") AND it is in the stop-words package list, or its
#   lemma is the lemma of such a listed word (catches "которую", "моего", "якому", absent from the lists).
#   The lists' content words ("время", "год", "жизнь", "имя", "люди", "рік", "життя", numerals, "можно",
#   "нужно", "долго", "внизу") therefore stay. The auxiliary "быть"/"бути" is dropped like English be/is/was.
#   ru uses the first (most probable) parse; the uk dictionary carries no frequency statistics, so its first
#   parse is arbitrary ("до" → noun, "як" → noun "yak") and a uk word counts as function word if any parse is.
#   xquad_r_ru: this policy 0.960, the whole package list 0.957, nothing dropped 0.957.
# - Negations are kept in every language: "не приходит письмо", "not syncing", "без пароля", "no sound" differ
#   from their positive forms (dropping them moved xquad_r_ru by +0.001, noise). English n't and cannot are
#   split into verb + "not", so "can't", "cannot" and "can not" give the same terms.

_EN_STOP = frozenset(
    """
    a an the it its this that these those
    of at by for with about against between into through during to from in on
    and or but if because as until while so than then
    am is are was were be been being
    """.split()
)
# Bases of n't contractions whose spelling differs from the verb.
_EN_NT_BASE = {"ca": "can", "wo": "will", "sha": "shall", "ai": "be"}
_EN_CLITICS = ("'s", "'re", "'ve", "'ll", "'d", "'m")

_KEEP = {
    "ru": frozenset({"не", "ни", "нет", "ничего", "никогда", "без"}),
    "uk": frozenset({"не", "ні", "немає", "нічого", "ніколи", "без"}),
}
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ"})
_FUNCTION_GRAMMEMES = frozenset({"Apro", "Ques"})
_AUXILIARY = frozenset({"быть", "бути"})
_stop_data: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def _is_function(parse) -> bool:
    tag = parse.tag
    return tag.POS in _FUNCTION_POS or not _FUNCTION_GRAMMEMES.isdisjoint(tag.grammemes)


def _stop_sets(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """Listed function words of lang and their lemmas."""
    data = _stop_data.get(lang)
    if data is None:
        from stop_words import get_stop_words

        morph = _morph_for(lang)
        words, lemmas = set(), set()
        for w in get_stop_words(lang):
            w = normalize(w)
            if " " in w or w in _KEEP[lang]:
                continue
            parses = morph.parse(w)
            function = [p for p in (parses[:1] if lang == "ru" else parses) if _is_function(p)]
            if function:
                words.add(w)
                lemmas.update(p.normal_form.replace("ё", "е") for p in function)
        data = _stop_data[lang] = (frozenset(words), frozenset(lemmas - _KEEP[lang]))
    return data


# Readings that are rarely meant in support text: proper names, abbreviations, archaic/slang/alternative spellings.
_RARE_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Abbr", "Infr", "Slng", "Arch", "Dist", "alt", "Orgn", "Geox"})


def _pick_parse(parses, word: str, lang: str):
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


def _cyrillic_term(word: str, lang: str) -> str | None:
    """The lemma of word in lang, or None for a stop word."""
    if word in _KEEP[lang]:
        return word
    parses = _morph_for(lang).parse(word)
    if not parses:
        return word
    chosen = _pick_parse(parses, word, lang)
    lemma = chosen.normal_form.replace("ё", "е")
    if lemma in _AUXILIARY:
        return None
    words, lemmas = _stop_sets(lang)
    if word in words or (_is_function(chosen) and lemma in lemmas):
        return None
    return lemma


def _latin_terms(word: str) -> tuple[str, ...]:
    for clitic in _EN_CLITICS:
        if word.endswith(clitic) and len(word) > len(clitic):
            word = word[: -len(clitic)]
            break
    negated = False
    if word == "cannot":
        word, negated = "can", True
    elif word.endswith("n't"):
        base = word[:-3]
        word = _EN_NT_BASE.get(base, base)
        negated = True
    out = () if (word in _EN_STOP or not word) else (_stem_en(word),)
    return out + ("not",) if negated else out


@lru_cache(maxsize=1 << 18)
def _token_terms(token: str, mode: str) -> tuple[str, ...]:
    """Terms of one normalised token; mode is en, ru, uk or any (query of unknown language). Memoised: hot path."""
    if len(token) > _MAX_TOKEN:
        return (token[:_MAX_TOKEN],)
    if token.isdigit():
        return (token,)
    if _CYRILLIC_RE.search(token):
        # A letter that exists in one language only decides for that token, whatever the document says:
        # a Russian word quoted in a Ukrainian article should not be lemmatised by the Ukrainian dictionary.
        if _UK_ONLY_RE.search(token):
            langs = ("uk",)
        elif _RU_ONLY_RE.search(token):
            langs = ("ru",)
        elif mode in ("ru", "uk"):
            other = "uk" if mode == "ru" else "ru"
            # Same for a word only the other dictionary knows ("интеграции" in a Ukrainian article).
            unknown_here = not _morph_for(mode).word_is_known(token)
            langs = (other,) if unknown_here and _morph_for(other).word_is_known(token) else (mode,)
        else:
            # Unknown language (or Cyrillic in an English text): ask both dictionaries, but trust only those
            # that know the word, so that a Russian word does not also bring a made-up Ukrainian lemma.
            known = tuple(lang for lang in ("ru", "uk") if _morph_for(lang).word_is_known(token))
            langs = known or ("ru", "uk")
        out: list[str] = []
        for lang in langs:
            term = _cyrillic_term(token, lang)
            if term is None:
                return ()  # a function word in either language is not worth a term
            if term not in out:
                out.append(term)
        return tuple(out)
    if _LATIN_RE.search(token):
        return _latin_terms(token)
    return (token,)


def _mode(lang: str | None) -> str:
    if not lang or not isinstance(lang, str):
        return "any"
    code = lang.strip().lower()[:2]
    if code == "ua":
        code = "uk"
    return code if code in SUPPORTED else "any"


def _analyze(text: str, lang: str | None) -> list[tuple[str, ...]]:
    """One tuple of terms per token that was not a stop word."""
    if not text or not isinstance(text, str):
        return []
    mode = _mode(lang)
    out = []
    for token in _TOKEN_RE.findall(normalize(text)):
        group = _token_terms(token, mode)
        if group:
            out.append(group)
    return out


def terms(text: str, lang: str | None) -> list[str]:
    """Analysed terms in text order; lang None means a query of unknown language (ru and uk lemmas)."""
    return [t for group in _analyze(text, lang) for t in group]


def highlight_terms(text: str, lang: str | None) -> set[str]:
    """The analysed terms of text: a snippet word is a hit when terms(word, doc_lang) meets this set."""
    return set(terms(text, lang))


# ---------------------------------------------------------------------------------------------------------
# language


def detect_language(text: str, default: str = "en") -> str:
    """en, ru or uk: script heuristics first, lingua only for Cyrillic text without a telling letter."""
    fallback = default if default in SUPPORTED else "en"
    if not text or not isinstance(text, str):
        return fallback
    s = normalize(text[:20000])
    words = _TOKEN_RE.findall(s)
    cyrillic_words = [w for w in words if _CYRILLIC_RE.search(w)]
    latin = sum(1 for w in words if _LATIN_RE.search(w))
    if not latin and not cyrillic_words:
        return fallback
    # Product names and error codes are Latin in every language: text is Cyrillic-language when at least a
    # third of its words are ("ошибка 0x80070005 при установке Windows Update" is Russian, "how to say
    # привет" is English).
    if len(cyrillic_words) * 2 < latin:
        return "en"
    uk_marks = len(_UK_ONLY_RE.findall(s)) + len(_UK_APOSTROPHE_RE.findall(s))
    ru_marks = len(_RU_ONLY_RE.findall(s)) + text.count("ё") + text.count("Ё")
    if uk_marks and not ru_marks:
        return "uk"
    if ru_marks and not uk_marks:
        return "ru"
    sample = " ".join(cyrillic_words)[:2000]
    cyr_default = fallback if fallback in ("ru", "uk") else "ru"
    try:
        confidences = _detector().compute_language_confidence_values(sample)
        scores = {c.language.iso_code_639_1.name.lower(): c.value for c in confidences}
    except Exception:  # lingua is an optimisation over a sane default, never a reason to fail a search
        return cyr_default
    ru, uk = scores.get("ru", 0.0), scores.get("uk", 0.0)
    if ru == uk:
        return cyr_default
    return "ru" if ru > uk else "uk"


# ---------------------------------------------------------------------------------------------------------
# sparse vectors


@lru_cache(maxsize=1 << 18)
def term_id(term: str) -> int:
    """Stable 31-bit id of a term (blake2b of its UTF-8), the same in every process and on every machine."""
    digest = hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def _sorted_vector(weights: dict[int, float]) -> tuple[list[int], list[float]]:
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def sparse_doc_vector(text: str, lang: str) -> tuple[list[int], list[float]]:
    """BM25 term-frequency part (k1, b, fixed avglen) per term id; Qdrant's IDF modifier adds the rest."""
    groups = _analyze(text, lang)
    if not groups:
        return [], []
    tf: Counter[int] = Counter()
    for group in groups:
        for t in group:
            tf[term_id(t)] += 1
    # Length counts tokens, not terms, so a token that yields two lemmas does not make its document "longer".
    norm = K1 * (1.0 - B + B * len(groups) / AVGLEN)
    return _sorted_vector({i: f * (K1 + 1.0) / (f + norm) for i, f in tf.items()})


def sparse_query_vector(text: str, lang: str | None = None) -> tuple[list[int], list[float]]:
    """Weight 1 per distinct query term (IDF is applied by Qdrant); lang None adds ru and uk lemmas."""
    weights: dict[int, float] = {}
    for group in _analyze(text, lang):
        for t in group:
            # A ru and a uk lemma of one token both get the full weight: a document matches at most one of
            # them in practice, and halving would make such words count less than words whose lemmas agree
            # (xquad_r_ru with lang None: 0.959 full weight, 0.958 halved).
            weights[term_id(t)] = 1.0
    return _sorted_vector(weights)
