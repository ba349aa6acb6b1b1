"""Real concurrent requests against one app: stock, idempotency keys, order transitions and payouts under races.

Written for PostgreSQL (row locks, a unique index, an advisory lock). They also run on SQLite, where
``BEGIN IMMEDIATE`` lets one writer in at a time; there, and only there, a request that waits too long for the
lock may get 503 ``database_unavailable``, which a client retries.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from httpx import AsyncClient

from kernel.clock import FixedClock
from tests.conftest import PG_URL
from tests.factories import bearer, signed_in
from tests.shop.helpers import checkout, make_admin, new_key, seller_with_product, trial_balance_total, usd

SHIPMENT = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
# SQLite answers a request that waited out its busy timeout with a retryable 503; PostgreSQL never should.
BUSY = set() if PG_URL else {503}


def busy(*responses: httpx.Response) -> bool:
    """Whether any of ``responses`` was turned away busy (SQLite only): then who won a race is not decided."""
    return any(r.status_code in BUSY for r in responses)


def problem(response: httpx.Response) -> str:
    return response.json().get("type", "").removeprefix("/problems/")


def assert_allowed(responses: list[httpx.Response], *allowed: tuple[int, str | None]) -> Counter[int]:
    """Every answer is one of ``allowed`` (status, problem code), or a busy 503 on SQLite; returns the counts."""
    for response in responses:
        if response.status_code in BUSY:
            assert problem(response) == "database_unavailable", response.text
            continue
        code = None if response.status_code < 400 else problem(response)
        assert (response.status_code, code) in allowed, response.text
    return Counter(r.status_code for r in responses)


async def stock_of(client: AsyncClient, product_id: str) -> int:
    return (await client.get(f"/api/shop/products/{product_id}")).json()["stock"]


async def my_orders(client: AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get("/api/shop/orders", params={"limit": 100}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def shipped_order(client: AsyncClient, seller: str, buyer: str, product_id: str) -> dict[str, Any]:
    placed = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])
    assert placed.status_code == 201, placed.text
    order = placed.json()["orders"][0]
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", json=SHIPMENT, headers=bearer(seller))
    assert shipped.status_code == 200, shipped.text
    return shipped.json()


async def test_fifty_buyers_racing_for_ten_units_leave_ten_orders_and_no_stock(client: AsyncClient, app) -> None:
    _, product_id = await seller_with_product(client, price=1999, stock=10)
    buyers = [(await signed_in(client))[1] for _ in range(5)]
    admin = await make_admin(client, app)

    responses = await asyncio.gather(
        *(checkout(client, buyers[n % 5], [{"product_id": product_id, "quantity": 1}]) for n in range(50))
    )

    counts = assert_allowed(responses, (201, None), (409, "out_of_stock"))
    left = await stock_of(client, product_id)
    assert left == 10 - counts[201] >= 0
    if not counts[503]:  # every request got its answer: the ten units went to exactly ten of them
        assert (counts[201], counts[409]) == (10, 40)
    orders = [o for token in buyers for o in await my_orders(client, token)]
    assert len(orders) == counts[201]
    assert {o["total"]["amount_minor"] for o in orders} <= {1999}
    assert await trial_balance_total(client, admin) == 0


async def test_one_idempotency_key_sent_ten_times_at_once_places_one_order(client: AsyncClient, app) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=20)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    key = new_key()

    responses = await asyncio.gather(
        *(checkout(client, buyer, [{"product_id": product_id, "quantity": 2}], key=key) for _ in range(10))
    )

    counts = assert_allowed(responses, (201, None), (409, "idempotency_key_in_use"))
    placed = [r.json() for r in responses if r.status_code == 201]
    assert placed or counts[503], "the request holding the key finishes, and the waiting ones replay its answer"
    assert all(body == placed[0] for body in placed), "every 201 is the first request's answer"
    # The key's work is done: a later retry gets the stored answer (or, if none was stored, does it once now).
    retry = await checkout(client, buyer, [{"product_id": product_id, "quantity": 2}], key=key)
    assert retry.status_code == 201, retry.text
    assert not placed or retry.json() == placed[0]
    orders = await my_orders(client, buyer)
    assert [o["checkout_id"] for o in orders] == [retry.json()["checkout_id"]]
    assert await stock_of(client, product_id) == 18
    assert await trial_balance_total(client, admin) == 0


async def test_confirmation_racing_a_dispute_ends_in_one_consistent_state(client: AsyncClient, app) -> None:
    """Completed orders stay disputable (Buyer Protection), so the dispute is always opened: either after the
    confirmation (escrow released once, then the order disputed) or before it (the confirmation refused with 409,
    escrow still holding the whole payment). Each round's order is checked in full, ledger included."""
    seller, product_id = await seller_with_product(client, price=3000, stock=10)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    dispute = {"reason": "damaged", "detail": "cracked", "requested_refund": usd(1000)}

    for _ in range(6):
        order = await shipped_order(client, seller, buyer, product_id)
        confirmed, disputed = await asyncio.gather(
            client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer)),
            client.post(f"/api/shop/orders/{order['id']}/disputes", json=dispute, headers=bearer(buyer)),
        )
        assert_allowed([confirmed], (200, None), (409, "order_not_completable"))
        assert_allowed([disputed], (201, None), (409, "not_disputable"))
        final = (await client.get(f"/api/shop/orders/{order['id']}", headers=bearer(buyer))).json()
        actions = [e["action"] for e in final["events"]]
        if confirmed.status_code == 200:
            assert actions[:3] == ["paid", "shipped", "delivery_confirmed"]
        if disputed.status_code == 201:
            assert final["status"] == "disputed" and actions[-1] == "dispute_opened"
        elif confirmed.status_code == 200:
            assert final["status"] == "completed"
        assert actions.count("delivery_confirmed") == (confirmed.status_code == 200)
        assert actions.count("dispute_opened") == (disputed.status_code == 201)
        if not busy(confirmed, disputed):
            assert (confirmed.status_code, disputed.status_code) in {(200, 201), (409, 201)}

        trial = (await client.get("/api/admin/ledger/trial-balance", headers=bearer(admin))).json()
        escrow = {a["account"]: a["balance"]["amount_minor"] for a in trial["accounts"]}.get(f"escrow:{order['id']}")
        assert (escrow or 0) == (0 if confirmed.status_code == 200 else -3000)
        assert trial["total"] == usd(0)


async def test_cancel_racing_a_shipment_lets_exactly_one_through(client: AsyncClient, app) -> None:
    seller, product_id = await seller_with_product(client, price=1500, stock=10)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)

    for _ in range(5):
        placed = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])
        order_id = placed.json()["orders"][0]["id"]
        shipped, cancelled = await asyncio.gather(
            client.post(f"/api/shop/orders/{order_id}/ship", json=SHIPMENT, headers=bearer(seller)),
            client.post(f"/api/shop/orders/{order_id}/cancel", headers=bearer(seller)),
        )
        assert_allowed([shipped, cancelled], (200, None), (409, "order_state"))
        final = (await client.get(f"/api/shop/orders/{order_id}", headers=bearer(buyer))).json()
        if not busy(shipped, cancelled):
            assert sorted([shipped.status_code, cancelled.status_code]) == [200, 409]
        if cancelled.status_code == 200:
            assert final["status"] == "cancelled" and final["refunded"] == usd(1500)
        elif shipped.status_code == 200:
            assert final["status"] == "shipped" and final["refunded"] == usd(0)

    orders = await my_orders(client, buyer)
    live = sum(1 for o in orders if o["status"] != "cancelled")
    assert await stock_of(client, product_id) == 10 - live
    assert await trial_balance_total(client, admin) == 0


async def test_seller_and_admin_refunding_one_dispute_at_once_refund_it_once(client: AsyncClient, app) -> None:
    seller, product_id = await seller_with_product(client, price=4000, stock=5)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    order = await shipped_order(client, seller, buyer, product_id)
    opened = await client.post(
        f"/api/shop/orders/{order['id']}/disputes",
        json={"reason": "not_received", "detail": "", "requested_refund": usd(2500)},
        headers=bearer(buyer),
    )
    assert opened.status_code == 201, opened.text
    resolve = f"/api/shop/disputes/{opened.json()['id']}/resolve"

    by_seller, by_admin = await asyncio.gather(
        client.post(resolve, json={"outcome": "refund"}, headers=bearer(seller)),
        client.post(resolve, json={"outcome": "refund", "amount": usd(4000)}, headers=bearer(admin)),
    )

    assert_allowed([by_seller, by_admin], (200, None), (409, "dispute_closed"))
    final = (await client.get(f"/api/shop/orders/{order['id']}", headers=bearer(buyer))).json()
    refunds = [e["detail"]["amount"] for e in final["events"] if e["action"] == "refunded"]
    if by_seller.status_code == 200:
        assert by_admin.status_code != 200 and refunds == [usd(2500)] and final["status"] == "partially_refunded"
    elif by_admin.status_code == 200:
        assert refunds == [usd(4000)] and final["status"] == "refunded"
    if not busy(by_seller, by_admin):
        assert sorted([by_seller.status_code, by_admin.status_code]) == [200, 409]
    assert final["refunded"]["amount_minor"] == sum(r["amount_minor"] for r in refunds) <= 4000
    assert await trial_balance_total(client, admin) == 0


async def test_two_payout_runs_at_once_pay_each_balance_exactly_once(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    admin = await make_admin(client, app)
    sellers = []
    for price in (2500, 1234):
        seller, product_id = await seller_with_product(client, price=price, stock=5)
        _, buyer = await signed_in(client)
        order = await shipped_order(client, seller, buyer, product_id)
        confirmed = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
        assert confirmed.status_code == 200, confirmed.text
        sellers.append((order["seller"]["id"], seller))
    clock.advance(app.state.settings.shop.dispute_window + timedelta(seconds=1))
    before = {}
    for party, token in sellers:
        balances = (await client.get("/api/shop/balances", headers=bearer(token))).json()
        assert balances["available"]["amount_minor"] > 0 and balances["pending"] == usd(0)
        before[party] = balances["available"]["amount_minor"]

    runs = await asyncio.gather(
        *(
            client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": new_key()})
            for _ in range(2)
        )
    )

    assert_allowed(runs, (200, None))
    payouts = [p for run in runs if run.status_code == 200 for p in run.json()["payouts"]]
    paid = Counter(p["party_id"] for p in payouts)
    assert all(times == 1 for times in paid.values()), f"a balance was paid twice: {paid}"
    assert sum(run.json()["total"]["amount_minor"] for run in runs if run.status_code == 200) == sum(
        p["amount"]["amount_minor"] for p in payouts
    )
    if not busy(*runs):
        mine = {p["party_id"]: p["amount"]["amount_minor"] for p in payouts if p["party_id"] in before}
        assert mine == before
    for party, token in sellers:
        balances = (await client.get("/api/shop/balances", headers=bearer(token))).json()
        assert balances["available"]["amount_minor"] == (0 if party in paid else before[party])
        assert balances["paid_out"]["amount_minor"] == (before[party] if party in paid else 0)
    assert await trial_balance_total(client, admin) == 0


async def test_a_checkout_that_is_declined_while_others_buy_reserves_nothing(client: AsyncClient, app) -> None:
    _, product_id = await seller_with_product(client, price=999, stock=6)
    buyers = [(await signed_in(client))[1] for _ in range(3)]
    admin = await make_admin(client, app)
    body = {"product_id": product_id, "quantity": 2}

    responses = await asyncio.gather(
        *(
            checkout(client, buyers[n % 3], [body], payment_token="tok_declined" if n % 2 else "tok_ok")
            for n in range(8)
        )
    )

    declined, accepted = responses[1::2], responses[0::2]
    assert_allowed(declined, (402, "card_declined"), (409, "out_of_stock"))
    counts = assert_allowed(accepted, (201, None), (409, "out_of_stock"))
    assert await stock_of(client, product_id) == 6 - 2 * counts[201]
    if not busy(*responses):
        assert counts[201] == 3  # the declined cards never held a unit another buyer could have had
    assert await trial_balance_total(client, admin) == 0


async def test_one_product_added_to_the_cart_from_several_tabs_at_once_is_added_each_time(client: AsyncClient) -> None:
    """The first add of a product inserts the buyer's cart row: two at once both inserted, and the unique
    constraint turned the second into a 500 (found by the naughty-strings fuzzer on PostgreSQL)."""
    _, product_id = await seller_with_product(client, stock=100)
    _, buyer = await signed_in(client)
    adds = await asyncio.gather(
        *(
            client.post("/api/shop/cart/items", json={"product_id": product_id, "quantity": 1}, headers=bearer(buyer))
            for _ in range(8)
        )
    )
    added = assert_allowed(list(adds), (200, None))[200]
    cart = (await client.get("/api/shop/cart", headers=bearer(buyer))).json()
    assert [line["quantity"] for line in cart["items"]] == [added]
    assert added >= 1
