"""A WebSocket client that drives the app's ASGI interface in the test's own event loop.

Litestar's test session runs the app in a thread of its own; the room hub, its tick and the bus live in the
test's loop (``tests.clients.running``), so the channel tests talk ASGI directly. ``stall()`` makes the server's
sends block as they do when a client stops reading and its TCP buffer fills.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Litestar

TIMEOUT_S = 3.0


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class RoomSocket:
    def __init__(self, app: Litestar, path: str, token: str | None = None, headers: dict[str, str] | None = None):
        all_headers = {"host": "testserver.local", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": ("testserver.local", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
            "subprotocols": [],
            "state": {},
            "extensions": {},
        }
        self.app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._task: asyncio.Task[None] | None = None
        self.accepted = False
        self._events: list[dict[str, Any]] = []  # read but not yet taken by next_event
        self.close_code: int | None = None
        self.close_reason = ""

    async def __aenter__(self) -> RoomSocket:
        self._task = asyncio.create_task(self.app(self.scope, self._to_app.get, self._send))  # type: ignore[arg-type]
        await self._to_app.put({"type": "websocket.connect"})
        first = await asyncio.wait_for(self._from_app.get(), TIMEOUT_S)
        if first["type"] == "websocket.accept":
            self.accepted = True
        else:
            self._note_close(first)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._flowing.set()
        if self.close_code is None:
            await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            await asyncio.wait_for(self._task, TIMEOUT_S)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._flowing.wait()
        await self._from_app.put(message)

    def stall(self) -> None:
        """Stop reading: the server's next send to this socket blocks until ``resume``."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _note_close(self, message: dict[str, Any]) -> None:
        self.close_code = message.get("code", 1000)
        self.close_reason = message.get("reason", "") or ""

    async def send(self, payload: Any) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(payload)})

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def frame(self, within: float = TIMEOUT_S) -> list[dict[str, Any]]:
        """The next frame as a list of events (a frame may be one event or an array); raises Closed."""
        message = await asyncio.wait_for(self._from_app.get(), within)
        if message["type"] == "websocket.close":
            self._note_close(message)
            await self._to_app.put({"type": "websocket.disconnect", "code": self.close_code})
            raise Closed(self.close_code or 1000, self.close_reason)
        body = json.loads(message["text"])
        return body if isinstance(body, list) else [body]

    async def next_event(self, kind: str, within: float = TIMEOUT_S, **match: Any) -> dict[str, Any]:
        """The next event of type ``kind`` (with the fields in ``match``), skipping others."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            while self._events:
                event = self._events.pop(0)
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    return event
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {kind} event {match} within {within} s")
            self._events = await self.frame(left)

    async def closed(self, within: float = TIMEOUT_S) -> int:
        """Wait for the server to close this socket (skipping frames before it); the close code."""
        try:
            while True:
                await self.frame(within)
        except Closed as closed:
            return closed.code

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Every event that arrives within ``seconds``."""
        events, self._events = self._events, []
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                events.extend(await self.frame(left))
            except TimeoutError:
                break
        return events
