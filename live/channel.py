"""The room channel, ``WS /live/rooms/{id}/ws`` (API.md, "Room channel").

Anyone may watch; sending (chat, likes) needs the signed-in user the authentication middleware found from the
session cookie or a bearer token. A joining socket first gets the room as it is now (status, pinned products,
deals, likes, viewers, the recent chat), then one frame per tick from the room hub. Its own refusals come back
as ``error`` frames to it alone; a frame larger than ``max_frame_bytes`` closes only that socket (1009), and
so does a text frame that is not UTF-8 (1007, by the server).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.params import FromPath
from redis.asyncio import Redis

from kernel.auth import CurrentUser
from kernel.bus import Bus
from kernel.clock import Clock
from kernel.db import Database
from kernel.settings import LiveSettings
from live.chat import Chat, ChatIn, ChatRefused, client_frames, history
from live.deals import DealService, deal_offered
from live.events import ChannelError, Likes, Moderation, Pinned, RoomEvent, StatusChanged, Viewers
from live.hub import CLOSE_BANNED, JoinState, RoomHub, RoomStart
from live.likes import LikeCounter
from live.limits import retry_after
from live.listeners import Listener
from live.models import Room, SanctionKind
from live.rooms import RoomService, can_moderate, product_card
from live.viewers import ViewerCounts

log = logging.getLogger("livecommerce.live.channel")

CLOSE_NOT_FOUND = 4404
CLOSE_TOO_BIG = 1009
CLOSE_INVALID_DATA = 1007  # sent by the server itself, before the frame reaches the handler
_SERVER_LOG = logging.getLogger("uvicorn.error")
_encode = msgspec.json.Encoder().encode


class _InvalidUtf8IsTheClients(logging.Filter):
    """uvicorn answers a text frame that is not UTF-8 correctly (it closes that socket with 1007 and the handler
    sees the disconnect) but logs it as an ERROR with a traceback. Any raw client can send one: it is the client's
    fault, not a failure of ours, so it becomes one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], UnicodeDecodeError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "room.invalid_utf8_frame", ()
            record.close_code = CLOSE_INVALID_DATA
            record.error = str(record.exc_info[1])
            record.exc_info = record.exc_text = None
        return True


class RoomChannel:
    """The channel's parts for this process, kept in app state as ``room_channel`` (and ``room_viewers``)."""

    def __init__(
        self,
        channels: ChannelsPlugin,
        db: Database,
        clock: Clock,
        bus: Bus,
        redis: Redis | None,
        settings: LiveSettings,
    ) -> None:
        self.viewers = ViewerCounts(redis, db)
        self.chat = Chat(db, clock, bus, redis, settings)
        self.likes = LikeCounter(db, bus, redis, settings.tick.total_seconds())
        self.hub = RoomHub(channels, self.viewers, settings.tick.total_seconds(), self.chat.on_moderation)

    def start(self) -> None:
        if not any(isinstance(f, _InvalidUtf8IsTheClients) for f in _SERVER_LOG.filters):
            _SERVER_LOG.addFilter(_InvalidUtf8IsTheClients())
        self.hub.start()
        self.chat.writer.start()
        self.likes.start()

    async def stop(self) -> None:
        await self.hub.stop()
        await self.chat.writer.stop()
        await self.likes.stop()

    async def viewer_count(self, room_id: UUID) -> int:
        """How many sockets watch the room, over every process (the rooms API shows it)."""
        return await self.hub.viewer_count(room_id)


def _text(payload: bytes) -> dict[str, Any]:
    return {"type": "websocket.send", "text": payload.decode()}


def _error(code: str, detail: str, wait: int | None = None) -> dict[str, Any]:
    return _text(_encode(ChannelError(code, detail, wait)))


def _room_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def _sender(socket: WebSocket[Any, Any, Any], public_url: str | None) -> CurrentUser | None:
    """The user who may send on this socket.

    A browser page on another site could open this socket with the visitor's session cookie; it may watch (the
    room is public anyway) but not speak for them. Bearer tokens are not sent by browsers on their own.
    """
    user = socket.scope.get("user")
    if user is None:
        return None
    origin = socket.headers.get("origin")
    if origin is None or socket.headers.get("authorization", "").lower().startswith("bearer "):
        return user
    own = {f"{'https' if socket.url.scheme == 'wss' else 'http'}://{socket.headers.get('host')}".lower()}
    if public_url:
        own.add(_origin(public_url))
    return user if _origin(origin) in own else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@websocket("/live/rooms/{room_id:str}/ws", name="room_channel")
async def room_channel(socket: WebSocket[Any, Any, Any], room_id: FromPath[str]) -> None:
    """Watch a room and, signed in, chat and like in it."""
    state = socket.app.state
    services: RoomChannel = state.room_channel
    user = _sender(socket, state.settings.public_url)
    await socket.accept()
    room = await _find_room(state, _room_id(room_id))
    if room is None:
        await socket.close(CLOSE_NOT_FOUND, "room_not_found")
        return
    if user is not None and SanctionKind.BAN in await services.chat.sanctions.of(room.id, user.id):
        await socket.close(CLOSE_BANNED, "banned")
        return

    listener = Listener(room.id, user.id if user else None, socket.send)
    try:
        await services.hub.join(room.id, listener, lambda: _open_room(state, services, room))
        joined, history_ids = await _join_state(state, services, room, listener)
        await socket.send(_text(joined))
        listener.start(history_ids)
        await _receive(socket, state, services, room, user, listener)
    finally:
        await services.hub.leave(listener)


async def _receive(
    socket: WebSocket[Any, Any, Any],
    state: State,
    services: RoomChannel,
    room: Room,
    user: CurrentUser | None,
    listener: Listener,
) -> None:
    max_bytes = state.settings.live.max_frame_bytes
    moderator = can_moderate(room, user)
    while True:
        message = await socket.receive()
        if message["type"] != "websocket.receive":
            return  # the client left, or the hub closed this socket (a ban)
        data = message.get("text")
        raw = data.encode() if data is not None else message.get("bytes") or b""
        if len(raw) > max_bytes:
            await services.hub.leave(listener)
            await socket.close(CLOSE_TOO_BIG, f"frames are at most {max_bytes} bytes")
            return
        if listener.closing:
            continue
        reply = await _handle(raw, services, room, user, moderator, listener)
        if reply is not None:
            await socket.send(reply)


async def _handle(
    raw: bytes, services: RoomChannel, room: Room, user: CurrentUser | None, moderator: bool, listener: Listener
) -> dict[str, Any] | None:
    """One client frame; the answer is an error frame for this socket, or None."""
    try:
        frame = client_frames.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _error("bad_frame", f'Send {{"type": "chat", "text": "..."}} or {{"type": "like"}} ({exc}).')
    if user is None:
        return _error("sign_in_required", "Sign in to chat and like; you can watch without signing in.")
    if services.hub.has_ended(room.id):
        return _error("room_ended", "This show has ended; its chat is closed.")
    if isinstance(frame, ChatIn):
        slow_mode = 0 if moderator else services.hub.slow_mode_seconds(room.id)
        try:
            stored = await services.chat.post(room.id, user, frame.text, slow_mode)
        except ChatRefused as refused:
            return _error(refused.code, refused.detail, refused.retry_after)
        stored.add_done_callback(partial(_unsaved, listener))
        return None
    wait = services.likes.tap(room.id, user.id)
    if wait > 0:
        return _error("rate_limited", "That is a lot of likes; give it a moment.", retry_after(wait))
    return None


def _unsaved(listener: Listener, stored: asyncio.Future[Any]) -> None:
    """Tell the sender when a message it was not kept waiting for could not be stored after all."""
    refused = None if stored.cancelled() else stored.exception()
    if isinstance(refused, ChatRefused):
        listener.send_own(_error(refused.code, refused.detail, refused.retry_after))


async def _find_room(state: State, room_id: UUID | None) -> Room | None:
    if room_id is None:
        return None
    async with state.db.sessionmaker() as session:
        return await session.get(Room, room_id)


async def _open_room(state: State, services: RoomChannel, room: Room) -> RoomStart:
    """What the hub needs to open a room's feed: its products' ids, its like total and its slow mode."""
    async with state.db.sessionmaker() as session:
        rooms = RoomService(session, state.clock, state.bus, state.settings.live)
        fresh = await rooms.get(room.id)
        product_ids = (await rooms.product_ids([fresh]))[fresh.id]
    likes = await services.likes.total(fresh.id, fresh.like_count)
    return RoomStart([str(p) for p in product_ids], likes, fresh.slow_mode_seconds, fresh.status)


async def _join_state(state: State, services: RoomChannel, room: Room, listener: Listener) -> tuple[bytes, set[str]]:
    """The room as it is now, as one frame of events, and the ids of the chat messages in it.

    The database part (status, pins, deals, recent chat) is read after the socket joined the hub, so nothing
    published meanwhile is missed (a repeat is filtered out); joins in the same tick share one read.
    """
    feed = services.hub.feeds[room.id]
    stored = await feed.join_state(listener.joined_at, lambda: _read_join_state(state, room))
    counters = [Likes(feed.likes), Viewers(await services.hub.viewer_count(room.id))]
    if feed.slow_mode_seconds:
        counters.append(Moderation(action="slow_mode", slow_mode_seconds=feed.slow_mode_seconds))
    parts = [*stored.room, *map(_encode, counters), *stored.chat]
    return b"[" + b",".join(parts) + b"]", stored.chat_ids


async def _read_join_state(state: State, room: Room) -> JoinState:
    async with state.db.sessionmaker() as session:
        rooms = RoomService(session, state.clock, state.bus, state.settings.live)
        fresh = await rooms.get(room.id)
        pinned = [product_card(p) for p in await rooms.pinned(fresh)]
        deals = [deal_offered(d) for d in await DealService(rooms).active(fresh)]
        chat = await history(session, room.id, state.settings.live.chat_history)
    events: list[RoomEvent] = [StatusChanged(fresh.status), Pinned(pinned[0] if pinned else None, pinned), *deals]
    return JoinState([_encode(e) for e in events], [_encode(m) for m in chat], {m.id for m in chat})
