"""Live room actions through the public API (and the media side's service call), shared by the live tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from httpx import AsyncClient
from litestar import Litestar
from litestar.channels import ChannelsPlugin, Subscriber

from live.events import RoomEvent, room_topic
from live.rooms import RoomService
from tests.factories import bearer, signed_in
from tests.shop.helpers import seller_with_product

_room_event = msgspec.json.Decoder(RoomEvent)


def rfc3339(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


async def make_creator(client: AsyncClient) -> tuple[dict[str, Any], str]:
    """A new influencer account and its bearer token."""
    return await signed_in(client, ["influencer"])


async def make_products(client: AsyncClient, n: int = 1, price: int = 2500, stock: int = 10) -> list[str]:
    """``n`` products from one new seller."""
    seller, first = await seller_with_product(client, price=price, stock=stock)
    ids = [first]
    for _ in range(n - 1):
        response = await client.post(
            "/api/shop/products",
            headers=bearer(seller),
            json={
                "title": "Silk scarf",
                "category": "fashion",
                "price": {"amount_minor": price, "currency": "USD"},
                "stock": stock,
            },
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def schedule_room(
    client: AsyncClient, token: str, product_ids: list[str] | None = None, **fields: Any
) -> dict[str, Any]:
    """A room scheduled by the creator holding ``token`` (with one new product unless ``product_ids`` is given)."""
    if product_ids is None:
        product_ids = await make_products(client)
    body = {"title": "Spring haul", "description": "New in.", "product_ids": product_ids, **fields}
    response = await client.post("/api/live/rooms", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


def rooms_of(app: Litestar, session: Any) -> RoomService:
    state = app.state
    return RoomService(session, state.clock, state.bus, state.settings.live)


async def go_live(app: Litestar, room_id: str) -> None:
    """What the media side does when the host's media arrives."""
    async with app.state.db.sessionmaker() as session, session.begin():
        await rooms_of(app, session).go_live(UUID(room_id))


async def end_room(app: Litestar, room_id: str) -> None:
    """What the media side does when the host stops broadcasting."""
    async with app.state.db.sessionmaker() as session, session.begin():
        await rooms_of(app, session).end(UUID(room_id))


async def live_room(client: AsyncClient, app: Litestar, token: str, product_ids: list[str]) -> dict[str, Any]:
    room = await schedule_room(client, token, product_ids)
    await go_live(app, room["id"])
    return room


@asynccontextmanager
async def room_events(app: Litestar, room_id: str) -> AsyncIterator[Subscriber]:
    """A subscription to the room's topic, as the room channel has one."""
    channels = app.plugins.get(ChannelsPlugin)
    async with channels.start_subscription([room_topic(room_id)]) as subscriber:
        await asyncio.sleep(0.05)  # let the Redis backend confirm the subscription
        yield subscriber


async def next_event(subscriber: Subscriber, within: float = 5.0) -> Any:
    async with asyncio.timeout(within):
        async for raw in subscriber.iter_events():
            return _room_event.decode(raw)
    raise AssertionError("subscription ended")


async def no_event(subscriber: Subscriber, within: float = 0.2) -> None:
    """Nothing arrives on the subscription for ``within`` seconds."""
    try:
        event = await next_event(subscriber, within)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected event {event!r}")
