"""Amounts as large as the API allows go through checkout, refunds, release and payouts on every database.

Money columns are 64-bit: a unit price may be up to 10^10 minor units and a basket many times that, far past
the 2^31 that 32-bit columns overflow at (PostgreSQL answered 500 there).
"""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from kernel.clock import FixedClock
from tests.factories import bearer, signed_in
from tests.shop.helpers import checkout, make_admin, seller_with_product, trial_balance_total, usd
from tests.shop.orders.test_disputes import opened, resolve, ship

MAX_UNIT_PRICE = 10**10  # the API's ceiling for amount_minor
TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def test_the_largest_prices_check_out_refund_release_and_pay_out(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    seller, product_id = await seller_with_product(client, price=MAX_UNIT_PRICE, stock=1_000, affiliate_bps=0)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)

    paid = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1_000}])
    assert paid.status_code == 201, paid.text
    order = paid.json()["orders"][0]
    total = MAX_UNIT_PRICE * 1_000
    assert order["total"] == usd(total)
    assert await trial_balance_total(client, admin) == 0

    await ship(client, seller, order["id"])
    case = await opened(client, buyer, order["id"], 3 * 2**31)
    refunded = await resolve(client, seller, case["id"], "refund")
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refunded"] == usd(3 * 2**31)

    confirmed = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(timedelta(days=15, seconds=1))
    run = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": "big-payout-1"})
    assert run.status_code == 200, run.text
    # fashion carries 8% commission on what the buyer kept.
    kept = total - 3 * 2**31
    assert run.json()["total"] == usd(kept - kept * 8 // 100)
    assert await trial_balance_total(client, admin) == 0


async def test_amounts_past_the_limit_are_refused_and_change_nothing(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    too_much = await client.patch(
        f"/api/shop/products/{product_id}", headers=bearer(seller), json={"price": usd(MAX_UNIT_PRICE + 1)}
    )
    assert too_much.status_code in (400, 422), too_much.text
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["price"] == usd(2500)
