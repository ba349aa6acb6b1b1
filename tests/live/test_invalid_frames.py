"""Frames no browser sends, from a raw client through the real server: a clean close of that socket, no traceback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import struct
from collections.abc import AsyncIterator

import pytest
import uvicorn
from httpx import AsyncClient
from litestar import Litestar

from tests.factories import signed_in
from tests.live.helpers import live_room, make_creator, make_products
from tests.redis_server import free_port

TIMEOUT_S = 5.0


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[int]:
    """``app`` behind uvicorn with the server's own WebSocket stack (as ``livecommerce serve`` runs it).

    The app's lifespan already runs in this loop (the ``client`` fixture), so uvicorn only carries connections.
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while not server.started:
        assert asyncio.get_running_loop().time() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


class RawSocket:
    """A WebSocket client that sends whatever bytes it is given, valid or not."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str, token: str | None = None) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        assert len(payload) < 126
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask
        self.writer.write(header + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT_S)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first & 0x0F, await self.reader.readexactly(length)

    async def close_code(self) -> int:
        """Read (and skip) frames until the server's close frame; its code."""
        while True:
            opcode, payload = await self.read_frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0]

    async def next_text(self, contains: bytes) -> bytes:
        while True:
            opcode, payload = await self.read_frame()
            assert opcode != 0x8, f"closed: {payload!r}"
            if opcode == 0x1 and contains in payload:
                return payload

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def test_a_text_frame_that_is_not_utf8_closes_that_socket_with_1007_and_logs_no_error(
    client: AsyncClient, app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    _, host = await make_creator(client)
    room = await live_room(client, app, host, await make_products(client))
    _, token = await signed_in(client)
    path = f"/live/rooms/{room['id']}/ws"
    caplog.set_level(logging.DEBUG)
    async with serving(app) as port:
        bad = await RawSocket.open(port, path, token)
        sender = await RawSocket.open(port, path, token)
        watcher = await RawSocket.open(port, path)
        try:
            for socket in (bad, sender, watcher):
                await socket.next_text(b'"status"')  # the join state
            bad.send_frame(0x1, b'{"type": "chat", "text": "\xff\xfe\xc3("}')
            assert await bad.close_code() == 1007

            # The room goes on for everyone else.
            sender.send_frame(0x1, b'{"type": "chat", "text": "still here"}')
            await watcher.next_text(b"still here")
        finally:
            for socket in (bad, sender, watcher):
                await socket.aclose()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]
