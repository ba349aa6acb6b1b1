"""An order from checkout to payout, through the public API, with the clock moved by the test."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from kernel.clock import FixedClock
from tests.factories import bearer, login, signed_in
from tests.shop.helpers import checkout, make_admin, seller_with_product, trial_balance_total, usd


async def test_checkout_ship_confirm_release_and_pay_out(client: AsyncClient, app, clock: FixedClock) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=5, category="fashion")
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)

    paid = await checkout(client, buyer, [{"product_id": product_id, "quantity": 2}])
    assert paid.status_code == 201, paid.text
    order = paid.json()["orders"][0]
    assert order["status"] == "paid" and order["total"] == usd(5000)
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["stock"] == 3
    assert await trial_balance_total(client, admin) == 0

    no_tracking = await client.post(
        f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json={"carrier": "UPS", "tracking_number": ""}
    )
    assert no_tracking.status_code == 400
    shipped = await client.post(
        f"/api/shop/orders/{order['id']}/ship",
        headers=bearer(seller),
        json={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    )
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"

    confirmed = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"
    assert [e["action"] for e in confirmed.json()["events"]] == ["paid", "shipped", "delivery_confirmed"]

    # fashion carries 8% commission: 400 to the platform, 4600 to the seller, pending for the dispute window.
    balances = (await client.get("/api/shop/balances", headers=bearer(seller))).json()
    assert balances["pending"] == usd(4600) and balances["available"] == usd(0) and balances["paid_out"] == usd(0)

    clock.advance(timedelta(days=15, seconds=1))
    assert (await client.get("/api/shop/balances", headers=bearer(seller))).json()["available"] == usd(4600)

    run = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": "payout-run-0001"})
    assert run.status_code == 200, run.text
    assert run.json()["total"] == usd(4600)
    again = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": "payout-run-0001"})
    assert again.json() == run.json()
    fresh = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": "payout-run-0002"})
    assert fresh.json()["total"] == usd(0)
    balances = (await client.get("/api/shop/balances", headers=bearer(seller))).json()
    assert balances == {**balances, "available": usd(0), "paid_out": usd(4600), "pending": usd(0)}
    assert await trial_balance_total(client, admin) == 0


async def test_each_line_is_credited_to_the_creator_whose_room_it_came_from(make_settings, clock: FixedClock) -> None:
    from uuid import UUID

    from app import create_app
    from shop import ShopRuntime
    from tests.clients import asgi_client

    runtime = ShopRuntime()
    hosts: dict[str, UUID] = {}

    async def room_host(session, room_id: str) -> UUID | None:  # type: ignore[no-untyped-def]
        return hosts.get(room_id)

    runtime.attribution.register("room_id", room_host)
    async with asgi_client(create_app(make_settings(), clock=clock, shop_runtime=runtime)) as client:
        ava, _ = await signed_in(client, ["influencer"])
        marco, _ = await signed_in(client, ["influencer"])
        hosts.update({"room-ava": UUID(ava["id"]), "room-marco": UUID(marco["id"])})
        _, shirt = await seller_with_product(client, price=1000, affiliate_bps=1000)
        _, tote = await seller_with_product(client, price=2000, affiliate_bps=500)
        _, buyer = await signed_in(client)
        paid = await checkout(
            client,
            buyer,
            [
                {"product_id": shirt, "quantity": 1, "source": {"room_id": "room-ava"}},
                {"product_id": tote, "quantity": 1},
            ],
            source={"room_id": "room-marco"},
        )
        assert paid.status_code == 201, paid.text
        lines = {line["product_id"]: line for order in paid.json()["orders"] for line in order["items"]}
        assert lines[shirt]["creator_id"] == ava["id"] and lines[shirt]["affiliate_rate_bps"] == 1000
        assert lines[shirt]["source"] == {"room_id": "room-ava"}
        assert lines[tote]["creator_id"] == marco["id"] and lines[tote]["affiliate_rate_bps"] == 500
        # A creator buying through their own room earns nothing.
        own = await login(client, ava["email"])
        self_paid = await checkout(client, own, [{"product_id": shirt, "quantity": 1}], source={"room_id": "room-ava"})
        assert self_paid.json()["orders"][0]["items"][0]["creator_id"] is None


async def test_an_unknown_coupon_is_refused_not_ignored(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, stock=3)
    _, buyer = await signed_in(client)
    response = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], coupon_code="SAVE50")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "coupon_code"
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["stock"] == 3
