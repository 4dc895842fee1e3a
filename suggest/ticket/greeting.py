"""The greeting a message opens with ("Hi team,", "Здравствуйте, Анна!"), or a thanks for the last answer."""

from __future__ import annotations

import re

_I = re.IGNORECASE

# Greetings: a whole short line ("Hi team,", "Здравствуйте, Анна!") or a prefix of the first line
# ("Hi team, I can't log in"). A reply often opens by thanking for the answer ("Thanks for your reply.",
# "Дякую за відповідь."): as search text that is as empty as a greeting.
_GREETING_WORDS = (
    r"(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening|day)|"
    r"здравствуйте|здравствуй|добрый (?:день|вечер)|доброе утро|доброго (?:дня|утра|вечера|времени суток)|"
    r"добрейший день|привет|приветствую|уважаемая|уважаемые|уважаемый|"
    r"вітаю|добрий (?:день|вечір)|добридень|доброго ранку|доброго вечора|доброї днини|привіт|"
    r"шановна|шановні|шановний|здрастуйте|"
    r"(?:thanks|thank you|many thanks)(?: (?:a lot|so much|very much))? for (?:your|the) "
    r"(?:quick |fast |prompt )?(?:reply|answer|response)|"
    r"(?:спасибо|благодарю)(?: большое)? за (?:быстрый )?ответ|дякую(?: дуже)? за (?:швидку )?відповідь)"
)
# The agent's name may come first: "Екатерина, добрый день.", "Олеже, дякую за відповідь." (a capitalised
# word, case-sensitive even inside the case-insensitive patterns).
_VOCATIVE = r"(?:(?-i:[A-ZА-ЯЁІЇЄҐ])[\w'’-]*\s*,\s*)?"
_GREETING_START_RE = re.compile(rf"^\s*{_VOCATIVE}{_GREETING_WORDS}(?![\w'])(?P<rest>.*)$", _I)
_GREETING_PREFIX_RE = re.compile(rf"^\s*{_VOCATIVE}{_GREETING_WORDS}(?:\s+[^\s,!.?:;]+){{0,2}}?\s*[,!.]\s+(?=\S)", _I)
# Who a greeting line may address besides a capitalised name: "Hello support team,", "Добрый день, коллеги!".
# Any other lower-case word means the line goes on with the customer's own words ("Hi, contacting someone on
# github."), and only the greeting words are dropped.
_ADDRESSEE_WORDS = frozenset(
    """team support all everyone everybody there folks guys friends colleagues sir madam or and to you again
    customer service help desk helpdesk care
    коллеги поддержка поддержки служба техподдержка команда всем все друзья господа уважаемая уважаемый
    уважаемые ещё еще раз снова
    колеги підтримко підтримка підтримки служба команда всім усім друзі панове шановна шановний шановні ще
    раз знову""".split()
)
_GREETING_ADDRESSEE_MAX = 4


def _is_greeting_line(line: str) -> bool:
    """A line that is only a greeting and whom it addresses: "Hi team,", "Здравствуйте, Анна!"."""
    m = _GREETING_START_RE.match(line)
    if not m or "?" in line:
        return False
    words = [w for w in re.split(r"[\s,!.:;]+", m.group("rest")) if w]
    if len(words) > _GREETING_ADDRESSEE_MAX:
        return False
    # One word after the greeting is a name even in lower case ("hi anna"); longer tails must be names or
    # addressee words, else they are the customer's first sentence.
    return len(words) <= 1 or all(w[:1].isupper() or w.lower() in _ADDRESSEE_WORDS for w in words)


def drop_greeting(lines: list[str]) -> list[str]:
    """Without the greeting at the start."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _is_greeting_line(line):
            return lines[i + 1 :]
        m = _GREETING_PREFIX_RE.match(line)
        if m:
            return [line[m.end() :]] + lines[i + 1 :]
        return lines[i:]
    return lines
