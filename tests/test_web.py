"""The help center and its JSON API, in-process over a small KB indexed with a fast fake embedder."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from support import DRAFT, HIDDEN_IDS, HIDDEN_TITLES, INTERNAL, index_kb, serve_app


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return index_kb(tmp_path_factory.mktemp("webkb"))


@pytest.fixture(scope="module")
def client(settings):
    with serve_app(settings) as c:
        yield c


@pytest.fixture(autouse=True)
def _fresh_cookies(request):
    """Each test starts as a new visitor (the module's client is shared)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


class Doc(HTMLParser):
    """A tiny DOM: elements with attributes and text, queried by tag/class/attribute."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self._open)}
        self.elements.append(el)
        if tag not in self.VOID:
            self._open.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def select(self, selector: str) -> list[dict]:
        """Descendant selectors of `tag`, `.class`, `#id`, `[attr]`, `[attr=value]` parts ('.article-body a[href]')."""
        parts = selector.split()

        def match(el, part):
            m = re.fullmatch(r"([a-z0-9]*)((?:[.#][\w-]+)*)((?:\[[\w-]+(?:=[^\]]*)?\])*)", part)
            tag, simple, attrs = m.groups()
            if tag and el["tag"] != tag:
                return False
            for kind, name in re.findall(r"([.#])([\w-]+)", simple):
                if kind == "." and name not in el["attrs"].get("class", "").split():
                    return False
                if kind == "#" and el["attrs"].get("id") != name:
                    return False
            for name, _, value in re.findall(r"\[([\w-]+)(=([^\]]*))?\]", attrs):
                if name not in el["attrs"] or (value and el["attrs"][name] != value.strip("\"'")):
                    return False
            return True

        out = []
        for el in self.elements:
            if not match(el, parts[-1]):
                continue
            chain, ok = el["parents"], True
            for part in reversed(parts[:-1]):
                while chain and not match(chain[-1], part):
                    chain = chain[:-1]
                if not chain:
                    ok = False
                    break
                chain = chain[:-1]
            if ok:
                out.append(el)
        return out


# -- the search contract ------------------------------------------------------------------------


def test_search_contract(client):
    r = client.get("/api/search", params={"q": "reset password", "limit": 5})
    assert r.status_code == 200
    data = r.json()
    assert set(data) >= {"query", "answered", "search_id", "results", "corrected", "locale"}
    assert isinstance(data["answered"], bool) and isinstance(data["search_id"], str) and data["search_id"]
    assert data["query"] == "reset password"
    assert data["results"] and len(data["results"]) <= 5
    for res in data["results"]:
        assert set(res) >= {"id", "title", "url", "locale", "snippet", "section", "score"}
        assert isinstance(res["score"], float) and isinstance(res["title"], str)
        assert res["url"].startswith(f"/articles/{res['id']}")
    assert data["results"][0]["id"] in ("reset-password", "reset-password-ru")
    ids = [res["id"] for res in data["results"]]
    assert len(ids) == len(set(ids))
    cookie = r.headers.get("set-cookie", "")
    assert (
        "kb_session=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=Lax" in cookie.replace("samesite=lax", "SameSite=Lax")
    )


def test_search_locale_arranges_translations(client):
    data = client.get("/api/search", params={"q": "reset password", "locale": "ru"}).json()
    assert data["locale"] == "ru"
    group = [r for r in data["results"] if r["id"].startswith("reset-password")]
    assert group and group[0]["id"] == "reset-password-ru"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 501},
        {"q": "ok", "limit": 0},
        {"q": "ok", "limit": 51},
        {"q": "ok", "limit": "ten"},
        {"q": "ok", "locale": "english"},
        {"q": "ok", "locale": "EN"},
        {"q": "ok", "category": "Billing!"},
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "501",
        "limit0",
        "limit51",
        "limit-nan",
        "locale-long",
        "locale-upper",
        "category",
    ],
)
def test_search_validation(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    body = r.json()
    assert body["message"] and body["detail"]


def test_search_accepts_500_chars_after_trimming(client):
    assert client.get("/api/search", params={"q": "  " + "a" * 500 + "  "}).status_code == 200


# -- nothing internal or draft leaks ------------------------------------------------------------

LEAK_PATHS = [
    "/api/search?q=reset+password+refund+invoices",
    "/api/search?q=refund+approval+playbook+agents",
    "/api/search?q=pricing+draft",
    "/api/autocomplete?q=ref",
    "/api/autocomplete?q=unreleased",
    "/api/autocomplete?q=refund+approval",
    f"/api/articles/{INTERNAL[0]}",
    f"/api/articles/{DRAFT[0]}",
    "/api/articles/reset-password",
    "/api/articles/invoices",
    f"/articles/{INTERNAL[0]}",
    f"/articles/{DRAFT[0]}",
    "/articles/reset-password",
    "/articles/invoices",
    "/articles/two-factor",
    "/search?q=refund+approval+playbook+agents",
    "/search?q=pricing+draft+invoices",
    "/sitemap.xml",
    "/",
    "/?lang=ru",
    "/categories/policies",
    "/categories/billing",
]


@pytest.mark.parametrize("path", LEAK_PATHS)
def test_hidden_articles_never_appear(client, path):
    r = client.get(path)
    assert r.status_code in (200, 404)
    for needle in HIDDEN_IDS + HIDDEN_TITLES:
        assert needle not in r.text, f"{needle!r} leaked in {path}"


def test_missing_and_hidden_articles_answer_alike(client):
    missing, internal, draft = (client.get(f"/api/articles/{i}") for i in ("no-such-article", *HIDDEN_IDS))
    assert missing.status_code == internal.status_code == draft.status_code == 404
    assert missing.json() == internal.json() == draft.json()
    pages = [client.get(f"/articles/{i}") for i in ("no-such-article", *HIDDEN_IDS)]
    assert {p.status_code for p in pages} == {404}
    assert pages[0].text == pages[1].text == pages[2].text


# -- rendering is safe --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/articles/xss-test", "/api/articles/xss-test"])
def test_article_markup_is_inert(client, path):
    r = client.get(path)
    assert r.status_code == 200
    html = r.json()["html"] if path.startswith("/api/") else r.text
    doc = Doc(html)
    if not path.startswith("/api/"):
        assert doc.select(".article-body"), "the page has no article body"
    # The article is still there to read: only its markup was made inert.
    assert "Notes may contain" in html and "clickable" in html and "raw link" in html
    inline = [
        s for s in doc.select("script") if "src" not in s["attrs"] and s["attrs"].get("type") != "application/json"
    ]
    assert not inline, "inline script survived"
    assert all(s["attrs"].get("src") == "/static/search.js" for s in doc.select("script[src]"))
    for el in doc.elements:
        for name, value in el["attrs"].items():
            assert not name.startswith("on"), (el["tag"], name)
            assert "javascript:" not in (value or "").lower(), (el["tag"], name, value)
            if el["tag"] in ("div", "p", "img", "a", "span") and name == "style":
                pytest.fail("inline style survived")
    assert "alert(1)" not in "".join(s["text"] for s in doc.select("script"))


def test_article_rendering(client):
    r = client.get("/articles/reset-password")
    doc = Doc(r.text)
    ids = {h["attrs"].get("id") for h in doc.select(".article-body h2") + doc.select(".article-body h3")}
    assert {"reset-by-email", "didnt-get-the-email", "reset-from-the-app"} <= ids
    toc = [a["attrs"]["href"] for a in doc.select(".toc a")]
    assert toc == ["#reset-by-email", "#didnt-get-the-email", "#reset-from-the-app"]
    links = {a["text"]: a["attrs"].get("href") for a in doc.select(".article-body a")}
    assert links["two-factor authentication"] == "/articles/two-factor"
    assert links["the refund playbook"] is None  # internal target: left inert, nothing revealed
    crumbs = [a["text"] for a in doc.select(".breadcrumb a")]
    assert crumbs == ["Home", "Account"]
    other = [a["attrs"]["href"] for a in doc.select(".article-aside a[hreflang]")]
    assert other == ["/articles/reset-password-ru"]
    assert doc.select("form.feedback-form button[value=no]") and doc.select("select#fb-reason")
    table = Doc(client.get("/articles/invoices").text)
    assert table.select(".article-body table th") and table.select(".article-body pre code")


def test_search_anchor_matches_heading_id(client):
    data = client.get("/api/search", params={"q": "spam folder email", "locale": "en"}).json()
    hit = next(r for r in data["results"] if r["id"] == "reset-password")
    anchor = hit["url"].partition("#")[2]
    if anchor:
        doc = Doc(client.get("/articles/reset-password").text)
        assert doc.select(f"#{anchor}")


def test_query_is_escaped_on_results_page(client):
    r = client.get("/search", params={"q": "<script>alert(1)</script> password"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;" in r.text
    doc = Doc(r.text)
    assert all("src" in s["attrs"] for s in doc.select("script") if s["attrs"].get("type") != "application/json")
    data = Doc(client.get("/search", params={"q": "</script><script>alert(1)</script>"}).text)
    assert not [s for s in data.select("script") if "alert" in s["text"]]


# -- pages --------------------------------------------------------------------------------------


def test_home_page(client):
    r = client.get("/", headers={"accept-language": "en"})
    doc = Doc(r.text)
    form = doc.select("form[action=/search]")
    assert form and form[0]["attrs"]["method"] == "get"
    cats = {a["attrs"]["href"] for a in doc.select(".category-cards a")}
    assert "/categories/account" in cats and "/categories/billing" in cats
    assert doc.select(".popular a")
    assert "Orbita Help Center" in r.text


def test_results_page(client):
    r = client.get("/search", params={"q": "reset password"})
    doc = Doc(r.text)
    links = [a["attrs"]["href"] for a in doc.select(".results .result-title a")]
    assert links and re.match(r"^/articles/[\w-]+\?sid=[0-9a-f]+&rank=1(#.*)?$", links[0])
    assert Doc(r.text).select("input#q[value]")[0]["attrs"]["value"] == "reset password"


def test_results_page_other_language_badge(client):
    doc = Doc(client.get("/search", params={"q": "оплатити підписку", "lang": "en"}).text)
    items = doc.select(".results .result")
    assert items
    assert doc.select(".results .badge")


def test_results_page_nothing_found(client):
    # The fake embedder finds something for any words; a category with no articles finds nothing.
    r = client.get("/search", params={"q": "zzqx wwvy", "category": "mobile"})
    doc = Doc(r.text)
    assert not doc.select(".results .result")
    assert doc.select(".no-answer") and "support@orbita.example" in r.text
    # It says so plainly and offers the way on: tips, topics and the contact form with the query filled in.
    assert len(doc.select(".no-answer .tips li")) == 3 and doc.select(".no-answer .category-chips a")
    assert 'href="/contact?subject=zzqx+wwvy"' in r.text


def test_results_page_empty_query(client):
    r = client.get("/search", params={"q": "   "})
    assert r.status_code == 200 and Doc(r.text).select(".empty")


def test_click_through_result_link_is_logged(client, settings):
    from kb.db.events import EventLog

    r = client.get("/search", params={"q": "two-factor authentication"})
    href = Doc(r.text).select(".results .result-title a")[0]["attrs"]["href"]
    follow = client.get(href.partition("#")[0], follow_redirects=False)
    assert follow.status_code == 303 and "rank=" not in follow.headers["location"]
    sid = re.search(r"sid=([0-9a-f]+)", href).group(1)
    with EventLog(f"sqlite:///{settings.data_dir / 'events.sqlite3'}") as log:
        assert log.get_search(sid).clicked


def test_click_api(client):
    data = client.get("/api/search", params={"q": "invoices"}).json()
    first = data["results"][0]
    ok = client.post("/api/click", json={"search_id": data["search_id"], "article_id": first["id"], "rank": 1})
    assert ok.status_code == 204
    bad = client.post("/api/click", json={"search_id": "0" * 32, "article_id": first["id"]})
    assert bad.status_code == 404 and "search_id" in bad.json()["detail"]
    assert client.post("/api/click", json={"article_id": "x"}).status_code == 422


def _votes(settings, article_id):
    from kb.db.events import EventLog

    with EventLog(f"sqlite:///{settings.data_dir / 'events.sqlite3'}") as log:
        return log.helpfulness(article_id)


def test_feedback_json(client, settings):
    before = _votes(settings, "invoices")
    r = client.post("/api/feedback", json={"article_id": "invoices", "helpful": False, "reason": "outdated"})
    assert r.status_code == 204
    assert _votes(settings, "invoices") == (before[0], before[1] + 1)
    assert (
        client.post(
            "/api/feedback", json={"article_id": "invoices", "helpful": True, "search_id": "f" * 32}
        ).status_code
        == 204
    )
    assert _votes(settings, "invoices") == (before[0] + 1, before[1] + 1)
    for hidden in (*HIDDEN_IDS, "nope"):
        assert client.post("/api/feedback", json={"article_id": hidden, "helpful": True}).status_code == 404
    assert (
        client.post("/api/feedback", json={"article_id": "invoices", "helpful": True, "reason": "x" * 1001}).status_code
        == 422
    )


def test_feedback_form_without_js(client, settings):
    before = _votes(settings, "two-factor")
    r = client.post(
        "/articles/two-factor/feedback", data={"helpful": "no", "reason": "unclear"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert Doc(page.text).select(".thanks")
    assert _votes(settings, "two-factor") == (before[0], before[1] + 1)
    assert client.post(f"/articles/{INTERNAL[0]}/feedback", data={"helpful": "yes"}).status_code == 404


def test_autocomplete(client):
    items = client.get("/api/autocomplete", params={"q": "reset"}).json()
    assert any(i["kind"] == "article" and i["url"] == "/articles/reset-password" for i in items)
    assert client.get("/api/autocomplete", params={"q": ""}).json() == []


def test_article_api(client):
    data = client.get("/api/articles/reset-password").json()
    assert data["id"] == "reset-password" and data["locale"] == "en"
    assert 'id="reset-by-email"' in data["html"]
    assert [t["id"] for t in data["translations"]] == ["reset-password-ru"]
    assert all(r["id"] not in HIDDEN_IDS for r in data["related"])


def test_sitemap(client):
    r = client.get("/sitemap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    locs = re.findall(r"<loc>([^<]+)</loc>", r.text)
    assert any(loc.endswith("/articles/reset-password") for loc in locs)
    assert len(locs) == 6


def test_category_page(client):
    doc = Doc(client.get("/categories/account").text)
    hrefs = {a["attrs"]["href"] for a in doc.select(".article-list a")}
    assert "/articles/reset-password" in hrefs
    assert client.get("/categories/nothing-here").status_code == 404
    assert client.get("/categories/policies").status_code == 404  # only internal articles there


def test_unknown_page_is_404_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert client.get("/api/nothing").headers["content-type"].startswith("application/json")


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "articles": 6}


# -- headers and locale -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=password",
        "/articles/reset-password",
        "/api/search?q=password",
        "/static/style.css",
        "/nope",
        "/sitemap.xml",
        "/healthz",
    ],
)
def test_security_headers(client, path):
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_docs_page(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
    assert "<script>" not in r.text  # no inline script even on the docs page
    assert client.get("/openapi.json").json()["paths"]["/api/search"]


def test_locale_switch(client):
    r = client.get("/?lang=ru")
    assert "Чем мы можем помочь?" in r.text and '<html lang="ru">' in r.text
    assert "kb_lang=ru" in r.headers.get("set-cookie", "")
    again = client.get("/")  # the cookie remembers it
    assert "Чем мы можем помочь?" in again.text
    client.cookies.delete("kb_lang")
    uk = client.get("/", headers={"accept-language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert "Чим ми можемо допомогти?" in uk.text
    en = client.get("/", headers={"accept-language": "de-DE,fr;q=0.8"})
    assert "How can we help?" in en.text
    doc = Doc(en.text)
    assert {a["attrs"]["hreflang"] for a in doc.select(".lang-switch a")} == {"en", "ru", "uk"}


def test_render_markdown_unit():
    from web.render import render_markdown

    out = render_markdown(
        "# T\n\n## Змінити пароль\n\n[a](../x/known.md#s) [b](unknown.md) [c](https://e.com) "
        "[d](javascript:alert(1)) <iframe src=x></iframe>",
        title="T",
        locale="uk",
        resolve={"known-uk": "/articles/known-uk"}.get,
    )
    assert [h.anchor for h in out.toc] == ["змінити-пароль"]
    assert "<h1" not in out.html
    assert 'href="/articles/known-uk#s"' in out.html and 'href="https://e.com"' in out.html
    assert 'href="javascript' not in out.html and "<iframe" not in out.html and "unknown.md" not in out.html


def test_correction_and_translation_badge_with_overridden_search(client):
    """Routes take SearchService from web.deps; a test can swap it (here: a canned corrected response)."""
    from search.service import Result, SearchResponse, Translation
    from web.deps import get_search

    class Canned:
        def search(self, query, **kw):
            return SearchResponse(
                query=query,
                normalized=query,
                answered=True,
                search_id="ab" * 16,
                corrected="пароль",
                locale=kw.get("locale"),
                results=[
                    Result(
                        id="reset-password",
                        title="How to reset <your> password",
                        url="/articles/reset-password#reset-by-email",
                        locale="en",
                        snippet="the <mark>password</mark> &lt;b&gt;",
                        section="Reset by email",
                        score=0.9,
                        category="account",
                        title_html="How to reset &lt;your&gt; <mark>password</mark>",
                        other_language=True,
                        translation=Translation(
                            "reset-password-ru", "Как сбросить пароль", "ru", "/articles/reset-password-ru"
                        ),
                    )
                ],
            )

    client.app.dependency_overrides[get_search] = lambda: Canned()
    try:
        r = client.get("/search", params={"q": "gfhjkm", "lang": "ru"})
        api = client.get("/api/search", params={"q": "gfhjkm"}).json()
    finally:
        client.app.dependency_overrides.clear()
    doc = Doc(r.text)
    assert "Показаны результаты для:" in r.text and doc.select(".correction strong")[0]["text"] == "пароль"
    assert doc.select(".results .badge")
    assert [a["attrs"]["href"] for a in doc.select(".translation-link a")] == ["/articles/reset-password-ru"]
    assert doc.select(".result-title a mark") and "&lt;your&gt;" in r.text and "<b>" not in r.text
    assert (
        doc.select(".result-title a")[0]["attrs"]["href"]
        == f"/articles/reset-password?sid={'ab' * 16}&rank=1#reset-by-email"
    )
    assert api["corrected"] == "пароль" and api["results"][0]["translation"]["id"] == "reset-password-ru"
