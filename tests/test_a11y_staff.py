"""The staff pages speak en, ru and uk from the one translation table, with CLDR plurals, and follow the switcher."""

from __future__ import annotations

import re

import pytest

from web import i18n

from support import index_kb, login, serve_app


@pytest.mark.parametrize(
    ("lang", "counts"),
    [
        ("en", {1: "1 result", 2: "2 results", 5: "5 results", 21: "21 results"}),
        ("ru", {1: "1 результат", 2: "2 результата", 5: "5 результатов", 21: "21 результат", 11: "11 результатов"}),
        ("uk", {1: "1 результат", 3: "3 результати", 5: "5 результатів", 22: "22 результати", 12: "12 результатів"}),
    ],
)
def test_counted_strings_follow_each_languages_plural_rule(lang, counts):
    t = i18n.translator(lang)
    assert {n: t("results_n", n=n) for n in counts} == counts


def test_every_counted_string_has_every_form_its_language_needs():
    needs = {"en": {"one", "other"}, "ru": {"one", "few", "many", "other"}, "uk": {"one", "few", "many", "other"}}
    for lang, table in i18n.STRINGS.items():
        for key, value in table.items():
            if isinstance(value, dict):
                assert set(value) == needs[lang], (lang, key)
    # ...and every language has every key English has.
    for lang in ("ru", "uk"):
        assert set(i18n.STRINGS["en"]) - set(i18n.STRINGS[lang]) == set(), lang


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serve_app(index_kb(tmp_path_factory.mktemp("staffkb"))) as c:
        c.app.state.services.accounts.add_user("root", "admin", "admin password 1")
        yield c


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Log in", "User name", "Password"]),
        ("ru", ["Вход", "Имя пользователя", "Войти"]),
        ("uk", ["Вхід", "Ім'я користувача", "Увійти"]),
    ],
)
def test_login_page_in_each_language(client, lang, words):
    client.cookies.clear()
    html = client.get("/login", params={"lang": lang}).text
    assert f'<html lang="{lang}">' in html
    assert all(w.replace("'", "&#39;") in html for w in words), words


def test_a_wrong_password_is_said_in_the_readers_language(client):
    client.cookies.clear()
    client.get("/login", params={"lang": "uk"})
    r = login(client, "root", "not the password")
    assert r.status_code == 401 and "Неправильне ім&#39;я користувача або пароль." in r.text


def test_the_dashboard_and_gap_report_follow_the_switcher(client):
    client.cookies.clear()
    login(client, "root", "admin password 1", "/admin")
    for q in ("reset password", "zzqx wibble"):
        client.get("/api/search", params={"q": q})
    ru = client.get("/admin", params={"lang": "ru", "days": 21}).text
    assert '<html lang="ru">' in ru and "Аналитика поиска за последний 21 день" in ru and "По языкам" in ru
    assert re.search(r'<span class="kpi-n">2</span><span>поиска</span>', ru)
    # The cookie the switcher set keeps the language on the next staff page.
    uk = client.get("/admin/gaps").text
    assert '<html lang="uk">' not in uk and '<html lang="ru">' in uk and "Отчёт о пробелах" in uk
    uk = client.get("/admin/gaps", params={"lang": "uk", "days": 28}).text
    assert "Звіт про прогалини" in uk and "28 днів" in uk and "Написати або виправити насамперед" in uk
    en = client.get("/admin", params={"lang": "en", "days": 1}).text
    assert "Search analytics, last 1 day<" in en and re.search(
        r"<span class=\"kpi-n\">2</span><span>searches</span>", en
    )


def test_the_agent_panel_follows_the_switcher_and_marks_the_tickets_language(client):
    client.cookies.clear()
    login(client, "root", "admin password 1", "/agent")
    ru = client.get("/agent", params={"lang": "ru"}).text
    assert '<html lang="ru">' in ru and "<h2>Обращения</h2>" in ru and "Выберите обращение" in ru
    uk = client.get("/agent", params={"lang": "uk", "ticket": "T-1001"}).text
    assert '<html lang="uk">' in uk and "Відповідні статті" in uk and "Вставити у відповідь" in uk
    # The English ticket and the English articles are marked as English inside the Ukrainian page.
    assert '<ol class="thread" lang="en">' in uk and re.search(r'<h3><a href="[^"]+" [^>]*lang="en">', uk)
    assert "Suggested articles" not in uk and "Insert into reply" not in uk


def test_the_rules_and_health_pages_follow_the_switcher(client):
    client.cookies.clear()
    login(client, "root", "admin password 1", "/admin/rules")
    ru = client.get("/admin/rules", params={"lang": "ru"}).text
    assert '<html lang="ru">' in ru and "Изменить файл" in ru and "Проверить и сохранить" in ru
    assert re.search(r"хранятся в <code>[^<]*_rules.yaml</code>", ru)  # the path stays markup, not escaped text
    uk = client.get("/admin/health", params={"lang": "uk"}).text
    assert '<html lang="uk">' in uk and "Стан статей" in uk and "Check and save" not in uk
