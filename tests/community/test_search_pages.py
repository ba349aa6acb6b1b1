"""The header's search (/search and its htmx fragment) and the hashtag pages (/tags/{tag}), as a browser sees them."""

from __future__ import annotations

import re
from urllib.parse import quote

from httpx import AsyncClient
from litestar import Litestar

from tests.community.helpers import publish
from tests.factories import bearer, login, signup
from tests.fuzz.naughty import slice_list
from tests.live.helpers import end_room, go_live, schedule_room
from tests.pages import HTML, HTMX
from tests.shop.helpers import seller_with_product


async def _creator(client: AsyncClient, name: str) -> tuple[dict[str, str], str]:
    user = await signup(client, ["influencer"], display_name=name)
    return user, await login(client, user["email"])


def _section(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


async def test_search_groups_products_posts_rooms_and_creators_that_match(client: AsyncClient, app: Litestar) -> None:
    seller, product_id = await seller_with_product(client)
    await client.patch(f"/api/shop/products/{product_id}", json={"title": "Quokka plush toy"}, headers=bearer(seller))
    user, token = await _creator(client, "Quokka Queen")
    await publish(client, token, "All about my quokka collection.", title="Quokka diaries")
    await publish(client, token, "Not ready.", title="Quokka draft", status="draft")
    live = await schedule_room(client, token, [product_id], title="Quokka live hour")
    await go_live(app, live["id"])
    upcoming = await schedule_room(client, token, [product_id], title="Quokka unboxing")
    ended = await schedule_room(client, token, [product_id], title="Quokka yesterday")
    await go_live(app, ended["id"])
    await end_room(app, ended["id"])
    await publish(client, token, "Nothing to see.", title="Unrelated")

    page = await client.get("/search", params={"q": "QUOKKA"}, headers=HTML)

    assert page.status_code == 200
    assert f'href="/shop/products/{product_id}"' in _section(page.text, "found-products")
    posts = _section(page.text, "found-posts")
    assert "Quokka diaries" in posts and "Quokka draft" not in posts and "Unrelated" not in posts
    rooms = _section(page.text, "found-rooms")
    assert rooms.index("Quokka live hour") < rooms.index("Quokka unboxing")  # live first
    assert f'href="/live/rooms/{upcoming["id"]}"' in rooms and "Quokka yesterday" not in rooms
    assert f'href="/creators/{user["id"]}"' in _section(page.text, "found-creators")
    assert 'value="QUOKKA"' in page.text  # the box keeps the query


async def test_a_hashtag_query_finds_the_posts_carrying_it(client: AsyncClient) -> None:
    _, token = await _creator(client, "Tag Writer")
    await publish(client, token, "Soft and cool.", title="Summer shirts", hashtags=["linenlove"])
    await publish(client, token, "Other things.", title="Winter coats", hashtags=["wool"])

    page = await client.get("/search", params={"q": "#linenlove"}, headers=HTML)

    posts = _section(page.text, "found-posts")
    assert "Summer shirts" in posts and "Winter coats" not in posts


async def test_the_fragment_carries_only_the_results_for_search_as_you_type(client: AsyncClient) -> None:
    _, token = await _creator(client, "Fragment Fan")
    await publish(client, token, "Zebra print everything.", title="Zebra week")

    fragment = await client.get("/search/results", params={"q": "zebra"}, headers=HTMX)

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="search-results"' in fragment.text and "Zebra week" in fragment.text


async def test_bad_queries_are_a_clean_400_or_an_empty_result(client: AsyncClient) -> None:
    _, token = await _creator(client, "Percent Poster")
    await publish(client, token, "A post.", title="Fifty off")

    too_long = await client.get("/search", params={"q": "x" * 101}, headers=HTML)
    control = await client.get("/search", params={"q": "shoes\x00"}, headers=HTML)
    wildcard = await client.get("/search", params={"q": "%"}, headers=HTML)
    empty = await client.get("/search", params={"q": "   "}, headers=HTML)
    nothing = await client.get("/search", params={"q": "no-such-thing-anywhere"}, headers=HTML)

    assert too_long.status_code == 400
    assert 'aria-invalid="true"' in too_long.text and "At most 100 characters." in too_long.text
    assert control.status_code == 400
    assert wildcard.status_code == 200 and "Fifty off" not in wildcard.text  # % is a character, not a wildcard
    assert empty.status_code == 200 and 'data-testid="found-' not in empty.text
    assert nothing.status_code == 200 and 'data-testid="search-empty"' in nothing.text


async def test_a_hashtag_page_lists_the_published_posts_with_that_tag(client: AsyncClient) -> None:
    _, token = await _creator(client, "Tag Page Author")
    tagged = await publish(client, token, "Cool fabric.", title="Linen shirt notes", hashtags=["Linen"])
    await publish(client, token, "Hidden.", title="Linen draft", hashtags=["linen"], status="draft")
    await publish(client, token, "Warm.", title="Wool notes", hashtags=["wool"])

    page = await client.get("/tags/linen", headers=HTML)
    post = await client.get(f"/posts/{tagged['id']}", headers=HTML)

    assert page.status_code == 200
    listed = page.text.split('data-testid="tag-posts"', 1)[1]
    assert "Linen shirt notes" in listed and "Linen draft" not in listed and "Wool notes" not in listed
    assert 'href="/tags/linen"' in post.text  # the post's hashtags link here
    assert (await client.get("/tags/no-such-tag!", headers=HTML)).status_code == 404
    assert 'data-testid="tag-empty"' in (await client.get("/tags/nobodyusesthis", headers=HTML)).text


async def test_no_naughty_string_breaks_the_search_or_the_hashtag_page(client: AsyncClient) -> None:
    for naughty in slice_list():
        answers = [
            await client.get("/search", params={"q": naughty}, headers=HTML),
            await client.get("/search/results", params={"q": naughty}, headers=HTMX),
            await client.get(f"/tags/{quote(naughty, safe='')}", headers=HTML),
        ]
        assert all(a.status_code in (200, 400, 404) for a in answers), (naughty, [a.status_code for a in answers])
