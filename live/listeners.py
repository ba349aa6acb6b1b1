"""One socket's way out of the room hub: the tick's frame, and a sender that never lets one client hold up a room.

A frame is encoded once per tick and the same ASGI message goes to every socket. Each socket hands it to the
server in place, or, while the client is not reading, keeps a bounded queue that loses its oldest frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from uuid import UUID

log = logging.getLogger("livecommerce.live.listeners")

# Frames a socket may fall behind by before it loses the oldest (about 5 s of ticks): enough for a phone on a
# lossy network to catch up, small enough that a stalled client costs little memory.
SOCKET_BACKLOG = 64
# How long a joining socket filters chat it already received in its history (see Listener.skip).
JOIN_OVERLAP_S = 2.0

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Frame:
    """One tick's events as sent: the shared ASGI message, plus the parts for the rare socket that must filter."""

    __slots__ = ("chat_ids", "message", "parts")

    def __init__(self, parts: list[tuple[str | None, bytes]]) -> None:
        self.parts = parts
        self.chat_ids = {chat_id for chat_id, _ in parts if chat_id is not None}
        self.message = _message(b"".join((b"[", b",".join(p for _, p in parts), b"]")))

    def without(self, chat_ids: set[str]) -> dict[str, Any] | None:
        kept = [p for chat_id, p in self.parts if chat_id not in chat_ids]
        return _message(b"".join((b"[", b",".join(kept), b"]"))) if kept else None


def _message(frame: bytes) -> dict[str, Any]:
    # Text frames (browsers hand JSON text to ``event.data`` as a string); decoded once, shared by every socket.
    return {"type": "websocket.send", "text": frame.decode()}


class Listener:
    """One socket's way out: frames go straight to the server, or wait in a bounded queue (oldest dropped first).

    Handing a frame to the ASGI server normally completes without waiting (the bytes go to the transport's
    buffer), so ``push`` drives the server's ``send`` coroutine to completion in place, the way
    ``websockets.broadcast`` writes to each connection, with no task switch per socket and frame. Only when the
    server makes a send wait (the client stopped reading and its buffer is full) does the rest of that send, and
    the frames queued behind it, move to a task of this socket's own; the tick never waits for one client.
    """

    __slots__ = (
        "closing",
        "dropped",
        "joined_at",
        "queue",
        "room_id",
        "send",
        "skip",
        "skip_until",
        "started",
        "task",
        "user_id",
    )

    def __init__(self, room_id: UUID, user_id: UUID | None, send: Send) -> None:
        self.room_id = room_id
        self.user_id = user_id
        self.send = send
        self.queue: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.closing = False
        self.started = False
        self.joined_at = 0  # the feed's generation when this socket joined
        self.task: asyncio.Task[None] | None = None  # set while a send waits for the client
        # Chat ids the socket got in its join state: the first frames after joining may repeat them.
        self.skip: set[str] = set()
        self.skip_until = 0.0

    def start(self, history_ids: set[str]) -> None:
        """Begin sending (after the join state went out): frames queued since joining follow it in order."""
        self.skip = history_ids
        self.skip_until = time.monotonic() + JOIN_OVERLAP_S
        self.started = True
        if self.queue:
            self.task = asyncio.create_task(self._drain(None, None), name="room-socket-drain")

    def push(self, frame: Frame) -> None:
        if self.closing:
            return
        message: dict[str, Any] | None = frame.message
        if self.skip:
            if time.monotonic() > self.skip_until:
                self.skip = set()
            elif self.skip & frame.chat_ids:
                message = frame.without(self.skip)
                if message is None:
                    return
        self._deliver(message)

    def send_own(self, message: dict[str, Any]) -> None:
        """A frame for this socket alone (an error about what it sent), in order with the room's frames."""
        if not self.closing:
            self._deliver(message)

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket after nothing else: queued frames are dropped, the close goes out next."""
        if self.closing:
            return
        self.closing = True
        self.queue.clear()
        self._deliver({"type": "websocket.close", "code": code, "reason": reason})

    def _deliver(self, message: dict[str, Any]) -> None:
        if not self.started or self.task is not None:
            if len(self.queue) >= SOCKET_BACKLOG:
                self.queue.popleft()
                self.dropped += 1
            self.queue.append(message)
            return
        send = self.send(message)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return  # handed to the transport
        except Exception as exc:
            self._gone(exc)
            return
        self.task = asyncio.create_task(self._drain(send, waiting_on), name="room-socket-drain")

    async def _drain(self, send: Coroutine[Any, Any, None] | None, waiting_on: Any) -> None:
        """Finish a send the server made wait (if any), then send the queue, then go back to sending in place."""
        try:
            while send is not None:
                # Wait without raising: the send coroutine takes the outcome (even a cancellation) when resumed.
                await (asyncio.wait({waiting_on}) if waiting_on is not None else asyncio.sleep(0))
                try:
                    waiting_on = send.send(None)
                except StopIteration:
                    send = None
            while self.queue:
                await self.send(self.queue.popleft())
        except asyncio.CancelledError:
            if send is not None:
                send.close()
            raise
        except Exception as exc:
            self._gone(exc)
        finally:
            self.task = None

    def _gone(self, exc: Exception) -> None:
        # The client went away mid-send: its handler's receive loop ends the socket; send nothing more.
        log.debug("room.socket_send_failed", extra={"error": repr(exc)})
        self.closing = True
        self.queue.clear()

    async def stop(self) -> None:
        task = self.task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
