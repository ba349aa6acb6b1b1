"""The leaderboard: attributed net sales (refunds pro rata, cancelled orders out) and engagement, levels from the
score, deterministic ties, and calendar periods."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import AsyncClient

from community.leaderboard import level_for
from kernel.clock import FixedClock
from tests.community.helpers import creator, publish
from tests.factories import bearer, signed_in
from tests.shop.helpers import checkout, seller_with_product, usd

TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def board(client: AsyncClient, period: str = "week") -> list[dict[str, Any]]:
    response = await client.get(f"/api/community/leaderboard?period={period}")
    assert response.status_code == 200, response.text
    return response.json()["entries"]


async def buy_from_post(client: AsyncClient, buyer: str, product_id: str, post_id: str, quantity: int) -> dict:
    response = await checkout(
        client, buyer, [{"product_id": product_id, "quantity": quantity, "source": {"post_id": post_id}}]
    )
    assert response.status_code == 201, response.text
    order = response.json()["orders"][0]
    assert order["items"][0]["creator_id"]
    return order


def test_levels_follow_from_the_score() -> None:
    assert [level_for(s) for s in (0, 499, 500, 2_499, 2_500, 9_999, 10_000)] == [
        "Rising", "Rising", "Star", "Star", "Super Star", "Super Star", "Icon",
    ]  # fmt: skip


async def test_ranking_by_net_sales_and_engagement(client: AsyncClient, clock: FixedClock) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=100)
    seller_two, cheap_id = await seller_with_product(client, price=1000, stock=100)
    (star, star_token), (talker, talker_token), (small, small_token) = [await creator(client) for _ in range(3)]
    star_post = await publish(client, star_token, f"[[product:{product_id}]]")
    talker_post = await publish(client, talker_token, "Just talk")
    small_post = await publish(client, small_token, f"[[product:{cheap_id}]]")
    _, buyer = await signed_in(client)

    # The star sells $50.00, then $10.00 of it is refunded through a dispute: $40.00 net, 40 points.
    order = await buy_from_post(client, buyer, product_id, star_post["id"], 2)
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", json=TRACKING, headers=bearer(seller))
    assert shipped.status_code == 200, shipped.text
    dispute = await client.post(
        f"/api/shop/orders/{order['id']}/disputes",
        json={"reason": "damaged", "requested_refund": usd(1000)},
        headers=bearer(buyer),
    )
    assert dispute.status_code == 201, dispute.text
    resolved = await client.post(
        f"/api/shop/disputes/{dispute.json()['id']}/resolve", json={"outcome": "refund"}, headers=bearer(seller)
    )
    assert resolved.status_code == 200, resolved.text
    # The small creator sells $10.00, and a cancelled $10.00 order counts for nothing.
    await buy_from_post(client, buyer, cheap_id, small_post["id"], 1)
    cancelled = await buy_from_post(client, buyer, cheap_id, small_post["id"], 1)
    assert (
        await client.post(f"/api/shop/orders/{cancelled['id']}/cancel", headers=bearer(seller_two))
    ).status_code == 200
    # The talker gets 2 followers (10), 3 likes (3) and 2 comments from others (6): 19 points.
    for _ in range(3):
        _, fan = await signed_in(client)
        await client.post(f"/api/community/posts/{talker_post['id']}/likes", headers=bearer(fan))
    for _ in range(2):
        _, fan = await signed_in(client)
        await client.post(f"/api/community/creators/{talker['id']}/follow", headers=bearer(fan))
        await client.post(
            f"/api/community/posts/{talker_post['id']}/comments", json={"text": "love it"}, headers=bearer(fan)
        )
    await client.post(  # the creator's own reply earns nothing
        f"/api/community/posts/{talker_post['id']}/comments", json={"text": "thanks"}, headers=bearer(talker_token)
    )

    entries = await board(client)
    assert [(e["creator"]["id"], e["score"], e["rank"]) for e in entries] == [
        (star["id"], 40, 1),
        (talker["id"], 19, 2),
        (small["id"], 10, 3),
    ]
    assert entries[0]["net_sales"] == usd(4000) and entries[0]["level"] == "Rising"
    assert (entries[1]["new_followers"], entries[1]["likes"], entries[1]["comments"]) == (2, 3, 2)
    assert entries[2]["net_sales"] == usd(1000)

    clock.advance(timedelta(days=8))  # a new ISO week, the same month
    assert await board(client) == []
    assert [e["creator"]["id"] for e in await board(client, "month")] == [star["id"], talker["id"], small["id"]]
    assert (await client.get("/api/community/leaderboard?period=year")).status_code == 400


async def test_ties_rank_by_followers_then_creator_id(client: AsyncClient) -> None:
    (liked, liked_token), (followed, _), (also_followed, _) = [await creator(client) for _ in range(3)]
    post = await publish(client, liked_token)
    for _ in range(5):  # 5 likes: 5 points
        _, fan = await signed_in(client)
        await client.post(f"/api/community/posts/{post['id']}/likes", headers=bearer(fan))
    _, fan = await signed_in(client)
    for star in (followed, also_followed):  # 1 follower each: 5 points
        await client.post(f"/api/community/creators/{star['id']}/follow", headers=bearer(fan))
    entries = await board(client)
    assert [e["score"] for e in entries] == [5, 5, 5]
    by_id = sorted([followed["id"], also_followed["id"]])
    assert [e["creator"]["id"] for e in entries] == [*by_id, liked["id"]]
    assert [e["rank"] for e in entries] == [1, 2, 3]
