"""Chat rules on the room channel: text stays data, sanctions, floods, slow mode, limits and bad frames."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from live.models import ChatMessage
from tests.clients import asgi_client
from tests.factories import bearer, signed_in
from tests.live.helpers import end_room, live_room, make_creator, make_products
from tests.live.sockets import RoomSocket


def ws(room_id: str) -> str:
    return f"/live/rooms/{room_id}/ws"


async def a_live_room(client: AsyncClient, app: Litestar) -> tuple[dict[str, Any], str]:
    _, host = await make_creator(client)
    return await live_room(client, app, host, await make_products(client)), host


async def moderate(client: AsyncClient, room_id: str, host: str, **body: str) -> None:
    response = await client.post(f"/api/live/rooms/{room_id}/moderation", json=body, headers=bearer(host))
    assert response.status_code in (200, 201), response.text


async def test_script_in_chat_arrives_inert_as_the_exact_text_sent(client: AsyncClient, app: Litestar) -> None:
    room, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" {{ 7*7 }}'
    async with RoomSocket(app, ws(room["id"]), token) as sender, RoomSocket(app, ws(room["id"])) as watcher:
        await sender.frame()
        await watcher.frame()
        await sender.send({"type": "chat", "text": hostile})
        delivered = await watcher.next_event("chat")
    # A JSON string holding exactly what was typed: nothing was executed, stripped or half-escaped on the way,
    # and pages render it as text.
    assert delivered["text"] == hostile
    async with RoomSocket(app, ws(room["id"])) as late:
        history = [e for e in await late.frame() if e["type"] == "chat"]
    assert [m["text"] for m in history] == [hostile]


async def test_a_muted_user_cannot_send_until_unmuted(client: AsyncClient, app: Litestar) -> None:
    room, host = await a_live_room(client, app)
    user, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as muted, RoomSocket(app, ws(room["id"])) as watcher:
        await muted.frame()
        await watcher.frame()
        await moderate(client, room["id"], host, action="mute", user_id=user["id"])
        await watcher.next_event("moderation", action="mute")
        await muted.send({"type": "chat", "text": "can you hear me"})
        assert (await muted.next_event("error"))["code"] == "muted"
        assert not [e for e in await watcher.quiet(0.3) if e["type"] == "chat"]

        await moderate(client, room["id"], host, action="unmute", user_id=user["id"])
        await watcher.next_event("moderation", action="unmute")
        await muted.send({"type": "chat", "text": "back again"})
        assert (await watcher.next_event("chat"))["text"] == "back again"


async def test_a_banned_user_cannot_send_even_on_a_new_socket(client: AsyncClient, app: Litestar) -> None:
    room, host = await a_live_room(client, app)
    user, token = await signed_in(client)
    await moderate(client, room["id"], host, action="ban", user_id=user["id"])
    async with RoomSocket(app, ws(room["id"]), token) as banned:
        assert await banned.closed() == 4403
    # Asking the chat rules directly (a socket opened just before the ban, on another process) is refused too.
    from uuid import UUID

    from kernel.auth import CurrentUser
    from live.chat import ChatRefused

    sender = CurrentUser(UUID(user["id"]), user["email"], user["display_name"], frozenset())
    try:
        await app.state.room_channel.chat.post(UUID(room["id"]), sender, "sneaky", 0)
    except ChatRefused as refused:
        assert refused.code == "banned"
    else:
        raise AssertionError("a banned user posted")


async def test_a_flood_gets_rate_limited_errors_with_a_retry_after(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    room, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    burst = app.state.settings.live.chat_burst
    window = app.state.settings.live.chat_window
    async with RoomSocket(app, ws(room["id"]), token) as flooder, RoomSocket(app, ws(room["id"])) as watcher:
        await flooder.frame()
        await watcher.frame()
        for n in range(burst + 3):
            await flooder.send({"type": "chat", "text": f"spam {n}"})
        errors = [e for e in await flooder.quiet(0.5) if e["type"] == "error"]
        assert [e["code"] for e in errors] == ["rate_limited"] * 3
        assert all(1 <= e["retry_after"] <= window.total_seconds() for e in errors)
        delivered = [e["text"] for e in await watcher.quiet(0.2) if e["type"] == "chat"]
        assert delivered == [f"spam {n}" for n in range(burst)]

        clock.advance(window)
        await flooder.send({"type": "chat", "text": "after the window"})
        assert (await watcher.next_event("chat"))["text"] == "after the window"


async def test_slow_mode_allows_one_message_per_interval_except_for_the_host(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    room, host = await a_live_room(client, app)
    _, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as fan, RoomSocket(app, ws(room["id"]), host) as studio:
        await fan.frame()
        await studio.frame()
        response = await client.patch(
            f"/api/live/rooms/{room['id']}", json={"slow_mode_seconds": 30}, headers=bearer(host)
        )
        assert response.status_code == 200, response.text
        await fan.next_event("moderation", action="slow_mode")
        await fan.send({"type": "chat", "text": "one"})
        await fan.next_event("chat", text="one")
        clock.advance(timedelta(seconds=10))
        await fan.send({"type": "chat", "text": "two"})
        error = await fan.next_event("error")
        assert (error["code"], error["retry_after"]) == ("slow_mode", 20)
        for text in ("host one", "host two"):
            await studio.send({"type": "chat", "text": text})
            await fan.next_event("chat", text=text)
        clock.advance(timedelta(seconds=20))
        await fan.send({"type": "chat", "text": "three"})
        await fan.next_event("chat", text="three")


async def test_empty_too_long_and_malformed_frames_are_refused_and_change_nothing(
    client: AsyncClient, app: Litestar
) -> None:
    room, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    limit = app.state.settings.live.chat_max_chars
    async with RoomSocket(app, ws(room["id"]), token) as sender, RoomSocket(app, ws(room["id"])) as watcher:
        await sender.frame()
        await watcher.frame()
        cases = [
            ({"type": "chat", "text": "   "}, "empty"),
            ({"type": "chat", "text": "x" * (limit + 1)}, "too_long"),
            ({"type": "chat"}, "bad_frame"),
            ({"type": "chat", "text": "hi", "html": "<b>"}, "bad_frame"),
            ({"type": "shout", "text": "hi"}, "bad_frame"),
            ([1, 2], "bad_frame"),
        ]
        for frame, code in cases:
            await sender.send(frame)
            assert (await sender.next_event("error"))["code"] == code, frame
        await sender.send_text("{not json")
        assert (await sender.next_event("error"))["code"] == "bad_frame"
        await sender.send({"type": "chat", "text": "x" * limit})  # exactly the limit is fine
        assert len((await watcher.next_event("chat"))["text"]) == limit


async def test_chat_closes_when_the_show_ends(client: AsyncClient, app: Litestar) -> None:
    room, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as fan:
        await fan.frame()
        await end_room(app, room["id"])
        assert (await fan.next_event("status"))["status"] == "ended"
        await fan.send({"type": "chat", "text": "encore!"})
        assert (await fan.next_event("error"))["code"] == "room_ended"


async def test_messages_accepted_just_before_shutdown_are_still_stored(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    app = create_app(make_settings(), clock=clock)
    async with asgi_client(app) as client:
        room, _ = await a_live_room(client, app)
        _, token = await signed_in(client)
        async with RoomSocket(app, ws(room["id"]), token) as sender:
            await sender.frame()
            await sender.send({"type": "chat", "text": "last words"})
    async with app.state.db.sessionmaker() as session:
        stored = await session.scalars(select(ChatMessage.text).where(ChatMessage.room_id == UUID(room["id"])))
        assert list(stored) == ["last words"]
    await app.state.db.dispose()
