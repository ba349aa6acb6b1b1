"""A creator's earnings per order line follow the escrow clock: pending, approved, payable, paid, or reversed."""

from __future__ import annotations

from datetime import timedelta

from kernel.clock import FixedClock
from tests.factories import bearer
from tests.shop.attribution_helpers import (
    attribution_app,
    buy,
    buyer,
    click,
    complete,
    influencer,
    link,
    refund,
    staff,
)
from tests.shop.helpers import new_key, seller_with_product


async def _earnings(client, token: str) -> list[dict]:  # type: ignore[no-untyped-def]
    response = await client.get("/api/attribution/earnings", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["lines"]


async def test_commission_moves_from_pending_to_approved_payable_and_paid(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock, LIVECOMMERCE_DISPUTE_WINDOW="15d") as (app, client, _):
        admin = await staff(client, app, "admin")
        seller_token, product = await seller_with_product(client, price=10_000, affiliate_bps=1000)
        _, creator_token = await influencer(client)
        _, buyer_token = await buyer(client)
        await click(client, await link(client, creator_token, {"product_id": product}), buyer_token)
        order = await buy(client, buyer_token, product)

        [line] = await _earnings(client, creator_token)
        assert (line["state"], line["amount"]["amount_minor"], line["payable_at"]) == ("pending", 1_000, None)
        assert line["reason"] == "the buyer's last click before buying was yours"
        assert line["order_id"] == order["id"]

        clock.advance(timedelta(hours=1))
        await complete(client, seller_token, buyer_token, order["id"])
        [line] = await _earnings(client, creator_token)
        assert line["state"] == "approved" and line["amount"]["amount_minor"] == 1_000
        assert line["payable_at"] == (clock.now() + timedelta(days=15)).isoformat()

        clock.advance(timedelta(days=15))
        assert (await _earnings(client, creator_token))[0]["state"] == "payable"

        paid = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": new_key()})
        assert paid.status_code == 200, paid.text
        [line] = await _earnings(client, creator_token)
        assert line["state"] == "paid" and line["amount"]["amount_minor"] == 1_000


async def test_a_refund_reverses_commission_pro_rata_and_a_full_refund_reverses_it_all(make_settings, clock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        seller_token, product = await seller_with_product(client, price=10_000, stock=5, affiliate_bps=1000)
        _, creator_token = await influencer(client)
        _, buyer_token = await buyer(client)
        await click(client, await link(client, creator_token, {"product_id": product}), buyer_token)
        partly = await buy(client, buyer_token, product, quantity=2)
        cancelled = await buy(client, buyer_token, product)
        await complete(client, seller_token, buyer_token, partly["id"])
        await refund(client, seller_token, buyer_token, partly["id"], 5_000)
        cancel = await client.post(f"/api/shop/orders/{cancelled['id']}/cancel", headers=bearer(seller_token))
        assert cancel.status_code == 200, cancel.text

        lines = {line["order_id"]: line for line in await _earnings(client, creator_token)}
        part = lines[partly["id"]]
        assert (part["state"], part["amount"]["amount_minor"], part["reversed"]["amount_minor"]) == (
            "approved",
            1_500,
            500,
        )
        gone = lines[cancelled["id"]]
        assert (gone["state"], gone["amount"]["amount_minor"], gone["reversed"]["amount_minor"]) == (
            "reversed",
            0,
            1_000,
        )


async def test_earnings_are_each_creators_own(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, product = await seller_with_product(client)
        _, creator_token = await influencer(client)
        _, other_token = await influencer(client)
        _, buyer_token = await buyer(client)
        await click(client, await link(client, creator_token, {"product_id": product}), buyer_token)
        await buy(client, buyer_token, product)
        assert len(await _earnings(client, creator_token)) == 1
        assert await _earnings(client, other_token) == []
        assert (await client.get("/api/attribution/earnings", headers=bearer(buyer_token))).status_code == 403
