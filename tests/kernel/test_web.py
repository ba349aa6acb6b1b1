"""Links the server hands out (a room's WHIP URL, a calendar event's link) follow the address it serves, or
LIVECOMMERCE_PUBLIC_URL when the operator sets one (behind a proxy or a CDN)."""

from __future__ import annotations

from collections.abc import Callable

from httpx import AsyncClient

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.community.helpers import creator
from tests.factories import bearer
from tests.live.helpers import schedule_room

PORT_8100 = "http://127.0.0.1:8100"


async def test_a_rooms_whip_url_names_the_port_the_server_answers_on(client: AsyncClient) -> None:
    _, host = await creator(client)
    room = await client.post(
        f"{PORT_8100}/api/live/rooms",
        json={"title": "Spring haul", "description": "", "product_ids": []},
        headers=bearer(host),
    )
    assert room.status_code == 201, room.text
    assert room.json()["whip_url"] == f"{PORT_8100}/live/rooms/{room.json()['id']}/whip"
    rotated = await client.post(f"{PORT_8100}/api/live/rooms/{room.json()['id']}/stream-key", headers=bearer(host))
    assert rotated.json()["whip_url"] == room.json()["whip_url"]


async def test_a_configured_public_url_names_every_handed_out_link(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    public = "https://shop.example"
    app = create_app(make_settings(LIVECOMMERCE_PUBLIC_URL=public + "/"), clock=clock)
    async with asgi_client(app) as client:
        _, host = await creator(client)
        room = await schedule_room(client, host, scheduled_for=(clock.now().replace(year=2027)).isoformat())
        assert room["whip_url"] == f"{public}/live/rooms/{room['id']}/whip"
        ics = await client.get(f"{PORT_8100}/community/rooms/{room['id']}/calendar.ics")
        assert f"URL:{public}/live/rooms/{room['id']}" in ics.text.replace("\r\n ", "")
    await app.state.db.dispose()
