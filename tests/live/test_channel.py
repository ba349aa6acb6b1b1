"""The room channel: joining, fan-out, ticks, slow clients, the purchase ticker and bans."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from uuid import UUID

import pytest
from httpx import AsyncClient
from litestar import Litestar

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from live.listeners import SOCKET_BACKLOG
from live.models import ChatMessage
from tests.clients import asgi_client
from tests.factories import bearer, signed_in
from tests.live.helpers import live_room, make_creator, make_products
from tests.live.sockets import RoomSocket
from tests.shop.helpers import checkout


def ws(room_id: str) -> str:
    return f"/live/rooms/{room_id}/ws"


@pytest.fixture
async def fast_app(make_settings: Callable[..., Settings], clock: FixedClock) -> AsyncIterator[Litestar]:
    """The app with a 5 ms tick, so a test sees a hundred frames go by in half a second."""
    app = create_app(make_settings(LIVECOMMERCE_ROOM_TICK="5ms", LIVECOMMERCE_CHAT_BURST="1000"), clock=clock)
    yield app
    await app.state.db.dispose()


async def a_live_room(client: AsyncClient, app: Litestar, stock: int = 10) -> tuple[dict, str, list[str]]:
    _, host = await make_creator(client)
    products = await make_products(client, stock=stock)
    return await live_room(client, app, host, products), host, products


async def test_a_joining_client_gets_the_room_as_it_is_and_the_recent_chat(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    room, host, products = await a_live_room(client, app)
    pinned = await client.post(
        f"/api/live/rooms/{room['id']}/pin", json={"product_id": products[0]}, headers=bearer(host)
    )
    assert pinned.status_code in (200, 201), pinned.text
    viewer, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as sender:
        await sender.frame()
        for text in ("first", "second", "third"):
            await sender.send({"type": "chat", "text": text})
            await sender.next_event("chat", text=text)
            clock.advance(timedelta(seconds=3))  # inside the chat burst limit
    async with app.state.db.transaction() as session:  # the host deleted "second"
        message = (await session.execute(ChatMessage.__table__.select().where(ChatMessage.text == "second"))).first()
        await session.execute(
            ChatMessage.__table__.update().where(ChatMessage.id == message.id).values(deleted_at=clock.now())
        )

    async with RoomSocket(app, ws(room["id"])) as watcher:
        state = await watcher.frame()
    kinds = [event["type"] for event in state]
    assert kinds[:2] == ["status", "pinned"] and {"likes", "viewers"} <= set(kinds)
    assert state[0]["status"] == "live"
    assert state[1]["product"]["id"] == products[0]
    assert next(e for e in state if e["type"] == "viewers")["count"] == 1
    chat = [e for e in state if e["type"] == "chat"]
    assert [c["text"] for c in chat] == ["first", "third"]  # oldest first, the deleted one left out
    assert chat[0]["user"] == {"id": viewer["id"], "display_name": viewer["display_name"]}


async def test_an_unknown_room_closes_the_socket_with_4404(client: AsyncClient, app: Litestar) -> None:
    for room_id in ("0192f000-0000-7000-8000-000000000000", "not-a-room"):
        async with RoomSocket(app, ws(room_id)) as socket:
            assert await socket.closed() == 4404


async def test_chat_reaches_every_other_socket_in_one_frame_per_tick(client: AsyncClient, app: Litestar) -> None:
    room, _, _ = await a_live_room(client, app)
    sender_user, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as sender, RoomSocket(app, ws(room["id"])) as other:
        await sender.frame()
        await other.frame()
        await sender.send({"type": "chat", "text": "hello room"})
        event = await other.next_event("chat")
        assert event["text"] == "hello room"
        assert event["user"]["id"] == sender_user["id"]
        assert UUID(event["id"]) and event["at"].endswith("Z")
        assert (await sender.next_event("chat"))["id"] == event["id"]  # the sender sees it too


async def test_anonymous_sockets_watch_but_cannot_send(client: AsyncClient, app: Litestar) -> None:
    room, _, _ = await a_live_room(client, app)
    async with RoomSocket(app, ws(room["id"])) as anonymous, RoomSocket(app, ws(room["id"])) as other:
        await anonymous.frame()
        await other.frame()
        await anonymous.send({"type": "chat", "text": "let me in"})
        error = await anonymous.next_event("error")
        assert error["code"] == "sign_in_required"
        await anonymous.send({"type": "like"})
        assert (await anonymous.next_event("error"))["code"] == "sign_in_required"
        assert not [e for e in await other.quiet(0.3) if e["type"] in ("chat", "likes")]


async def test_a_session_cookie_from_another_site_may_watch_but_not_speak(client: AsyncClient, app: Litestar) -> None:
    room, _, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    foreign = {"cookie": f"lc_session={token}", "origin": "https://evil.example"}
    async with RoomSocket(app, ws(room["id"]), headers=foreign) as socket:
        await socket.frame()
        await socket.send({"type": "chat", "text": "on your behalf"})
        assert (await socket.next_event("error"))["code"] == "sign_in_required"
    same_site = {"cookie": f"lc_session={token}", "origin": "http://testserver.local"}
    async with RoomSocket(app, ws(room["id"]), headers=same_site) as socket:
        await socket.frame()
        await socket.send({"type": "chat", "text": "from our own page"})
        assert (await socket.next_event("chat"))["text"] == "from our own page"


async def test_an_oversized_frame_closes_only_that_socket(client: AsyncClient, app: Litestar) -> None:
    room, _, _ = await a_live_room(client, app)
    _, token = await signed_in(client)
    limit = app.state.settings.live.max_frame_bytes
    async with (
        RoomSocket(app, ws(room["id"]), token) as big,
        RoomSocket(app, ws(room["id"]), token) as sender,
        RoomSocket(app, ws(room["id"])) as watcher,
    ):
        for socket in (big, sender, watcher):
            await socket.frame()
        await big.send_text('{"type": "chat", "text": "' + "x" * limit + '"}')
        assert await big.closed() == 1009
        await sender.send({"type": "chat", "text": "still here"})
        assert (await watcher.next_event("chat"))["text"] == "still here"


async def test_likes_in_one_tick_arrive_as_one_total(make_settings: Callable[..., Settings], clock: FixedClock) -> None:
    app = create_app(make_settings(LIVECOMMERCE_ROOM_TICK="300ms"), clock=clock)
    async with asgi_client(app) as client:
        room, _, _ = await a_live_room(client, app)
        _, token = await signed_in(client)
        async with RoomSocket(app, ws(room["id"]), token) as liker, RoomSocket(app, ws(room["id"])) as watcher:
            await liker.frame()
            assert next(e for e in await watcher.frame() if e["type"] == "likes")["count"] == 0
            for _ in range(7):
                await liker.send({"type": "like"})
            likes = [e["count"] for e in await watcher.quiet(1.0) if e["type"] == "likes"]
            assert likes == [7]
        response = await client.get(f"/api/live/rooms/{room['id']}")
    async with app.state.db.sessionmaker() as session:  # saved to the room when the app stopped, at the latest
        from live.models import Room

        assert (await session.get(Room, UUID(room["id"]))).like_count == 7
    assert response.status_code == 200
    await app.state.db.dispose()


async def test_a_slow_client_loses_old_frames_and_the_room_does_not_wait(fast_app: Litestar) -> None:
    app = fast_app
    async with asgi_client(app) as client:
        room, _, _ = await a_live_room(client, app)
        _, token = await signed_in(client)
        async with (
            RoomSocket(app, ws(room["id"]), token) as sender,
            RoomSocket(app, ws(room["id"])) as slow,
            RoomSocket(app, ws(room["id"])) as fast,
        ):
            for socket in (sender, slow, fast):
                await socket.frame()
            slow.stall()
            # One message per tick, so each is a frame of its own: more than a socket may hold back.
            for n in range(SOCKET_BACKLOG + 20):
                await sender.send({"type": "chat", "text": f"message {n}"})
                await fast.next_event("chat", text=f"message {n}")  # the others keep up, in order
            feed = app.state.room_channel.hub.feeds[UUID(room["id"])]
            (listener,) = [x for x in feed.listeners if x.dropped]
            assert len(listener.queue) == SOCKET_BACKLOG  # the newest frames, waiting for the client
            assert listener.dropped >= 15  # the oldest ones, lost

            slow.resume()  # the client reads again: what it kept arrives in order, then it is live again
            caught_up = [int(e["text"].split()[1]) for e in await slow.quiet(0.5) if e["type"] == "chat"]
            assert caught_up == sorted(caught_up) and caught_up[-1] == SOCKET_BACKLOG + 19
            assert SOCKET_BACKLOG - 2 <= len(caught_up) <= SOCKET_BACKLOG + 1
            await sender.send({"type": "chat", "text": "message live"})
            assert (await slow.next_event("chat"))["text"] == "message live"


async def test_a_purchase_from_the_room_shows_in_its_ticker_with_the_stock_left(
    client: AsyncClient, app: Litestar
) -> None:
    room, _, products = await a_live_room(client, app, stock=5)
    _, buyer = await signed_in(client)
    async with RoomSocket(app, ws(room["id"])) as watcher:
        await watcher.frame()
        paid = await checkout(
            client, buyer, [{"product_id": products[0], "quantity": 2}], source={"room_id": room["id"]}
        )
        assert paid.status_code == 201, paid.text
        purchase = await watcher.next_event("purchase")
        stock = await watcher.next_event("stock")
    assert purchase["product_id"] == products[0]
    assert purchase["quantity"] == 2
    assert purchase["buyer"].startswith("T***")  # "Test User", masked
    assert (stock["product_id"], stock["remaining"], stock.get("deal_id")) == (products[0], 3, None)


async def test_a_purchase_from_elsewhere_is_not_in_the_ticker(client: AsyncClient, app: Litestar) -> None:
    room, _, products = await a_live_room(client, app)
    _, buyer = await signed_in(client)
    async with RoomSocket(app, ws(room["id"])) as watcher:
        await watcher.frame()
        paid = await checkout(client, buyer, [{"product_id": products[0], "quantity": 1}])
        assert paid.status_code == 201, paid.text
        events = await watcher.quiet(0.4)
    assert not [e for e in events if e["type"] == "purchase"]
    assert [e for e in events if e["type"] == "stock"]  # the product's stock still shows


async def test_a_ban_closes_the_users_sockets_and_refuses_them_again(client: AsyncClient, app: Litestar) -> None:
    room, host, _ = await a_live_room(client, app)
    troll, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as banned, RoomSocket(app, ws(room["id"])) as watcher:
        await banned.frame()
        await watcher.frame()
        response = await client.post(
            f"/api/live/rooms/{room['id']}/moderation",
            json={"action": "ban", "user_id": troll["id"]},
            headers=bearer(host),
        )
        assert response.status_code in (200, 201), response.text
        assert await banned.closed() == 4403
        assert (await watcher.next_event("moderation"))["action"] == "ban"  # the watcher stays
    async with RoomSocket(app, ws(room["id"]), token) as again:
        assert await again.closed() == 4403


async def test_the_viewer_count_follows_sockets_and_the_rooms_api_shows_it(client: AsyncClient, app: Litestar) -> None:
    room, _, _ = await a_live_room(client, app)
    async with RoomSocket(app, ws(room["id"])) as first:
        await first.frame()
        async with RoomSocket(app, ws(room["id"])) as second:
            await second.frame()
            assert (await first.next_event("viewers", count=2))["count"] == 2
            shown = await client.get(f"/api/live/rooms/{room['id']}")
            assert shown.json()["viewer_count"] == 2
        assert (await first.next_event("viewers", count=1))["count"] == 1
    await asyncio.sleep(0)
    assert UUID(room["id"]) not in app.state.room_channel.hub.feeds  # the last socket left: unsubscribed
    await app.state.room_channel.viewers.save_peaks()  # what happens every few seconds, and at shutdown
    shown = await client.get(f"/api/live/rooms/{room['id']}")
    assert shown.json()["peak_viewers"] == 2


async def test_a_live_deal_shows_on_joining_and_its_remaining_quantity_follows_sales(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    room, host, products = await a_live_room(client, app, stock=10)
    _, buyer = await signed_in(client)
    body = {
        "product_id": products[0],
        "price": {"amount_minor": 1500, "currency": "USD"},
        "quantity": 4,
        "ends_at": (clock.now() + timedelta(minutes=10)).isoformat(),
    }
    async with RoomSocket(app, ws(room["id"])) as watcher:
        await watcher.frame()
        offered = await client.post(f"/api/live/rooms/{room['id']}/deals", json=body, headers=bearer(host))
        assert offered.status_code == 201, offered.text
        deal = await watcher.next_event("deal")
        assert (deal["id"], deal["remaining"]) == (offered.json()["id"], 4)

        bought = await checkout(client, buyer, [{"product_id": products[0], "quantity": 1, "deal_id": deal["id"]}])
        assert bought.status_code == 201, bought.text
        events = await watcher.quiet(0.5)
    assert {"type": "stock", "product_id": products[0], "remaining": 3, "deal_id": deal["id"]} in events
    assert {"type": "stock", "product_id": products[0], "remaining": 9, "deal_id": None} in events
    assert [e["product_id"] for e in events if e["type"] == "purchase"] == [products[0]]  # the room is the source

    async with RoomSocket(app, ws(room["id"])) as late:
        joined = [e for e in await late.frame() if e["type"] == "deal"]
    assert [(d["id"], d["remaining"]) for d in joined] == [(deal["id"], 3)]
