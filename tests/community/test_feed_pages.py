"""The Fan Zone page at / and its fragments: strips, items, "Load more" with and without htmx, the remind button."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response
from litestar import Litestar

from kernel.clock import FixedClock
from tests.community.helpers import creator, publish
from tests.community.test_feed import settle
from tests.factories import PASSWORD, signup
from tests.live.helpers import go_live, schedule_room
from tests.shop.helpers import seller_with_product

HTML = {"Accept": "text/html"}
HTMX = {"HX-Request": "true"}


async def sign_in_browser(client: AsyncClient) -> tuple[dict[str, Any], str]:
    """A buyer signed in with the session cookie, as a browser is; returns the user and a bearer token too."""
    user = await signup(client)
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200
    return user, response.json()["token"]


def csrf(page: Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text) or re.search(
        r'"x-csrftoken": "([^"]+)"', page.text
    )
    assert found, "the page carries no CSRF token"
    return found.group(1)


def item_ids(html: str) -> list[str]:
    return re.findall(r'data-testid="feed-(?:post|room)" data-id="([^"]+)"', html)


async def test_signed_out_fan_zone_shows_trending_escaped_and_invites_to_sign_in(
    client: AsyncClient, clock: FixedClock
) -> None:
    _, token = await creator(client)
    post = await publish(client, token, title="<script>alert(1)</script> Summer edit", body="**Linen** & sun")
    room = await schedule_room(client, token, scheduled_for=(clock.now() + timedelta(hours=5)).isoformat())
    clock.advance(timedelta(minutes=1))
    page = await client.get("/", headers=HTML)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; Summer edit" in page.text
    assert item_ids(page.text) == [post["id"]] and 'data-reason="trending"' in page.text
    assert f'data-room-id="{room["id"]}"' in page.text and "Sign in to get a reminder" in page.text
    assert f'href="/community/rooms/{room["id"]}/calendar.ics"' in page.text
    assert 'id="fresh-products"' in page.text  # the room's product, newest in the shop


async def test_load_more_works_as_a_link_and_as_an_htmx_fragment(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    star, token = await creator(client)
    posts = []
    for n in range(13):
        posts.append((await publish(client, token, title=f"post {n}"))["id"])
        clock.advance(timedelta(seconds=1))
    await sign_in_browser(client)
    first = await client.get("/", headers=HTML)
    await follow_in_page(client, first, star["id"])
    await settle(app)

    first = await client.get("/", headers=HTML)
    newest_first = list(reversed(posts))
    assert item_ids(first.text) == newest_first[:10]
    more = re.search(r'href="(/\?cursor=[^"]+)"\s+hx-get="(/fan-zone/items\?cursor=[^"]+)"', first.text)
    assert more, "no Load more link"
    plain = await client.get(more.group(1).replace("&amp;", "&"), headers=HTML)
    assert plain.status_code == 200 and item_ids(plain.text) == newest_first[10:]
    assert 'data-testid="feed-end"' in plain.text and "Back to the top" in plain.text
    fragment = await client.get(more.group(2).replace("&amp;", "&"), headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert item_ids(fragment.text) == newest_first[10:]
    assert 'id="feed-more" class="load-more" hx-swap-oob="true"' in fragment.text


async def follow_in_page(client: AsyncClient, page: Response, creator_id: str) -> None:
    response = await client.post(
        f"/creators/{creator_id}/follow", data={"_csrf_token": csrf(page)}, headers=HTML, follow_redirects=False
    )
    assert response.status_code in (200, 303), response.text


async def test_remind_button_works_without_and_with_htmx(app: Litestar, client: AsyncClient, clock: FixedClock) -> None:
    _, host = await creator(client)
    room = await schedule_room(client, host, scheduled_for=(clock.now() + timedelta(days=1)).isoformat())
    live = await schedule_room(client, host)
    await go_live(app, live["id"])
    await sign_in_browser(client)
    page = await client.get("/", headers=HTML)
    assert re.search(rf'id="live-now".*data-room-id="{live["id"]}"', page.text, re.S)
    assert re.search(rf'id="upcoming".*data-room-id="{room["id"]}"', page.text, re.S)
    token = csrf(page)

    plain = await client.post(
        f"/community/rooms/{room['id']}/remind",
        data={"_csrf_token": token},
        headers={**HTML, "Referer": "http://testserver.local/"},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/"
    page = await client.get("/", headers=HTML)
    assert "Reminder set" in page.text and 'aria-pressed="true"' in page.text

    swapped = await client.post(f"/community/rooms/{room['id']}/forget", headers={**HTMX, "x-csrftoken": token})
    assert swapped.status_code == 200 and swapped.text.lstrip().startswith(f'<div id="remind-{room["id"]}"')
    assert "Remind me" in swapped.text
    refused = await client.post(f"/community/rooms/{live['id']}/remind", headers={**HTMX, "x-csrftoken": token})
    assert refused.status_code == 409

    client.cookies.clear()
    signed_out = await client.post(f"/community/rooms/{room['id']}/remind", headers=HTML, follow_redirects=False)
    assert signed_out.status_code in (401, 403)


async def test_the_fan_zone_title_is_plain_text_even_with_fresh_products(client: AsyncClient) -> None:
    await seller_with_product(client)
    home = await client.get("/", headers={"accept": "text/html"})
    title = re.search(r"<title>(.*?)</title>", home.text, re.S)
    assert title is not None and title.group(1) == "Fan Zone · LiveCommerce"
    assert home.text.count('id="fresh-products"') == 1
