"""Text analysis for en/ru/uk: normalisation (normal_form), morphology, stop words, terms, language, sparse vectors.

`from kb import analysis` gives all of it; the modules hold one step each.
"""

from kb.analysis.language import SUPPORTED, detect_language
from kb.analysis.morphology import morph_for
from kb.analysis.normal_form import normalize, tokenize
from kb.analysis.sparse import ANALYZER_VERSION, AVGLEN, K1, B, sparse_doc_vector, sparse_query_vector, term_id
from kb.analysis.terms import analyze, highlight_terms, terms, token_terms

__all__ = [
    "ANALYZER_VERSION",
    "AVGLEN",
    "B",
    "K1",
    "SUPPORTED",
    "analyze",
    "detect_language",
    "highlight_terms",
    "morph_for",
    "normalize",
    "sparse_doc_vector",
    "sparse_query_vector",
    "term_id",
    "terms",
    "token_terms",
    "tokenize",
]
