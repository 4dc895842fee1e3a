"""Turn a BEIR retrieval set into support tickets, bare and wrapped in e-mail noise, for `kb eval-suggest`.

    python benchmarks/noisy_tickets.py ../shared/data/stackfaq OUT_DIR [--seed 7] [--limit N]

Reads DATASET/corpus.jsonl, queries.jsonl and qrels.tsv (header `query-id corpus-id score`; score >= 1 is
relevant) and writes two files in the ticket format of suggest/sample_tickets.jsonl, one ticket per query that
has relevant documents, same ids and `expected` (the relevant corpus ids, in qrels order) in both:

- OUT_DIR/bare.jsonl: subject "", one customer message whose text is the query (whitespace collapsed), nothing
  else.
- OUT_DIR/noisy.jsonl: the same query inside a realistic support e-mail. The question a cleaner should find is
  still the query, word for word; everything around it is noise to be removed.

`--limit N` keeps the first N queries (sorted by id). The noise of a ticket depends only on --seed and the query
id, so a ticket is the same with or without --limit.

Noise (chosen per ticket with random.Random(f"{seed}/{query id}")). The language follows the set: when most
queries contain Cyrillic, all noise is Russian (and `locale` is "ru"), otherwise English ("en").
Every noisy ticket gets a greeting or a signature (or both), plus at least two of the other kinds, so 3 or 4 of:

greeting
    "Hi team,", "Dear Support,", "Добрый день!", "Здравствуйте, Анна!"... on its own line, or (about a third)
    as a prefix of the query's line: "Hi team, how do I ...".
signature
    one of: a sign-off ("Best regards,", "Thanks in advance!", "С уважением,", "Заранее спасибо!") and a block of
    name / title / company / phone / website; "Thanks, Anna" on one line; a sign-off, then a "-- " (sometimes
    "--") delimiter and the block; only the delimiter and the block; rarely (about 1 in 10) the block alone,
    without sign-off or delimiter. About a quarter also end with a mobile footer ("Sent from my iPhone",
    "Get Outlook for iOS", "Отправлено с iPhone", "Отправлено из мобильной Почты Mail.ru").
quoted
    an earlier thread with the support team about an UNRELATED other query of the same set (one whose relevant
    documents do not overlap this query's), so the quoted text must be dropped to find the right answer. It
    appears as an earlier message with role "agent" in `messages` (the agent's reply, which either repeats the
    other question in its text or quotes the customer's earlier mail under its own reply header), and/or as that
    reply quoted in the customer's message, in one of these forms:
      en: Gmail ("On Tue, 18 Nov 2026 at 14:03, Support <help@example.com> wrote:" + "> " lines); the same header
          wrapped over two lines; Apple Mail ("> On 18 Nov 2026, at 14:03, Support <...> wrote:", every line
          quoted); Outlook ("____" line, then unquoted "From: / Sent: / To: / Subject: RE: <other question>" block
          and the earlier mail); "-----Original Message-----" and the same block.
      ru: "В вт, 18 нояб. 2026 г. в 14:03, Поддержка <help@example.com> пишет:"; Apple Mail "18 нояб. 2026 г.,
          в 14:03, Поддержка <...> написал(а):"; Gmail without a verb ("вт, 18 нояб. 2026 г. в 14:03,
          Поддержка <...>:"); Yandex ("18.11.2026, 14:03, "Поддержка" <...>:"); Outlook ("От: / Отправлено: /
          Кому: / Тема:"); "-------- Исходное сообщение --------".
    Usually the customer writes above the quote (top-posting); about 1 quoted block in 10 is bottom-posted
    (header and quote first, the customer's text below it).
small talk
    one sentence that is not a question, before or after the query: "Thanks for the quick help last time!",
    "By the way, love the new dark mode.", "Спасибо за быструю помощь в прошлый раз!"...

Each noisy ticket's `tags` name the noise it got ("noise-greeting", "noise-signature", "noise-quoted",
"noise-smalltalk") and how it was made ("greeting-prefix", "signature-block-only", "signature-footer",
"quote-agent-message", "quote-gmail", "quote-ru-gmail-noverb", "quote-bottom-posted", "smalltalk-before"...), so
results can be sliced by noise; bare tickets have no tags. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOISE_KINDS = ("greeting", "signature", "quoted", "smalltalk")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")

# ---------------------------------------------------------------------------------------------------------
# Noise text, per language

EN = {
    "greetings": [
        "Hi,",
        "Hello,",
        "Hi team,",
        "Hello support team,",
        "Dear Support,",
        "Dear support team,",
        "Good morning,",
        "Good afternoon!",
        "Hey there!",
        "Hi {agent_first},",
        "Hello {agent_first},",
        "Greetings,",
    ],
    "prefix_greetings": ["Hi,", "Hello,", "Hi team,", "Hi there,", "Good morning,", "Hey,"],
    "signoffs": [
        "Best regards,",
        "Kind regards,",
        "Regards,",
        "Thanks,",
        "Thank you,",
        "Many thanks,",
        "Cheers,",
        "Thanks in advance!",
        "Thanks in advance,",
        "Best,",
        "All the best,",
        "Sincerely,",
        "Thank you for your help,",
    ],
    "oneline_signoffs": ["Thanks, {first}", "Cheers, {first}", "Regards, {first}", "Best, {first}"],
    "first_names": [
        "Anna",
        "John",
        "Priya",
        "Tom",
        "Maria",
        "Kenji",
        "Laura",
        "David",
        "Sophie",
        "Lukas",
        "Nina",
        "Carlos",
        "Emily",
        "Ahmed",
        "Grace",
        "Oliver",
    ],
    "last_names": [
        "Becker",
        "Smith",
        "Nair",
        "Walsh",
        "Garcia",
        "Sato",
        "Chen",
        "Okoye",
        "Laurent",
        "Brandt",
        "Kowalski",
        "Mendes",
        "Clarke",
        "Haddad",
        "Nguyen",
        "Turner",
    ],
    "titles": [
        "Office Manager",
        "Head of Operations",
        "Senior Software Engineer",
        "Marketing Lead",
        "Accountant",
        "IT Administrator",
        "Project Manager",
        "Customer Success Manager",
        "CTO",
        "Freelance Designer",
    ],
    "companies": [
        "Acme Ltd",
        "Northwind Traders",
        "Globex Corporation",
        "Brightside Media GmbH",
        "Bluebird Consulting LLC",
        "Helios Labs Inc.",
        "Riverbank Accounting",
        "Kite & Co.",
        "Pixelhaus Studio",
        "Summit Logistics B.V.",
    ],
    "phones": [
        "+1 (555) 01{a}-{b}{c}42",
        "+44 20 7946 0{a}{b}{c}",
        "+49 30 5550 {a}{b}{c}1",
        "+61 2 5550 {a}{b}{c}7",
        "Tel: +1 555 010 {a}{b}{c}4",
        "M: +44 7700 900{a}{b}{c}",
        "Phone: +353 1 555 {a}{b}{c}0",
    ],
    "sites": ["www.{domain}", "https://{domain}", "{domain}"],
    "footers": [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Galaxy",
        "Get Outlook for iOS",
        "Get Outlook for Android",
        "Sent from Mail for Windows",
    ],
    "smalltalk": [
        "Thanks for the quick help last time!",
        "By the way, love the new dark mode.",
        "Hope you're having a good week.",
        "Your team was super helpful with my last ticket.",
        "We've been using your product for two years now and really like it.",
        "Sorry for the long email.",
        "I'm writing from my phone, so sorry for any typos.",
        "Happy Friday, by the way!",
        "Keep up the great work.",
        "Apologies if this has been asked before.",
    ],
    "agent_names": ["Support", "Help Desk", "Customer Support", "Support Team"],
    "agent_first": ["Sarah", "Mike", "Olena", "James", "Chloe", "Daniel"],
    "agent_intros": ["Thanks for getting in touch.", "Thank you for contacting us.", "Thanks for reaching out."],
    "agent_bodies": [
        'You asked: "{other}"\n\nWe\'ve passed this on to our specialists and will get back to you shortly.',
        'Regarding your question "{other}" - could you please send us a screenshot so we can take a closer look?',
        'About "{other}": this should work again after you sign out and back in. Let us know if it doesn\'t.',
        'We\'ve looked into your question ("{other}") and updated the settings on our side.',
    ],
    "agent_bodies_nested": [
        "We've passed your question on to our specialists and will get back to you shortly.",
        "Could you please send us a screenshot so we can take a closer look?",
        "This should work again after you sign out and back in. Let us know if it doesn't.",
    ],
    "agent_signoffs": ["Best regards,", "Kind regards,", "Regards,"],
}

RU = {
    "greetings": [
        "Здравствуйте!",
        "Здравствуйте,",
        "Добрый день!",
        "Добрый день,",
        "Добрый день, коллеги!",
        "Привет!",
        "Доброе утро!",
        "Добрый вечер!",
        "Здравствуйте, {agent_first}!",
        "Добрый день, {agent_first}!",
        "Уважаемая поддержка,",
        "Приветствую!",
        "Доброго времени суток!",
    ],
    "prefix_greetings": ["Здравствуйте!", "Добрый день!", "Привет!", "Здравствуйте,", "Добрый день,", "Доброе утро,"],
    "signoffs": [
        "С уважением,",
        "С уважением",
        "Спасибо,",
        "Заранее спасибо!",
        "Заранее спасибо,",
        "Спасибо за помощь!",
        "Благодарю,",
        "Всего доброго,",
        "С наилучшими пожеланиями,",
        "Спасибо большое,",
        "Хорошего дня!",
    ],
    "oneline_signoffs": ["Спасибо, {first}", "С уважением, {first}", "Заранее спасибо, {first}"],
    "first_names": [
        "Ольга",
        "Иван",
        "Алексей",
        "Мария",
        "Дмитрий",
        "Екатерина",
        "Сергей",
        "Анна",
        "Павел",
        "Наталья",
        "Михаил",
        "Юлия",
    ],
    "last_names_m": ["Петров", "Смирнов", "Кузнецов", "Соколов", "Волков", "Новиков", "Морозов", "Лебедев"],
    "female": {"Ольга", "Мария", "Екатерина", "Анна", "Наталья", "Юлия"},
    "titles": [
        "менеджер по продажам",
        "главный бухгалтер",
        "руководитель отдела ИТ",
        "инженер-программист",
        "офис-менеджер",
        "директор по маркетингу",
        "системный администратор",
        "ведущий аналитик",
    ],
    "companies": [
        "ООО «Ромашка»",
        "ООО «ТехноСфера»",
        "АО «Горизонт»",
        "ИП Кузнецов А. В.",
        "ООО «Вектор»",
        "ЗАО «Северный ветер»",
        "ООО «Альфа-Сервис»",
        "ООО «ДатаЛайн»",
    ],
    "phones": [
        "+7 (495) {a}{b}{c}-45-67",
        "+7 912 {a}{b}{c}-67-89",
        "тел.: +7 (812) 555-{a}{b}-{c}0",
        "моб.: +7 903 {a}{b}{c}-12-34",
        "8 (800) 555-{a}{b}-{c}5",
        "тел. +7 (343) 2{a}{b}-{c}1-00",
    ],
    "sites": ["www.{domain}", "https://{domain}", "{domain}"],
    "footers": [
        "Отправлено с iPhone",
        "Отправлено с моего iPhone",
        "Отправлено из мобильной Почты Mail.ru",
        "Отправлено с моего Galaxy",
        "Get Outlook for Android",
    ],
    "smalltalk": [
        "Спасибо за быструю помощь в прошлый раз!",
        "Кстати, новая тёмная тема просто отличная.",
        "Надеюсь, у вас хорошая неделя.",
        "Извините за длинное письмо.",
        "Пишу с телефона, так что извините за опечатки.",
        "Мы пользуемся вашим сервисом уже два года и очень довольны.",
        "Ваши коллеги очень помогли мне с прошлым обращением.",
        "Хорошей вам пятницы!",
        "Извините, если об этом уже спрашивали.",
    ],
    "agent_names": ["Поддержка", "Служба поддержки", "Support", "Техподдержка"],
    "agent_first": ["Анна", "Мария", "Олег", "Екатерина", "Максим", "Ирина"],
    "agent_intros": ["Спасибо за обращение.", "Спасибо, что написали нам.", "Благодарим за обращение."],
    "agent_bodies": [
        "Вы спрашивали: «{other}»\n\nМы передали ваш вопрос специалистам и скоро вернёмся с ответом.",
        "По вашему вопросу «{other}» — пришлите, пожалуйста, скриншот, чтобы мы могли разобраться.",
        "Насчёт «{other}»: всё должно заработать, если выйти из аккаунта и войти снова. Напишите, если нет.",
        "Мы разобрались с вашим вопросом («{other}») и поправили настройки на нашей стороне.",
    ],
    "agent_bodies_nested": [
        "Мы передали ваш вопрос специалистам и скоро вернёмся с ответом.",
        "Пришлите, пожалуйста, скриншот, чтобы мы могли разобраться.",
        "Всё должно заработать, если выйти из аккаунта и войти снова. Напишите, если нет.",
    ],
    "agent_signoffs": ["С уважением,", "Всего доброго,"],
}

_EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_EN_DAYS_FULL = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_RU_DAYS = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
_RU_DAYS_FULL = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
_RU_MONTHS_SHORT = ["янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.", "нояб.", "дек."]
_RU_MONTHS_GEN = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
    )
)


def _latin(s: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in s.lower())


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------------------
# Reading the set


def read_beir(folder: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Queries {id: text} and relevant corpus ids per query id (score >= 1, qrels order)."""
    queries: dict[str, str] = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = str(row["text"])
    relevant: dict[str, list[str]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header and header[0] != "query-id":  # no header row: the first row is data
            reader = iter([header, *reader])
        for row in reader:
            if len(row) < 3 or not row[0].strip():
                continue
            qid, did, score = row[0].strip(), row[1].strip(), row[2].strip()
            if float(score) >= 1 and did not in relevant.setdefault(qid, []):
                relevant[qid].append(did)
    if not (folder / "corpus.jsonl").is_file():
        raise SystemExit(f"{folder}: no corpus.jsonl, not a BEIR folder")
    return queries, relevant


def is_russian(texts: list[str]) -> bool:
    return sum(1 for t in texts if _CYRILLIC_RE.search(t)) * 2 > len(texts)


# ---------------------------------------------------------------------------------------------------------
# Building one noisy ticket


class _Person:
    def __init__(self, rng: random.Random, lang: dict, ru: bool):
        self.first = rng.choice(lang["first_names"])
        if ru:
            last = rng.choice(lang["last_names_m"])
            self.last = last + "а" if self.first in lang["female"] else last
        else:
            self.last = rng.choice(lang["last_names"])
        self.full = f"{self.first} {self.last}"
        mail_domain = rng.choice(["gmail.com", "outlook.com", "mail.ru" if ru else "yahoo.com", "company.com"])
        self.email = f"{_latin(self.first)}.{_latin(self.last)}@{mail_domain}"
        self.title = rng.choice(lang["titles"])
        self.company = rng.choice(lang["companies"])
        digits = {k: rng.randint(0, 9) for k in "abc"}
        self.phone = rng.choice(lang["phones"]).format(**digits)
        slug = (
            re.sub(
                r"[^a-z0-9]+", "-", _latin(re.sub(r"«|»|\b(ООО|АО|ЗАО|ИП|Ltd|LLC|Inc|GmbH|B\.V)\b", "", self.company))
            ).strip("-")
            or "example"
        )
        self.site = rng.choice(lang["sites"]).format(domain=f"{slug}.com")


def _signature(rng: random.Random, lang: dict, who: _Person) -> tuple[str, list[str]]:
    """(form name, lines) of a signature, without the mobile footer."""
    block = [who.full]
    if rng.random() < 0.7:
        block.append(who.title)
    if rng.random() < 0.8:
        company = who.company
        if rng.random() < 0.35:
            company += f" | {who.phone}"
            block.append(company)
        else:
            block.append(company)
            if rng.random() < 0.8:
                block.append(who.phone)
    elif rng.random() < 0.7:
        block.append(who.phone)
    if rng.random() < 0.3:
        block.append(who.site)
    delim = rng.choice(["-- ", "-- ", "--"])
    form = rng.choices(
        ["signoff_block", "signoff_name", "oneline", "signoff_delim", "delim", "block_only"],
        weights=[35, 15, 10, 12, 18, 10],
    )[0]
    signoff = rng.choice(lang["signoffs"])
    if form == "signoff_block":
        return form, [signoff, *block]
    if form == "signoff_name":
        return form, [signoff, who.first]
    if form == "oneline":
        return form, [rng.choice(lang["oneline_signoffs"]).format(first=who.first)]
    if form == "signoff_delim":
        return form, [signoff, who.first, "", delim, *block]
    if form == "delim":
        return form, [delim, *block]
    return form, block  # block_only: no sign-off, no delimiter


def _quote_header(rng: random.Random, ru: bool, when: datetime, agent: str, addr: str) -> tuple[str, str]:
    """(form name, header text: may span lines) for a quoted reply."""
    d, hm = when, when.strftime("%H:%M")
    mon = _EN_MONTHS[d.month - 1][:3]
    if not ru:
        form = rng.choice(["gmail", "gmail", "gmail_wrapped", "apple", "outlook", "original"])
        if form == "gmail":
            return form, f"On {_EN_DAYS[d.weekday()]}, {d.day} {mon} {d.year} at {hm}, {agent} <{addr}> wrote:"
        if form == "gmail_wrapped":
            return form, f"On {_EN_DAYS[d.weekday()]}, {d.day} {mon} {d.year} at {hm}, {agent} <\n{addr}> wrote:"
        if form == "apple":
            return form, f"On {d.day} {mon} {d.year}, at {hm}, {agent} <{addr}> wrote:"
        clock = f"{(d.hour - 1) % 12 + 1}:{d.minute:02d} {'AM' if d.hour < 12 else 'PM'}"
        sent = f"{_EN_DAYS_FULL[d.weekday()]}, {_EN_MONTHS[d.month - 1]} {d.day}, {d.year} {clock}"
        lead = "________________________________" if form == "outlook" else "-----Original Message-----"
        return form, f"{lead}\nFrom: {agent} <{addr}>\nSent: {sent}\nTo: {{customer}}\nSubject: RE: {{subject}}"
    form = rng.choice(
        ["ru_gmail_verb", "ru_gmail_verb", "ru_apple", "ru_gmail_noverb", "ru_yandex", "ru_outlook", "ru_original"]
    )
    short = f"{d.day} {_RU_MONTHS_SHORT[d.month - 1]} {d.year} г."
    if form == "ru_gmail_verb":
        return form, f"В {_RU_DAYS[d.weekday()]}, {short} в {hm}, {agent} <{addr}> пишет:"
    if form == "ru_apple":
        return form, f"{short}, в {hm}, {agent} <{addr}> написал(а):"
    if form == "ru_gmail_noverb":
        return form, f"{_RU_DAYS[d.weekday()]}, {short} в {hm}, {agent} <{addr}>:"
    if form == "ru_yandex":
        return form, f'{d.strftime("%d.%m.%Y")}, {hm}, "{agent}" <{addr}>:'
    sent = f"{_RU_DAYS_FULL[d.weekday()]}, {d.day} {_RU_MONTHS_GEN[d.month - 1]} {d.year} г. {hm}"
    lead = "________________________________" if form == "ru_outlook" else "-------- Исходное сообщение --------"
    return form, f"{lead}\nОт: {agent} <{addr}>\nОтправлено: {sent}\nКому: {{customer}}\nТема: RE: {{subject}}"


def _agent_reply(
    rng: random.Random, lang: dict, who: _Person, agent_first: str, team: str, other: str, nested_header: str | None
) -> str:
    """The support agent's earlier reply about the unrelated question; nested_header quotes it as '>> '."""
    intro = rng.choice(lang["agent_intros"])
    greet = f"Здравствуйте, {who.first}!" if lang is RU else f"Hi {who.first},"
    if nested_header is None:
        body = rng.choice(lang["agent_bodies"]).format(other=other)
        return f"{greet}\n\n{intro} {body}\n\n{rng.choice(lang['agent_signoffs'])}\n{agent_first}\n{team}"
    body = rng.choice(lang["agent_bodies_nested"])
    return (
        f"{greet}\n\n{intro} {body}\n\n{rng.choice(lang['agent_signoffs'])}\n{agent_first}\n{team}\n\n"
        f"{nested_header}\n> {other}"
    )


def _quote(text: str) -> str:
    return "\n".join("> " + ln if ln.strip() else ">" for ln in text.split("\n"))


def noisy_ticket(qid: str, query: str, expected: list[str], other: str, seed: int, ru: bool) -> dict:
    rng = random.Random(f"{seed}/{qid}")
    lang = RU if ru else EN
    # Which noise: a greeting or a signature (or both), plus at least two of the other kinds.
    anchor = rng.choice(["greeting", "signature"])
    rest = [k for k in NOISE_KINDS if k != anchor]
    kinds = {anchor, *rng.sample(rest, rng.choice([2, 2, 3]))}
    forms: list[str] = []  # how each noise was made, for slicing results: "greeting-prefix", "quote-gmail"...

    who = _Person(rng, lang, ru)
    agent_first = rng.choice(lang["agent_first"])
    team = rng.choice(lang["agent_names"])
    addr = rng.choice(["help@example.com", "support@example.com", "support@helpdesk.example"])
    sent = datetime(2026, 11, 2, 8, 0, tzinfo=UTC) + timedelta(days=rng.randint(0, 26), minutes=rng.randint(0, 11 * 60))
    replied = sent - timedelta(hours=rng.randint(2, 70), minutes=rng.randint(0, 59))

    # The customer's own words: [greeting] [small talk] query [small talk]
    top: list[str] = []
    query_line = query  # the query itself is never changed, only surrounded
    prefixed = False
    if "greeting" in kinds:
        if rng.random() < 0.33:
            query_line = f"{rng.choice(lang['prefix_greetings'])} {query}"
            prefixed = True
            forms.append("greeting-prefix")
        else:
            top += [rng.choice(lang["greetings"]).format(agent_first=agent_first), ""]
            forms.append("greeting-line")
    body = [query_line]
    if "smalltalk" in kinds:
        s = rng.choice(lang["smalltalk"])
        where = rng.choice(["before", "after", "after_para"])
        forms.append("smalltalk-before" if where == "before" and not prefixed else "smalltalk-after")
        if where == "before" and not prefixed:
            body = [s, query_line] if rng.random() < 0.5 else [s + " " + query_line]
        elif where == "after_para":
            body = [query_line, "", s]
        else:
            body = [query_line + " " + s]
    lines = top + body

    if "signature" in kinds:
        form, sig = _signature(rng, lang, who)
        lines += ["", *sig]
        forms.append(f"signature-{form.replace('_', '-')}")
        if rng.random() < 0.25:
            lines += ["", rng.choice(lang["footers"])]
            forms.append("signature-footer")

    messages: list[dict] = []
    if "quoted" in kinds:
        mode = rng.choice(["agent_message", "quote_block", "both"])
        nested = None
        if rng.random() < 0.4:
            _, nested = _quote_header(
                random.Random(f"{seed}/{qid}/nested"), ru, replied - timedelta(hours=5), who.full, who.email
            )
            if "\n" in nested:  # Outlook-style blocks read badly inside a quote: use a one-line header
                nested = (
                    f"{replied.day} {_RU_MONTHS_SHORT[replied.month - 1]} {replied.year} г., {who.full} "
                    f"<{who.email}> написал(а):"
                    if ru
                    else f"On {replied.day} {_EN_MONTHS[replied.month - 1][:3]} {replied.year}, {who.full} "
                    f"<{who.email}> wrote:"
                )
        reply = _agent_reply(rng, lang, who, agent_first, team, other, nested)
        if mode in ("agent_message", "both"):
            messages.append({"role": "agent", "text": reply, "time": _iso(replied)})
            forms.append("quote-agent-message")
        if mode in ("quote_block", "both"):
            form, header = _quote_header(rng, ru, replied, team, addr)
            header = header.replace("{customer}", f"{who.full} <{who.email}>").replace(
                "{subject}", other if len(other) <= 60 else other[:57].rstrip() + "..."
            )
            if form in ("outlook", "original", "ru_outlook", "ru_original"):
                block = [header, "", reply]
            elif form == "apple":
                block = [_quote(header + "\n\n" + reply)]
            else:
                block = [header, _quote(reply)]
            forms.append(f"quote-{form.replace('_', '-')}")
            if rng.random() < 0.1 and form not in ("outlook", "original", "ru_outlook", "ru_original"):
                lines = block + [""] + lines  # bottom-posted: the customer answers below the quote
                forms.append("quote-bottom-posted")
            else:
                lines += ["", *block]

    text = "\n".join(lines)
    messages.append({"role": "customer", "text": text, "time": _iso(sent)})
    return {
        "id": qid,
        "subject": "",
        "locale": "ru" if ru else "en",
        "tags": [f"noise-{k}" for k in NOISE_KINDS if k in kinds] + forms,
        "messages": messages,
        "expected": list(expected),
    }


def bare_ticket(qid: str, query: str, expected: list[str], ru: bool) -> dict:
    return {
        "id": qid,
        "subject": "",
        "locale": "ru" if ru else "en",
        "tags": [],
        "messages": [{"role": "customer", "text": query, "time": "2026-11-20T09:00:00Z"}],
        "expected": list(expected),
    }


def pick_other(rng: random.Random, qid: str, ids: list[str], relevant: dict[str, list[str]]) -> str:
    """An unrelated query: none of its relevant documents is relevant to qid."""
    mine = set(relevant[qid])
    for _ in range(1000):
        cand = rng.choice(ids)
        if cand != qid and not mine & set(relevant[cand]):
            return cand
    raise SystemExit(f"no unrelated query found for {qid}")


def build(folder: Path, out: Path, seed: int = 7, limit: int | None = None) -> tuple[int, bool]:
    queries, relevant = read_beir(folder)
    ids = sorted(q for q in queries if relevant.get(q))
    ru = is_russian([queries[q] for q in ids])
    chosen = ids[:limit] if limit is not None else ids
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "bare.jsonl", "w", encoding="utf-8") as fb, open(out / "noisy.jsonl", "w", encoding="utf-8") as fn:
        for qid in chosen:
            query = " ".join(queries[qid].split())
            other_id = pick_other(random.Random(f"{seed}/{qid}/other"), qid, ids, relevant)
            other = " ".join(queries[other_id].split())
            fb.write(json.dumps(bare_ticket(qid, query, relevant[qid], ru), ensure_ascii=False) + "\n")
            fn.write(json.dumps(noisy_ticket(qid, query, relevant[qid], other, seed, ru), ensure_ascii=False) + "\n")
    return len(chosen), ru


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv")
    ap.add_argument("out_dir", type=Path, help="where bare.jsonl and noisy.jsonl are written")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=None, help="only the first N queries (sorted by id)")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    n, ru = build(args.dataset, args.out_dir, seed=args.seed, limit=args.limit)
    print(
        f"{n} tickets ({'ru' if ru else 'en'} noise) -> {args.out_dir / 'bare.jsonl'}, {args.out_dir / 'noisy.jsonl'}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
