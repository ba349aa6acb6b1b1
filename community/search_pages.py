"""Finding things: the header's search (``/search``, grouped results; ``/search/results`` is the fragment the page's
box swaps in as one types) and a hashtag's page (``/tags/{tag}``, the published posts carrying it, newest first).

Both work without JavaScript: the search is a GET form, the hashtag page links to its next page.
"""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from community.posts import HASHTAG, PostService
from community.search import MAX_QUERY, BadQuery, search
from kernel.errors import NotFound

TAG_PAGE = 20


async def _results(db_session: AsyncSession, state: State, q: str) -> tuple[dict[str, object], int]:
    """The results' template context and status: a query too long is shown back with its error, as a 400."""
    try:
        return {"results": await search(db_session, state.clock, q), "errors": {}}, 200
    except BadQuery as exc:
        return {"results": None, "errors": {"q": exc.detail}}, exc.status


@get("/search")
async def search_page(db_session: NamedDependency[AsyncSession], state: State, q: FromQuery[str] = "") -> Template:
    """Products, posts, live and upcoming rooms and creators matching ``q``, grouped by kind."""
    context, status = await _results(db_session, state, q)
    return Template(
        "community/search.html",
        context={**context, "search_query": q[:MAX_QUERY], "max_query": MAX_QUERY},
        status_code=status,
    )


@get("/search/results")
async def search_results(db_session: NamedDependency[AsyncSession], state: State, q: FromQuery[str] = "") -> Template:
    """The results alone, for the search page's box as one types (htmx)."""
    context, status = await _results(db_session, state, q)
    return Template("community/partials/_search_results.html", context=context, status_code=status)


@get("/tags/{tag:str}")
async def tag_page(
    tag: FromPath[str], posts: NamedDependency[PostService], cursor: FromQuery[str | None] = None
) -> Template:
    """The published posts carrying ``#tag``, newest first; a tag no post could carry is not found."""
    name = tag.lower()
    if not HASHTAG.match(name):
        raise NotFound("tag_not_found", f"There is no hashtag {tag[:40]!r}.")
    found, next_cursor = await posts.page(author_id=None, hashtag=name, limit=TAG_PAGE, cursor=cursor)
    return Template(
        "community/tag.html",
        context={"tag": name, "posts": await posts.summaries(found), "next_cursor": next_cursor},
    )


SEARCH_PAGES = [search_page, search_results, tag_page]
