"""Likes, comments and follows through the JSON API: counts, idempotency, rights and the comment rate limit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from httpx import AsyncClient

from kernel.clock import FixedClock
from tests.community.helpers import creator, publish
from tests.factories import bearer, signed_in
from tests.shop.helpers import make_admin


async def test_likes_count_once_per_reader_and_unlike_takes_it_back(client: AsyncClient) -> None:
    _, token = await creator(client)
    post = await publish(client, token)
    url = f"/api/community/posts/{post['id']}/likes"
    readers = [(await signed_in(client))[1] for _ in range(3)]
    for reader in readers:
        assert (await client.post(url, headers=bearer(reader))).json()["like_count"] >= 1
    again = await client.post(url, headers=bearer(readers[0]))
    assert again.json() == {"post_id": post["id"], "liked": True, "like_count": 3}
    gone = await client.delete(url, headers=bearer(readers[0]))
    assert gone.json()["like_count"] == 2
    assert (await client.delete(url, headers=bearer(readers[0]))).json()["like_count"] == 2
    seen = (await client.get(f"/api/community/posts/{post['id']}", headers=bearer(readers[1]))).json()
    assert seen["like_count"] == 2 and seen["liked"] is True
    assert (await client.post(url)).status_code == 401


async def test_drafts_take_no_likes_or_comments_from_others(client: AsyncClient) -> None:
    _, token = await creator(client)
    draft = await publish(client, token, status="draft")
    _, reader = await signed_in(client)
    assert (await client.post(f"/api/community/posts/{draft['id']}/likes", headers=bearer(reader))).status_code == 404
    comment = await client.post(
        f"/api/community/posts/{draft['id']}/comments", json={"text": "hi"}, headers=bearer(reader)
    )
    assert comment.status_code == 404


async def test_comments_are_plain_text_and_length_limited(client: AsyncClient) -> None:
    _, token = await creator(client)
    post = await publish(client, token)
    _, reader = await signed_in(client)
    url = f"/api/community/posts/{post['id']}/comments"
    text = "<img src=x onerror=alert(1)> **not bold**"
    added = await client.post(url, json={"text": text}, headers=bearer(reader))
    assert added.status_code == 201, added.text
    assert added.json()["text"] == text
    assert (await client.post(url, json={"text": "x" * 1001}, headers=bearer(reader))).status_code in (400, 422)
    assert (await client.post(url, json={"text": "   "}, headers=bearer(reader))).status_code == 422
    listed = (await client.get(url)).json()
    assert [c["text"] for c in listed["items"]] == [text]
    assert (await client.get(f"/api/community/posts/{post['id']}")).json()["comment_count"] == 1


async def test_comment_rate_limit_answers_429_until_the_window_passes(client: AsyncClient, clock: FixedClock) -> None:
    _, token = await creator(client)
    post = await publish(client, token)
    _, reader = await signed_in(client)
    url = f"/api/community/posts/{post['id']}/comments"
    for n in range(5):  # CommunitySettings.comment_burst
        assert (await client.post(url, json={"text": f"c{n}"}, headers=bearer(reader))).status_code == 201
    limited = await client.post(url, json={"text": "one too many"}, headers=bearer(reader))
    assert limited.status_code == 429
    assert limited.json()["type"] == "/problems/comment_rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    _, other = await signed_in(client)
    assert (await client.post(url, json={"text": "someone else"}, headers=bearer(other))).status_code == 201
    clock.advance(timedelta(seconds=61))
    assert (await client.post(url, json={"text": "later"}, headers=bearer(reader))).status_code == 201
    texts = [c["text"] for c in (await client.get(f"{url}?limit=100")).json()["items"]]
    assert "one too many" not in texts and len(texts) == 7


async def test_comment_removal_rights(client: AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    _, author = await creator(client)
    post = await publish(client, author)
    _, writer = await signed_in(client)
    _, stranger = await signed_in(client)
    admin = await make_admin(client, app)
    url = f"/api/community/posts/{post['id']}/comments"

    async def comment(text: str) -> str:
        response = await client.post(url, json={"text": text}, headers=bearer(writer))
        assert response.status_code == 201
        return response.json()["id"]

    first, second, third = await comment("one"), await comment("two"), await comment("three")
    assert (await client.delete(f"/api/community/comments/{first}", headers=bearer(stranger))).status_code == 403
    assert (await client.delete(f"/api/community/comments/{first}", headers=bearer(writer))).status_code == 204
    assert (await client.delete(f"/api/community/comments/{second}", headers=bearer(author))).status_code == 204
    assert (await client.delete(f"/api/community/comments/{third}", headers=bearer(admin))).status_code == 204
    assert (await client.delete(f"/api/community/comments/{third}", headers=bearer(admin))).status_code == 404
    assert (await client.get(url)).json()["items"] == []
    assert (await client.get(f"/api/community/posts/{post['id']}")).json()["comment_count"] == 0


async def test_follow_is_idempotent_and_only_creators_can_be_followed(client: AsyncClient) -> None:
    star, star_token = await creator(client)
    buyer, buyer_token = await signed_in(client)
    url = f"/api/community/creators/{star['id']}/follow"
    assert (await client.post(url, headers=bearer(buyer_token))).json() == {
        "creator_id": star["id"],
        "following": True,
        "follower_count": 1,
        "live_alerts": True,
    }
    assert (await client.post(url, headers=bearer(buyer_token))).json()["follower_count"] == 1
    assert (await client.post(url, headers=bearer(star_token))).status_code == 422  # yourself
    not_creator = await client.post(f"/api/community/creators/{buyer['id']}/follow", headers=bearer(star_token))
    assert not_creator.status_code == 404
    profile = (await client.get(f"/api/community/creators/{star['id']}", headers=bearer(buyer_token))).json()
    assert profile["follower_count"] == 1 and profile["following"] is True
    assert (await client.delete(url, headers=bearer(buyer_token))).json()["follower_count"] == 0
    assert (await client.delete(url, headers=bearer(buyer_token))).json()["follower_count"] == 0


async def test_follower_count_stays_right_under_concurrent_follows_and_unfollows(client: AsyncClient) -> None:
    star, _ = await creator(client)
    url = f"/api/community/creators/{star['id']}/follow"
    fans = [(await signed_in(client))[1] for _ in range(8)]
    results = await asyncio.gather(*(client.post(url, headers=bearer(t)) for t in fans + fans))
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["follower_count"] == 8
    results = await asyncio.gather(*(client.delete(url, headers=bearer(t)) for t in fans[:5] + fans[:5]))
    assert all(r.status_code == 200 for r in results)
    assert (await client.get(f"/api/community/creators/{star['id']}")).json()["follower_count"] == 3
