"""UI strings in the help center's languages, and how the reader's language is chosen."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale
from babel.numbers import format_decimal
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


# The staff pages (/login, /agent, /admin, /admin/gaps): the same table, kept apart so translators see what is whose.
STAFF_STRINGS: dict[str, dict[str, Text]] = {
    "en": {
        "login_title": "Log in",
        "login_submit": "Log in",
        "login_intro": "For support agents and knowledge-base admins. Customers don't need an account.",
        "login_user": "User name",
        "login_password": "Password",
        "login_demo": "Development mode: log in as {agent} or {admin} with the password {password}.",
        "login_expired": "Your login form expired: please try again.",
        "login_wrong": "Wrong user name or password.",
        "logout": "Log out",
        "staff_nav": "Staff pages",
        "nav_dashboard": "Dashboard",
        "nav_gaps": "Gap report",
        "nav_agent": "Agent panel",
        "role_agent": "agent",
        "role_admin": "admin",
        "admin_title": {"one": "Search analytics, last {n} day", "other": "Search analytics, last {n} days"},
        "days_n": {"one": "{n} day", "other": "{n} days"},
        "kpi_searches": {"one": "search", "other": "searches"},
        "kpi_answered": "answered",
        "kpi_ctr": "click-through",
        "kpi_zero": {"one": "zero-result search", "other": "zero-result searches"},
        "kpi_votes": "helpful / not helpful",
        "kpi_deflection": {"one": "deflection ({n} contact attempt)", "other": "deflection ({n} contact attempts)"},
        "per_day": "Searches per day",
        "per_day_chart": "searches, answered and clicked per day",
        "series_searches": "searches",
        "series_answered": "answered",
        "series_clicked": "clicked",
        "chart_day": "day",
        "chart_numbers": "The numbers",
        "no_searches": "No searches in this period.",
        "by_locale": "By locale",
        "col_locale": "locale",
        "col_searches": "searches",
        "col_answered": "answered",
        "col_ctr": "click-through",
        "col_zero": "zero results",
        "col_query": "query",
        "col_count": "count",
        "col_article": "article",
        "col_helpful": "helpful",
        "col_not_helpful": "not helpful",
        "col_reason": "most given reason",
        "top_queries": "Top queries",
        "unanswered_queries": "Unanswered queries",
        "zero_result_queries": "Zero-result queries",
        "none": "none",
        "no_votes": "no votes",
        "helpfulness": "Helpfulness by article",
        "gaps_title": "Gap report, {since} – {until}",
        "gaps_export": "Export:",
        "gaps_rebuild": "Rebuild",
        "gaps_first": "Write or fix first",
        "gaps_nothing": "Nothing fails often enough to report.",
        "gaps_absent": "no article",
        "gaps_fails": "article exists but fails",
        "gaps_weekly": "failures per week",
        "gaps_failures": "Failures",
        "gaps_failure_rate": {
            "one": "{failures} ({pct}% of {n} search or ticket)",
            "other": "{failures} ({pct}% of {n} searches and tickets)",
        },
        "gaps_locales": "Locales",
        "gaps_locale_unknown": "unknown",
        "gaps_method": (
            "A query counts as uncovered below a similarity of {threshold} to the nearest article, {how}; wordings"
            " form one topic within a distance of {distance}{cross}."
        ),
        "gaps_method_fitted": "fitted on the knowledge base's {pool} (equal error rate {eer}%)",
        "gaps_method_default": "the default: too few articles to fit one on",
        "gaps_method_cross": {
            "one": ", across languages within {distance} (fitted on {n} translated title)",
            "other": ", across languages within {distance} (fitted on {n} translated titles)",
        },
        "gaps_pool_lines": "lines",
        "gaps_pool_headings": "titles and headings",
        "gaps_signals": "Signals",
        "gaps_nearest": "Nearest articles",
        "gaps_wordings": {"one": "How customers asked ({n} wording)", "other": "How customers asked ({n} wordings)"},
        "gaps_resolved": "Resolved",
        "gaps_unhelpful": "Articles voted not helpful",
        "gaps_built": "Built in {s} s.",
        "gaps_resolved_by": "answered by {article} since {date}; failure rate {before}% → {after}%",
        "gaps_votes": "{no} not helpful, {yes} helpful",
        "gaps_mostly": "(mostly “{reason}”)",
        "signal_searches": "searches",
        "signal_unanswered": "unanswered",
        "signal_no_click": "no click",
        "signal_reformulated": "reformulated",
        "signal_rejected_suggestions": "rejected suggestions",
        "signal_failed_deflections": "failed deflections",
        "trend_new": "new",
        "trend_rising": "rising",
        "trend_falling": "falling",
        "trend_steady": "steady",
        "nav_rules": "Search rules",
        "nav_health": "Content health",
        "agent_logged_in": "Logged in as {name} ({role})",
        "agent_tickets": "Tickets",
        "agent_paste": "Paste a ticket",
        "agent_subject": "Subject",
        "agent_message": "Customer's message",
        "agent_language": "Language",
        "agent_detect": "detect",
        "agent_suggest": "Suggest answers",
        "agent_no_subject": "(no subject)",
        "agent_pick": "Pick a ticket",
        "agent_pick_text": (
            "Choose a ticket from the list or paste one: "
            "the articles that answer it, their passages and a draft reply appear here."
        ),
        "agent_route": "Route to {group} · category {category} ({percent}%)",
        "agent_no_group": "no group",
        "agent_draft": "Draft reply ({locale})",
        "agent_copy": "Copy reply",
        "agent_mark_sent": "Mark as sent",
        "agent_mark_sent_hint": (
            "Marking the reply you sent keeps it for the knowledge base team: the gap report quotes it in the "
            "articles it drafts."
        ),
        "agent_reply_recorded": "Reply recorded: thank you.",
        "agent_to_write": "To write:",
        "agent_canned_mark": "(canned reply)",
        "agent_suggested": "Suggested articles",
        "agent_no_match": "No article matches this ticket: it will show up in the gap report.",
        "agent_internal": "internal",
        "agent_confidence": "how likely the ticket is answered",
        "agent_matched": "Matched the {source}",
        "agent_feedback": "earlier feedback: {feedback}",
        "agent_insert": "Insert into reply",
        "agent_accept": "Accept",
        "agent_reject": "Reject",
        "agent_reason": "Reason",
        "agent_reason_not_related": "Not related",
        "agent_reason_does_not_answer": "Related but does not answer",
        "agent_reason_outdated": "Outdated",
        "agent_per_question": "Per question",
        "agent_nothing": "nothing found",
        "agent_canned": "Canned replies",
        "health_title": "Content health, {since} – {until}",
        "health_summary": {
            "one": "{n} public and internal article; {findings} findings.",
            "other": "{n} public and internal articles; {findings} findings.",
        },
        "health_fence": (
            "Near duplicates: centred cosine at least {cosine}, the fence fitted on this KB's nearest neighbours."
        ),
        "health_nothing": "Nothing needs care.",
        "health_evidence": "Evidence",
        "health_fix": "Open to fix",
        "health_duplicate": "Near-duplicate articles",
        "health_missing_translation": "Translations missing for clicked articles",
        "health_stale_translation": "Translations older than their source",
        "health_broken_link": "Broken links between articles",
        "health_never_shown": "Never shown in a customer search",
        "health_never_clicked": "Shown, never clicked",
        "health_ev_duplicate": "cosine {cosine} to “{other_title}” (fence {fence})",
        "health_ev_missing_translation": {
            "one": "no {language} version; clicked {n} time in the window",
            "other": "no {language} version; clicked {n} times in the window",
        },
        "health_ev_stale_translation": "updated {updated}; its source {source} was updated {source_updated}",
        "health_ev_broken_link": "links to {href}, which is no article",
        "health_ev_never_shown": "in no customer search's results in the window",
        "health_ev_never_clicked": {"one": "shown {n} time, never clicked", "other": "shown {n} times, never clicked"},
        "rules_intro": (
            "Synonyms per language and pins (“for these queries, show this article first”), kept in "
            "{path} and reviewed like the articles. They apply to customer search, instant search and "
            "agent suggestions; a pin never shows an internal or draft article to a customer."
        ),
        "rules_saved": "Saved and in force.",
        "rules_not_saved": "{error}: nothing was changed.",
        "rules_pins": "Pins",
        "rules_no_pins": "None yet: apply one from the gap report or add one in the file below.",
        "rules_queries": "Queries",
        "rules_first": "Article first",
        "rules_added": "Added",
        "rules_remove": "Remove",
        "rules_synonyms": "Synonyms",
        "rules_no_synonyms": "None yet: add a group such as {example} in the file below.",
        "rules_same": "Words that mean the same",
        "rules_any": "any",
        "rules_edit": "Edit the file",
        "rules_save": "Check and save",
        "gaps_proposed": {
            "one": "Proposed rule: show {title} first for {n} wording (“{query}”).",
            "other": "Proposed rule: show {title} first for {n} wordings (“{query}”, …).",
        },
        "gaps_apply": "Apply this rule",
        "gaps_category": "Category",
        "gaps_draft": "Draft an article",
        "gaps_typed": "typed as “{typed}”, wrong keyboard layout",
    },
    "ru": {
        "login_title": "Вход",
        "login_submit": "Войти",
        "login_intro": "Для агентов поддержки и администраторов базы знаний. Клиентам учётная запись не нужна.",
        "login_user": "Имя пользователя",
        "login_password": "Пароль",
        "login_demo": "Режим разработки: войдите как {agent} или {admin} с паролем {password}.",
        "login_expired": "Форма входа устарела, попробуйте ещё раз.",
        "login_wrong": "Неверное имя пользователя или пароль.",
        "logout": "Выйти",
        "staff_nav": "Страницы для сотрудников",
        "nav_dashboard": "Аналитика",
        "nav_gaps": "Отчёт о пробелах",
        "nav_agent": "Панель агента",
        "role_agent": "агент",
        "role_admin": "администратор",
        "admin_title": {
            "one": "Аналитика поиска за последний {n} день",
            "few": "Аналитика поиска за последние {n} дня",
            "many": "Аналитика поиска за последние {n} дней",
            "other": "Аналитика поиска за последние {n} дня",
        },
        "days_n": {"one": "{n} день", "few": "{n} дня", "many": "{n} дней", "other": "{n} дня"},
        "kpi_searches": {"one": "поиск", "few": "поиска", "many": "поисков", "other": "поиска"},
        "kpi_answered": "с ответом",
        "kpi_ctr": "переходы по результатам",
        "kpi_zero": {
            "one": "поиск без результатов",
            "few": "поиска без результатов",
            "many": "поисков без результатов",
            "other": "поиска без результатов",
        },
        "kpi_votes": "полезно / бесполезно",
        "kpi_deflection": {
            "one": "решено без обращения ({n} попытка связаться)",
            "few": "решено без обращения ({n} попытки связаться)",
            "many": "решено без обращения ({n} попыток связаться)",
            "other": "решено без обращения ({n} попытки связаться)",
        },
        "per_day": "Поиски по дням",
        "per_day_chart": "поиски, поиски с ответом и с переходом по дням",
        "series_searches": "поиски",
        "series_answered": "с ответом",
        "series_clicked": "с переходом",
        "chart_day": "день",
        "chart_numbers": "Числа",
        "no_searches": "За этот период поисков не было.",
        "by_locale": "По языкам",
        "col_locale": "язык",
        "col_searches": "поиски",
        "col_answered": "с ответом",
        "col_ctr": "переходы",
        "col_zero": "без результатов",
        "col_query": "запрос",
        "col_count": "раз",
        "col_article": "статья",
        "col_helpful": "полезно",
        "col_not_helpful": "бесполезно",
        "col_reason": "частая причина",
        "top_queries": "Частые запросы",
        "unanswered_queries": "Запросы без ответа",
        "zero_result_queries": "Запросы без результатов",
        "none": "нет",
        "no_votes": "оценок нет",
        "helpfulness": "Полезность статей",
        "gaps_title": "Отчёт о пробелах, {since} – {until}",
        "gaps_export": "Экспорт:",
        "gaps_rebuild": "Пересобрать",
        "gaps_first": "Написать или исправить в первую очередь",
        "gaps_nothing": "Ничего не проваливается настолько часто, чтобы попасть в отчёт.",
        "gaps_absent": "статьи нет",
        "gaps_fails": "статья есть, но не помогает",
        "gaps_weekly": "неудачи по неделям",
        "gaps_failures": "Неудачи",
        "gaps_failure_rate": {
            "one": "{failures} ({pct}% из {n} поиска или обращения)",
            "few": "{failures} ({pct}% из {n} поисков и обращений)",
            "many": "{failures} ({pct}% из {n} поисков и обращений)",
            "other": "{failures} ({pct}% из {n} поисков и обращений)",
        },
        "gaps_locales": "Языки",
        "gaps_locale_unknown": "не определён",
        "gaps_method": (
            "Запрос считается непокрытым, если его сходство с ближайшей статьёй ниже {threshold}: порог {how};"
            " формулировки объединяются в одну тему на расстоянии до {distance}{cross}."
        ),
        "gaps_method_fitted": "подобран по {pool} этой базы знаний (равная доля ошибок {eer}%)",
        "gaps_method_default": "взят по умолчанию, статей слишком мало, чтобы его подобрать",
        "gaps_method_cross": {
            "one": ", между языками — до {distance} (подобрано по {n} переведённому заголовку)",
            "few": ", между языками — до {distance} (подобрано по {n} переведённым заголовкам)",
            "many": ", между языками — до {distance} (подобрано по {n} переведённым заголовкам)",
            "other": ", между языками — до {distance} (подобрано по {n} переведённым заголовкам)",
        },
        "gaps_pool_lines": "всем строкам",
        "gaps_pool_headings": "заголовкам статей и разделов",
        "gaps_signals": "Сигналы",
        "gaps_nearest": "Ближайшие статьи",
        "gaps_wordings": {
            "one": "Как спрашивали клиенты ({n} формулировка)",
            "few": "Как спрашивали клиенты ({n} формулировки)",
            "many": "Как спрашивали клиенты ({n} формулировок)",
            "other": "Как спрашивали клиенты ({n} формулировки)",
        },
        "gaps_resolved": "Решено",
        "gaps_unhelpful": "Статьи, признанные бесполезными",
        "gaps_built": "Собран за {s} с.",
        "gaps_resolved_by": "отвечает статья {article} с {date}; доля неудач {before}% → {after}%",
        "gaps_votes": "бесполезно: {no}, полезно: {yes}",
        "gaps_mostly": "(чаще всего «{reason}»)",
        "signal_searches": "поиски",
        "signal_unanswered": "без ответа",
        "signal_no_click": "без перехода",
        "signal_reformulated": "переформулированы",
        "signal_rejected_suggestions": "отклонённые подсказки",
        "signal_failed_deflections": "обращения после подсказок",
        "trend_new": "новая",
        "trend_rising": "растёт",
        "trend_falling": "снижается",
        "trend_steady": "стабильно",
        "nav_rules": "Правила поиска",
        "nav_health": "Состояние статей",
        "agent_logged_in": "Вы вошли как {name} ({role})",
        "agent_tickets": "Обращения",
        "agent_paste": "Вставить обращение",
        "agent_subject": "Тема",
        "agent_message": "Сообщение клиента",
        "agent_language": "Язык",
        "agent_detect": "определить",
        "agent_suggest": "Подобрать ответы",
        "agent_no_subject": "(без темы)",
        "agent_pick": "Выберите обращение",
        "agent_pick_text": (
            "Выберите обращение из списка или вставьте его текст: "
            "здесь появятся статьи, которые на него отвечают, их фрагменты и черновик ответа."
        ),
        "agent_route": "Направить: {group} · категория {category} ({percent}%)",
        "agent_no_group": "без группы",
        "agent_draft": "Черновик ответа ({locale})",
        "agent_copy": "Скопировать ответ",
        "agent_mark_sent": "Отметить как отправленный",
        "agent_mark_sent_hint": (
            "Отмеченный ответ сохраняется для команды базы знаний: отчёт о пробелах цитирует его в черновиках статей."
        ),
        "agent_reply_recorded": "Ответ сохранён, спасибо.",
        "agent_to_write": "Дописать:",
        "agent_canned_mark": "(шаблон ответа)",
        "agent_suggested": "Подходящие статьи",
        "agent_no_match": "Ни одна статья не подходит к этому обращению: оно попадёт в отчёт о пробелах.",
        "agent_internal": "внутренняя",
        "agent_confidence": "насколько вероятно, что статья отвечает на обращение",
        "agent_matched": "Совпало с: {source}",
        "agent_feedback": "прежние оценки: {feedback}",
        "agent_insert": "Вставить в ответ",
        "agent_accept": "Подходит",
        "agent_reject": "Не подходит",
        "agent_reason": "Причина",
        "agent_reason_not_related": "Не по теме",
        "agent_reason_does_not_answer": "По теме, но не отвечает",
        "agent_reason_outdated": "Устарела",
        "agent_per_question": "По вопросам",
        "agent_nothing": "ничего не найдено",
        "agent_canned": "Шаблоны ответов",
        "health_title": "Состояние статей, {since} – {until}",
        "health_summary": {
            "one": "{n} публичная или внутренняя статья; замечаний: {findings}.",
            "few": "{n} публичные и внутренние статьи; замечаний: {findings}.",
            "many": "{n} публичных и внутренних статей; замечаний: {findings}.",
            "other": "{n} публичной и внутренней статьи; замечаний: {findings}.",
        },
        "health_fence": (
            "Почти дубликаты: центрированный косинус не меньше {cosine}; порог подобран по ближайшим "
            "соседям в этой базе."
        ),
        "health_nothing": "Всё в порядке.",
        "health_evidence": "Основание",
        "health_fix": "Открыть и исправить",
        "health_duplicate": "Почти одинаковые статьи",
        "health_missing_translation": "Нет перевода у статей, которые открывают",
        "health_stale_translation": "Переводы старее оригинала",
        "health_broken_link": "Битые ссылки между статьями",
        "health_never_shown": "Ни разу не показаны в поиске клиентов",
        "health_never_clicked": "Показаны, но ни разу не открыты",
        "health_ev_duplicate": "косинус {cosine} к «{other_title}» (порог {fence})",
        "health_ev_missing_translation": {
            "one": "нет версии ({language}); открыта {n} раз за период",
            "few": "нет версии ({language}); открыта {n} раза за период",
            "many": "нет версии ({language}); открыта {n} раз за период",
            "other": "нет версии ({language}); открыта {n} раза за период",
        },
        "health_ev_stale_translation": "обновлена {updated}; оригинал {source} обновлён {source_updated}",
        "health_ev_broken_link": "ссылка на {href}, но такой статьи нет",
        "health_ev_never_shown": "ни разу не попала в результаты поиска клиентов за период",
        "health_ev_never_clicked": {
            "one": "показана {n} раз, ни разу не открыта",
            "few": "показана {n} раза, ни разу не открыта",
            "many": "показана {n} раз, ни разу не открыта",
            "other": "показана {n} раза, ни разу не открыта",
        },
        "rules_intro": (
            "Синонимы для каждого языка и закрепления («по этим запросам сначала показывать эту "
            "статью») хранятся в {path} и проверяются как статьи. Они действуют в поиске клиентов, "
            "мгновенном поиске и подсказках операторам; закрепление никогда не покажет клиенту "
            "внутреннюю статью или черновик."
        ),
        "rules_saved": "Сохранено и действует.",
        "rules_not_saved": "{error}: ничего не изменено.",
        "rules_pins": "Закрепления",
        "rules_no_pins": "Пока нет: примените правило из отчёта о пробелах или добавьте его в файл ниже.",
        "rules_queries": "Запросы",
        "rules_first": "Статья первой",
        "rules_added": "Добавлено",
        "rules_remove": "Удалить",
        "rules_synonyms": "Синонимы",
        "rules_no_synonyms": "Пока нет: добавьте группу, например {example}, в файл ниже.",
        "rules_same": "Слова с одним значением",
        "rules_any": "любой",
        "rules_edit": "Изменить файл",
        "rules_save": "Проверить и сохранить",
        "gaps_proposed": {
            "one": "Предлагаемое правило: показывать {title} первой по {n} формулировке (“{query}”, …).",
            "few": "Предлагаемое правило: показывать {title} первой по {n} формулировкам (“{query}”, …).",
            "many": "Предлагаемое правило: показывать {title} первой по {n} формулировкам (“{query}”, …).",
            "other": "Предлагаемое правило: показывать {title} первой по {n} формулировки (“{query}”, …).",
        },
        "gaps_apply": "Применить правило",
        "gaps_category": "Раздел",
        "gaps_draft": "Набросать статью",
        "gaps_typed": "набрано как «{typed}», не та раскладка",
    },
    "uk": {
        "login_title": "Вхід",
        "login_submit": "Увійти",
        "login_intro": "Для агентів підтримки та адміністраторів бази знань. Клієнтам обліковий запис не потрібен.",
        "login_user": "Ім'я користувача",
        "login_password": "Пароль",
        "login_demo": "Режим розробки: увійдіть як {agent} або {admin} з паролем {password}.",
        "login_expired": "Форма входу застаріла, спробуйте ще раз.",
        "login_wrong": "Неправильне ім'я користувача або пароль.",
        "logout": "Вийти",
        "staff_nav": "Сторінки для працівників",
        "nav_dashboard": "Аналітика",
        "nav_gaps": "Звіт про прогалини",
        "nav_agent": "Панель агента",
        "role_agent": "агент",
        "role_admin": "адміністратор",
        "admin_title": {
            "one": "Аналітика пошуку за останній {n} день",
            "few": "Аналітика пошуку за останні {n} дні",
            "many": "Аналітика пошуку за останні {n} днів",
            "other": "Аналітика пошуку за останні {n} дня",
        },
        "days_n": {"one": "{n} день", "few": "{n} дні", "many": "{n} днів", "other": "{n} дня"},
        "kpi_searches": {"one": "пошук", "few": "пошуки", "many": "пошуків", "other": "пошуку"},
        "kpi_answered": "з відповіддю",
        "kpi_ctr": "переходи за результатами",
        "kpi_zero": {
            "one": "пошук без результатів",
            "few": "пошуки без результатів",
            "many": "пошуків без результатів",
            "other": "пошуку без результатів",
        },
        "kpi_votes": "корисно / некорисно",
        "kpi_deflection": {
            "one": "вирішено без звернення ({n} спроба звернутися)",
            "few": "вирішено без звернення ({n} спроби звернутися)",
            "many": "вирішено без звернення ({n} спроб звернутися)",
            "other": "вирішено без звернення ({n} спроби звернутися)",
        },
        "per_day": "Пошуки за днями",
        "per_day_chart": "пошуки, пошуки з відповіддю та з переходом за днями",
        "series_searches": "пошуки",
        "series_answered": "з відповіддю",
        "series_clicked": "з переходом",
        "chart_day": "день",
        "chart_numbers": "Числа",
        "no_searches": "За цей період пошуків не було.",
        "by_locale": "За мовами",
        "col_locale": "мова",
        "col_searches": "пошуки",
        "col_answered": "з відповіддю",
        "col_ctr": "переходи",
        "col_zero": "без результатів",
        "col_query": "запит",
        "col_count": "разів",
        "col_article": "стаття",
        "col_helpful": "корисно",
        "col_not_helpful": "некорисно",
        "col_reason": "найчастіша причина",
        "top_queries": "Часті запити",
        "unanswered_queries": "Запити без відповіді",
        "zero_result_queries": "Запити без результатів",
        "none": "немає",
        "no_votes": "оцінок немає",
        "helpfulness": "Корисність статей",
        "gaps_title": "Звіт про прогалини, {since} – {until}",
        "gaps_export": "Експорт:",
        "gaps_rebuild": "Перебудувати",
        "gaps_first": "Написати або виправити насамперед",
        "gaps_nothing": "Ніщо не провалюється настільки часто, щоб потрапити до звіту.",
        "gaps_absent": "статті немає",
        "gaps_fails": "стаття є, але не допомагає",
        "gaps_weekly": "невдачі за тижнями",
        "gaps_failures": "Невдачі",
        "gaps_failure_rate": {
            "one": "{failures} ({pct}% з {n} пошуку чи звернення)",
            "few": "{failures} ({pct}% з {n} пошуків і звернень)",
            "many": "{failures} ({pct}% з {n} пошуків і звернень)",
            "other": "{failures} ({pct}% з {n} пошуків і звернень)",
        },
        "gaps_locales": "Мови",
        "gaps_locale_unknown": "не визначено",
        "gaps_method": (
            "Запит вважається непокритим, якщо його схожість із найближчою статтею нижча за {threshold}: поріг {how};"
            " формулювання об'єднуються в одну тему на відстані до {distance}{cross}."
        ),
        "gaps_method_fitted": "підібрано за {pool} цієї бази знань (рівна частка помилок {eer}%)",
        "gaps_method_default": "взято за замовчуванням, статей замало, щоб його підібрати",
        "gaps_method_cross": {
            "one": ", між мовами — до {distance} (підібрано за {n} перекладеним заголовком)",
            "few": ", між мовами — до {distance} (підібрано за {n} перекладеними заголовками)",
            "many": ", між мовами — до {distance} (підібрано за {n} перекладеними заголовками)",
            "other": ", між мовами — до {distance} (підібрано за {n} перекладеними заголовками)",
        },
        "gaps_pool_lines": "усіма рядками",
        "gaps_pool_headings": "заголовками статей і розділів",
        "gaps_signals": "Сигнали",
        "gaps_nearest": "Найближчі статті",
        "gaps_wordings": {
            "one": "Як питали клієнти ({n} формулювання)",
            "few": "Як питали клієнти ({n} формулювання)",
            "many": "Як питали клієнти ({n} формулювань)",
            "other": "Як питали клієнти ({n} формулювання)",
        },
        "gaps_resolved": "Вирішено",
        "gaps_unhelpful": "Статті, визнані некорисними",
        "gaps_built": "Зібрано за {s} с.",
        "gaps_resolved_by": "відповідає стаття {article} з {date}; частка невдач {before}% → {after}%",
        "gaps_votes": "некорисно: {no}, корисно: {yes}",
        "gaps_mostly": "(найчастіше «{reason}»)",
        "signal_searches": "пошуки",
        "signal_unanswered": "без відповіді",
        "signal_no_click": "без переходу",
        "signal_reformulated": "переформульовані",
        "signal_rejected_suggestions": "відхилені підказки",
        "signal_failed_deflections": "звернення після підказок",
        "trend_new": "нова",
        "trend_rising": "зростає",
        "trend_falling": "знижується",
        "trend_steady": "стабільно",
        "nav_rules": "Правила пошуку",
        "nav_health": "Стан статей",
        "agent_logged_in": "Ви увійшли як {name} ({role})",
        "agent_tickets": "Звернення",
        "agent_paste": "Вставити звернення",
        "agent_subject": "Тема",
        "agent_message": "Повідомлення клієнта",
        "agent_language": "Мова",
        "agent_detect": "визначити",
        "agent_suggest": "Дібрати відповіді",
        "agent_no_subject": "(без теми)",
        "agent_pick": "Виберіть звернення",
        "agent_pick_text": (
            "Виберіть звернення зі списку або вставте його текст: "
            "тут з'являться статті, що на нього відповідають, їхні фрагменти й чернетка відповіді."
        ),
        "agent_route": "Спрямувати: {group} · категорія {category} ({percent}%)",
        "agent_no_group": "без групи",
        "agent_draft": "Чернетка відповіді ({locale})",
        "agent_copy": "Скопіювати відповідь",
        "agent_mark_sent": "Позначити як надіслану",
        "agent_mark_sent_hint": (
            "Позначена відповідь зберігається для команди бази знань: звіт про прогалини цитує її в чернетках статей."
        ),
        "agent_reply_recorded": "Відповідь збережено, дякуємо.",
        "agent_to_write": "Дописати:",
        "agent_canned_mark": "(шаблон відповіді)",
        "agent_suggested": "Відповідні статті",
        "agent_no_match": "Жодна стаття не відповідає цьому зверненню: воно потрапить до звіту про прогалини.",
        "agent_internal": "внутрішня",
        "agent_confidence": "наскільки ймовірно, що стаття відповідає на звернення",
        "agent_matched": "Збіглося з: {source}",
        "agent_feedback": "попередні оцінки: {feedback}",
        "agent_insert": "Вставити у відповідь",
        "agent_accept": "Підходить",
        "agent_reject": "Не підходить",
        "agent_reason": "Причина",
        "agent_reason_not_related": "Не за темою",
        "agent_reason_does_not_answer": "За темою, але не відповідає",
        "agent_reason_outdated": "Застаріла",
        "agent_per_question": "За питаннями",
        "agent_nothing": "нічого не знайдено",
        "agent_canned": "Шаблони відповідей",
        "health_title": "Стан статей, {since} – {until}",
        "health_summary": {
            "one": "{n} публічна або внутрішня стаття; зауважень: {findings}.",
            "few": "{n} публічні та внутрішні статті; зауважень: {findings}.",
            "many": "{n} публічних і внутрішніх статей; зауважень: {findings}.",
            "other": "{n} публічної та внутрішньої статті; зауважень: {findings}.",
        },
        "health_fence": (
            "Майже дублікати: центрований косинус щонайменше {cosine}; поріг дібрано за найближчими "
            "сусідами в цій базі."
        ),
        "health_nothing": "Усе гаразд.",
        "health_evidence": "Підстава",
        "health_fix": "Відкрити й виправити",
        "health_duplicate": "Майже однакові статті",
        "health_missing_translation": "Немає перекладу у статей, які відкривають",
        "health_stale_translation": "Переклади, старіші за оригінал",
        "health_broken_link": "Биті посилання між статтями",
        "health_never_shown": "Жодного разу не показані в пошуку клієнтів",
        "health_never_clicked": "Показані, але жодного разу не відкриті",
        "health_ev_duplicate": "косинус {cosine} до «{other_title}» (поріг {fence})",
        "health_ev_missing_translation": {
            "one": "немає версії ({language}); відкрита {n} раз за період",
            "few": "немає версії ({language}); відкрита {n} рази за період",
            "many": "немає версії ({language}); відкрита {n} разів за період",
            "other": "немає версії ({language}); відкрита {n} разу за період",
        },
        "health_ev_stale_translation": "оновлена {updated}; оригінал {source} оновлено {source_updated}",
        "health_ev_broken_link": "посилання на {href}, але такої статті немає",
        "health_ev_never_shown": "жодного разу не потрапила в результати пошуку клієнтів за період",
        "health_ev_never_clicked": {
            "one": "показана {n} раз, жодного разу не відкрита",
            "few": "показана {n} рази, жодного разу не відкрита",
            "many": "показана {n} разів, жодного разу не відкрита",
            "other": "показана {n} разу, жодного разу не відкрита",
        },
        "rules_intro": (
            "Синоніми для кожної мови та закріплення («за цими запитами спершу показувати цю статтю») "
            "зберігаються в {path} і перевіряються як статті. Вони діють у пошуку клієнтів, миттєвому "
            "пошуку й підказках операторам; закріплення ніколи не покаже клієнтові внутрішню статтю чи "
            "чернетку."
        ),
        "rules_saved": "Збережено й діє.",
        "rules_not_saved": "{error}: нічого не змінено.",
        "rules_pins": "Закріплення",
        "rules_no_pins": "Поки немає: застосуйте правило зі звіту про прогалини або додайте його у файл нижче.",
        "rules_queries": "Запити",
        "rules_first": "Стаття першою",
        "rules_added": "Додано",
        "rules_remove": "Вилучити",
        "rules_synonyms": "Синоніми",
        "rules_no_synonyms": "Поки немає: додайте групу, наприклад {example}, у файл нижче.",
        "rules_same": "Слова з одним значенням",
        "rules_any": "будь-яка",
        "rules_edit": "Змінити файл",
        "rules_save": "Перевірити й зберегти",
        "gaps_proposed": {
            "one": "Запропоноване правило: показувати {title} першою за {n} формулюванням (“{query}”, …).",
            "few": "Запропоноване правило: показувати {title} першою за {n} формулюваннями (“{query}”, …).",
            "many": "Запропоноване правило: показувати {title} першою за {n} формулюваннями (“{query}”, …).",
            "other": "Запропоноване правило: показувати {title} першою за {n} формулювання (“{query}”, …).",
        },
        "gaps_apply": "Застосувати правило",
        "gaps_category": "Розділ",
        "gaps_draft": "Накидати статтю",
        "gaps_typed": "набрано як «{typed}», не та розкладка",
    },
}
for _lang, _strings in STAFF_STRINGS.items():
    assert not set(_strings) & set(STRINGS[_lang]), "a staff key shadows a help-center key"
    STRINGS[_lang].update(_strings)

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

    def known(self, key: str, fallback: str) -> str:
        """The string when the table has it, else `fallback` marked as English (a name from the code)."""
        if key in self.table or key in STRINGS[DEFAULT]:
            return self(key)
        return in_lang(fallback, DEFAULT, self.lang)

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


def decimal(value: float, lang: str) -> str:
    """A score with two decimals as lang writes it: 0.93 in English, 0,93 in Russian and Ukrainian."""
    return format_decimal(value, format="0.00", locale=lang)


def gaps_method(calibration: dict, lang: str) -> str:
    """How the gap report's thresholds were chosen (GapReport.calibration), in lang, numbers as lang writes them."""
    t = translator(lang)
    c = calibration
    if c.get("fitted"):
        pool = "headings" if c.get("pseudo_queries") == "titles and headings" else "lines"
        how = t("gaps_method_fitted", pool=t(f"gaps_pool_{pool}"), eer=round(100 * c["equal_error_rate"]))
    else:
        how = t("gaps_method_default")
    cross = ""
    if c.get("translated_titles"):
        cross = t("gaps_method_cross", n=c["translated_titles"], distance=decimal(c["cross_language_distance"], lang))
    return t(
        "gaps_method",
        threshold=decimal(c["threshold"], lang),
        how=how,
        distance=decimal(c["cluster_distance"], lang),
        cross=cross,
    )


# Which fact of a health finding (reports/health.py Finding.facts) is the count its message's plural follows.
_HEALTH_COUNTS = {"missing_translation": "clicks", "never_clicked": "shown"}


def health_evidence(kind: str, facts: dict, lang: str, article_lang: str = "") -> str:
    """A content-health finding's evidence in lang: its message with the facts, numbers written as lang writes
    them (0,93 in ru and uk), a language code as its name, another article's title marked with article_lang."""
    values = dict(facts)
    if "other_title" in values:
        values["other_title"] = in_lang(values["other_title"], article_lang, lang)
    for name in ("cosine", "fence"):
        if isinstance(values.get(name), int | float):
            values[name] = decimal(values[name], lang)
    if "locale" in values:
        values["language"] = Locale.parse(values["locale"]).get_display_name(lang) or values["locale"]
    if kind in _HEALTH_COUNTS:
        values["n"] = values[_HEALTH_COUNTS[kind]]
    return translator(lang)(f"health_ev_{kind}", **values)


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
