"""Likes and comments on published posts.

Counters on the post move with conditional UPDATEs only when a like or comment row really appears or goes.
Comments are plain text (pages escape them), at most 1,000 characters, and rate-limited per user: at most
``comment_burst`` in any ``comment_window``, counted in a Litestar store (Redis when configured, so every worker
shares the count). They may be removed by their author, the post's author and admins.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from litestar.stores.base import Store
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Comment, Post, PostLike
from community.posts import PostService, authors, bump
from community.schemas import CommentOut, LikeOut
from kernel.auth import CurrentUser, Role
from kernel.clock import Clock
from kernel.errors import Forbidden, NotFound, RateLimited, RuleBroken
from kernel.pagination import decode_cursor, encode_cursor
from kernel.settings import CommunitySettings


class CommentLimiter:
    """A sliding log of one user's recent comment times, kept in ``store`` (shared by workers through Redis)."""

    def __init__(self, store: Store, clock: Clock, settings: CommunitySettings) -> None:
        self.store = store
        self.clock = clock
        self.burst = settings.comment_burst
        self.window = settings.comment_window

    async def take(self, user_id: str) -> None:
        now = self.clock.now().timestamp()
        raw = await self.store.get(user_id)
        recent = [t for t in (json.loads(raw) if raw else []) if t > now - self.window.total_seconds()]
        if len(recent) >= self.burst:
            wait = int(min(recent) + self.window.total_seconds() - now) + 1
            raise RateLimited(
                "comment_rate_limited",
                f"You can post {self.burst} comments per {int(self.window.total_seconds())} s; wait {wait} s.",
                retry_after=wait,
            )
        recent.append(now)
        await self.store.set(user_id, json.dumps(recent), expires_in=self.window)


async def _count(session: AsyncSession, post_id: UUID, column: str) -> int:
    return await session.scalar(select(getattr(Post, column)).where(Post.id == post_id)) or 0


class EngagementService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.posts = PostService(session, clock)

    # Likes --------------------------------------------------------------------------------------------------
    async def like(self, user: CurrentUser, post_id: UUID) -> LikeOut:
        await self._published(post_id, user)
        try:
            async with self.session.begin_nested():
                self.session.add(PostLike(post_id=post_id, user_id=user.id, at=self.clock.now()))
        except IntegrityError:
            pass  # liked already
        else:
            await bump(self.session, post_id, "like_count", +1)
        return LikeOut(post_id, True, await _count(self.session, post_id, "like_count"))

    async def unlike(self, user: CurrentUser, post_id: UUID) -> LikeOut:
        await self._published(post_id, user)
        gone = await self.session.execute(
            delete(PostLike).where(PostLike.post_id == post_id, PostLike.user_id == user.id)
        )
        if gone.rowcount == 1:  # type: ignore[attr-defined]
            await bump(self.session, post_id, "like_count", -1)
        return LikeOut(post_id, False, await _count(self.session, post_id, "like_count"))

    async def _published(self, post_id: UUID, viewer: CurrentUser | None) -> Post:
        post = await self.posts.visible(post_id, viewer)
        if post.status != "published":
            raise RuleBroken("post_not_published", "Drafts take no likes or comments; publish the post first.")
        return post

    # Comments -----------------------------------------------------------------------------------------------
    async def comment(self, user: CurrentUser, post_id: UUID, text: str, limiter: CommentLimiter) -> CommentOut:
        await self._published(post_id, user)
        text = text.strip()
        if not text:
            raise RuleBroken("empty_comment", "Write something first.", errors=[{"field": "text", "message": "empty"}])
        await limiter.take(str(user.id))
        comment = Comment(post_id=post_id, author_id=user.id, text=text, at=self.clock.now())
        self.session.add(comment)
        await self.session.flush()
        await bump(self.session, post_id, "comment_count", +1)
        return (await self.outs([comment]))[0]

    async def delete_comment(self, user: CurrentUser, comment_id: UUID) -> None:
        comment = await self.session.get(Comment, comment_id)
        if comment is None or comment.deleted_at is not None:
            raise NotFound("comment_not_found", f"There is no comment {comment_id}.")
        post = await self.posts.visible(comment.post_id, user)
        allowed = user.id in (comment.author_id, post.author_id) or user.has(Role.ADMIN)
        if not allowed:
            raise Forbidden("not_your_comment", "Only its author, the post's author or an admin may remove it.")
        gone = await self.session.execute(
            update(Comment)
            .where(Comment.id == comment_id, Comment.deleted_at.is_(None))
            .values(deleted_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )
        if gone.rowcount == 1:  # type: ignore[attr-defined]
            await bump(self.session, post.id, "comment_count", -1)

    async def comments(
        self, post_id: UUID, viewer: CurrentUser | None, limit: int, cursor: str | None
    ) -> tuple[list[CommentOut], str | None]:
        """A post's comments, oldest first (a conversation reads top to bottom)."""
        await self.posts.visible(post_id, viewer)
        query = select(Comment).where(Comment.post_id == post_id, Comment.deleted_at.is_(None))
        if cursor:
            at, last_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
            query = query.where(or_(Comment.at > at, (Comment.at == at) & (Comment.id > last_id)))
        rows = list(await self.session.scalars(query.order_by(Comment.at, Comment.id).limit(limit + 1)))
        more, rows = len(rows) > limit, rows[:limit]
        next_cursor = encode_cursor(rows[-1].at.isoformat(), str(rows[-1].id)) if more and rows else None
        return await self.outs(rows), next_cursor

    async def outs(self, comments: list[Comment]) -> list[CommentOut]:
        names = await authors(self.session, [c.author_id for c in comments])
        return [CommentOut(c.id, c.post_id, names[c.author_id], c.text, c.at) for c in comments]
