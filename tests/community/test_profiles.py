"""Creator profiles: bio, showcase, follower count, published posts only, and rooms by state."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from httpx import AsyncClient
from litestar import Litestar

from live.models import Room, RoomStatus
from tests.community.helpers import creator, publish
from tests.conftest import T0
from tests.factories import bearer, signed_in
from tests.shop.helpers import seller_with_product


async def test_profile_shows_bio_showcase_posts_and_rooms(client: AsyncClient, app: Litestar) -> None:
    _, product_id = await seller_with_product(client)
    star, token = await creator(client)
    ghost = "0192f0c0-0000-7000-8000-00000000dead"
    refused = await client.patch(
        "/api/community/creators/me", json={"showcase_product_ids": [product_id, ghost]}, headers=bearer(token)
    )
    assert refused.status_code == 422 and refused.json()["product_ids"] == [ghost]
    updated = await client.patch(
        "/api/community/creators/me",
        json={"bio": "<b>Linen</b> lover", "showcase_product_ids": [product_id]},
        headers=bearer(token),
    )
    assert updated.status_code == 200, updated.text
    await publish(client, token, "public", title="Out now")
    await publish(client, token, "secret", title="Not yet", status="draft")
    async with app.state.db.transaction() as session:  # rooms as the live domain leaves them in each state
        for title, status, at in (
            ("Friday haul", RoomStatus.SCHEDULED, {"scheduled_for": T0 + timedelta(days=4)}),
            ("On air", RoomStatus.LIVE, {"started_at": T0}),
            ("Last week", RoomStatus.ENDED, {"started_at": T0 - timedelta(days=7), "ended_at": T0 - timedelta(days=7)}),
        ):
            session.add(Room(host_id=UUID(star["id"]), title=title, status=status, stream_key=title, **at))

    profile = (await client.get(f"/api/community/creators/{star['id']}")).json()
    assert profile["bio"] == "<b>Linen</b> lover"  # plain text: pages escape it
    assert [p["id"] for p in profile["showcase"]] == [product_id]
    assert [p["title"] for p in profile["posts"]] == ["Out now"]
    rooms = profile["rooms"]
    assert [[r["title"] for r in rooms[k]] for k in ("live", "upcoming", "past")] == [
        ["On air"],
        ["Friday haul"],
        ["Last week"],
    ]
    assert profile["follower_count"] == 0 and profile["following"] is False


async def test_only_creators_have_profiles_and_only_they_edit_one(client: AsyncClient) -> None:
    buyer, buyer_token = await signed_in(client)
    assert (await client.get(f"/api/community/creators/{buyer['id']}")).status_code == 404
    assert (await client.get("/api/community/creators/not-an-id")).status_code == 404
    patched = await client.patch("/api/community/creators/me", json={"bio": "hi"}, headers=bearer(buyer_token))
    assert patched.status_code == 403
    _, token = await creator(client)
    unknown = await client.patch("/api/community/creators/me", json={"bio": "x", "age": 3}, headers=bearer(token))
    assert unknown.status_code == 400


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_storefront_links_must_be_https_addresses_and_bad_ones_change_nothing(client: AsyncClient) -> None:
    star, token = await creator(client)
    good = [{"label": "Shop my looks", "url": "https://example.com/looks"}]
    saved = await client.patch("/api/community/creators/me", json={"links": good}, headers=bearer(token))
    assert saved.status_code == 200 and saved.json()["links"] == good

    for bad, field in (
        ([{"label": "x", "url": "javascript:alert(1)//https"}], "links[0].url"),
        ([*good, {"label": "Plain", "url": "http://example.com"}], "links[1].url"),
        ([{"label": "Nohost", "url": "https:///path"}], "links[0].url"),
        ([{"label": "   ", "url": "https://example.com"}], "links[0].label"),
    ):
        refused = await client.patch("/api/community/creators/me", json={"links": bad}, headers=bearer(token))
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]
    too_many = await client.patch("/api/community/creators/me", json={"links": good * 6}, headers=bearer(token))
    assert too_many.status_code == 400

    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["links"] == good


async def test_an_avatar_is_checked_by_its_bytes(client: AsyncClient) -> None:
    star, token = await creator(client)
    fake = await client.post(
        "/api/community/creators/me/avatar",
        files={"image": ("me.png", b"<svg onload=alert(1)>", "image/png")},
        headers=bearer(token),
    )
    assert fake.status_code == 422
    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["avatar_url"] is None

    set_ = await client.post(
        "/api/community/creators/me/avatar", files={"image": ("me.bin", PNG, "text/plain")}, headers=bearer(token)
    )
    assert set_.status_code == 200, set_.text
    url = set_.json()["avatar_url"]
    assert url.startswith("/media/avatars/") and url.endswith(".png")
    assert (await client.get(url)).content == PNG
    _, buyer_token = await signed_in(client)
    refused = await client.post(
        "/api/community/creators/me/avatar", files={"image": ("me.png", PNG, "image/png")}, headers=bearer(buyer_token)
    )
    assert refused.status_code == 403
