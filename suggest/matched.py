"""Why an article was suggested, in words an agent reads: the query's terms found in the passage, as written there.

A term shows as the passage's own word ("passwords", "ORB-413"), not as the stem the index keeps ("password",
"noth"). Left out, as matches that explain nothing: stop words of the passage's language (English: scikit-learn's
list, the stop-words package's 1,300 words hold "microsoft" and "click"; Russian and Ukrainian: the stop-words
package's lists), terms that most of the KB's articles contain ("use", "orbita"), and bare numbers ("365" of
"Microsoft 365"; codes such as "ORB-413" stay whole).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from kb import analysis

# A word with its joined parts, so that codes stay whole: "ORB-413", "3-D", "don't".
WORD_RE = re.compile(r"\w+(?:[-'’ʼ]\w+)*", re.UNICODE)
MAX_WORDS = 12


@lru_cache(maxsize=8)
def stop_words(lang: str) -> frozenset[str]:
    """The stop words of a language (normalised), English's for any other."""
    if lang not in ("ru", "uk"):
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    from stop_words import get_stop_words

    return frozenset(analysis.normalize(w) for w in get_stop_words(lang))


def matched_words(
    text: str, query_terms: set[str], lang: str | None, common: Callable[[str], bool] | None = None
) -> list[str]:
    """The words of text that analyse to one of the query's terms, first occurrence first, without stop words;
    `common(term)` says whether a term is in most of the KB's articles."""
    stop = stop_words(lang or "en")
    if common is not None:
        query_terms = {t for t in query_terms if not common(t)}
    out: dict[str, str] = {}
    for m in WORD_RE.finditer(text):
        word = m.group()
        key = analysis.normalize(word)
        if key in out or key in stop or word.isdigit():
            continue
        if not query_terms.isdisjoint(analysis.terms(word, lang)):
            out[key] = word
            if len(out) == MAX_WORDS:
                break
    return list(out.values())
