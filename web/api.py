"""The JSON API: search (a contract other tools rely on), clicks, feedback, autocomplete, articles, health."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints

from kb.articles import CATEGORY_PATTERN
from kb.db.limits import ID_MAX, REASON_MAX
from search.service import MAX_QUERY_CHARS
from web.deps import CatalogDep, ClientIPDep, EventsDep, SearchDep, SessionDep
from web.ratelimit import limit
from web.render import render_markdown

router = APIRouter()

LOCALE_PATTERN = r"^[a-z]{2,3}(-[a-z]{2})?$"
NOT_FOUND = "article not found"

QueryText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS)]
LocaleParam = Annotated[str | None, Query(pattern=LOCALE_PATTERN, description="the reader's language, e.g. en, ru, uk")]
CategoryParam = Annotated[str | None, Query(pattern=CATEGORY_PATTERN, description="only articles in this category")]


class Translation(BaseModel):
    id: str
    title: str
    locale: str
    url: str


class SearchResult(BaseModel):
    id: str = Field(description="the article's front-matter id")
    title: str
    title_html: str = Field(description="the title as escaped HTML with <mark> around matching words")
    url: str = Field(description="the article page, with #anchor of the matching section")
    locale: str
    snippet: str = Field(description="escaped HTML with <mark> around matching words")
    section: str
    score: float
    category: str
    other_language: bool
    translation: Translation | None


class AnswerCard(BaseModel):
    text: str = Field(description="the passage that answers, plain text")
    html: str = Field(description="the passage as escaped HTML with <mark> around the query's words")
    article_id: str
    title: str
    section: str
    anchor: str
    url: str = Field(description="the article page at the answering section")
    confidence: float = Field(description="the answered probability of the search")


class SearchOut(BaseModel):
    query: str
    answered: bool = Field(description="whether the knowledge base likely answers the query")
    search_id: str
    corrected: str | None
    locale: str | None = Field(
        description="the language the results are arranged for: the reader's, or the "
        "query's when it is clearly written in Russian or Ukrainian"
    )
    answer: AnswerCard | None = Field(
        description="the answering passage of a public article, when the search is answered with high confidence"
    )
    results: list[SearchResult]


class ClickIn(BaseModel):
    search_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    article_id: Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX)]
    rank: Annotated[int | None, Field(ge=1, le=1000)] = None


class VoteIn(BaseModel):
    """A "was this helpful?" vote on an article."""

    article_id: Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX)]
    helpful: bool
    reason: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, max_length=REASON_MAX),
        Field(description='"not_related", "incomplete", "outdated", "unclear", "other" or free text'),
    ] = None
    search_id: Annotated[str | None, StringConstraints(min_length=1, max_length=64)] = None


class AutocompleteEntry(BaseModel):
    """One line under the search box: a query people asked, or an article."""

    kind: str
    text: str
    url: str | None


class ArticleLink(BaseModel):
    """Another article linked from one: a translation or a related article."""

    id: str
    title: str
    locale: str
    category: str
    url: str
    updated: str | None


class ArticleOut(BaseModel):
    id: str
    title: str
    locale: str
    category: str
    tags: list[str]
    updated: str | None
    html: str = Field(description="the body as sanitised HTML")
    translations: list[ArticleLink]
    related: list[ArticleLink]


def public_url_resolver(catalog):
    """Resolves an article id to its page URL when customers may see it (from the catalogue's cached list)."""
    public = {s.id: s.url for s in catalog.sitemap()}
    return public.get


@router.get("/api/search", response_model=SearchOut, tags=["search"], dependencies=[Depends(limit("search"))])
async def api_search(
    search: SearchDep,
    session: SessionDep,
    ip: ClientIPDep,
    q: Annotated[QueryText, Query(description="what the customer typed (1–500 characters)")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    locale: LocaleParam = None,
    category: CategoryParam = None,
) -> dict:
    """Search public articles: one result per article, best first."""
    response = await run_in_threadpool(
        search.search, q, limit=limit, locale=locale, category=category, audience="customer", session=session, ip=ip
    )
    return response.as_api()


@router.post("/api/click", status_code=204, tags=["events"], dependencies=[Depends(limit("feedback"))])
async def api_click(click: ClickIn, events: EventsDep) -> Response:
    """Log a click on a search result."""
    if events is not None:
        try:
            await run_in_threadpool(events.log_click, click.search_id, click.article_id, click.rank)
        except ValueError as e:
            raise HTTPException(404, f"unknown search_id: {e}") from None
    return Response(status_code=204)


def store_vote(
    events,
    catalog,
    article_id: str,
    helpful: bool,
    reason: str | None,
    search_id: str | None,
    session: str | None,
    ip: str | None,
) -> bool:
    """Log a vote on an article customers can see; False when they cannot."""
    if catalog.article(article_id) is None:
        return False
    if events is None:
        return True
    try:
        events.log_vote(article_id, helpful, reason=reason or None, search_id=search_id, session=session, ip=ip)
    except ValueError:
        # A stale or forged search id must not cost us the vote itself.
        events.log_vote(article_id, helpful, reason=reason or None, session=session, ip=ip)
    return True


@router.post("/api/feedback", status_code=204, tags=["events"], dependencies=[Depends(limit("feedback"))])
async def api_feedback(
    feedback: VoteIn, events: EventsDep, catalog: CatalogDep, session: SessionDep, ip: ClientIPDep
) -> Response:
    """Record "was this helpful?" for an article."""
    ok = await run_in_threadpool(
        store_vote,
        events,
        catalog,
        feedback.article_id,
        feedback.helpful,
        feedback.reason,
        feedback.search_id,
        session,
        ip,
    )
    if not ok:
        raise HTTPException(404, NOT_FOUND)
    return Response(status_code=204)


@router.get(
    "/api/autocomplete",
    response_model=list[AutocompleteEntry],
    tags=["search"],
    dependencies=[Depends(limit("search"))],
)
async def api_autocomplete(
    catalog: CatalogDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    locale: LocaleParam = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> list[dict]:
    """Article titles and frequent successful queries that complete what was typed."""
    if not q.strip():
        return []
    return await run_in_threadpool(catalog.autocomplete, q, locale, limit)


@router.get("/api/articles/{article_id:path}", response_model=ArticleOut, tags=["articles"])
async def api_article(article_id: str, catalog: CatalogDep) -> dict:
    """A public article with its body as sanitised HTML."""
    page = await run_in_threadpool(catalog.article, article_id) if len(article_id) <= 255 else None
    if page is None:
        raise HTTPException(404, NOT_FOUND)  # the same answer for missing and non-public: nothing leaks
    rendered = await run_in_threadpool(
        render_markdown, page.body, title=page.title, locale=page.locale, resolve=public_url_resolver(catalog)
    )
    return {
        "id": page.id,
        "title": page.title,
        "locale": page.locale,
        "category": page.category,
        "tags": page.tags,
        "updated": page.updated,
        "html": rendered.html,
        "translations": [asdict(t) for t in page.translations],
        "related": [asdict(r) for r in page.related],
    }


@router.get("/healthz", tags=["health"])
async def healthz(catalog: CatalogDep) -> dict:
    """Ready: the lifespan finished, the index is open; `articles` counts the public ones."""
    n = len(await run_in_threadpool(catalog.sitemap))
    return {"status": "ok", "articles": n}
