"""The room hub: one bus subscription per room per process, fanned out to that process's sockets once per tick.

Each process keeps one :class:`RoomFeed` per room that has sockets here. A feed reads the room's topic and its
products' topics from the bus, collects the tick's events, and every tick sends ONE frame (a JSON array), encoded
once, to every local socket: cost follows frames, not messages. Counters (likes, viewers) go out as the latest
totals only. Each socket has a bounded queue that loses its oldest frames, so a slow client falls behind alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber

from kernel.workers import Worker
from live.events import Likes, Moderation, Purchase, StatusChanged, StockLeft, Viewers, room_topic
from live.listeners import Frame, Listener
from live.viewers import ViewerCounts
from shop import ORDERS_TOPIC, DealRemaining, OrderPaid, ShopEvent, StockChanged, product_topic

log = logging.getLogger("livecommerce.live.hub")

CLOSE_BANNED = 4403
CLOSE_GOING_AWAY = 1001


class _Peek(msgspec.Struct):
    """Just enough of a room event to route it; chat and most events pass through as the bytes received."""

    type: str
    id: str | None = None


_peek = msgspec.json.Decoder(_Peek)
_likes = msgspec.json.Decoder(Likes)
_moderation = msgspec.json.Decoder(Moderation)
_status = msgspec.json.Decoder(StatusChanged)
_product_events = msgspec.json.Decoder(StockChanged | DealRemaining)
_shop_events = msgspec.json.Decoder(ShopEvent)
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class JoinState:
    """The room as the database has it for joining sockets, encoded: its state, and its recent chat."""

    room: list[bytes]  # status, pinned products, deals
    chat: list[bytes]  # oldest first
    chat_ids: set[str]


@dataclass(frozen=True)
class RoomStart:
    """What a feed starts from, read from the database when a room's first socket joins this process."""

    product_ids: list[str]
    likes: int
    slow_mode_seconds: int
    status: str


class RoomFeed:
    """A room's events in this process: its bus subscription, the tick's pending events and its sockets."""

    def __init__(self, room_id: UUID, subscriber: Subscriber, start: RoomStart) -> None:
        self.room_id = room_id
        self.subscriber = subscriber
        self.listeners: set[Listener] = set()
        self.pending: list[tuple[str | None, bytes]] = []
        self.stock: dict[tuple[str, str | None], bytes] = {}  # latest per product (and deal) this tick
        self.likes = start.likes
        self.likes_dirty = False
        self.viewers = 0
        self.viewers_dirty = False
        self.slow_mode_seconds = start.slow_mode_seconds
        self.status = start.status
        self.reader: Worker | None = None
        # Frames with events sent so far. A join state read that began at generation g holds every event sent
        # before it, so it serves any socket that joined at g or earlier; a herd of joins shares one read.
        self.generation = 0
        self._state: tuple[int, JoinState] | None = None
        self._reading: tuple[int, asyncio.Future[JoinState]] | None = None

    @property
    def dirty(self) -> bool:
        return bool(self.pending or self.stock or self.likes_dirty or self.viewers_dirty)

    def take_frame(self) -> Frame:
        parts = self.pending
        parts.extend((None, stock) for stock in self.stock.values())
        if parts:
            self.generation += 1  # events went out: a join state read before now may lack them
        if self.likes_dirty:
            parts.append((None, _encode(Likes(self.likes))))
        if self.viewers_dirty:
            parts.append((None, _encode(Viewers(self.viewers))))
        self.pending, self.stock = [], {}
        self.likes_dirty = self.viewers_dirty = False
        return Frame(parts)

    async def join_state(self, joined_at: int, read: Callable[[], Awaitable[JoinState]]) -> JoinState:
        """The room's state for a socket that joined at generation ``joined_at``: a shared read when fresh enough."""
        if self._state is not None and self._state[0] >= joined_at:
            return self._state[1]
        if self._reading is None or self._reading[0] < joined_at:
            reading = (self.generation, asyncio.ensure_future(read()))
            self._reading = reading
            reading[1].add_done_callback(lambda done: self._keep(reading[0], done))
        return await asyncio.shield(self._reading[1])

    def _keep(self, generation: int, done: asyncio.Future[JoinState]) -> None:
        if self._reading is not None and self._reading[1] is done:
            self._reading = None
        if done.cancelled() or done.exception() is not None:
            return
        if self._state is None or self._state[0] < generation:
            self._state = (generation, done.result())

    def set_likes(self, total: int) -> None:
        # Totals from several processes may arrive out of order; a count only grows.
        if total > self.likes:
            self.likes = total
            self.likes_dirty = True

    def set_viewers(self, total: int) -> None:
        if total != self.viewers:
            self.viewers = total
            self.viewers_dirty = True

    def add_stock(self, product_id: str, remaining: int, deal_id: str | None) -> None:
        self.stock[(product_id, deal_id)] = _encode(StockLeft(product_id, remaining, deal_id))

    def on_room_event(self, raw: bytes, kind: _Peek, on_moderation: Callable[[UUID, Moderation], None]) -> None:
        if kind.type == "likes":
            self.set_likes(_likes.decode(raw).count)
            return
        if kind.type == "viewers":
            return  # each process counts viewers itself (see ViewerCounts)
        if kind.type == "status":
            self.status = _status.decode(raw).status
        if kind.type == "moderation":
            event = _moderation.decode(raw)
            if event.action == "slow_mode" and event.slow_mode_seconds is not None:
                self.slow_mode_seconds = event.slow_mode_seconds
            if event.action == "ban" and event.user_id:
                for listener in self.listeners:
                    if str(listener.user_id) == event.user_id:
                        listener.close_soon(CLOSE_BANNED, "banned")
            on_moderation(self.room_id, event)
        self.pending.append((kind.id if kind.type == "chat" else None, raw))

    def on_product_event(self, event: StockChanged | DealRemaining) -> None:
        if isinstance(event, DealRemaining):
            self.add_stock(event.product_id, event.remaining, event.deal_id)
        else:
            self.add_stock(event.product_id, event.stock, None)


class RoomHub:
    """Every room feed of this process, the tick that flushes them, and the purchase ticker's one subscription.

    ``open_room`` is how the hub learns a room's products, like total and slow mode when its first socket
    joins here (a database read the channel supplies). ``on_moderation`` lets chat drop its cached sanctions.
    """

    def __init__(
        self,
        channels: ChannelsPlugin,
        viewers: ViewerCounts,
        tick_s: float,
        on_moderation: Callable[[UUID, Moderation], None],
    ) -> None:
        self.channels = channels
        self.viewers = viewers
        self.tick_s = tick_s
        self.on_moderation = on_moderation
        self.feeds: dict[UUID, RoomFeed] = {}
        self._opening: dict[UUID, asyncio.Lock] = {}
        self._orders: Subscriber | None = None
        self._loops = [Worker("room-hub-tick", self._tick_loop), Worker("room-hub-viewers", self._viewers_loop)]
        self._orders_reader: Worker | None = None
        self.frames_sent = 0

    # Life cycle ---------------------------------------------------------------------------------------------------
    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for feed in list(self.feeds.values()):
            for listener in list(feed.listeners):
                listener.close_soon(CLOSE_GOING_AWAY, "server restarting")
        await asyncio.sleep(0)  # let the writers hand their close frames to the server
        for loop in self._loops:
            await loop.stop()
        if self._orders_reader is not None:
            await self._orders_reader.stop()
            self._orders_reader = None
        try:
            for feed in list(self.feeds.values()):
                await self._close_feed(feed)
            if self._orders is not None:
                await self.channels.unsubscribe(self._orders)
                self._orders = None
            await self.viewers.forget_all()
        except Exception as exc:  # the bus or Redis went first at shutdown: nothing is left to tell anyone
            log.warning("room.hub_stop_incomplete", extra={"error": repr(exc)})

    # Sockets ------------------------------------------------------------------------------------------------------
    async def join(
        self,
        room_id: UUID,
        listener: Listener,
        open_room: Callable[[], Awaitable[RoomStart]],
    ) -> RoomFeed:
        """Attach ``listener`` to the room's feed, opening the feed (and its subscription) for the first one."""
        feed = self.feeds.get(room_id)
        if feed is None:
            lock = self._opening.setdefault(room_id, asyncio.Lock())
            async with lock:
                feed = self.feeds.get(room_id)
                if feed is None:
                    feed = await self._open_feed(room_id, await open_room())
            self._opening.pop(room_id, None)
        feed.listeners.add(listener)
        listener.joined_at = feed.generation
        self.viewers.set_local(room_id, len(feed.listeners))
        return feed

    async def leave(self, listener: Listener) -> None:
        await listener.stop()
        feed = self.feeds.get(listener.room_id)
        if feed is None or listener not in feed.listeners:
            return
        feed.listeners.discard(listener)
        self.viewers.set_local(feed.room_id, len(feed.listeners))
        if not feed.listeners:
            await self._close_feed(feed)

    async def viewer_count(self, room_id: UUID) -> int:
        return await self.viewers.total(room_id)

    def slow_mode_seconds(self, room_id: UUID) -> int:
        feed = self.feeds.get(room_id)
        return feed.slow_mode_seconds if feed is not None else 0

    def has_ended(self, room_id: UUID) -> bool:
        feed = self.feeds.get(room_id)
        return feed is not None and feed.status == "ended"

    # Feeds --------------------------------------------------------------------------------------------------------
    async def _open_feed(self, room_id: UUID, start: RoomStart) -> RoomFeed:
        if self._orders is None:
            self._orders = await self.channels.subscribe([ORDERS_TOPIC])
            self._orders_reader = Worker("room-hub-orders", partial(self._read_orders, self._orders))
            self._orders_reader.start()
        topics = [room_topic(room_id), *(product_topic(p) for p in start.product_ids)]
        feed = RoomFeed(room_id, await self.channels.subscribe(topics), start)
        feed.reader = Worker(f"room-feed-{room_id}", partial(self._read_feed, feed))
        feed.reader.start()
        self.feeds[room_id] = feed
        return feed

    async def _close_feed(self, feed: RoomFeed) -> None:
        if self.feeds.get(feed.room_id) is feed:
            del self.feeds[feed.room_id]
        for listener in list(feed.listeners):
            await listener.stop()
        feed.listeners.clear()
        await self.channels.unsubscribe(feed.subscriber)
        if feed.reader is not None:
            await feed.reader.stop()
        if feed.room_id not in self.feeds:  # a socket that joined meanwhile opened a new feed, which counts now
            await self.viewers.forget(feed.room_id)

    async def _read_feed(self, feed: RoomFeed) -> None:
        # The room's topic and its products' topics share this one stream; each event names its own type.
        async for raw in feed.subscriber.iter_events():
            try:
                kind = _peek.decode(raw)
                if kind.type.startswith("shop."):
                    feed.on_product_event(_product_events.decode(raw))
                else:
                    feed.on_room_event(raw, kind, self.on_moderation)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("room.bad_event", extra={"room_id": str(feed.room_id), "error": str(exc)})

    async def _read_orders(self, subscriber: Subscriber) -> None:
        async for raw in subscriber.iter_events():
            try:
                event = _shop_events.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("room.bad_order_event", extra={"error": str(exc)})
                continue
            if isinstance(event, OrderPaid):
                self._purchases(event)

    def _purchases(self, order: OrderPaid) -> None:
        """A paid order's lines bought from a room show in that room's ticker (the buyer's name masked)."""
        for line in order.lines:
            raw_room = (line.source or {}).get("room_id")
            try:
                room_id = UUID(str(raw_room)) if raw_room else None
            except ValueError:
                continue
            feed = self.feeds.get(room_id) if room_id else None
            if feed is not None:
                feed.pending.append((None, _encode(Purchase(line.product_id, order.buyer_masked, line.quantity))))

    # The tick -----------------------------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.flush()
            except Exception:  # one bad tick must not stop the room's heartbeat
                log.exception("room.tick_failed")

    def flush(self) -> None:
        """Send each room's pending events as one frame, encoded once, to every local socket of that room."""
        for feed in self.feeds.values():
            if not feed.dirty or not feed.listeners:
                continue
            frame = feed.take_frame()
            for listener in feed.listeners:
                listener.push(frame)
            self.frames_sent += 1

    async def _viewers_loop(self) -> None:
        while True:
            await asyncio.sleep(self.viewers.refresh_s)
            try:
                totals = await self.viewers.sync(list(self.feeds))
            except Exception as exc:  # Redis away: keep the last totals and try again
                log.warning("room.viewers_sync_failed", extra={"error": repr(exc)})
                continue
            for room_id, total in totals.items():
                if (feed := self.feeds.get(room_id)) is not None:
                    feed.set_viewers(total)
