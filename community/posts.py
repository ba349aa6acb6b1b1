"""Posts: influencers write Markdown with ``[[product:ID]]`` embeds, keep drafts, publish, edit and delete.

Bodies are rendered and sanitised when saved (``community.rendering``); embeds are checked against the catalog
then, and a post naming a product that does not exist is refused with the ids it could not find. Products are
read through shop's public API at view time, so a card always shows the current price and stock.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community import timelines
from community.models import Post, PostLike, PostProduct, PostStatus
from community.rendering import MAX_EMBEDS, embedded_ids, render
from community.schemas import AuthorOut, PostIn, PostOut, PostPatch, PostSummary
from kernel.auth import CurrentUser, Role
from kernel.auth.models import User
from kernel.clock import Clock
from kernel.errors import Forbidden, NotFound, RuleBroken
from kernel.pagination import decode_cursor, encode_cursor
from shop import MAX_IMAGE_BYTES, ProductOut, image_kind, products_by_id

HASHTAG = re.compile(r"^[a-z0-9_]{1,30}$")
_BLOCK_TAGS = re.compile(r"</?(?:p|li|h\d|td|th|tr|br|hr|blockquote|pre|div|ul|ol|table)\b[^>]*>")
_TAGS = re.compile(r"<[^>]*>")


def normalise_hashtags(tags: Iterable[str]) -> list[str]:
    """``#Summer``, ``summer`` and `` summer `` are one tag; at most five, each letters, digits or ``_``."""
    result: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").lower()
        if not HASHTAG.match(tag):
            raise RuleBroken(
                "invalid_hashtag",
                f"Hashtag {raw!r} may hold only letters, digits and _ (at most 30).",
                errors=[{"field": "hashtags", "message": f"invalid hashtag {raw!r}"}],
            )
        if tag not in result:
            result.append(tag)
    if len(result) > 5:
        raise RuleBroken("too_many_hashtags", "A post may carry at most 5 hashtags.")
    return result


def excerpt(stored_html: str, length: int = 200) -> str:
    text = " ".join(html.unescape(_TAGS.sub("", _BLOCK_TAGS.sub(" ", stored_html))).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


async def authors(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, AuthorOut]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {uid: AuthorOut(uid, name) for uid, name in rows}


def embeds_by_id(products: Iterable[ProductOut]) -> dict[str, ProductOut]:
    """Products by the id text an embed's placeholder carries (``split_embeds`` gives that text), for the page that
    puts each card in its place."""
    return {str(p.id): p for p in products}


def cover_url(post: Post) -> str | None:
    return f"/media/{post.cover_image_path}" if post.cover_image_path else None


class PostService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # Writing ------------------------------------------------------------------------------------------------
    async def render_body(self, body: str) -> tuple[str, list[UUID]]:
        """Sanitised HTML with placeholders, and the embedded product ids; 422 naming any unknown product."""
        if len(body) > 50_000:
            raise RuleBroken("body_too_long", "A post may be at most 50,000 characters.")
        refs = render(body, str).product_refs
        if len(refs) > MAX_EMBEDS:
            raise RuleBroken("too_many_embeds", f"A post may embed at most {MAX_EMBEDS} products.")
        parsed: dict[str, UUID | None] = {}
        for ref in refs:
            try:
                parsed[ref] = UUID(ref)
            except ValueError:
                parsed[ref] = None
        found = await products_by_id(self.session, [p for p in parsed.values() if p is not None])
        missing = [ref for ref, pid in parsed.items() if pid is None or pid not in found]
        if missing:
            names = ", ".join(missing)
            raise RuleBroken(
                "unknown_product",
                f"The post embeds products that do not exist: {names}.",
                product_ids=missing,
                errors=[{"field": "body", "message": f"no product {ref}"} for ref in missing],
            )
        rendered = render(body, lambda ref: str(parsed[ref]))
        return rendered.html, [pid for pid in parsed.values() if pid is not None]

    async def create(self, author: CurrentUser, data: PostIn) -> Post:
        stored_html, product_ids = await self.render_body(data.body)
        now = self.clock.now()
        post = Post(
            author_id=author.id,
            title=data.title.strip() or data.title,
            body=data.body,
            html=stored_html,
            hashtags=normalise_hashtags(data.hashtags),
            status=data.status,
            published_at=now if data.status == PostStatus.PUBLISHED else None,
        )
        self.session.add(post)
        await self.session.flush()
        await self._set_products(post, product_ids)
        if post.status == PostStatus.PUBLISHED:
            timelines.post_published(self.session, post)
        return post

    async def update(self, user: CurrentUser, post_id: UUID, data: PostPatch) -> Post:
        post = await self._own(user, post_id)
        if data.body is not None:
            post.html, product_ids = await self.render_body(data.body)
            post.body = data.body
            await self._set_products(post, product_ids)
        if data.title is not None:
            post.title = data.title
        if data.hashtags is not None:
            post.hashtags = normalise_hashtags(data.hashtags)
        if data.status is not None and data.status != post.status:
            post.status = data.status
            post.published_at = self.clock.now() if data.status == PostStatus.PUBLISHED else None
            if post.status == PostStatus.PUBLISHED:
                timelines.post_published(self.session, post)
            else:
                timelines.post_removed(self.session, post.id, post.author_id)
        await self.session.flush()
        return post

    async def delete(self, user: CurrentUser, post_id: UUID) -> None:
        post = await self.visible(post_id, user)
        if post.author_id != user.id and not user.has(Role.ADMIN):
            raise Forbidden("not_your_post", "Only the post's author or an admin may delete it.")
        if post.status == PostStatus.PUBLISHED:
            timelines.post_removed(self.session, post.id, post.author_id)
        await self.session.delete(post)
        await self.session.flush()

    async def set_cover(self, user: CurrentUser, post_id: UUID, media_dir: Path, data: bytes) -> Post:
        """Store a cover picture, checked by its bytes like product images (PNG, JPEG or WebP, at most 5 MiB)."""
        post = await self._own(user, post_id)
        if not data or len(data) > MAX_IMAGE_BYTES:
            raise RuleBroken(
                "bad_cover_image",
                f"Upload a picture of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.",
                errors=[{"field": "image", "message": "empty" if not data else "too large"}],
            )
        relative = f"posts/{post.id}-{hashlib.sha256(data).hexdigest()[:16]}.{image_kind(data)}"
        target = media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        post.cover_image_path = relative
        await self.session.flush()
        return post

    async def _set_products(self, post: Post, product_ids: list[UUID]) -> None:
        await self.session.execute(delete(PostProduct).where(PostProduct.post_id == post.id))
        for position, product_id in enumerate(product_ids):
            self.session.add(PostProduct(post_id=post.id, product_id=product_id, position=position))
        await self.session.flush()

    # Reading ------------------------------------------------------------------------------------------------
    async def visible(self, post_id: UUID, viewer: CurrentUser | None) -> Post:
        """A published post, or a draft for its author; anything else is not found (drafts stay private)."""
        post = await self.session.get(Post, post_id)
        if post is None or (post.status != PostStatus.PUBLISHED and (viewer is None or viewer.id != post.author_id)):
            raise NotFound("post_not_found", f"There is no post {post_id}.")
        return post

    async def _own(self, user: CurrentUser, post_id: UUID) -> Post:
        post = await self.visible(post_id, user)
        if post.author_id != user.id:
            raise Forbidden("not_your_post", "Only the post's author may change it.")
        return post

    async def page(
        self, *, author_id: UUID | None, hashtag: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Post], str | None]:
        """Published posts, newest first; ``hashtag`` and ``author_id`` narrow them."""
        query = select(Post).where(Post.status == PostStatus.PUBLISHED)
        if author_id is not None:
            query = query.where(Post.author_id == author_id)
        if hashtag:
            tag = hashtag.strip().lstrip("#").lower()
            if not HASHTAG.match(tag):
                return [], None
            # Tags are [a-z0-9_] only, so the quoted tag matches one whole list element of the JSON text.
            query = query.where(cast(Post.hashtags, String).like(f'%"{tag}"%'))
        if cursor:
            at, last_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
            query = query.where(or_(Post.published_at < at, (Post.published_at == at) & (Post.id < last_id)))
        rows = list(
            await self.session.scalars(query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit + 1))
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].published_at.isoformat(), str(rows[-1].id)) if more and rows else None
        return rows, next_cursor

    async def drafts_and_posts_of(self, author_id: UUID) -> list[Post]:
        """Everything an author wrote, for their studio: most recently changed first."""
        query = select(Post).where(Post.author_id == author_id).order_by(Post.updated_at.desc()).limit(200)
        return list(await self.session.scalars(query))

    async def products(self, post: Post) -> list[ProductOut]:
        """The embedded products as they are now, in the order the post shows them."""
        return await self.products_by_ids([UUID(i) for i in embedded_ids(post.html)])

    async def products_by_ids(self, ids: list[UUID]) -> list[ProductOut]:
        found = await products_by_id(self.session, ids)
        return [found[i] for i in ids if i in found]

    async def liked(self, post_id: UUID, viewer: CurrentUser | None) -> bool:
        if viewer is None:
            return False
        hit = await self.session.scalar(
            select(PostLike.id).where(PostLike.post_id == post_id, PostLike.user_id == viewer.id)
        )
        return hit is not None

    async def out(self, post: Post, viewer: CurrentUser | None) -> PostOut:
        author = (await authors(self.session, [post.author_id]))[post.author_id]
        return PostOut(
            id=post.id,
            author=author,
            title=post.title,
            body=post.body,
            html=post.html,
            hashtags=list(post.hashtags),
            status=post.status,
            cover_image_url=cover_url(post),
            products=await self.products(post),
            like_count=post.like_count,
            comment_count=post.comment_count,
            created_at=post.created_at,
            updated_at=post.updated_at,
            published_at=post.published_at,
            liked=await self.liked(post.id, viewer),
        )

    async def summaries(self, posts: list[Post]) -> list[PostSummary]:
        names = await authors(self.session, [p.author_id for p in posts])
        return [
            PostSummary(
                id=p.id,
                author=names[p.author_id],
                title=p.title,
                excerpt=excerpt(p.html),
                hashtags=list(p.hashtags),
                status=p.status,
                cover_image_url=cover_url(p),
                like_count=p.like_count,
                comment_count=p.comment_count,
                published_at=p.published_at,
                updated_at=p.updated_at,
            )
            for p in posts
        ]


async def post_author(session: AsyncSession, value: str) -> UUID | None:
    """The attribution resolver for ``source: {"post_id": ...}``: a published post's author."""
    try:
        post_id = UUID(value)
    except ValueError:
        return None
    return await session.scalar(select(Post.author_id).where(Post.id == post_id, Post.status == PostStatus.PUBLISHED))


async def bump(session: AsyncSession, post_id: UUID, column: str, by: int) -> None:
    """Move a post's counter with one conditional UPDATE (no read-modify-write; never below zero)."""
    field = getattr(Post, column)
    query = update(Post).where(Post.id == post_id).values({column: field + by})
    if by < 0:
        query = query.where(field >= -by)
    await session.execute(query.execution_options(synchronize_session=False))
