"""The room fan-out benchmark's ceiling: a bare websockets broadcast server, and how the benchmark runs it.

It does the least a room must do: parse each chat frame, keep it for the tick, and every tick send one JSON array
to every socket with ``websockets.broadcast``; same tick and same frame shape as our room channel. It runs in a
subprocess started through the benchmark's own script, so its CPU is measured apart from the load client's.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from harness import HOST, ROOT, free_port, stop_server

TICK_S = 0.075  # our server is configured with the same tick (LIVECOMMERCE_ROOM_TICK)


# --- the bare ceiling server (runs in a subprocess: ``room_fanout.py --bare-server PORT``) ----------------------


async def bare_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    sockets: set[Any] = set()
    pending: list[dict[str, Any]] = []

    async def handler(socket: Any) -> None:
        sockets.add(socket)
        try:
            await socket.send("[]")  # the join state
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("type") == "chat" and isinstance(frame.get("text"), str):
                    pending.append(
                        {
                            "type": "chat",
                            "id": uuid.uuid4().hex,
                            "user": {"id": "u", "display_name": "Chatter"},
                            "text": frame["text"][:300],
                            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        }
                    )
        finally:
            sockets.discard(socket)

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            if pending:
                frame = json.dumps(pending, separators=(",", ":"))
                pending.clear()
                broadcast(sockets, frame)

    async with serve(handler, HOST, port, compression=None, max_size=4096, ping_interval=None):
        ticker = asyncio.create_task(tick())
        await asyncio.Future()
        ticker.cancel()


@contextmanager
def bare_serving(log_path: Path) -> Any:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, Path(__file__).with_name("room_fanout.py"), "--bare-server", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with httpx.Client(trust_env=False) as http:
                    http.get(f"http://{HOST}:{port}/", timeout=1)
            except httpx.HTTPError as exc:
                if "refused" not in str(exc).lower():
                    break
            time.sleep(0.1)
        yield process.pid, f"ws://{HOST}:{port}/"
    finally:
        stop_server(process, {})
