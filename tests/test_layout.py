"""Wrong keyboard layout fixes: search/layout.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.layout import LayoutFix, fix_layout

RU = [
    ("gfhjkm", "пароль"),
    ("ghbdtn", "привет"),
    ("rfr cjplfnm pfzdre", "как создать заявку"),
    ("Gfhjkm", "Пароль"),
    ("GFHJKM", "ПАРОЛЬ"),
    (",fkfyc", "баланс"),
    ("ghbdtn.", "привет."),
    ("rfr cjplfnm pfzdre?", "как создать заявку?"),
    ("ytn ljcnegf r frrfeyne", "нет доступа к аккаунту"),
    ("pf,sk gfhjkm", "забыл пароль"),
    ("jgkfnf yt ghjikf", "оплата не прошла"),
    ("ckbirjv vyjuj gjgsnjr", "слишком много попыток"),
    ("ghbdtn? rfr ltkf&", "привет, как дела?"),
    ("rnj-nj pf,kjrbhjdfk vjq frrfeyn", "кто-то заблокировал мой аккаунт"),
    ("e vtyz yt hf,jnftn ghbkj;tybt", "у меня не работает приложение"),
    ("'nj yt hf,jnftn", "это не работает"),
    ("gjl]tpl", "подъезд"),
    ("xnj nfrjt gjlgbcrf", "что такое подписка"),
    ("gfhjkm gmail", "пароль gmail"),  # the product name stays
    ("rfr gjlrk.xbnm zapier", "как подключить zapier"),  # an English-looking name stays too
    # Names no dictionary knows are converted when their letter runs are no English word's (Пикетти, Кирни).
    ("xnj ujdjhbn Gbrtnnb", "что говорит Пикетти"),
    ("ekbwf Rbhyb", "улица Кирни"),
    ("hfpkbxbt Fkm-Vedfaafr", "различие Аль-Муваффак"),
    ("rjvgfybz Energiprojekt", "компания Energiprojekt"),
]

UK = [
    ("ghbdsn", "привіт"),
    ("pvsybnb gfhjkm", "змінити пароль"),
    ("yt ghfw.' ljlfnjr", "не працює додаток"),
    ("jgkfnf hf[eyre", "оплата рахунку"),
    ("ljgjvj;snm", "допоможіть"),
    ("g`znm", "п'ять"),
    ("p`'lyfyyz", "з'єднання"),
    ("'lbybq", "єдиний"),
    ("pfdfynf;tyyz afqke", "завантаження файлу"),
    ("yt vj;e edsqnb", "не можу увійти"),
    ("gthtdshbnb gjine", "перевірити пошту"),
]

TO_EN = [
    ("зфыыцщкв", "password", "ru->en"),
    ("куыуе", "reset", "ru->en"),
    ("куыуе зфыыцщкв", "reset password", "ru->en"),
    ("рщц ещ сфтсуд ыгиыскшзешщт", "how to cancel subscription", "ru->en"),
    ("вщцтдщфв ашду", "download file", "ru->en"),
    ("дщпшт", "login", "ru->en"),
    ("ыуеештпы", "settings", "ru->en"),
    ("ірфку ашду", "share file", "uk->en"),
    ("Зфыыцщкв", "Password", "ru->en"),
]

FINE = [
    "password reset",
    "how do I reset my password?",
    "slack",
    "api",
    "orb-429",
    "пароль",
    "iPhone",
    "12345",
    "404",
    "user@example.com",
    "https://example.com/help?q=gfhjkm",
    "www.example.com",
    "v2.3.1",
    "не работает slack",
    "zoom не работает",
    "Как сбросить пароль?",
    "як змінити пароль",
    "я не можу увійти",
    "привіт",
    "vs code",
    "CRM",
    "SSO SAML",
    "Wi-Fi",
    "e-mail",
    "c++",
    "ERR_CONNECTION_RESET",
    "Windows 11",
    "ok google",
    "gmail",
    "kubectl",
    "hello",
    "ytn",  # "нет", but three letters are too little evidence
    "",
    "   ",
    "?!",
]


@pytest.mark.parametrize(("query", "expected"), RU)
def test_russian_typed_on_qwerty(query, expected):
    assert fix_layout(query) == LayoutFix(expected, "en->ru")


@pytest.mark.parametrize(("query", "expected"), UK)
def test_ukrainian_typed_on_qwerty(query, expected):
    assert fix_layout(query) == LayoutFix(expected, "en->uk")


@pytest.mark.parametrize(("query", "expected", "source"), TO_EN)
def test_english_typed_on_cyrillic(query, expected, source):
    assert fix_layout(query) == LayoutFix(expected, source)


@pytest.mark.parametrize("query", FINE)
def test_correct_queries_are_left_alone(query):
    assert fix_layout(query) is None


@pytest.mark.parametrize("query", [q for q, _ in RU + UK] + [q for q, _, _ in TO_EN])
def test_fixed_query_is_final(query):
    fix = fix_layout(query)
    assert fix is not None and fix_layout(fix.text) is None


_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYGFHJK{}:\"<>~ ?&/-"
_CYR = "йцукенгшщзхъфывапролджэячсмитьбюёіїєґ' ,.?"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet=_KEYS, max_size=40),
        st.text(alphabet=_CYR, max_size=40),
        st.lists(st.sampled_from([q for q, _ in RU + UK] + FINE + ["slack", "куыуе", "gmail"]), max_size=4).map(
            " ".join
        ),
    )
)
def test_never_raises_and_is_idempotent(text):
    fix = fix_layout(text)
    if fix is not None:
        assert isinstance(fix.text, str) and fix.text != text
        assert fix.source in {"en->ru", "en->uk", "ru->en", "uk->en"}
        assert fix_layout(fix.text) is None
