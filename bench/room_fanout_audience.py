"""The room fan-out benchmark's load client: V viewers and the chatters, all websockets in this process.

Viewers join a few at a time, as an audience trickles in, and count chat events only while a cell is measured: the
``--sampled`` ones parse every frame for send-to-receipt latency, the others count events in the raw text, which
keeps the client's CPU per frame low enough for thousands of viewers on the cores it shares with the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

CONNECT_AT_ONCE = 100
JOIN_TIMEOUT_S = 60.0
CLIENT_OPTIONS: dict[str, Any] = {
    "compression": None,
    "max_size": None,
    "ping_interval": None,
    "proxy": None,
    "open_timeout": JOIN_TIMEOUT_S,
    "close_timeout": 1.0,  # a viewer that stopped reading cannot finish a close handshake; do not wait for it
}


@dataclass
class Counters:
    counting: bool = False
    delivered: int = 0
    frames: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    failed_joins: int = 0


async def viewer(
    url: str, counters: Counters, sampled: bool, gate: asyncio.Semaphore, joined: asyncio.Event, ready: list[int]
) -> None:
    async with gate:  # a few handshakes at a time, as an audience trickles in
        try:
            socket = await connect(url, **CLIENT_OPTIONS)
            await asyncio.wait_for(socket.recv(), JOIN_TIMEOUT_S)  # the join state
        except (OSError, TimeoutError, WebSocketException) as exc:
            counters.failed_joins += 1
            ready[1] -= 1  # the cell goes ahead with the viewers that joined; the failure is reported
            print(f"  a viewer could not join: {exc!r}", file=sys.stderr)
            if ready[0] >= ready[1]:
                joined.set()
            return
    ready[0] += 1
    if ready[0] >= ready[1]:
        joined.set()
    async with socket:
        async for frame in socket:
            if not counters.counting:
                continue
            counters.frames += 1
            if not sampled:
                counters.delivered += frame.count('"type":"chat"')
                continue
            now = time.monotonic_ns()
            for event in json.loads(frame):
                if event["type"] == "chat":
                    counters.delivered += 1
                    counters.latencies_ns.append(now - int(event["text"].split()[2]))


async def drain(socket: ClientConnection) -> None:
    async for _ in socket:
        pass


async def chat_load(senders: list[ClientConnection], rate: int, seconds: float) -> int:
    """Send ``rate`` messages a second for ``seconds``, spread over the senders and over 10 ms slots."""
    sent, started = 0, time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds and senders:
        due = int(elapsed * rate) + 1
        while sent < due and senders:
            text = f"m {sent} {time.monotonic_ns()}"
            sender = senders[sent % len(senders)]
            try:
                await sender.send(json.dumps({"type": "chat", "text": text}))
            except ConnectionClosed as exc:  # e.g. the server's keepalive gave up on a starved client
                print(f"  a chatter was disconnected: {exc!r}", file=sys.stderr)
                senders.remove(sender)
                continue
            sent += 1
        await asyncio.sleep(0.01)
    return sent


@asynccontextmanager
async def audience(url: str, n: int, sampled: int, counters: Counters, headers_for: list[dict[str, str]]) -> Any:
    """``n`` viewers (the first ``sampled`` of them parse every frame) and the chatters, all joined."""
    joined, ready = asyncio.Event(), [0, n]
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    tasks = [asyncio.create_task(viewer(url, counters, i < sampled, gate, joined, ready)) for i in range(n)]
    senders = [await connect(url, additional_headers=h, **CLIENT_OPTIONS) for h in headers_for]
    drains = [asyncio.create_task(drain(s)) for s in senders]
    try:
        await asyncio.wait_for(joined.wait(), 180)
        yield senders
    finally:
        # Close the chatters while their drains still read (a close handshake waits behind unread frames).
        await asyncio.gather(*(sender.close() for sender in senders), return_exceptions=True)
        for task in tasks + drains:
            task.cancel()
        await asyncio.gather(*tasks, *drains, return_exceptions=True)
