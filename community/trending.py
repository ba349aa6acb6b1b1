"""Trending: posts and rooms ranked by recent engagement and attributed sales, decayed by age.

A ranking is a *snapshot* taken at the start of each minute (``snapshot_at``) and counts only what happened
before that instant: likes, comments, sales and reminders with a time earlier than the snapshot, on posts published
(rooms announced) within ``HORIZON_HALF_LIVES`` half-lives before it. Whatever is written afterwards cannot move it,
so a reader paging through trending by ``(score, id)`` sees no duplicates and no gaps, and every worker that
computes the same snapshot gets the same list. Each worker keeps the last snapshots it computed in memory.

    score = (1 + 1·likes + 2·comments + 5·units sold [+ 1·reminders for rooms]) · 2^(-age / half-life)

Rooms count chat messages as comments; a room that has ended is left out (it has nothing left to join).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from community.models import Comment, Post, PostLike, PostStatus, RoomReminder
from live import chat_message_counts, rooms_announced
from shop import units_by_source

SNAPSHOT_EVERY = timedelta(minutes=1)
HORIZON_HALF_LIVES = 7  # older than this, a post's weight is under 1/128 of a fresh one's
MAX_RANKED = 1000
W_LIKE, W_COMMENT, W_SALE, W_REMINDER = 1.0, 2.0, 5.0, 1.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Ranked:
    """One place in a snapshot. Ordering is the list's order reversed: higher score, then higher id, first."""

    score: float
    id: UUID
    kind: Literal["post", "room"]
    owner_id: UUID  # the post's author or the room's host

    @property
    def key(self) -> tuple[float, UUID]:
        return (self.score, self.id)


def snapshot_at(now: datetime) -> datetime:
    """The start of the current snapshot period: every request in one minute shares a ranking."""
    step = int(SNAPSHOT_EVERY.total_seconds())
    seconds = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - seconds % step)


def _decay(at: datetime, moment: datetime, half_life: timedelta) -> float:
    age = max((at - moment).total_seconds(), 0.0)
    return 0.5 ** (age / half_life.total_seconds())


async def _counts(
    session: AsyncSession, of: InstrumentedAttribute[UUID], where: tuple[ColumnElement[bool], ...], ids: set[UUID]
) -> dict[UUID, int]:
    """How many rows matching ``where`` each of ``ids`` has, counted per ``of`` (a foreign key column)."""
    if not ids:
        return {}
    rows = await session.execute(select(of, func.count()).where(*where).group_by(of))
    return {key: n for key, n in rows if key in ids}


async def _ranked_posts(session: AsyncSession, at: datetime, since: datetime, half_life: timedelta) -> list[Ranked]:
    posts = {
        pid: (author, published)
        for pid, author, published in await session.execute(
            select(Post.id, Post.author_id, Post.published_at).where(
                Post.status == PostStatus.PUBLISHED, Post.published_at >= since, Post.published_at < at
            )
        )
    }
    ids = set(posts)
    likes = await _counts(session, PostLike.post_id, (PostLike.at >= since, PostLike.at < at), ids)
    comments = await _counts(
        session,
        Comment.post_id,
        (Comment.at >= since, Comment.at < at, or_(Comment.deleted_at.is_(None), Comment.deleted_at >= at)),
        ids,
    )
    sales = await units_by_source(session, "post_id", since, at)
    ranked = []
    for pid, (author, published) in posts.items():
        weight = 1 + W_LIKE * likes.get(pid, 0) + W_COMMENT * comments.get(pid, 0) + W_SALE * sales.get(str(pid), 0)
        ranked.append(Ranked(weight * _decay(at, published, half_life), pid, "post", author))
    return ranked


async def _ranked_rooms(session: AsyncSession, at: datetime, since: datetime, half_life: timedelta) -> list[Ranked]:
    rooms = {
        room.id: (room.host_id, room.created_at) for room in await rooms_announced(session, since=since, before=at)
    }
    ids = set(rooms)
    reminders = await _counts(session, RoomReminder.room_id, (RoomReminder.at >= since, RoomReminder.at < at), ids)
    chat = await chat_message_counts(session, ids, since=since, before=at)
    sales = await units_by_source(session, "room_id", since, at)
    ranked = []
    for rid, (host, created) in rooms.items():
        weight = 1 + W_REMINDER * reminders.get(rid, 0) + W_COMMENT * chat.get(rid, 0) + W_SALE * sales.get(str(rid), 0)
        ranked.append(Ranked(weight * _decay(at, created, half_life), rid, "room", host))
    return ranked


async def rank(session: AsyncSession, at: datetime, half_life: timedelta) -> list[Ranked]:
    """The snapshot at ``at``: best first, at most ``MAX_RANKED`` entries."""
    since = at - half_life * HORIZON_HALF_LIVES
    ranked = await _ranked_posts(session, at, since, half_life) + await _ranked_rooms(session, at, since, half_life)
    ranked.sort(reverse=True)
    return ranked[:MAX_RANKED]


def after(ranking: list[Ranked], position: tuple[float, UUID] | None) -> list[Ranked]:
    """The entries that come after ``position`` (a ``(score, id)`` already shown); all of them without one."""
    if position is None:
        return ranking
    return [entry for entry in ranking if entry.key < position]


class TrendingCache:
    """The last few snapshots this worker computed, so a minute's requests rank once."""

    KEEP = 3

    def __init__(self, half_life: timedelta) -> None:
        self.half_life = half_life
        self._snapshots: dict[datetime, list[Ranked]] = {}
        self._lock = asyncio.Lock()

    async def ranking(self, session: AsyncSession, at: datetime) -> list[Ranked]:
        if (hit := self._snapshots.get(at)) is not None:
            return hit
        async with self._lock:  # one computation per snapshot, however many requests arrive at once
            if (hit := self._snapshots.get(at)) is None:
                hit = await rank(session, at, self.half_life)
                self._snapshots[at] = hit
                for old in sorted(self._snapshots)[: -self.KEEP]:
                    del self._snapshots[old]
        return hit
