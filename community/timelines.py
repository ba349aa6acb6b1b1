"""Per-reader feeds in Redis (Mastodon's shape): fan-out on write into a capped sorted set per follower.

Each reader's feed is a sorted set of post ids scored by publication time in microseconds (exact in a double),
beside a ``meta`` key that says the feed was built and whether it is complete (``complete``) or lost its oldest
entries to the cap (``truncated``: the database holds whatever lies below its oldest entry). The database stays the
truth: a feed whose ``meta`` is missing (never built, expired after ``IDLE_TTL`` unread, or lost with Redis) is
rebuilt from it on the next read, and ``livecommerce feed rebuild`` rebuilds any feed on demand.

Services record what changed with the four hooks below (``post_published``, ``post_removed``, ``followed``,
``unfollowed``) inside their transaction (through the kernel's after-commit hook); when it commits, the changes go
to this app's :class:`FeedWriter` (set on the session factory by the community plugin), which applies them in a
background task, a batch of followers per pipeline.
Nothing is written to Redis for a transaction that rolls back, and no request waits for a fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from community.models import Follow, Post, PostStatus
from kernel import hooks
from kernel.workers import Worker

log = logging.getLogger("livecommerce.feed")

WRITER_KEY = "livecommerce.feed.writer"  # in a session's ``info``: the app's FeedWriter
_PENDING = "livecommerce.feed.pending"
BATCH = 500  # followers per pipeline
IDLE_TTL = timedelta(days=14)  # a feed nobody reads for this long is dropped (and rebuilt if they come back)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Add entries only to a feed that was built (its meta key exists), then cut it back to the cap, noting the loss.
# KEYS: feed, meta; ARGV: cap, score1, member1, score2, member2, ...
_ADD_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if extra > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
  redis.call('SET', KEYS[2], 'truncated', 'KEEPTTL')
end
return 1
"""


def micros(at: datetime) -> int:
    """A publication time as whole microseconds since 1970: the sorted set's score, exact for the next 250 years."""
    delta = at.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def feed_key(reader_id: UUID) -> str:
    return f"livecommerce:feed:{reader_id}"


def meta_key(reader_id: UUID) -> str:
    return f"livecommerce:feed:{reader_id}:meta"


# --- hooks services call inside their transaction ---------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    kind: Literal["published", "removed", "followed", "unfollowed"]
    subject: UUID  # the post (published, removed) or the reader (followed, unfollowed)
    creator: UUID  # the post's author or the followed creator
    at: int = 0  # the post's score, for ``published``


def _record(session: AsyncSession, change: Change) -> None:
    # The transaction's changes reach the writer as one batch, and only if it commits.
    writer: FeedWriter | None = session.info.get(WRITER_KEY)
    if writer is not None:
        hooks.collect(session, _PENDING, change, writer.submit)


def post_published(session: AsyncSession, post: Post) -> None:
    """``post`` is now published (created so, or a draft published): it enters its author's followers' feeds."""
    if post.published_at is not None:
        _record(session, Change("published", post.id, post.author_id, micros(post.published_at)))


def post_removed(session: AsyncSession, post_id: UUID, author_id: UUID) -> None:
    """The post was deleted or went back to draft: it leaves every feed."""
    _record(session, Change("removed", post_id, author_id))


def followed(session: AsyncSession, reader_id: UUID, creator_id: UUID) -> None:
    """The reader's feed is back-filled with the creator's recent posts."""
    _record(session, Change("followed", reader_id, creator_id))


def unfollowed(session: AsyncSession, reader_id: UUID, creator_id: UUID) -> None:
    """The creator's posts leave the reader's feed."""
    _record(session, Change("unfollowed", reader_id, creator_id))


# --- reading and rebuilding ---------------------------------------------------------------------------------------
async def feed_sources(session: AsyncSession, reader_id: UUID) -> set[UUID]:
    """Whose posts fill the reader's feed: the creators they follow, and themselves (a creator sees their own post
    at once, without waiting for it to trend)."""
    followed = set(await session.scalars(select(Follow.creator_id).where(Follow.follower_id == reader_id)))
    return followed | {reader_id}


async def rebuild_feed(session: AsyncSession, redis: Redis, reader_id: UUID, cap: int) -> int:
    """Write the reader's feed afresh from the database (the newest ``cap`` posts of its sources); return how many
    entries it holds."""
    sources = await feed_sources(session, reader_id)
    rows = (
        await session.execute(
            select(Post.id, Post.published_at)
            .where(Post.author_id.in_(sources), Post.status == PostStatus.PUBLISHED)
            .order_by(Post.published_at.desc(), Post.id.desc())
            .limit(cap)
        )
    ).all()
    ttl = int(IDLE_TTL.total_seconds())
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(feed_key(reader_id))
        if rows:
            pipe.zadd(feed_key(reader_id), {str(pid): micros(at) for pid, at in rows})
            pipe.expire(feed_key(reader_id), ttl)
        pipe.set(meta_key(reader_id), "truncated" if len(rows) >= cap else "complete", ex=ttl)
        await pipe.execute()
    return len(rows)


@dataclass(frozen=True)
class Slice:
    """Entries of a reader's feed below a position, newest first, as ``(score, post id)``."""

    entries: list[tuple[int, UUID]]
    exhausted: bool  # nothing more in Redis below the last entry
    truncated: bool  # ... but the database may hold older entries


async def read_slice(redis: Redis, reader_id: UUID, before: tuple[int, UUID] | None, count: int) -> Slice | None:
    """Up to ``count`` entries strictly below ``before``; None when the feed must be rebuilt first."""
    key = feed_key(reader_id)
    ttl = int(IDLE_TTL.total_seconds())
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(meta_key(reader_id))
        if before is None:
            pipe.zrevrangebyscore(key, "+inf", "-inf", start=0, num=count, withscores=True)
        else:
            # Entries with the same score as ``before`` come after it only when their id is smaller.
            pipe.zrevrangebyscore(key, before[0], before[0], withscores=True)
            pipe.zrevrangebyscore(key, f"({before[0]}", "-inf", start=0, num=count, withscores=True)
        pipe.expire(key, ttl)
        pipe.expire(meta_key(reader_id), ttl)
        replies = await pipe.execute()
    meta = replies[0]
    if meta is None:
        return None
    if before is None:
        found = [(int(score), UUID(_text(member))) for member, score in replies[1]]
    else:
        ties = sorted(
            ((int(score), UUID(_text(member))) for member, score in replies[1] if UUID(_text(member)) < before[1]),
            reverse=True,
        )
        found = ties + [(int(score), UUID(_text(member))) for member, score in replies[2]]
    return Slice(found[:count], exhausted=len(found) < count, truncated=_text(meta) == "truncated")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- the writer ------------------------------------------------------------------------------------------------------
class FeedWriter:
    """Applies committed changes to the readers' feeds in one background task per process."""

    def __init__(self, redis: Redis, sessionmaker: async_sessionmaker[AsyncSession], cap: int) -> None:
        self.redis = redis
        self.sessionmaker = sessionmaker
        self.cap = cap
        self._queue: asyncio.Queue[Sequence[Change]] = asyncio.Queue()
        self._worker = Worker("feed-writer", self._run)
        self._add = redis.register_script(_ADD_SCRIPT)

    def submit(self, changes: Sequence[Change]) -> None:
        self._queue.put_nowait(list(changes))

    def start(self) -> None:
        self._worker.start()

    async def stop(self, drain_for: float = 5.0) -> None:
        """Finish what is queued (for at most ``drain_for`` seconds), then stop."""
        if not self._worker.running:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_for)
        await self._worker.stop()

    async def drain(self) -> None:
        """Wait until every change submitted so far is applied (tests, the benchmark's seeding)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            changes = await self._queue.get()
            try:
                for change in changes:
                    await self.apply(change)
            except (RedisError, OSError) as exc:
                # The feeds are a cache of the database: a lost write is repaired by the next rebuild.
                log.warning("feed.write_lost", extra={"error": str(exc)})
            except Exception:
                log.exception("feed.write_failed")
            finally:
                self._queue.task_done()

    async def apply(self, change: Change) -> None:
        async with self.sessionmaker() as session:
            if change.kind == "published":
                await self._fan_out(session, change, remove=False)
            elif change.kind == "removed":
                await self._fan_out(session, change, remove=True)
            elif change.kind == "followed":
                await self._backfill(session, change.subject, change.creator)
            else:
                await self._trim(session, change.subject, change.creator)

    async def _followers(self, session: AsyncSession, creator_id: UUID) -> AsyncIterator[list[UUID]]:
        """The creator's followers in batches, by id, so a creator with a million followers streams; no database
        transaction stays open while a batch is written to Redis."""
        last: UUID | None = None
        while True:
            query = select(Follow.follower_id).where(Follow.creator_id == creator_id)
            if last is not None:
                query = query.where(Follow.follower_id > last)
            batch = list(await session.scalars(query.order_by(Follow.follower_id).limit(BATCH)))
            await session.rollback()  # ends the read (on SQLite it holds the write lock) before Redis is written
            if not batch:
                return
            yield batch
            last = batch[-1]

    async def _fan_out(self, session: AsyncSession, change: Change, *, remove: bool) -> None:
        member = str(change.subject)
        async for batch in self._followers(session, change.creator):
            await self._write(batch, member, change.at, remove=remove)
        await self._write([change.creator], member, change.at, remove=remove)  # the author's own feed

    async def _write(self, readers: list[UUID], member: str, at: int, *, remove: bool) -> None:
        """One pipeline for a batch of readers: add the post to (or remove it from) each one's feed."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for reader in readers:
                if remove:
                    pipe.zrem(feed_key(reader), member)
                else:
                    await self._add(keys=[feed_key(reader), meta_key(reader)], args=[self.cap, at, member], client=pipe)
            await pipe.execute()

    async def _backfill(self, session: AsyncSession, reader: UUID, creator: UUID) -> None:
        if await self.redis.exists(meta_key(reader)) == 0:
            return  # not built: the next read builds it whole
        rows = (
            await session.execute(
                select(Post.id, Post.published_at)
                .where(Post.author_id == creator, Post.status == PostStatus.PUBLISHED)
                .order_by(Post.published_at.desc(), Post.id.desc())
                .limit(self.cap)
            )
        ).all()
        if len(rows) >= self.cap:
            # The creator alone fills the feed; merging would leave holes among older entries.
            await rebuild_feed(session, self.redis, reader, self.cap)
            return
        if rows:
            args: list[Any] = [self.cap]
            for pid, at in rows:
                args += [micros(at), str(pid)]
            await self._add(keys=[feed_key(reader), meta_key(reader)], args=args)

    async def _trim(self, session: AsyncSession, reader: UUID, creator: UUID) -> None:
        oldest = await self.redis.zrange(feed_key(reader), 0, 0, withscores=True)
        if not oldest:
            return
        since = _EPOCH + timedelta(microseconds=int(oldest[0][1]))
        ids = list(
            await session.scalars(
                select(Post.id).where(Post.author_id == creator, Post.published_at >= since).limit(self.cap)
            )
        )
        for start in range(0, len(ids), BATCH):
            await self.redis.zrem(feed_key(reader), *(str(i) for i in ids[start : start + BATCH]))


async def rebuild_feeds(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, cap: int, reader_ids: Sequence[UUID] = ()
) -> tuple[int, int]:
    """Rebuild the feeds of ``reader_ids`` (when empty: every reader who follows someone, and every author), one
    reader per transaction; return how many feeds and entries were written."""
    feeds = entries = 0
    async with sessionmaker() as session:
        readers = list(reader_ids) or list(
            await session.scalars(select(Follow.follower_id).union(select(Post.author_id)))
        )
    for reader in readers:
        async with sessionmaker() as session:
            entries += await rebuild_feed(session, redis, reader, cap)
            feeds += 1
    return feeds, entries
