"""Which of en, ru and uk a text is written in."""

from __future__ import annotations

import threading

from kb.analysis.normal_form import CYRILLIC_RE, LATIN_RE, RU_ONLY_RE, TOKEN_RE, UK_APOSTROPHE_RE, UK_ONLY_RE, normalize

SUPPORTED = ("en", "ru", "uk")

_lock = threading.Lock()
_detector_box: list[object] = []


def detect_language(text: str, default: str = "en") -> str:
    """en, ru or uk: script heuristics first, lingua only for Cyrillic text without a telling letter."""
    fallback = default if default in SUPPORTED else "en"
    if not text or not isinstance(text, str):
        return fallback
    s = normalize(text[:20000])
    words = TOKEN_RE.findall(s)
    cyrillic_words = [w for w in words if CYRILLIC_RE.search(w)]
    latin = sum(1 for w in words if LATIN_RE.search(w))
    if not latin and not cyrillic_words:
        return fallback
    # Product names and error codes are Latin in every language: text is Cyrillic-language when at least a
    # third of its words are ("ошибка 0x80070005 при установке Windows Update" is Russian, "how to say
    # привет" is English).
    if len(cyrillic_words) * 2 < latin:
        return "en"
    uk_marks = len(UK_ONLY_RE.findall(s)) + len(UK_APOSTROPHE_RE.findall(s))
    ru_marks = len(RU_ONLY_RE.findall(s)) + text.count("ё") + text.count("Ё")
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


def _detector():
    """lingua, limited to en, ru and uk, built once per process."""
    if not _detector_box:
        with _lock:
            if not _detector_box:
                from lingua import Language, LanguageDetectorBuilder

                languages = (Language.ENGLISH, Language.RUSSIAN, Language.UKRAINIAN)
                _detector_box.append(LanguageDetectorBuilder.from_languages(*languages).build())
    return _detector_box[0]
