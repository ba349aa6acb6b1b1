"""Rooms through the API: scheduling rules, lists by status, stream keys, the lifecycle, pins and host edits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest
from httpx import AsyncClient
from litestar import Litestar
from litestar.channels import ChannelsPlugin

from kernel.clock import FixedClock
from kernel.errors import Conflict, Unauthorized
from live.events import ROOMS_TOPIC, Moderation, Pinned, RoomStatusChanged, StatusChanged
from tests.factories import bearer, signed_in
from tests.live.helpers import (
    end_room,
    go_live,
    make_creator,
    make_products,
    next_event,
    no_event,
    rfc3339,
    room_events,
    rooms_of,
    schedule_room,
)
from tests.shop.helpers import make_admin


def problem(response: Any) -> str:
    return response.json()["type"].removeprefix("/problems/")


async def test_a_creator_schedules_a_room_and_only_the_host_sees_its_stream_key(
    client: AsyncClient, clock: FixedClock
) -> None:
    creator, token = await make_creator(client)
    products = await make_products(client, 3)
    start = clock.now() + timedelta(days=1)

    room = await schedule_room(client, token, products, scheduled_for=rfc3339(start))

    assert room["status"] == "scheduled" and room["host"]["id"] == creator["id"]
    assert room["scheduled_for"] == rfc3339(start)
    assert room["whip_url"].endswith(f"/live/rooms/{room['id']}/whip") and len(room["stream_key"]) >= 32
    assert [p["id"] for p in room["products"]] == products
    assert room["pinned_product"] is None and room["pinned_products"] == [] and room["viewer_count"] == 0
    _, other = await signed_in(client)
    for headers in ({}, bearer(other)):
        seen = (await client.get(f"/api/live/rooms/{room['id']}", headers=headers)).json()
        assert seen["stream_key"] is None and seen["whip_url"] is None
        assert [p["id"] for p in seen["products"]] == products
    mine = (await client.get(f"/api/live/rooms/{room['id']}", headers=bearer(token))).json()
    assert mine["stream_key"] == room["stream_key"]


async def test_scheduling_refuses_bad_rooms_and_creates_nothing(client: AsyncClient, clock: FixedClock) -> None:
    _, token = await make_creator(client)
    _, buyer = await signed_in(client)
    products = await make_products(client, 2)
    ghost = str(uuid.uuid4())

    def post(body: dict[str, Any], who: str = token) -> Any:
        return client.post("/api/live/rooms", json={"title": "Show", **body}, headers=bearer(who) if who else {})

    assert (await post({"product_ids": products}, who="")).status_code == 401
    assert (await post({"product_ids": products}, who=buyer)).status_code == 403
    unknown = await post({"product_ids": [products[0], ghost, "not-an-id"]})
    assert unknown.status_code == 422 and problem(unknown) == "unknown_products"
    assert unknown.json()["product_ids"] == [ghost, "not-an-id"]
    assert {e["message"] for e in unknown.json()["errors"]} == {f"unknown product {ghost}", "unknown product not-an-id"}
    repeated = await post({"product_ids": [products[0], products[0]]})
    assert repeated.status_code == 422 and problem(repeated) == "duplicate_products"
    assert (await post({"product_ids": products * 11})).status_code == 400  # 22 > 20
    past = await post({"product_ids": products, "scheduled_for": rfc3339(clock.now() - timedelta(hours=1))})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "scheduled_for"
    far = await post({"product_ids": products, "scheduled_for": rfc3339(clock.now() + timedelta(days=400))})
    assert far.status_code == 422
    naive = await post({"product_ids": products, "scheduled_for": "2026-03-03T10:00:00"})
    assert naive.status_code == 400
    assert (await post({"product_ids": products, "stream_key": "mine"})).status_code == 400

    assert (await client.get("/api/live/rooms")).json() == {"items": [], "next_cursor": None}


async def test_lists_by_status_in_the_order_people_look_for_them(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, token = await make_creator(client)
    products = await make_products(client)
    later, soon, soonest = [
        await schedule_room(client, token, products, scheduled_for=rfc3339(clock.now() + timedelta(hours=h)))
        for h in (5, 3, 1)
    ]
    first_live = await schedule_room(client, token, products)
    second_live = await schedule_room(client, token, products)
    await go_live(app, first_live["id"])
    clock.advance(timedelta(minutes=1))
    await go_live(app, second_live["id"])
    clock.advance(timedelta(minutes=1))
    await end_room(app, soon["id"])

    async def ids(status: str, **params: Any) -> list[str]:
        response = await client.get("/api/live/rooms", params={"status": status, **params})
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids("scheduled") == [soonest["id"], later["id"]]
    assert await ids("live") == [second_live["id"], first_live["id"]]
    assert await ids("ended") == [soon["id"]]

    # Walking the upcoming list one room at a time gives the same rooms in the same order.
    walked, cursor = [], None
    while True:
        params = {"status": "scheduled", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/live/rooms", params=params)).json()
        walked += [r["id"] for r in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert walked == [soonest["id"], later["id"]]
    card = (await client.get("/api/live/rooms", params={"status": "live"})).json()["items"][0]
    assert card["product_ids"] == products and "stream_key" not in card
    bad = await client.get("/api/live/rooms", params={"cursor": "nonsense"})
    assert bad.status_code == 422 and problem(bad) == "bad_cursor"
    assert (await client.get("/api/live/rooms", params={"status": "paused"})).status_code == 400


async def test_rotating_the_stream_key_locks_out_the_old_one(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    _, stranger = await make_creator(client)
    room = await schedule_room(client, token)
    path = f"/api/live/rooms/{room['id']}/stream-key"

    assert (await client.post(path, headers=bearer(stranger))).status_code == 403
    assert (await client.post(f"/api/live/rooms/{uuid.uuid4()}/stream-key", headers=bearer(token))).status_code == 404
    rotated = await client.post(path, headers=bearer(token))
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["stream_key"]
    assert new_key != room["stream_key"] and rotated.json()["whip_url"] == room["whip_url"]

    async with app.state.db.sessionmaker() as session:
        rooms = rooms_of(app, session)
        with pytest.raises(Unauthorized):
            await rooms.authorize_publisher(UUID(room["id"]), room["stream_key"])
        assert str((await rooms.authorize_publisher(UUID(room["id"]), new_key)).id) == room["id"]
    await end_room(app, room["id"])
    async with app.state.db.sessionmaker() as session:
        with pytest.raises(Conflict):
            await rooms_of(app, session).authorize_publisher(UUID(room["id"]), new_key)


async def test_going_live_and_ending_are_announced_after_commit_and_idempotent(
    client: AsyncClient, app: Litestar
) -> None:
    _, token = await make_creator(client)
    room = await schedule_room(client, token)

    async with room_events(app, room["id"]) as events:
        # A transaction that rolls back announces nothing.
        async with app.state.db.sessionmaker() as session:
            await rooms_of(app, session).go_live(UUID(room["id"]))
            await session.rollback()
        await no_event(events)
        await go_live(app, room["id"])
        assert await next_event(events) == StatusChanged("live")
        await go_live(app, room["id"])  # again: nothing changes, nothing is announced
        await no_event(events)
        ended = await client.post(f"/api/live/rooms/{room['id']}/end", headers=bearer(token))
        assert ended.status_code == 200 and ended.json()["status"] == "ended"
        assert await next_event(events) == StatusChanged("ended")
    detail = (await client.get(f"/api/live/rooms/{room['id']}")).json()
    assert detail["status"] == "ended" and detail["started_at"] and detail["ended_at"]
    async with app.state.db.sessionmaker() as session:
        with pytest.raises(Conflict):
            await rooms_of(app, session).go_live(UUID(room["id"]))


async def test_status_changes_reach_listeners_outside_the_room(client: AsyncClient, app: Litestar) -> None:
    creator, token = await make_creator(client)
    room = await schedule_room(client, token)
    async with app.plugins.get(ChannelsPlugin).start_subscription([ROOMS_TOPIC]) as subscriber:
        await asyncio.sleep(0.05)
        await go_live(app, room["id"])
        async with asyncio.timeout(5):
            raw = await anext(subscriber.iter_events())
    changed = msgspec.json.decode(raw, type=RoomStatusChanged)
    assert (changed.room_id, changed.host_id, changed.status) == (room["id"], creator["id"], "live")


async def test_pins_are_the_hosts_up_to_three_of_the_rooms_products(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    _, stranger = await make_creator(client)
    admin = await make_admin(client, app)
    products = await make_products(client, 4)
    outsider = (await make_products(client))[0]
    room = await schedule_room(client, token, products)
    pin = f"/api/live/rooms/{room['id']}/pin"

    assert (await client.post(pin, json={"product_id": products[0]})).status_code == 401
    assert (await client.post(pin, json={"product_id": products[0]}, headers=bearer(stranger))).status_code == 403
    missing = await client.post(
        f"/api/live/rooms/{uuid.uuid4()}/pin", json={"product_id": products[0]}, headers=bearer(token)
    )
    assert missing.status_code == 404
    not_in_room = await client.post(pin, json={"product_id": outsider}, headers=bearer(token))
    assert not_in_room.status_code == 422 and problem(not_in_room) == "product_not_in_room"

    async with room_events(app, room["id"]) as events:
        for product_id in products[:3]:
            response = await client.post(pin, json={"product_id": product_id}, headers=bearer(token))
            assert response.status_code == 200, response.text
            pinned = await next_event(events)
            assert isinstance(pinned, Pinned) and pinned.product.id == product_id
        by_admin = await client.post(pin, json={"product_id": products[3]}, headers=bearer(admin))
        assert by_admin.status_code == 200
        assert [p["id"] for p in by_admin.json()["pinned_products"]] == [products[3], products[2], products[1]]
        event = await next_event(events)
        assert [c.id for c in event.products] == [products[3], products[2], products[1]]
        assert event.products[0].price.amount_minor == 2500

        unpinned = await client.delete(f"{pin}/{products[2]}", headers=bearer(token))
        assert unpinned.status_code == 200
        assert [p["id"] for p in unpinned.json()["pinned_products"]] == [products[3], products[1]]
        assert [c.id for c in (await next_event(events)).products] == [products[3], products[1]]
        assert (await client.delete(f"{pin}/{products[2]}", headers=bearer(token))).status_code == 404

    detail = (await client.get(f"/api/live/rooms/{room['id']}")).json()
    assert detail["pinned_product"]["id"] == products[3]
    assert [p["id"] for p in detail["pinned_products"]] == [products[3], products[1]]


async def test_the_host_edits_the_room_and_sets_slow_mode(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, token = await make_creator(client)
    _, stranger = await make_creator(client)
    products = await make_products(client, 3)
    room = await schedule_room(client, token, products)
    path = f"/api/live/rooms/{room['id']}"
    for product_id in products[:2]:
        await client.post(f"{path}/pin", json={"product_id": product_id}, headers=bearer(token))

    assert (await client.patch(path, json={"title": "Mine now"}, headers=bearer(stranger))).status_code == 403
    async with room_events(app, room["id"]) as events:
        start = clock.now() + timedelta(hours=2)
        changed = await client.patch(
            path,
            json={
                "title": "Summer haul",
                "scheduled_for": rfc3339(start),
                "product_ids": [products[2], products[0]],
                "slow_mode_seconds": 10,
            },
            headers=bearer(token),
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["title"], body["scheduled_for"], body["slow_mode_seconds"]) == ("Summer haul", rfc3339(start), 10)
        assert [p["id"] for p in body["products"]] == [products[2], products[0]]
        assert [p["id"] for p in body["pinned_products"]] == [products[0]]  # the removed product is unpinned
        received = [await next_event(events), await next_event(events)]
        assert Moderation(action="slow_mode", slow_mode_seconds=10) in received
        assert any(isinstance(e, Pinned) and [c.id for c in e.products] == [products[0]] for e in received)

    bad = await client.patch(path, json={"product_ids": [str(uuid.uuid4())]}, headers=bearer(token))
    assert bad.status_code == 422
    assert [p["id"] for p in (await client.get(path)).json()["products"]] == [products[2], products[0]]
    await go_live(app, room["id"])
    moved = await client.patch(path, json={"scheduled_for": rfc3339(start)}, headers=bearer(token))
    assert moved.status_code == 409
    await end_room(app, room["id"])
    assert (await client.patch(path, json={"title": "Again"}, headers=bearer(token))).status_code == 409


async def test_the_openapi_document_describes_the_room_endpoints(client: AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    expected = {
        ("/api/live/rooms", "post"): {"201", "401", "403", "422"},
        ("/api/live/rooms", "get"): {"200", "422"},
        ("/api/live/rooms/{room_id}", "get"): {"200", "404"},
        ("/api/live/rooms/{room_id}", "patch"): {"200", "401", "403", "404", "409", "422"},
        ("/api/live/rooms/{room_id}/pin", "post"): {"200", "401", "403", "404", "409", "422"},
        ("/api/live/rooms/{room_id}/deals", "post"): {"201", "401", "403", "404", "409", "422"},
        ("/api/live/rooms/{room_id}/moderation", "post"): {"200", "401", "403", "404", "422"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= paths[path][method]["responses"].keys(), (path, method)
