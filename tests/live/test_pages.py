"""The live pages as browsers see them: the listing, the room for anyone, and the studio for its host only.

Pages are read with bearer tokens (the pages authenticate like the API) or anonymously; the scripts' starting
state is the JSON data block each room page embeds.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response
from litestar import Litestar
from markupsafe import escape

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.factories import bearer, signed_in
from tests.live.helpers import end_room, go_live, make_creator, make_products, rfc3339, schedule_room
from tests.live.sockets import RoomSocket
from tests.shop.attribution_helpers import report, staff
from tests.shop.helpers import checkout, make_admin

HTML = {"accept": "text/html"}
XSS = "<script>alert('x')</script>"


async def get_page(client: AsyncClient, path: str, token: str | None = None) -> Response:
    headers = {**HTML, **(bearer(token) if token else {})}
    return await client.get(path, headers=headers, follow_redirects=False)


def page_data(page: Response) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="room-data">(.*?)</script>', page.text, re.S)
    assert found, "the page carries no room data"
    return json.loads(found.group(1))


def section(page: Response, element_id: str) -> str:
    """The HTML of the <section id=...> named ``element_id``."""
    found = re.search(rf'<section[^>]*id="{element_id}"[^>]*>(.*?)</section>', page.text, re.S)
    assert found, f"no section {element_id}"
    return found.group(1)


async def test_live_lists_rooms_live_now_and_upcoming_with_links(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    products = await make_products(client)
    on_air = await schedule_room(client, token, products, title="On air now")
    later = await schedule_room(client, token, products, title="Tomorrow's haul")
    await go_live(app, on_air["id"])

    page = await get_page(client, "/live")

    assert page.status_code == 200
    live_now, upcoming = section(page, "live-now"), section(page, "upcoming")
    assert "On air now" in live_now and f'href="/live/rooms/{on_air["id"]}"' in live_now
    assert "Tomorrow&#39;s haul" in upcoming and f'href="/live/rooms/{later["id"]}"' in upcoming
    assert "Tomorrow" not in live_now and "On air now" not in upcoming


async def test_ended_rooms_leave_the_listing(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    room = await schedule_room(client, token, title="Over and done")
    await go_live(app, room["id"])
    await end_room(app, room["id"])

    page = await get_page(client, "/live")

    assert "Over and done" not in page.text
    assert "No one is live right now" in page.text


async def test_anonymous_visitors_watch_a_scheduled_room_and_are_asked_to_sign_in_to_chat(
    client: AsyncClient, clock: FixedClock
) -> None:
    host, token = await make_creator(client)
    products = await make_products(client, 2)
    start = clock.now() + timedelta(hours=3)
    room = await schedule_room(client, token, products, title="Evening show", scheduled_for=rfc3339(start))

    page = await get_page(client, f"/live/rooms/{room['id']}")

    assert page.status_code == 200
    assert 'data-testid="room-status"' in page.text and ">Scheduled<" in page.text
    assert f'datetime="{rfc3339(start)}"' in page.text  # the start time, shown in the reader's zone by script
    assert f"/signin?next=/live/rooms/{room['id']}" in page.text
    assert 'data-role="chat-form"' not in page.text
    data = page_data(page)
    assert data["me"] is None and data["moderator"] is False
    assert data["status"] == "scheduled" and data["host_id"] == host["id"]
    assert data["ws_url"] == f"/live/rooms/{room['id']}/ws" and data["whep_url"] == f"/live/rooms/{room['id']}/whep"
    assert set(data["products"]) == set(products)
    assert data["products"][products[0]]["price"] == {"amount_minor": 2500, "currency": "USD"}
    assert room["stream_key"] not in page.text


async def test_a_signed_in_viewer_gets_the_chat_form_and_sees_pins_and_deals(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 2)
    room = await schedule_room(client, host, products)
    await go_live(app, room["id"])
    pinned = await client.post(
        f"/api/live/rooms/{room['id']}/pin", json={"product_id": products[1]}, headers=bearer(host)
    )
    assert pinned.status_code == 200, pinned.text
    deal = await client.post(
        f"/api/live/rooms/{room['id']}/deals",
        headers=bearer(host),
        json={
            "product_id": products[0],
            "price": {"amount_minor": 1500, "currency": "USD"},
            "quantity": 5,
            "ends_at": rfc3339(clock.now() + timedelta(minutes=10)),
            "per_buyer_limit": 2,
        },
    )
    assert deal.status_code == 201, deal.text
    viewer, token = await signed_in(client)

    page = await get_page(client, f"/live/rooms/{room['id']}", token)

    assert page.status_code == 200 and ">LIVE<" in page.text
    assert 'data-role="chat-form"' in page.text
    data = page_data(page)
    assert data["me"]["id"] == viewer["id"] and data["moderator"] is False
    assert data["pinned"] == [products[1]]
    assert [(d["id"], d["remaining"], d["per_buyer_limit"]) for d in data["deals"]] == [(deal.json()["id"], 5, 2)]
    assert f'data-buy="{products[1]}"' in page.text  # the pinned product's Buy button
    assert f'data-deal="{deal.json()["id"]}"' in page.text and "$15.00" in page.text
    assert room["stream_key"] not in page.text


async def test_the_host_and_admins_moderate_from_the_room_page(client: AsyncClient, app: Litestar) -> None:
    _, host = await make_creator(client)
    room = await schedule_room(client, host)
    admin = await make_admin(client, app)
    _, other_creator = await make_creator(client)

    for token, moderator in ((host, True), (admin, True), (other_creator, False)):
        page = await get_page(client, f"/live/rooms/{room['id']}", token)
        assert page_data(page)["moderator"] is moderator
        assert room["stream_key"] not in page.text  # never on the public page, even for the host


async def test_an_ended_room_says_so(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    room = await schedule_room(client, token)
    await go_live(app, room["id"])
    await end_room(app, room["id"])

    page = await get_page(client, f"/live/rooms/{room['id']}")

    assert "This show has ended" in page.text and ">Ended<" in page.text
    assert page_data(page)["status"] == "ended"


async def test_an_unknown_room_is_not_found(client: AsyncClient) -> None:
    page = await get_page(client, "/live/rooms/0192e0c4-0000-7000-8000-000000000000")

    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


async def test_room_titles_and_descriptions_are_escaped_everywhere(client: AsyncClient, app: Litestar) -> None:
    _, token = await make_creator(client)
    room = await schedule_room(client, token, title=XSS, description=f"Tonight {XSS}")

    for path in ("/live", f"/live/rooms/{room['id']}", "/live/studio", f"/live/studio/{room['id']}"):
        page = await get_page(client, path, token)
        assert page.status_code == 200, path
        assert XSS not in page.text, path
        assert str(escape(XSS)) in page.text, path
    # The data block holds the title only through JSON escaping: no "</script>" can end it early.
    studio = await get_page(client, f"/live/studio/{room['id']}", token)
    block = re.search(r'id="room-data">(.*?)</script>', studio.text, re.S)
    assert block and "<" not in block.group(1)


async def test_the_studio_is_for_influencers_only(client: AsyncClient) -> None:
    anonymous = await get_page(client, "/live/studio")
    assert anonymous.status_code in (302, 303, 307)
    assert anonymous.headers["location"] == "/signin?next=/live/studio"

    _, buyer = await signed_in(client, ["buyer"])
    _, seller = await signed_in(client, ["seller"])
    for token in (buyer, seller):
        refused = await get_page(client, "/live/studio", token)
        assert refused.status_code == 403 and "Not allowed" in refused.text
        listing = await get_page(client, "/live", token)
        assert 'href="/live"' in listing.text and 'href="/live/studio"' not in listing.text

    _, creator = await make_creator(client)
    studio = await get_page(client, "/live/studio", creator)
    assert studio.status_code == 200 and 'id="schedule-form"' in studio.text
    assert 'href="/live/studio"' in studio.text  # the navigation's Studio item


async def test_the_studio_lists_only_the_hosts_own_rooms(client: AsyncClient, app: Litestar) -> None:
    _, mine = await make_creator(client)
    _, theirs = await make_creator(client)
    products = await make_products(client)
    upcoming = await schedule_room(client, mine, products, title="My upcoming show")
    on_air = await schedule_room(client, mine, products, title="My live show")
    await go_live(app, on_air["id"])
    await schedule_room(client, theirs, products, title="Someone else's show")

    page = await get_page(client, "/live/studio", mine)

    assert "My upcoming show" in page.text and "My live show" in page.text
    assert "Someone else" not in page.text
    assert f'href="/live/studio/{upcoming["id"]}"' in page.text and f'href="/live/studio/{on_air["id"]}"' in page.text


async def test_the_stream_key_is_shown_on_the_hosts_studio_page_only(client: AsyncClient, app: Litestar) -> None:
    _, host = await make_creator(client)
    room = await schedule_room(client, host)
    key, path = room["stream_key"], f"/live/studio/{room['id']}"

    page = await get_page(client, path, host)

    assert page.status_code == 200
    assert f'value="{key}"' in page.text and f'value="{room["whip_url"]}"' in page.text
    assert "Bearer Token" in page.text  # the OBS how-to
    data = page_data(page)
    assert data["stream_key"] == key and data["whip_url"] == f"/live/rooms/{room['id']}/whip"
    assert data["moderator"] is True

    _, other_creator = await make_creator(client)
    admin = await make_admin(client, app)
    refused = await get_page(client, path, other_creator)
    assert refused.status_code == 404 and key not in refused.text
    assert (await get_page(client, path, admin)).status_code == 403  # not an influencer at all
    assert (await get_page(client, path)).headers["location"] == f"/signin?next={path}"


async def test_a_rotated_key_replaces_the_old_one_on_the_studio_page(client: AsyncClient) -> None:
    _, host = await make_creator(client)
    room = await schedule_room(client, host)
    rotated = await client.post(f"/api/live/rooms/{room['id']}/stream-key", headers=bearer(host))
    assert rotated.status_code == 200, rotated.text

    page = await get_page(client, f"/live/studio/{room['id']}", host)

    assert rotated.json()["stream_key"] in page.text and room["stream_key"] not in page.text


async def test_pages_hand_the_configured_ice_servers_to_the_browser(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    settings = make_settings(
        LIVECOMMERCE_ICE_SERVERS="stun:stun.example.org:3478,turn:alice:s%3Acret@turn.example.org:3478?transport=tcp"
    )
    app = create_app(settings, clock=clock)
    try:
        async with asgi_client(app) as client:
            _, token = await make_creator(client)
            room = await schedule_room(client, token)
            for path in (f"/live/rooms/{room['id']}", f"/live/studio/{room['id']}"):
                data = page_data(await get_page(client, path, token))
                assert data["ice_servers"] == [
                    {"urls": "stun:stun.example.org:3478"},
                    {"urls": "turn:turn.example.org:3478?transport=tcp", "username": "alice", "credential": "s:cret"},
                ]
    finally:
        await app.state.db.dispose()


async def test_with_media_nodes_pages_talk_to_the_rooms_node_directly(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    """Browsers drop ``Authorization`` on a cross-origin redirect, so the studio must send WHIP to the node itself,
    and the page's CSP must let it connect there."""
    node = "http://127.0.0.1:8101"
    app = create_app(make_settings(LIVECOMMERCE_MEDIA_NODES=node), clock=clock)
    try:
        async with asgi_client(app) as client:
            _, token = await make_creator(client)
            room = await schedule_room(client, token)
            studio = await get_page(client, f"/live/studio/{room['id']}", token)
            viewer = await get_page(client, f"/live/rooms/{room['id']}")

            assert page_data(studio)["whip_url"] == f"{node}/live/rooms/{room['id']}/whip"
            assert page_data(viewer)["whep_url"] == f"{node}/live/rooms/{room['id']}/whep"
            assert f"connect-src 'self' ws: wss: {node};" in studio.headers["content-security-policy"]
    finally:
        await app.state.db.dispose()


async def test_embedded_pages_use_their_own_origin_for_media(client: AsyncClient) -> None:
    _, token = await make_creator(client)
    room = await schedule_room(client, token)

    studio = await get_page(client, f"/live/studio/{room['id']}", token)

    assert page_data(studio)["whip_url"] == f"/live/rooms/{room['id']}/whip"
    assert "connect-src 'self' ws: wss:;" in studio.headers["content-security-policy"]


async def test_joining_a_room_and_opening_its_products_count_in_the_rooms_report(
    client: AsyncClient, app: Litestar
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 2)
    room = await schedule_room(client, host, products)
    await go_live(app, room["id"])
    _, buyer = await signed_in(client)
    marketer = await staff(client, app, "marketer")

    await get_page(client, f"/live/rooms/{room['id']}", host)  # the host's own visits count for nothing
    await get_page(client, f"/live/rooms/{room['id']}", buyer)
    anonymous = await client.get(f"/live/rooms/{room['id']}", headers=HTML)
    opened = await client.get(
        f"/live/rooms/{room['id']}/products/{products[0]}?buy=true", headers=bearer(buyer), follow_redirects=False
    )
    outsider = (await make_products(client))[0]
    refused = await client.get(f"/live/rooms/{room['id']}/products/{outsider}", headers=bearer(buyer))
    await app.state.touches.flush()

    assert opened.status_code == 302
    assert opened.headers["location"] == f"/shop/products/{products[0]}/buy?room_id={room['id']}"
    assert "lc_visitor=" in anonymous.headers["set-cookie"]
    assert refused.status_code == 422
    [row] = (await report(client, marketer, group_by="room"))["rows"]
    assert row["key"] == room["id"] and row["label"] == room["title"]
    assert (row["views"], row["unique_viewers"], row["clicks"]) == (2, 2, 1)


async def test_the_host_watches_the_show_sell_on_the_studio_dashboard(client: AsyncClient, app: Litestar) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 1, price=2500)
    room = await schedule_room(client, host, products)
    await go_live(app, room["id"])
    _, buyer = await signed_in(client)
    await get_page(client, f"/live/rooms/{room['id']}", buyer)
    await checkout(client, buyer, [{"product_id": products[0], "quantity": 2}], source={"room_id": room["id"]})
    await app.state.touches.flush()

    stats = await get_page(client, f"/live/studio/{room['id']}/stats", host)
    _, stranger = await make_creator(client)

    assert stats.status_code == 200 and 'hx-trigger="room-activity from:body throttle:1s, every 10s"' in stats.text
    assert re.search(r'data-testid="stat-views">1<', stats.text)
    assert re.search(r'data-testid="stat-orders">1<', stats.text)
    assert re.search(r'data-testid="stat-gmv">\$50\.00<', stats.text)
    assert (await get_page(client, f"/live/studio/{room['id']}/stats", stranger)).status_code == 404


async def test_pages_listing_rooms_hear_each_room_go_live_and_end(client: AsyncClient, app: Litestar) -> None:
    _, host = await make_creator(client)
    room = await schedule_room(client, host, await make_products(client))
    listing = await get_page(client, "/live", None)
    assert f'data-room-card="{room["id"]}"' in listing.text and "/static/js/room-cards.js" in listing.text

    async with RoomSocket(app, "/live/statuses/ws") as statuses:
        await asyncio.sleep(0.05)  # let the subscription settle
        await go_live(app, room["id"])
        assert await statuses.next_event("status") == {"type": "status", "room_id": room["id"], "status": "live"}
        await end_room(app, room["id"])
        assert await statuses.next_event("status") == {"type": "status", "room_id": room["id"], "status": "ended"}
