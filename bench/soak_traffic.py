"""The soak's traffic: HTTP reads and checkouts at fixed rates, and a room with viewers and chatters, all recorded.

Every HTTP exchange is kept (what was asked, when, and the status or the lack of an answer), every chat message's
send time, and when each viewer first received it: the gates are computed afterwards from these records alone.
Requests go out at a fixed rate whatever the answers (an open loop, as real users keep coming during an outage);
past ``MAX_IN_FLIGHT`` a request is skipped and counted rather than queued, so the client stays bounded.

A checkout behaves like a real client: one Idempotency-Key per purchase, and the same key sent again after a 5xx,
a timeout, a lost connection or a 409 ``idempotency_key_in_use``, after the Retry-After it was given.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

MAX_IN_FLIGHT = 200
READ_TIMEOUT_S = 5.0
CHECKOUT_TIMEOUT_S = 10.0
PURCHASE_GIVE_UP_S = 90.0  # a purchase still failing this long after it began is abandoned (and reported)
RETRY_PAUSE_S = 0.5  # when an answer gave no Retry-After
MAX_RETRY_PAUSE_S = 2.0
RECONNECT_S = 0.25
WS_OPTIONS: dict[str, Any] = {"compression": None, "ping_interval": None, "proxy": None, "open_timeout": 10}
ADDRESS = {"name": "Soak Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
CHAT_PREFIX = "soak "


@dataclass
class Exchange:
    """One HTTP request and its outcome; ``status`` None means no answer (timeout, reset, refused)."""

    kind: str
    sent: float
    done: float
    status: int | None
    retry_after: str | None = None
    detail: str = ""


@dataclass
class Purchase:
    key: str
    body: dict[str, Any]
    token: str
    started: float
    attempts: int = 0
    final_status: int | None = None


@dataclass
class Records:
    exchanges: list[Exchange] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    chat_sent: dict[int, float] = field(default_factory=dict)
    chat_received: list[dict[int, float]] = field(default_factory=list)
    chat_errors: Counter[str] = field(default_factory=Counter)
    reconnects: Counter[str] = field(default_factory=Counter)
    next_seq: int = 0


def _problem_type(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        try:
            return str(response.json().get("type", ""))
        except ValueError:
            return ""
    return ""


async def exchange(
    client: httpx.AsyncClient, records: Records, kind: str, method: str, path: str, wait_s: float, **kwargs: Any
) -> Exchange:
    sent = time.monotonic()
    try:
        response = await client.request(method, path, timeout=wait_s, **kwargs)
        done = Exchange(
            kind,
            sent,
            time.monotonic(),
            response.status_code,
            response.headers.get("retry-after"),
            _problem_type(response),
        )
    except httpx.HTTPError as exc:
        done = Exchange(kind, sent, time.monotonic(), None, None, type(exc).__name__)
    records.exchanges.append(done)
    return done


def _retryable(answer: Exchange) -> bool:
    return answer.status is None or answer.status >= 500 or answer.detail.endswith("idempotency_key_in_use")


def _pause(answer: Exchange) -> float:
    try:
        return min(float(answer.retry_after), MAX_RETRY_PAUSE_S) if answer.retry_after else RETRY_PAUSE_S
    except ValueError:
        return RETRY_PAUSE_S


async def complete_purchase(client: httpx.AsyncClient, records: Records, purchase: Purchase) -> None:
    """Send the purchase until it gets a final answer, with its one key, as a real client retries."""
    headers = {"Authorization": f"Bearer {purchase.token}", "Idempotency-Key": purchase.key}
    while True:
        purchase.attempts += 1
        answer = await exchange(
            client,
            records,
            "checkout",
            "POST",
            "/api/shop/checkout",
            CHECKOUT_TIMEOUT_S,
            json=purchase.body,
            headers=headers,
        )
        purchase.final_status = answer.status
        if not _retryable(answer) or time.monotonic() - purchase.started > PURCHASE_GIVE_UP_S:
            return
        await asyncio.sleep(_pause(answer))


def checkout_body(product_id: str, quantity: int, token: str) -> dict[str, Any]:
    return {
        "items": [{"product_id": product_id, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "payment": {"method": "sandbox", "token": token},
    }


async def at_rate(rate: float, until: float, kind: str, records: Records, start_one: Any) -> None:
    """Start ``start_one(n)`` ``rate`` times a second until ``until``; wait for what was started."""
    tasks: set[asyncio.Task[Any]] = set()
    interval, due, n = 1.0 / rate, time.monotonic(), 0
    while (now := time.monotonic()) < until:
        if now < due:
            await asyncio.sleep(due - now)
            continue
        due += interval
        if len(tasks) >= MAX_IN_FLIGHT:
            records.skipped[kind] += 1
            continue
        task = asyncio.create_task(start_one(n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    await asyncio.gather(*tasks, return_exceptions=True)


def _chat_seqs(frame: str | bytes) -> list[int]:
    if isinstance(frame, bytes):
        frame = frame.decode()
    if CHAT_PREFIX not in frame:  # most frames are counters: skip the parse
        return []
    events = json.loads(frame)
    return [
        int(e["text"].split()[1])
        for e in (events if isinstance(events, list) else [events])
        if e.get("type") == "chat" and str(e.get("text", "")).startswith(CHAT_PREFIX)
    ]


async def viewer(url: str, index: int, records: Records) -> None:
    """Watch the room (anonymous) until cancelled; reconnect after any loss, as the room page does.

    Only messages pushed live count as received: one a viewer first sees in a rejoin's history was not fanned out.
    """
    received = records.chat_received[index]
    while True:
        try:
            async with connect(url, **WS_OPTIONS) as socket:
                await socket.recv()  # the join state: its recent chat is history, not fan-out, so it is not counted
                async for frame in socket:
                    now = time.monotonic()
                    for seq in _chat_seqs(frame):
                        received.setdefault(seq, now)
        except (OSError, TimeoutError, WebSocketException, ValueError):
            pass
        records.reconnects["viewer"] += 1
        await asyncio.sleep(RECONNECT_S)


async def _read_errors(socket: ClientConnection, records: Records) -> None:
    async for frame in socket:
        if '"error"' in str(frame):
            events = json.loads(frame)
            for event in events if isinstance(events, list) else [events]:
                if event.get("type") == "error":
                    records.chat_errors[str(event.get("code"))] += 1


async def chatter(url: str, token: str, rate: float, until: float, records: Records) -> None:
    """Send ``rate`` numbered chat messages a second until ``until``; reconnect after any loss."""
    headers = {"Authorization": f"Bearer {token}"}
    due = time.monotonic()
    while time.monotonic() < until:
        try:
            async with connect(url, additional_headers=headers, **WS_OPTIONS) as socket:
                errors = asyncio.create_task(_read_errors(socket, records))
                try:
                    while (now := time.monotonic()) < until:
                        if now < due:
                            await asyncio.sleep(due - now)
                            continue
                        due = max(due + 1.0 / rate, now - 1.0)  # no burst to catch up after an outage
                        seq, records.next_seq = records.next_seq, records.next_seq + 1
                        sent = time.monotonic()
                        await socket.send(json.dumps({"type": "chat", "text": f"{CHAT_PREFIX}{seq}"}))
                        records.chat_sent[seq] = sent
                finally:
                    errors.cancel()
        except (OSError, TimeoutError, WebSocketException):
            pass
        records.reconnects["chatter"] += 1
        await asyncio.sleep(RECONNECT_S)


async def account(client: httpx.AsyncClient, role: str, password: str) -> tuple[str, str]:
    """A new account with ``role`` (buyer when empty): its id and a bearer token."""
    email = f"soak-{role or 'buyer'}-{uuid.uuid4().hex[:10]}@soak.test"
    body = {
        "email": email,
        "password": password,
        "display_name": f"Soak {role or 'buyer'}",
        "roles": [role] if role else [],
    }
    created = await client.post("/api/auth/signup", json=body)
    created.raise_for_status()
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    login.raise_for_status()
    client.cookies.clear()  # bearer tokens only: a session cookie would ask for CSRF tokens
    return created.json()["id"], login.json()["token"]
