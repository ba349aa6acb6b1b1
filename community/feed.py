"""The Fan Zone feed: followed creators' posts and rooms, newest first, then trending; signed out, trending only.

A page is ``{live_now, upcoming, items, next_cursor}``. The two room strips come with the first page. ``items``
run in two phases, and the cursor says which one the next page continues:

* **following** — posts of the creators the reader follows (and the reader's own, so a creator sees a new post at
  once), merged with those creators' live and upcoming rooms, by ``(time, id)`` descending (a post's time is its
  publication, a room's its announcement). Keyset pagination on that pair: a post published while the reader pages
  lands above the first page, never in a later one.
* **trending** — ``community.trending``'s frozen snapshot, by ``(score, id)`` descending, leaving out the
  creators the reader follows (their content came in the first phase). The cursor carries the snapshot's time.

With Redis the following phase reads the reader's feed written on publish (``community.timelines``); without, the
same rows come from one query. Both give the same items; the tests compare them page by page.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from msgspec import Struct
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Post, PostProduct, PostStatus, RoomReminder
from community.posts import authors, cover_url, excerpt
from community.schemas import AuthorOut
from community.timelines import feed_sources, micros, read_slice, rebuild_feed
from community.trending import SNAPSHOT_EVERY, Ranked, TrendingCache, after, snapshot_at
from kernel.auth import CurrentUser
from kernel.clock import Clock
from kernel.errors import RuleBroken
from kernel.pagination import decode_cursor, encode_cursor
from kernel.settings import CommunitySettings
from live import RoomStatus, RoomView, live_now, open_rooms_of_hosts, rooms_by_id, upcoming

log = logging.getLogger("livecommerce.feed")
STRIP_SIZE = 12
MAX_SNAPSHOT_AGE = timedelta(hours=6)  # how long "Load more" may continue one trending snapshot
STARTING_SOON_GRACE = timedelta(hours=2)  # a scheduled room this late is still "upcoming" until its host starts
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Key = tuple[int, UUID]  # (microseconds since 1970, id): an item's place in the following phase


class PostItem(Struct, tag_field="kind", tag="post"):
    id: UUID
    title: str
    excerpt: str
    cover_image_url: str | None
    author: AuthorOut
    published_at: datetime | None
    like_count: int
    comment_count: int
    product_count: int  # shoppable product cards embedded in the post
    hashtags: list[str]
    url: str
    reason: str  # "following", "yours" (the reader's own) or "trending"


class RoomItem(Struct, tag_field="kind", tag="room"):
    id: UUID
    title: str
    status: str  # scheduled, live (ended rooms leave the feed)
    host: AuthorOut
    scheduled_for: datetime | None
    started_at: datetime | None
    url: str
    calendar_url: str
    reminded: bool  # the reader asked to be told when it goes live
    reason: str  # "following", "yours", "trending", or "strip" in live_now / upcoming


FeedItem = PostItem | RoomItem


class FeedOut(Struct):
    live_now: list[RoomItem]  # on the first page only; followed hosts first
    upcoming: list[RoomItem]  # on the first page only; followed hosts first, then soonest
    items: list[FeedItem]
    next_cursor: str | None


def _at(key_micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=key_micros)


def _key_before(column: Any, id_column: Any, before: Key | None) -> Any:
    if before is None:
        return True
    at = _at(before[0])
    return or_(column < at, and_(column == at, id_column < before[1]))


def _parse_cursor(cursor: str) -> tuple[str, int, float | None, UUID | None]:
    """``["f", micros, null, id]`` (following) or ``["t", snapshot micros, score | null, id | null]`` (trending)."""

    def optional(convert: Any) -> Any:
        return lambda value: None if value is None else convert(value)

    phase, when, score, last = decode_cursor(cursor, str, int, optional(float), optional(UUID))
    misplaced = phase == "t" and (
        when <= 0 or when % int(SNAPSHOT_EVERY.total_seconds() * 1_000_000) or (score is None) != (last is None)
    )
    if phase not in ("f", "t") or (phase == "f" and last is None) or misplaced:
        raise RuleBroken("bad_cursor", "The cursor is not one this server gave out for the feed; start again.")
    return phase, when, score, last


class FeedService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        settings: CommunitySettings,
        trending: TrendingCache,
        redis: Redis | None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.trending = trending
        self.redis = redis

    async def page(self, reader: CurrentUser | None, limit: int, cursor: str | None) -> FeedOut:
        reader_id = reader.id if reader is not None else None
        # The reader's sources: the creators they follow, and themselves.
        follows = await feed_sources(self.session, reader_id) if reader_id else set()
        phase, when, score, last = _parse_cursor(cursor) if cursor else ("f" if follows else "t", 0, None, None)
        items: list[FeedItem] = []
        if phase == "f":
            before = (when, last) if last is not None else None
            keyed, more = await self._following(reader_id, follows, before, limit) if reader_id else ([], False)
            items = [item for _, item in keyed]
            if more:
                return await self._out(
                    reader_id, follows, cursor, items, encode_cursor("f", keyed[-1][0][0], None, str(keyed[-1][0][1]))
                )
            phase, when, score, last = "t", micros(snapshot_at(self.clock.now())), None, None
        at = _at(when) if when else snapshot_at(self.clock.now())
        if at > self.clock.now():
            raise RuleBroken("bad_cursor", "The cursor is not one this server gave out for the feed; start again.")
        if at < self.clock.now() - MAX_SNAPSHOT_AGE:  # each snapshot costs a ranking: old ones are not kept
            raise RuleBroken("cursor_expired", "This trending page is too old to continue; start from the top again.")
        ranked, more = await self._trending(reader_id, follows, at, (score, last) if last else None, limit - len(items))
        items += [item for _, item in ranked]
        next_cursor = None
        if more and ranked:
            tail = ranked[-1][0]
            next_cursor = encode_cursor("t", micros(at), tail.score, str(tail.id))
        elif more:  # the following phase filled this page exactly: trending starts on the next
            next_cursor = encode_cursor("t", micros(at), None, None)
        return await self._out(reader_id, follows, cursor, items, next_cursor)

    async def _out(
        self,
        reader_id: UUID | None,
        follows: set[UUID],
        cursor: str | None,
        items: list[FeedItem],
        next_cursor: str | None,
    ) -> FeedOut:
        if cursor is not None:
            return FeedOut([], [], items, next_cursor)
        live, upcoming = await self._strips(reader_id, follows)
        return FeedOut(live, upcoming, items, next_cursor)

    # Following -----------------------------------------------------------------------------------------------------
    async def _following(
        self, reader_id: UUID, follows: set[UUID], before: Key | None, limit: int
    ) -> tuple[list[tuple[Key, FeedItem]], bool]:
        """Up to ``limit`` items below ``before`` and whether more follow."""
        if not follows:
            return [], False
        post_keys = await self.followed_post_keys(reader_id, follows, before, limit + 1)
        room_before = (_at(before[0]), before[1]) if before is not None else None
        rooms = await open_rooms_of_hosts(self.session, follows, before=room_before, limit=limit + 1)
        merged: list[tuple[Key, Any]] = [(k, ("post", k[1])) for k in post_keys]
        merged += [((micros(r.created_at), r.id), ("room", r)) for r in rooms]
        merged.sort(key=lambda pair: pair[0], reverse=True)
        more = len(merged) > limit
        merged = merged[:limit]
        posts = await self._post_items([k[1] for k, (kind, _) in merged if kind == "post"], "following")
        room_items = await self._room_items(reader_id, [v for _, (kind, v) in merged if kind == "room"], "following")
        keyed = [(k, posts[v] if kind == "post" else room_items[v.id]) for k, (kind, v) in merged]
        for _, item in keyed:
            if (item.author if isinstance(item, PostItem) else item.host).id == reader_id:
                item.reason = "yours"
        return keyed, more

    async def followed_post_keys(
        self, reader_id: UUID, follows: set[UUID], before: Key | None, count: int
    ) -> list[Key]:
        """The keys of the next ``count`` posts of followed creators: from the reader's Redis feed when there is
        one, else from the database."""
        if self.redis is None:
            return await self._post_keys_from_db(follows, before, count)
        try:
            return await self._post_keys_from_redis(reader_id, follows, before, count)
        except (RedisError, OSError) as exc:  # Redis is a cache of the database: serve the same rows from there
            log.warning("feed.redis_unavailable", extra={"error": str(exc)})
            return await self._post_keys_from_db(follows, before, count)

    async def _post_keys_from_db(self, follows: set[UUID], before: Key | None, count: int) -> list[Key]:
        rows = await self.session.execute(
            select(Post.published_at, Post.id)
            .where(
                Post.author_id.in_(follows),
                Post.status == PostStatus.PUBLISHED,
                _key_before(Post.published_at, Post.id, before),
            )
            .order_by(Post.published_at.desc(), Post.id.desc())
            .limit(count)
        )
        return [(micros(at), pid) for at, pid in rows]

    async def _post_keys_from_redis(
        self, reader_id: UUID, follows: set[UUID], before: Key | None, count: int
    ) -> list[Key]:
        assert self.redis is not None
        found: list[Key] = []
        position = before
        while len(found) < count:
            piece = await read_slice(self.redis, reader_id, position, count - len(found))
            if piece is None:
                await rebuild_feed(self.session, self.redis, reader_id, self.settings.feed_cap)
                continue
            # An entry whose post went back to draft, or whose author was unfollowed, while the feed's writer
            # was still catching up, is skipped here: the database decides what the reader may see.
            live = await self._still_followed_published([pid for _, pid in piece.entries], follows)
            found += [entry for entry in piece.entries if entry[1] in live]
            if piece.entries:
                position = piece.entries[-1]
            if piece.exhausted:
                if piece.truncated:  # older entries fell off the capped feed: the database has them
                    found += await self._post_keys_from_db(follows, position, count - len(found))
                break
        return found[:count]

    async def _still_followed_published(self, ids: list[UUID], follows: set[UUID]) -> set[UUID]:
        if not ids:
            return set()
        rows = await self.session.execute(
            select(Post.id, Post.author_id).where(Post.id.in_(ids), Post.status == PostStatus.PUBLISHED)
        )
        return {pid for pid, author in rows if author in follows}

    # Trending ------------------------------------------------------------------------------------------------------
    async def _trending(
        self,
        reader_id: UUID | None,
        follows: set[UUID],
        at: datetime,
        position: tuple[float, UUID] | None,
        limit: int,
    ) -> tuple[list[tuple[Ranked, FeedItem]], bool]:
        """Up to ``limit`` entries of the snapshot at ``at`` after ``position``, and whether more follow."""
        ranking = await self.trending.ranking(self.session, at)
        waiting = [entry for entry in after(ranking, position) if entry.owner_id not in follows]
        shown: list[tuple[Ranked, FeedItem]] = []
        while waiting and len(shown) < limit:
            chunk, waiting = waiting[: limit - len(shown)], waiting[limit - len(shown) :]
            posts = await self._post_items([e.id for e in chunk if e.kind == "post"], "trending")
            room_ids = [e.id for e in chunk if e.kind == "room"]
            found = await rooms_by_id(self.session, room_ids)
            open_rooms = [room for room in found.values() if room.status != RoomStatus.ENDED]
            rooms = await self._room_items(reader_id, open_rooms, "trending")
            # Posts deleted or unpublished, and rooms that ended, since the snapshot are skipped.
            shown += [(e, item) for e in chunk if (item := (posts if e.kind == "post" else rooms).get(e.id))]
        return shown, bool(waiting)

    # Strips --------------------------------------------------------------------------------------------------------
    async def _strips(self, reader_id: UUID | None, follows: set[UUID]) -> tuple[list[RoomItem], list[RoomItem]]:
        live_rooms = await live_now(self.session, hosts_first=follows, limit=STRIP_SIZE)
        soon_rooms = await upcoming(
            self.session, not_before=self.clock.now() - STARTING_SOON_GRACE, hosts_first=follows, limit=STRIP_SIZE
        )
        items = await self._room_items(reader_id, live_rooms + soon_rooms, "strip")
        return [items[r.id] for r in live_rooms], [items[r.id] for r in soon_rooms]

    # Items ---------------------------------------------------------------------------------------------------------
    async def _post_items(self, ids: list[UUID], reason: str) -> dict[UUID, PostItem]:
        if not ids:
            return {}
        posts = list(
            await self.session.scalars(select(Post).where(Post.id.in_(ids), Post.status == PostStatus.PUBLISHED))
        )
        names = await authors(self.session, [p.author_id for p in posts])
        counted = await self.session.execute(
            select(PostProduct.post_id, func.count())
            .where(PostProduct.post_id.in_([p.id for p in posts]))
            .group_by(PostProduct.post_id)
        )
        products = {post_id: n for post_id, n in counted}
        return {
            p.id: PostItem(
                id=p.id,
                title=p.title,
                excerpt=excerpt(p.html),
                cover_image_url=cover_url(p),
                author=names[p.author_id],
                published_at=p.published_at,
                like_count=p.like_count,
                comment_count=p.comment_count,
                product_count=products.get(p.id, 0),
                hashtags=list(p.hashtags),
                url=f"/posts/{p.id}",
                reason=reason,
            )
            for p in posts
        }

    async def _room_items(self, reader_id: UUID | None, rooms: list[RoomView], reason: str) -> dict[UUID, RoomItem]:
        if not rooms:
            return {}
        names = await authors(self.session, [r.host_id for r in rooms])
        reminded: set[UUID] = set()
        if reader_id is not None:
            reminded = set(
                await self.session.scalars(
                    select(RoomReminder.room_id).where(
                        RoomReminder.user_id == reader_id, RoomReminder.room_id.in_([r.id for r in rooms])
                    )
                )
            )
        return {
            r.id: RoomItem(
                id=r.id,
                title=r.title,
                status=r.status,
                host=names[r.host_id],
                scheduled_for=r.scheduled_for,
                started_at=r.started_at,
                url=f"/live/rooms/{r.id}",
                calendar_url=f"/community/rooms/{r.id}/calendar.ics",
                reminded=r.id in reminded,
                reason=reason,
            )
            for r in rooms
        }
