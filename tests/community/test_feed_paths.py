"""The Redis feeds (fan-out on write, capped, rebuildable) give exactly the feed the database queries give.

On the PostgreSQL + Redis leg the suite's Redis is used; on the embedded leg a private redis-server is started for
these tests (skipped where none is installed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
from click.testing import CliRunner
from litestar import Litestar
from redis.asyncio import Redis

from app import create_app
from cli import main as cli_main
from community.feed import FeedService
from community.timelines import feed_key, meta_key
from kernel.auth import CurrentUser
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.community.helpers import creator, publish
from tests.community.test_feed import follow, settle, unfollow
from tests.conftest import REDIS_URL, TEST_SECRET
from tests.factories import bearer, signed_in
from tests.live.helpers import schedule_room

CAP = 10


@pytest.fixture
def redis_for_feeds(request: pytest.FixtureRequest) -> str:
    return REDIS_URL or request.getfixturevalue("own_redis").url


@pytest.fixture
async def app(
    make_settings: Callable[..., Settings], clock: FixedClock, redis_for_feeds: str
) -> AsyncIterator[Litestar]:
    app = create_app(make_settings(REDIS_URL=redis_for_feeds, LIVECOMMERCE_FEED_CAP=str(CAP)), clock=clock)
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client


async def all_pages(app: Litestar, reader: CurrentUser | None, *, use_redis: bool, limit: int) -> list[Any]:
    """Every page of the reader's feed, read straight from the service with or without the Redis feeds."""
    state, pages, cursor = app.state, [], None
    while True:
        async with state.db.sessionmaker() as session:
            redis = state.fan_zone.redis if use_redis else None
            service = FeedService(session, state.clock, state.settings.community, state.fan_zone.trending, redis)
            page = await service.page(reader, limit, cursor)
        pages.append(msgspec.to_builtins(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def as_reader(user: dict[str, Any]) -> CurrentUser:
    return CurrentUser(UUID(user["id"]), user["email"], user["display_name"], frozenset())


async def busy_world(client: httpx.AsyncClient, clock: FixedClock) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Three creators (one with more posts than a feed holds), rooms, deletions and drafts; a reader following
    two of them. Returns the reader, their token and the creators by name."""
    names = ("prolific", "steady", "stranger")
    creators = {name: await creator(client) for name in names}
    reader, token = await signed_in(client)
    await follow(client, token, creators["steady"][0]["id"])
    await client.get("/api/community/feed", headers=bearer(token))  # builds the reader's feed: fan-out fills it
    for n in range(CAP + 4):
        for name in names[: 1 + (n % 3 == 0) + (n % 4 == 0)]:
            await publish(client, creators[name][1], title=f"{name} {n}")
        clock.advance(timedelta(seconds=7))
    await schedule_room(client, creators["steady"][1], scheduled_for=(clock.now() + timedelta(hours=3)).isoformat())
    await follow(client, token, creators["prolific"][0]["id"])  # more posts than the cap: a rebuild
    gone = await publish(client, creators["steady"][1], title="deleted soon")
    draft = await publish(client, creators["prolific"][1], title="back to draft")
    await client.delete(f"/api/community/posts/{gone['id']}", headers=bearer(creators["steady"][1]))
    await client.patch(
        f"/api/community/posts/{draft['id']}", json={"status": "draft"}, headers=bearer(creators["prolific"][1])
    )
    clock.advance(timedelta(minutes=1))
    return reader, token, {name: user for name, (user, _) in creators.items()}


async def test_redis_and_query_paths_give_the_same_feed(
    app: Litestar, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    reader, token, creators = await busy_world(client, clock)
    await settle(app)
    redis: Redis = app.state.fan_zone.redis
    reader_id = UUID(reader["id"])
    # Rebuilt at the cap when the prolific creator was followed, then two entries left (deleted, back to draft).
    assert await redis.zcard(feed_key(reader_id)) == CAP - 2 and await redis.get(meta_key(reader_id)) == b"truncated"

    for limit in (1, 4, 20):
        from_redis = await all_pages(app, as_reader(reader), use_redis=True, limit=limit)
        from_db = await all_pages(app, as_reader(reader), use_redis=False, limit=limit)
        assert from_redis == from_db, f"the paths differ at limit {limit}"
    items = [item for page in from_db for item in page["items"]]
    following = [i for i in items if i["reason"] == "following"]
    assert len(following) == 14 + 7 + 1 and len(items) == len(following) + 2  # posts, posts, room; trending

    # Unfollowing trims the feed; both paths agree again, and the creator's posts move to trending.
    await unfollow(client, token, creators["prolific"]["id"])
    await settle(app)
    assert await all_pages(app, as_reader(reader), use_redis=True, limit=6) == await all_pages(
        app, as_reader(reader), use_redis=False, limit=6
    )
    anonymous = await all_pages(app, None, use_redis=True, limit=7)
    assert anonymous == await all_pages(app, None, use_redis=False, limit=7)


async def test_a_lost_feed_is_rebuilt_on_read_and_by_the_cli(
    app: Litestar,
    client: httpx.AsyncClient,
    clock: FixedClock,
    make_settings: Callable[..., Settings],
    redis_for_feeds: str,
) -> None:
    reader, token, _ = await busy_world(client, clock)
    await settle(app)
    redis: Redis = app.state.fan_zone.redis
    reader_id = UUID(reader["id"])
    before = (await client.get("/api/community/feed", params={"limit": 50}, headers=bearer(token))).json()

    await redis.delete(feed_key(reader_id), meta_key(reader_id))  # expired, or Redis restarted empty
    assert (await client.get("/api/community/feed", params={"limit": 50}, headers=bearer(token))).json() == before
    written = await redis.zrevrange(feed_key(reader_id), 0, -1, withscores=True)
    assert len(written) == CAP and await redis.get(meta_key(reader_id)) == b"truncated"

    await redis.delete(feed_key(reader_id), meta_key(reader_id))
    settings = make_settings(REDIS_URL=redis_for_feeds, LIVECOMMERCE_FEED_CAP=str(CAP))
    env = {
        "LIVECOMMERCE_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.db.url,
        "REDIS_URL": redis_for_feeds,
        "LIVECOMMERCE_SECRET_KEY": TEST_SECRET,
        "LIVECOMMERCE_FEED_CAP": str(CAP),
    }
    result = await asyncio.to_thread(CliRunner().invoke, cli_main, ["feed", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    # The reader's feed, and each author's own: 10 (capped) + 10 (capped) + 7 + 2 entries.
    assert result.output.strip() == "Rebuilt 4 feeds (29 entries)."
    assert await redis.zrevrange(feed_key(reader_id), 0, -1, withscores=True) == written
    one = await asyncio.to_thread(CliRunner().invoke, cli_main, ["feed", "rebuild", "--reader", reader["id"]], env=env)
    assert one.exit_code == 0 and "Rebuilt 1 feeds" in one.output
    no_redis = await asyncio.to_thread(CliRunner().invoke, cli_main, ["feed", "rebuild"], env={**env, "REDIS_URL": ""})
    assert no_redis.exit_code == 1 and "REDIS_URL is not set" in no_redis.output


async def test_fan_out_waits_for_the_commit(app: Litestar, client: httpx.AsyncClient) -> None:
    star, star_token = await creator(client)
    reader, token = await signed_in(client)
    await follow(client, token, star["id"])
    assert (await client.get("/api/community/feed", headers=bearer(token))).json()["items"] == []  # builds it
    refused = await client.post(
        "/api/community/posts",
        json={"title": "x", "body": "[[product:01900000-0000-7000-8000-000000000000]]", "status": "published"},
        headers=bearer(star_token),
    )
    assert refused.status_code == 422  # rolled back: nothing may reach the feed
    post = await publish(client, star_token)
    await settle(app)
    assert await app.state.fan_zone.redis.zrange(feed_key(UUID(reader["id"])), 0, -1) == [post["id"].encode()]


async def test_the_feed_is_read_from_the_database_while_redis_is_down(
    make_settings: Callable[..., Settings], clock: FixedClock, own_redis: Any
) -> None:
    app = create_app(make_settings(REDIS_URL=own_redis.url), clock=clock)
    try:
        async with asgi_client(app) as client:
            star, star_token = await creator(client)
            _, token = await signed_in(client)
            await follow(client, token, star["id"])
            await publish(client, star_token, title="first")
            await settle(app)
            before = (await client.get("/api/community/feed", headers=bearer(token))).json()
            assert len(before["items"]) == 1
            own_redis.stop()
            try:
                during = await client.get("/api/community/feed", headers=bearer(token))
                assert during.status_code == 200 and during.json() == before
                later = await publish(client, star_token, title="written while Redis is away")
                await settle(app)  # the lost fan-out is logged, not raised
                assert ids_of(await client.get("/api/community/feed", headers=bearer(token)))[0] == later["id"]
            finally:
                own_redis.start()  # the bus's shutdown needs its Redis back
    finally:
        await app.state.db.dispose()


def ids_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]
