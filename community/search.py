"""The site-wide search behind the header's box: products (through shop's API), published posts, live and upcoming
rooms (through live's read API) and creators, each group newest or soonest first, a few of each.

It is plain case-insensitive substring matching (LIKE with the query's wildcards taken literally): the catalog and
the community are small enough, and the same query runs on SQLite and PostgreSQL. A post also matches when the
query is one of its hashtags (``#linen`` or ``linen``).
"""

from __future__ import annotations

from uuid import UUID

from msgspec import Struct
from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import CreatorProfile, Post, PostStatus
from community.posts import HASHTAG, PostService
from community.schemas import PostSummary
from kernel.auth.models import Role, User, UserRole
from kernel.clock import Clock
from kernel.db import like_pattern
from kernel.errors import DomainError
from live import RoomView, find_rooms
from shop import ProductOut, find_products

MAX_QUERY = 100  # characters; the header's box says so too (maxlength)
PER_GROUP = 8


class BadQuery(DomainError):
    status = 400
    title = "Malformed request"


class CreatorHit(Struct, frozen=True):
    id: UUID
    display_name: str
    bio: str


class SearchResults(Struct, frozen=True):
    query: str
    products: list[ProductOut]
    posts: list[PostSummary]
    rooms: list[RoomView]
    creators: list[CreatorHit]

    @property
    def found(self) -> int:
        return len(self.products) + len(self.posts) + len(self.rooms) + len(self.creators)


def checked_query(q: str) -> str:
    """The query as searched (trimmed); a 400 naming ``q`` when it is longer than anyone types."""
    if len(q) > MAX_QUERY:
        message = f"At most {MAX_QUERY} characters."
        raise BadQuery("query_too_long", message, errors=[{"field": "q", "message": message}])
    return q.strip()


async def search(session: AsyncSession, clock: Clock, q: str, limit: int = PER_GROUP) -> SearchResults:
    """Everything matching ``q``, by kind; nothing for an empty query."""
    query = checked_query(q)
    if not query:
        return SearchResults(query, [], [], [], [])
    now = clock.now()
    return SearchResults(
        query=query,
        products=await find_products(session, query, limit),
        posts=await _posts(session, clock, query, limit),
        rooms=await find_rooms(session, query, not_before=now, limit=limit),
        creators=await _creators(session, query, limit),
    )


async def _posts(session: AsyncSession, clock: Clock, query: str, limit: int) -> list[PostSummary]:
    pattern = like_pattern(query)
    matches = [Post.title.ilike(pattern, escape="\\"), Post.body.ilike(pattern, escape="\\")]
    tag = query.lstrip("#").lower()
    if HASHTAG.match(tag):  # tags are [a-z0-9_] only: the quoted tag is one whole element of the JSON text
        matches.append(cast(Post.hashtags, String).like(f'%"{tag}"%'))
    found = await session.scalars(
        select(Post)
        .where(Post.status == PostStatus.PUBLISHED, or_(*matches))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return await PostService(session, clock).summaries(list(found))


async def _creators(session: AsyncSession, query: str, limit: int) -> list[CreatorHit]:
    rows = await session.execute(
        select(User.id, User.display_name, CreatorProfile.bio)
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.INFLUENCER))
        .outerjoin(CreatorProfile, CreatorProfile.user_id == User.id)
        .where(User.display_name.ilike(like_pattern(query), escape="\\"))
        .order_by(User.display_name, User.id)
        .limit(limit)
    )
    return [CreatorHit(uid, name, bio or "") for uid, name, bio in rows]
