"""The help center's server-rendered pages: fully usable without JavaScript, enhanced by static/search.js."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from kb.articles import CATEGORY_PATTERN, CATEGORY_RE
from search.service import MAX_QUERY_CHARS
from web import i18n
from web.api import public_url_resolver, store_vote
from web.deps import CatalogDep, ClientIPDep, EventsDep, LangDep, SearchDep, SessionDep, SettingsDep, get_lang
from web.ratelimit import limit
from web.render import render_markdown

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")  # autoescape on for .html
templates.env.globals["in_lang"] = i18n.in_lang  # the macros need it too, and they see no context
templates.env.globals["health_evidence"] = i18n.health_evidence
templates.env.globals["gaps_method"] = i18n.gaps_method
templates.env.globals["decimal"] = i18n.decimal
SUPPORT_EMAIL = "support@orbita.example"
SID_PATTERN = r"^[0-9a-f]{8,64}$"


def result_href(url: str, search_id: str | None, rank: int | None = None) -> str:
    """The article URL carrying the search (and rank, which asks the article page to log the click)."""
    path, _, fragment = url.partition("#")
    params: dict[str, str | int] = {}
    if search_id:
        params["sid"] = search_id
    if rank is not None:
        params["rank"] = rank
    return path + (f"?{urlencode(params)}" if params else "") + (f"#{fragment}" if fragment else "")


def _lang_links(request: Request, home: bool = False) -> list[tuple[str, str, str]]:
    """The current page in each UI language (the home page from an error page, which must not echo the URL)."""
    out = []
    for code, name in i18n.LANGUAGES.items():
        params = (
            []
            if home
            else [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "rank", "voted")]
        )
        params.append(("lang", code))
        out.append((code, name, f"{'/' if home else request.url.path}?{urlencode(params)}"))
    return out


def render(request: Request, template: str, lang: str, status_code: int = 200, **context) -> HTMLResponse:
    base = {
        "lang": lang,
        "t": i18n.translator(lang),
        "languages": i18n.LANGUAGES,
        "lang_links": _lang_links(request, home=status_code >= 400),
        "category_name": lambda c: i18n.category_name(c, lang),
        # An index built before categories were validated may still hold one like "../../admin": no link then.
        "category_href": lambda c: f"/categories/{c}" if CATEGORY_RE.match(c or "") else None,
        "category_names": i18n.CATEGORY_NAMES.get(lang, {}),
        "language_name": lambda code: i18n.in_lang(_language_name(code), code, lang),
        "result_href": result_href,
        "support_email": SUPPORT_EMAIL,
        "max_query": MAX_QUERY_CHARS,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)


def _language_name(code: str) -> str:
    return i18n.LANGUAGES.get(code, code)


def error_page(request: Request, status_code: int = 404, invalid: list[str] | None = None) -> HTMLResponse:
    """The one 'not found' page: the same for a missing and a non-public article; with `invalid`, the fields of a
    malformed request (their names, never the values sent)."""
    return render(request, "404.html", get_lang(request), status_code=status_code, invalid=invalid or [])


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, catalog: CatalogDep, lang: LangDep) -> HTMLResponse:
    categories = await run_in_threadpool(catalog.categories, lang)
    popular = await run_in_threadpool(catalog.popular, lang)
    return render(request, "home.html", lang, categories=categories, popular=popular, q="")


@router.get("/search", response_class=HTMLResponse, dependencies=[Depends(limit("search"))])
async def search_page(
    request: Request,
    search: SearchDep,
    catalog: CatalogDep,
    lang: LangDep,
    session: SessionDep,
    ip: ClientIPDep,
    q: str = "",
    # Empty is no category (a form's blank field); anything else must be one.
    category: Annotated[str | None, Query(pattern=f"^$|{CATEGORY_PATTERN}")] = None,
) -> HTMLResponse:
    category = category or None
    query = re.sub(r"\s+", " ", q).strip()
    shortened = len(query) > MAX_QUERY_CHARS
    query = query[:MAX_QUERY_CHARS]
    response = None
    if query:
        response = await run_in_threadpool(
            search.search, query, limit=10, locale=lang, category=category, audience="customer", session=session, ip=ip
        )
    unanswered = response is not None and not (response.answered and response.results)
    categories = await run_in_threadpool(catalog.categories, lang) if unanswered else []
    return render(
        request,
        "search.html",
        lang,
        q=query,
        response=response,
        shortened=shortened,
        category=category,
        categories=categories,
    )


@router.get("/articles/{article_id:path}", response_class=HTMLResponse)
async def article_page(
    request: Request,
    article_id: str,
    catalog: CatalogDep,
    events: EventsDep,
    lang: LangDep,
    sid: Annotated[str | None, Query(pattern=SID_PATTERN)] = None,
    rank: Annotated[int | None, Query(ge=1, le=1000)] = None,
    voted: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    if len(article_id) > 255:
        return error_page(request)
    page = await run_in_threadpool(catalog.article, article_id)
    if page is None:
        return error_page(request)
    if sid and rank is not None:
        # A result link followed without JavaScript: log the click, then drop `rank` so a reload does not log again.
        if events is not None:
            try:
                await run_in_threadpool(events.log_click, sid, page.id, rank)
            except ValueError:
                sid = None  # not a search we logged: do not tie the vote to it either
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("rank", "sid")]
        if sid:
            params.append(("sid", sid))
        return RedirectResponse(f"/articles/{page.id}" + (f"?{urlencode(params)}" if params else ""), status_code=303)
    rendered = await run_in_threadpool(
        render_markdown, page.body, title=page.title, locale=page.locale, resolve=public_url_resolver(catalog)
    )
    return render(
        request,
        "article.html",
        lang,
        page=page,
        body_html=rendered.html,
        toc=rendered.toc,
        sid=sid,
        voted=bool(voted),
        reasons=i18n.REASONS,
    )


@router.post("/articles/{article_id:path}/feedback", dependencies=[Depends(limit("feedback"))])
async def article_feedback(
    request: Request,
    article_id: str,
    catalog: CatalogDep,
    events: EventsDep,
    session: SessionDep,
    ip: ClientIPDep,
    helpful: Annotated[str, Form(pattern="^(yes|no)$")],
    reason: Annotated[str, Form(max_length=1000)] = "",
    sid: Annotated[str, Form(pattern="^([0-9a-f]{8,64})?$")] = "",
) -> Response:
    if len(article_id) > 255:
        return error_page(request)
    reason_value = reason.strip() if helpful == "no" else ""
    ok = await run_in_threadpool(
        store_vote,
        events,
        catalog,
        article_id,
        helpful == "yes",
        reason_value or None,
        sid or None,
        session,
        ip,
    )
    if not ok:
        return error_page(request)
    return RedirectResponse(f"/articles/{article_id}?voted=1#feedback", status_code=303)


@router.get("/categories/{category}", response_class=HTMLResponse)
async def category_page(request: Request, category: str, catalog: CatalogDep, lang: LangDep) -> Response:
    if not CATEGORY_RE.match(category):
        return error_page(request)
    items = await run_in_threadpool(catalog.listing, lang, category)
    if not items:
        items = await run_in_threadpool(catalog.listing, None, category)
    if not items:
        return error_page(request)
    return render(request, "category.html", lang, category=category, items=items)


@router.get("/sitemap.xml")
async def sitemap(catalog: CatalogDep, settings: SettingsDep) -> Response:
    """Every public article's absolute URL, from KB_PUBLIC_URL: never the request's Host, which a client chooses."""
    base = settings.site_url
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for s in await run_in_threadpool(catalog.sitemap):
        lines.append(
            f"  <url><loc>{xml_escape(base + s.url)}</loc>"
            + (f"<lastmod>{xml_escape(s.updated)}</lastmod>" if s.updated else "")
            + "</url>"
        )
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", media_type="application/xml")
