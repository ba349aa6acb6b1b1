"""Moderation: who may act, what each action leaves in the database, and what the room hears."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from httpx import AsyncClient
from litestar import Litestar

from kernel.clock import FixedClock
from live.events import Moderation
from live.models import ChatMessage, SanctionKind
from live.moderation import sanctions
from tests.factories import bearer, signed_in
from tests.live.helpers import live_room, make_creator, make_products, next_event, no_event, room_events
from tests.shop.helpers import make_admin


async def moderate(client: AsyncClient, token: str | None, room_id: str, **body: Any) -> Any:
    headers = bearer(token) if token else {}
    return await client.post(f"/api/live/rooms/{room_id}/moderation", json=body, headers=headers)


async def sanctions_of(app: Litestar, room_id: str, user_id: str) -> set[SanctionKind]:
    async with app.state.db.sessionmaker() as session:
        return await sanctions(session, UUID(room_id), UUID(user_id))


async def chat_message(app: Litestar, room_id: str, user_id: str, clock: FixedClock) -> str:
    """A message as the room channel stores it."""
    async with app.state.db.sessionmaker() as session, session.begin():
        message = ChatMessage(room_id=UUID(room_id), user_id=UUID(user_id), text="buy my stuff", at=clock.now())
        session.add(message)
        await session.flush()
        return str(message.id)


async def test_only_the_host_or_an_admin_moderates(client: AsyncClient, app: Litestar) -> None:
    host_user, host = await make_creator(client)
    viewer, viewer_token = await signed_in(client)
    admin = await make_admin(client, app)
    room = await live_room(client, app, host, await make_products(client))
    mute = {"action": "mute", "user_id": viewer["id"]}

    assert (await moderate(client, None, room["id"], **mute)).status_code == 401
    assert (await moderate(client, viewer_token, room["id"], **mute)).status_code == 403
    assert (await moderate(client, host, str(uuid.uuid4()), **mute)).status_code == 404
    assert (await moderate(client, host, room["id"], action="mute")).status_code == 422
    assert (await moderate(client, host, room["id"], action="mute", user_id=str(uuid.uuid4()))).status_code == 404
    assert (await moderate(client, host, room["id"], action="shout", user_id=viewer["id"])).status_code == 400
    for who in (host, admin):
        self_ban = await moderate(client, who, room["id"], action="ban", user_id=host_user["id"])
        assert self_ban.status_code == 422 and self_ban.json()["type"] == "/problems/cannot_sanction_host"
    assert await sanctions_of(app, room["id"], host_user["id"]) == set()
    assert await sanctions_of(app, room["id"], viewer["id"]) == set()

    by_admin = await moderate(client, admin, room["id"], **mute)
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json() == {"action": "mute", "user_id": viewer["id"], "message_id": None}
    assert await sanctions_of(app, room["id"], viewer["id"]) == {SanctionKind.MUTE}


async def test_sanctions_are_kept_per_room_and_announced_after_commit(client: AsyncClient, app: Litestar) -> None:
    _, host = await make_creator(client)
    viewer, _ = await signed_in(client)
    products = await make_products(client)
    room = await live_room(client, app, host, products)
    other_room = await live_room(client, app, host, products)

    async with room_events(app, room["id"]) as events:
        for action, expected in [
            ("mute", {SanctionKind.MUTE}),
            ("mute", {SanctionKind.MUTE}),  # again: still one mute
            ("ban", {SanctionKind.MUTE, SanctionKind.BAN}),
            ("unmute", {SanctionKind.BAN}),
            ("unban", set()),
        ]:
            response = await moderate(client, host, room["id"], action=action, user_id=viewer["id"])
            assert response.status_code == 200, response.text
            assert await next_event(events) == Moderation(action=action, user_id=viewer["id"])
            assert await sanctions_of(app, room["id"], viewer["id"]) == expected
        refused = await moderate(client, host, room["id"], action="ban")
        assert refused.status_code == 422
        await no_event(events)  # a refused action is not announced

    await moderate(client, host, room["id"], action="ban", user_id=viewer["id"])
    assert await sanctions_of(app, other_room["id"], viewer["id"]) == set()


async def test_deleting_a_message_hides_it_and_tells_the_room(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    viewer, _ = await signed_in(client)
    products = await make_products(client)
    room = await live_room(client, app, host, products)
    other_room = await live_room(client, app, host, products)
    message_id = await chat_message(app, room["id"], viewer["id"], clock)
    elsewhere = await chat_message(app, other_room["id"], viewer["id"], clock)

    assert (await moderate(client, host, room["id"], action="delete_message")).status_code == 422
    assert (await moderate(client, host, room["id"], action="delete_message", message_id=elsewhere)).status_code == 404
    assert (await moderate(client, host, room["id"], action="delete_message", message_id="nope")).status_code == 404
    async with room_events(app, room["id"]) as events:
        deleted = await moderate(client, host, room["id"], action="delete_message", message_id=message_id)
        assert deleted.status_code == 200, deleted.text
        event = await next_event(events)
        assert event == Moderation(action="delete_message", user_id=viewer["id"], message_id=message_id)

    async with app.state.db.sessionmaker() as session:
        hidden = await session.get(ChatMessage, UUID(message_id))
        untouched = await session.get(ChatMessage, UUID(elsewhere))
        assert hidden.deleted_at == clock.now() and untouched.deleted_at is None
