"""UI strings in the help center's languages, and how the reader's language is chosen."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale
from markupsafe import Markup, escape

LANGUAGES = {"en": "English", "ru": "Русский", "uk": "Українська"}
DEFAULT = "en"
LANG_COOKIE = "kb_lang"

# A value is the string, or for a string with a count {n} its CLDR plural forms ("one", "few", "many", "other"),
# chosen by Babel's plural rule for the language (and in the browser by Intl.PluralRules, the same CLDR data).
Text = str | dict[str, str]

STRINGS: dict[str, dict[str, Text]] = {
    "en": {
        "product": "Orbita Help Center",
        "home": "Home",
        "breadcrumb": "Breadcrumb",
        "still_stuck": "Still stuck?",
        "search_title": "Search the help center",
        "skip": "Skip to content",
        "hero_title": "How can we help?",
        "hero_sub": "Search our guides and answers, in your language.",
        "search_label": "Search the help center",
        "search_placeholder": "Describe your question, e.g. “reset password”",
        "search_button": "Search",
        "contact_title": "Contact support",
        "contact_intro": "Tell us what happened. While you type, we look for articles that may already answer it.",
        "contact_subject": "Subject",
        "contact_description": "Describe your question",
        "contact_email": "Your email",
        "contact_send": "Send to support",
        "contact_maybe": "These articles may answer your question",
        "contact_sent_title": "Thanks, we got your message",
        "contact_sent_body": "Our support team will reply to {email}, usually within one business day.",
        "contact_error": "Please fill in a valid email address and a description.",
        "suggestions": "Suggestions",
        "categories": "Browse by topic",
        "popular": "Popular articles",
        "articles_n": {"one": "{n} article", "other": "{n} articles"},
        "results_for": "Results for “{q}”",
        "results_n": {"one": "{n} result", "other": "{n} results"},
        "deflect_n": {"one": "{n} article might answer this", "other": "{n} articles might answer this"},
        "deflect_see": "See them below the form",
        "showing_for": "Showing results for:",
        "searched_for": "You typed:",
        "no_results": "We couldn't find anything for “{q}”.",
        "no_results_hint": "Try fewer or different words, check the spelling, or browse the topics below.",
        "answer_label": "Answer",
        "answer_from": "From “{title}”",
        "answer_read": "Read the whole section",
        "no_answer": "We couldn't find an answer to “{q}”.",
        "no_answer_sub": "None of our articles seems to cover this. Here is what you can do:",
        "tip_words": "Use the words you would see in the app (“invoice”, “password”, “sync”).",
        "tip_short": "Ask about one thing at a time, in a few words.",
        "tip_spelling": "Check the spelling and the keyboard layout.",
        "maybe_related": "Maybe related",
        "ask_support": "Ask our support team",
        "ask_support_sub": "Send us your question: we will answer by email.",
        "contact": "Still stuck? Contact support at",
        "other_language": "Language: {lang}",
        "read_translation": "Read in your language: {title}",
        "on_this_page": "On this page",
        "updated": "Updated {date}",
        "helpful_q": "Was this article helpful?",
        "yes": "Yes",
        "no": "No",
        "reason_label": "If not, what was wrong? (optional)",
        "reason_none": "Choose a reason…",
        "reason_not_related": "It's not what I was looking for",
        "reason_incomplete": "It's missing information",
        "reason_outdated": "It's out of date",
        "reason_unclear": "It's hard to understand",
        "reason_other": "Something else",
        "thanks": "Thanks for your feedback!",
        "related": "Related articles",
        "other_languages": "Other languages",
        "not_found_title": "Page not found",
        "not_found_text": "We couldn't find that page. It may have moved, or the link may be wrong.",
        "back_home": "Back to the help center",
        "bad_request_title": "We could not accept that request",
        "bad_request_text": "These fields are not valid: {fields}.",
        "language": "Language",
        "footer": "Orbita Help Center — answers for Orbita customers.",
        "in_category": "Articles in {category}",
        "empty_query": "Type a question above to search the help center.",
        "too_long": "Your search was shortened to {n} characters.",
        "loading": "Searching…",
    },
    "ru": {
        "product": "Справочный центр Orbita",
        "home": "Главная",
        "breadcrumb": "Навигационная цепочка",
        "still_stuck": "Не нашли ответ?",
        "search_title": "Поиск по справочному центру",
        "skip": "Перейти к содержимому",
        "hero_title": "Чем мы можем помочь?",
        "hero_sub": "Ищите инструкции и ответы на своём языке.",
        "search_label": "Поиск по справочному центру",
        "search_placeholder": "Опишите вопрос, например «сбросить пароль»",
        "search_button": "Найти",
        "contact_title": "Написать в поддержку",
        "contact_intro": (
            "Опишите, что случилось. Пока вы пишете, мы ищем статьи, которые уже могут ответить на вопрос."
        ),
        "contact_subject": "Тема",
        "contact_description": "Опишите ваш вопрос",
        "contact_email": "Ваш email",
        "contact_send": "Отправить в поддержку",
        "contact_maybe": "Возможно, эти статьи отвечают на ваш вопрос",
        "contact_sent_title": "Спасибо, мы получили ваше сообщение",
        "contact_sent_body": "Команда поддержки ответит на {email}, обычно в течение одного рабочего дня.",
        "contact_error": "Укажите правильный email и опишите вопрос.",
        "suggestions": "Подсказки",
        "categories": "Разделы",
        "popular": "Популярные статьи",
        "articles_n": {"one": "{n} статья", "few": "{n} статьи", "many": "{n} статей", "other": "{n} статьи"},
        "results_for": "Результаты по запросу «{q}»",
        "results_n": {
            "one": "{n} результат",
            "few": "{n} результата",
            "many": "{n} результатов",
            "other": "{n} результата",
        },
        "deflect_n": {
            "one": "{n} статья может ответить на ваш вопрос",
            "few": "{n} статьи могут ответить на ваш вопрос",
            "many": "{n} статей могут ответить на ваш вопрос",
            "other": "{n} статьи могут ответить на ваш вопрос",
        },
        "deflect_see": "Они под формой",
        "showing_for": "Показаны результаты для:",
        "searched_for": "Вы ввели:",
        "no_results": "По запросу «{q}» ничего не найдено.",
        "no_results_hint": "Попробуйте другие или более короткие слова, проверьте написание или выберите раздел ниже.",
        "answer_label": "Ответ",
        "answer_from": "Из статьи «{title}»",
        "answer_read": "Читать раздел целиком",
        "no_answer": "Мы не нашли ответа на «{q}».",
        "no_answer_sub": "Похоже, ни одна статья об этом не рассказывает. Что можно сделать:",
        "tip_words": "Используйте слова, которые видите в приложении («счёт», «пароль», «синхронизация»).",
        "tip_short": "Спрашивайте об одном, в нескольких словах.",
        "tip_spelling": "Проверьте написание и раскладку клавиатуры.",
        "maybe_related": "Возможно, связано",
        "ask_support": "Спросите службу поддержки",
        "ask_support_sub": "Отправьте нам вопрос — мы ответим по email.",
        "contact": "Не нашли ответ? Напишите в поддержку:",
        "other_language": "Язык: {lang}",
        "read_translation": "Читать на вашем языке: {title}",
        "on_this_page": "На этой странице",
        "updated": "Обновлено {date}",
        "helpful_q": "Эта статья была полезной?",
        "yes": "Да",
        "no": "Нет",
        "reason_label": "Если нет, что было не так? (необязательно)",
        "reason_none": "Выберите причину…",
        "reason_not_related": "Это не то, что я искал",
        "reason_incomplete": "Не хватает информации",
        "reason_outdated": "Информация устарела",
        "reason_unclear": "Сложно понять",
        "reason_other": "Другое",
        "thanks": "Спасибо за отзыв!",
        "related": "Похожие статьи",
        "other_languages": "Другие языки",
        "not_found_title": "Страница не найдена",
        "not_found_text": "Мы не нашли эту страницу. Возможно, она перемещена или ссылка неверна.",
        "back_home": "Вернуться в справочный центр",
        "bad_request_title": "Запрос не удалось принять",
        "bad_request_text": "Эти поля заполнены неверно: {fields}.",
        "language": "Язык",
        "footer": "Справочный центр Orbita — ответы для клиентов Orbita.",
        "in_category": "Статьи раздела «{category}»",
        "empty_query": "Введите вопрос выше, чтобы начать поиск.",
        "too_long": "Запрос сокращён до {n} символов.",
        "loading": "Ищем…",
    },
    "uk": {
        "product": "Довідковий центр Orbita",
        "home": "Головна",
        "breadcrumb": "Навігаційний ланцюжок",
        "still_stuck": "Не знайшли відповідь?",
        "search_title": "Пошук у довідковому центрі",
        "skip": "Перейти до вмісту",
        "hero_title": "Чим ми можемо допомогти?",
        "hero_sub": "Шукайте інструкції та відповіді своєю мовою.",
        "search_label": "Пошук у довідковому центрі",
        "search_placeholder": "Опишіть питання, наприклад «скинути пароль»",
        "search_button": "Шукати",
        "contact_title": "Написати в підтримку",
        "contact_intro": (
            "Опишіть, що сталося. Поки ви пишете, ми шукаємо статті, які вже можуть відповісти на питання."
        ),
        "contact_subject": "Тема",
        "contact_description": "Опишіть ваше питання",
        "contact_email": "Ваш email",
        "contact_send": "Надіслати в підтримку",
        "contact_maybe": "Можливо, ці статті відповідають на ваше питання",
        "contact_sent_title": "Дякуємо, ми отримали ваше повідомлення",
        "contact_sent_body": "Команда підтримки відповість на {email}, зазвичай протягом одного робочого дня.",
        "contact_error": "Вкажіть правильний email і опишіть питання.",
        "suggestions": "Підказки",
        "categories": "Розділи",
        "popular": "Популярні статті",
        "articles_n": {"one": "{n} стаття", "few": "{n} статті", "many": "{n} статей", "other": "{n} статті"},
        "results_for": "Результати за запитом «{q}»",
        "results_n": {
            "one": "{n} результат",
            "few": "{n} результати",
            "many": "{n} результатів",
            "other": "{n} результату",
        },
        "deflect_n": {
            "one": "{n} стаття може відповісти на ваше питання",
            "few": "{n} статті можуть відповісти на ваше питання",
            "many": "{n} статей можуть відповісти на ваше питання",
            "other": "{n} статті можуть відповісти на ваше питання",
        },
        "deflect_see": "Вони під формою",
        "showing_for": "Показано результати для:",
        "searched_for": "Ви ввели:",
        "no_results": "За запитом «{q}» нічого не знайдено.",
        "no_results_hint": "Спробуйте інші або коротші слова, перевірте написання або оберіть розділ нижче.",
        "answer_label": "Відповідь",
        "answer_from": "Зі статті «{title}»",
        "answer_read": "Читати розділ повністю",
        "no_answer": "Ми не знайшли відповіді на «{q}».",
        "no_answer_sub": "Схоже, жодна стаття про це не розповідає. Що можна зробити:",
        "tip_words": "Використовуйте слова, які бачите в застосунку («рахунок», «пароль», «синхронізація»).",
        "tip_short": "Питайте про одне, кількома словами.",
        "tip_spelling": "Перевірте написання й розкладку клавіатури.",
        "maybe_related": "Можливо, пов'язане",
        "ask_support": "Запитайте службу підтримки",
        "ask_support_sub": "Надішліть нам питання — ми відповімо електронною поштою.",
        "contact": "Не знайшли відповідь? Напишіть у підтримку:",
        "other_language": "Мова: {lang}",
        "read_translation": "Читати вашою мовою: {title}",
        "on_this_page": "На цій сторінці",
        "updated": "Оновлено {date}",
        "helpful_q": "Ця стаття була корисною?",
        "yes": "Так",
        "no": "Ні",
        "reason_label": "Якщо ні, що було не так? (необов'язково)",
        "reason_none": "Оберіть причину…",
        "reason_not_related": "Це не те, що я шукав",
        "reason_incomplete": "Бракує інформації",
        "reason_outdated": "Інформація застаріла",
        "reason_unclear": "Важко зрозуміти",
        "reason_other": "Інше",
        "thanks": "Дякуємо за відгук!",
        "related": "Схожі статті",
        "other_languages": "Інші мови",
        "not_found_title": "Сторінку не знайдено",
        "not_found_text": "Ми не знайшли цю сторінку. Можливо, її переміщено або посилання хибне.",
        "back_home": "Повернутися до довідкового центру",
        "bad_request_title": "Запит не вдалося прийняти",
        "bad_request_text": "Ці поля заповнено неправильно: {fields}.",
        "language": "Мова",
        "footer": "Довідковий центр Orbita — відповіді для клієнтів Orbita.",
        "in_category": "Статті розділу «{category}»",
        "empty_query": "Введіть питання вище, щоб почати пошук.",
        "too_long": "Запит скорочено до {n} символів.",
        "loading": "Шукаємо…",
    },
}

CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "ru": {
        "account": "Аккаунт",
        "admin": "Администрирование",
        "billing": "Оплата",
        "getting-started": "Начало работы",
        "integrations": "Интеграции",
        "mobile": "Мобильное приложение",
        "policies": "Правила",
        "troubleshooting": "Решение проблем",
    },
    "uk": {
        "account": "Обліковий запис",
        "admin": "Адміністрування",
        "billing": "Оплата",
        "getting-started": "Початок роботи",
        "integrations": "Інтеграції",
        "mobile": "Мобільний застосунок",
        "policies": "Правила",
        "troubleshooting": "Вирішення проблем",
    },
}

REASONS = ("not_related", "incomplete", "outdated", "unclear", "other")

_ACCEPT_RE = re.compile(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


class Translator:
    """t(key, **values): the UI string in lang, falling back to English, then to the key itself.

    A value that is Markup (a span marking another language) stays markup, and the rest is escaped around it.
    """

    def __init__(self, lang: str):
        self.lang = lang if lang in STRINGS else DEFAULT
        self.table = STRINGS[self.lang]

    def __call__(self, key: str, **values) -> str:
        text = self.forms(key)
        if isinstance(text, dict):
            n = values.get("n")
            if not isinstance(n, int | float):
                raise TypeError(f"{key!r} has plural forms: pass its count as n")
            text = text.get(self.plural(n)) or text["other"]
        if any(isinstance(v, Markup) for v in values.values()):
            return escape(text).format(**values)
        return text.format(**values) if values else text

    def forms(self, key: str) -> Text:
        """The raw entry: a string, or the plural forms of a counted string (for search.js)."""
        return self.table.get(key) or STRINGS[DEFAULT].get(key) or key

    def plural(self, n: float) -> str:
        return _plural_rule(self.lang)(n)


@cache
def _plural_rule(lang: str):
    return Locale.parse(lang).plural_form


def translator(lang: str) -> Translator:
    return Translator(lang)


def in_lang(text: str, locale: str | None, page_lang: str) -> str:
    """Text in another language than the page's, wrapped in a span that says which (else the text as it is)."""
    if not locale or locale == page_lang:
        return text
    return Markup('<span lang="{}">{}</span>').format(locale, text)


def category_name(category: str, lang: str) -> str:
    """A category's display name: translated when known, else its slug made readable."""
    return CATEGORY_NAMES.get(lang, {}).get(category) or category.replace("-", " ").replace("_", " ").capitalize()


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most, if any."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:20]):
        m = _ACCEPT_RE.match(part)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        lang = m.group(1).lower()
        if lang in LANGUAGES and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def choose(query_lang: str | None, cookie_lang: str | None, accept: str | None) -> tuple[str, bool]:
    """(reader's language, whether to remember it in the cookie): ?lang=, then the cookie, then Accept-Language."""
    if query_lang and query_lang.lower() in LANGUAGES:
        return query_lang.lower(), query_lang.lower() != cookie_lang
    if cookie_lang in LANGUAGES:
        return cookie_lang, False
    return from_accept_language(accept) or DEFAULT, False
