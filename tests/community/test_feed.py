"""The Fan Zone feed through its public API: order, trending, pagination while posts arrive, follow effects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from litestar import Litestar

from community.timelines import micros
from kernel.clock import FixedClock
from kernel.pagination import encode_cursor
from tests.community.helpers import creator, publish
from tests.factories import bearer, signed_in
from tests.live.helpers import go_live, make_products, schedule_room
from tests.shop.helpers import checkout

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


async def settle(app: Litestar) -> None:
    """Wait until the Redis feeds have taken every committed change (nothing to wait for without Redis)."""
    if app.state.fan_zone.writer is not None:
        await app.state.fan_zone.writer.drain()


async def follow(client: AsyncClient, token: str, creator_id: str) -> None:
    response = await client.post(f"/api/community/creators/{creator_id}/follow", headers=bearer(token))
    assert response.status_code == 200, response.text


async def unfollow(client: AsyncClient, token: str, creator_id: str) -> None:
    response = await client.delete(f"/api/community/creators/{creator_id}/follow", headers=bearer(token))
    assert response.status_code == 200, response.text


async def feed(client: AsyncClient, token: str | None = None, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/community/feed", params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return response.json()


async def whole_feed(client: AsyncClient, token: str | None, limit: int) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = await feed(client, token, limit=limit, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def test_followed_creators_come_first_newest_first_then_trending(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    (ava, ava_token), (ben, ben_token), (_, cleo_token) = [await creator(client) for _ in range(3)]
    _, reader = await signed_in(client)
    await follow(client, reader, ava["id"])
    await follow(client, reader, ben["id"])
    posts = {}
    for name, token in (
        ("a1", ava_token),
        ("c1", cleo_token),
        ("b1", ben_token),
        ("c2", cleo_token),
        ("a2", ava_token),
    ):
        posts[name] = (await publish(client, token, title=name))["id"]
        clock.advance(SECOND)
    room = await schedule_room(client, ben_token, scheduled_for=(clock.now() + timedelta(days=1)).isoformat())
    clock.advance(MINUTE)
    await settle(app)

    items = await whole_feed(client, reader, limit=3)
    assert ids(items) == [room["id"], posts["a2"], posts["b1"], posts["a1"], posts["c2"], posts["c1"]]
    assert [i["reason"] for i in items] == ["following"] * 4 + ["trending"] * 2
    first_post = items[1]
    assert first_post["kind"] == "post" and first_post["author"] == {"id": ava["id"], "display_name": "Test User"}
    assert first_post["url"] == f"/posts/{posts['a2']}" and first_post["product_count"] == 0
    assert {"title", "excerpt", "cover_image_url", "published_at", "like_count", "comment_count"} <= set(first_post)
    assert items[0]["kind"] == "room" and items[0]["status"] == "scheduled" and items[0]["host"]["id"] == ben["id"]


async def test_anonymous_feed_is_trending_by_engagement_sales_and_age(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    _, token = await creator(client)
    old = (await publish(client, token, title="old and quiet"))["id"]
    clock.advance(timedelta(hours=48))  # two half-lives
    liked = (await publish(client, token, title="liked"))["id"]
    sold = (await publish(client, token, title="sold"))["id"]
    quiet = (await publish(client, token, title="quiet"))["id"]
    for _ in range(3):
        _, fan = await signed_in(client)
        assert (await client.post(f"/api/community/posts/{liked}/likes", headers=bearer(fan))).status_code == 200
    [product] = await make_products(client)
    _, buyer = await signed_in(client)
    bought = await checkout(client, buyer, [{"product_id": product, "quantity": 1}], source={"post_id": sold})
    assert bought.status_code == 201, bought.text
    clock.advance(MINUTE)

    anonymous = await feed(client)
    assert ids(anonymous["items"]) == [sold, liked, quiet, old]  # 6 (a sale) > 4 (3 likes) > 1 > 1/4 (aged)
    assert {item["reason"] for item in anonymous["items"]} == {"trending"}
    assert anonymous["next_cursor"] is None

    _, reader = await signed_in(client)  # follows nobody: the same trending feed
    assert ids((await feed(client, reader))["items"]) == ids(anonymous["items"])


async def test_pages_have_no_duplicates_or_gaps_while_new_posts_are_published(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    followed = [await creator(client) for _ in range(2)]
    others = [await creator(client) for _ in range(2)]
    _, reader = await signed_in(client)
    for user, _ in followed:
        await follow(client, reader, user["id"])
    existing = []
    for n in range(14):
        _, token = (followed + others)[n % 4]
        existing.append((await publish(client, token, title=f"post {n}"))["id"])
        clock.advance(SECOND)
    clock.advance(MINUTE)
    await settle(app)

    seen, cursor, pages = [], None, 0
    while True:
        page = await feed(client, reader, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += ids(page["items"])
        pages += 1
        # Between pages: new posts from followed and other creators, and likes that would reorder trending.
        for _, token in followed + others:
            await publish(client, token, title=f"late {pages}")
        _, fan = await signed_in(client)
        await client.post(f"/api/community/posts/{existing[-1]}/likes", headers=bearer(fan))
        clock.advance(SECOND * 5)
        await settle(app)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "an item came twice"
    assert sorted(seen) == sorted(existing), "an item was skipped, or a late one slipped into a later page"
    assert pages == 5


async def test_follow_and_unfollow_move_a_creators_posts_between_following_and_trending(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    star, star_token = await creator(client)
    _, reader = await signed_in(client)
    first = (await publish(client, star_token, title="before the follow"))["id"]
    clock.advance(MINUTE)
    assert [(i["id"], i["reason"]) for i in (await feed(client, reader))["items"]] == [(first, "trending")]

    await follow(client, reader, star["id"])
    await settle(app)
    assert [(i["id"], i["reason"]) for i in (await feed(client, reader))["items"]] == [(first, "following")]
    second = (await publish(client, star_token, title="after the follow"))["id"]
    await settle(app)
    assert ids((await feed(client, reader))["items"]) == [second, first]

    await unfollow(client, reader, star["id"])
    await settle(app)
    clock.advance(MINUTE)
    assert [(i["id"], i["reason"]) for i in (await feed(client, reader))["items"]] == [
        (second, "trending"),
        (first, "trending"),
    ]


async def test_deleted_and_unpublished_posts_leave_the_feed(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    star, star_token = await creator(client)
    _, reader = await signed_in(client)
    await follow(client, reader, star["id"])
    kept, deleted, hidden = [(await publish(client, star_token, title=t))["id"] for t in ("kept", "deleted", "hidden")]
    await settle(app)
    assert ids((await feed(client, reader))["items"]) == [hidden, deleted, kept]
    assert (await client.delete(f"/api/community/posts/{deleted}", headers=bearer(star_token))).status_code == 204
    patched = await client.patch(f"/api/community/posts/{hidden}", json={"status": "draft"}, headers=bearer(star_token))
    assert patched.status_code == 200, patched.text
    await settle(app)
    assert ids((await feed(client, reader))["items"]) == [kept]
    clock.advance(MINUTE)
    assert ids((await feed(client))["items"]) == [kept]


async def test_live_and_upcoming_strips_put_followed_hosts_first(
    app: Litestar, client: AsyncClient, clock: FixedClock
) -> None:
    (fav, fav_token), (_, other_token) = await creator(client), await creator(client)
    _, reader = await signed_in(client)
    await follow(client, reader, fav["id"])
    soon = (clock.now() + timedelta(hours=1)).isoformat()
    later = (clock.now() + timedelta(days=2)).isoformat()
    other_soon = await schedule_room(client, other_token, scheduled_for=soon)
    fav_later = await schedule_room(client, fav_token, scheduled_for=later)
    other_live = await schedule_room(client, other_token)
    fav_live = await schedule_room(client, fav_token)
    await go_live(app, fav_live["id"])
    clock.advance(SECOND)
    await go_live(app, other_live["id"])
    ended = await schedule_room(client, other_token)
    await go_live(app, ended["id"])
    await client.post(f"/api/live/rooms/{ended['id']}/end", headers=bearer(other_token))

    mine = await feed(client, reader)
    assert ids(mine["live_now"]) == [fav_live["id"], other_live["id"]]
    assert ids(mine["upcoming"]) == [fav_later["id"], other_soon["id"]]
    anonymous = await feed(client)
    assert ids(anonymous["live_now"]) == [other_live["id"], fav_live["id"]]  # most recently started first
    assert ids(anonymous["upcoming"]) == [other_soon["id"], fav_later["id"]]  # soonest first
    # The followed host's live and upcoming rooms are also items; the strips come with the first page only.
    first = await feed(client, reader, limit=1)
    assert ids(first["items"]) == [fav_live["id"]] and first["live_now"] and first["next_cursor"]
    second = await feed(client, reader, limit=1, cursor=first["next_cursor"])
    assert ids(second["items"]) == [fav_later["id"]] and second["live_now"] == second["upcoming"] == []


async def test_bad_cursors_and_limits_are_refused(client: AsyncClient, clock: FixedClock) -> None:
    assert (await client.get("/api/community/feed", params={"cursor": "not-a-cursor"})).status_code == 422
    forged = "WyJ0IiwgMTIzLCBudWxsLCBudWxsXQ"  # ["t", 123, null, null]: not a snapshot time
    assert (await client.get("/api/community/feed", params={"cursor": forged})).status_code == 422
    day_old = encode_cursor("t", micros(clock.now() - timedelta(days=1)), None, None)
    expired = await client.get("/api/community/feed", params={"cursor": day_old})
    assert expired.status_code == 422 and expired.json()["type"] == "/problems/cursor_expired"
    assert (await client.get("/api/community/feed", params={"limit": 0})).status_code == 400
    assert (await client.get("/api/community/feed", params={"limit": 101})).status_code == 400


async def test_a_creator_sees_their_own_new_post_at_once(app: Litestar, client: AsyncClient, clock: FixedClock) -> None:
    _, token = await creator(client)
    assert (await feed(client, token))["items"] == []  # (with Redis, this builds the creator's feed)
    post = await publish(client, token, title="just now")
    await settle(app)
    assert [(i["id"], i["reason"]) for i in (await feed(client, token))["items"]] == [(post["id"], "yours")]
    assert (await feed(client))["items"] == []  # visitors see it from the next trending snapshot on
    clock.advance(MINUTE)
    assert ids((await feed(client))["items"]) == [post["id"]]
