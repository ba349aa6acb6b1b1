"""Deadlines the sweeper applies (ship-by, auto-confirm), the seller's cancel, and what shop publishes on the bus.

The clock stands still until a test moves it; ``sweeper.run_once()`` applies whatever is due at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import msgspec
from httpx import AsyncClient
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber

from app import create_app
from kernel.clock import FixedClock
from kernel.money import Money
from shop import ORDERS_TOPIC, OrderCompleted, OrderPaid, OrderRefunded, ShopEvent, StockChanged, product_topic
from tests.clients import asgi_client
from tests.factories import bearer, login, signed_in, signup
from tests.shop.helpers import checkout, make_admin, seller_with_product, trial_balance_total, usd

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
WAIT_S = 5.0  # how long a subscriber waits for an event that should come
TRACKING = {"carrier": "DHL", "tracking_number": "JD014600006281234567"}


# Bus -----------------------------------------------------------------------------------------------------------
class Events:
    """What one subscriber received about some sellers' orders, decoded as shop's published event types.

    The orders topic is shared by every app on the same Redis (other test runs, benchmarks), so only the named
    sellers' orders count: their OrderPaid introduces each order id, later order events must carry a known one.
    """

    def __init__(self, subscriber: Subscriber, sellers: set[str]) -> None:
        self._stream = subscriber.iter_events()
        self._sellers = sellers
        self._orders: set[str] = set()
        self.raw: list[bytes] = []

    def _ours(self, event: ShopEvent) -> bool:
        if isinstance(event, OrderPaid) and event.seller_id in self._sellers:
            self._orders.add(event.order_id)
        return isinstance(event, StockChanged) or getattr(event, "order_id", None) in self._orders

    async def until(self, done: Callable[[list[ShopEvent]], bool]) -> list[ShopEvent]:
        """Everything of ours received until ``done`` holds for it; fails after WAIT_S seconds."""
        seen: list[ShopEvent] = []
        async with asyncio.timeout(WAIT_S):
            while not done(seen):
                data = await anext(self._stream)
                event = msgspec.json.decode(data, type=ShopEvent)
                if self._ours(event):
                    self.raw.append(data)
                    seen.append(event)
        return seen


@asynccontextmanager
async def listening(app: Litestar, sellers: set[str], *products: str) -> AsyncIterator[Events]:
    """Subscribe to the orders topic (for ``sellers``' orders) and to each of ``products``' stock topics."""
    topics = [ORDERS_TOPIC, *(product_topic(p) for p in products)]
    async with app.plugins.get(ChannelsPlugin).start_subscription(topics) as subscriber:
        yield Events(subscriber, sellers)


async def seller_of(client: AsyncClient, product_id: str) -> str:
    return (await client.get(f"/api/shop/products/{product_id}")).json()["seller"]["id"]


def has(kind: type, **fields: Any) -> Callable[[list[ShopEvent]], bool]:
    def found(events: list[ShopEvent]) -> bool:
        return any(isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items()) for e in events)

    return found


def both(*conditions: Callable[[list[ShopEvent]], bool]) -> Callable[[list[ShopEvent]], bool]:
    return lambda events: all(condition(events) for condition in conditions)


# Actions -------------------------------------------------------------------------------------------------------
async def buy(client: AsyncClient, buyer: str, product_id: str, quantity: int = 2) -> dict[str, Any]:
    paid = await checkout(client, buyer, [{"product_id": product_id, "quantity": quantity}])
    assert paid.status_code == 201, paid.text
    return paid.json()["orders"][0]


async def get_order(client: AsyncClient, token: str, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/shop/orders/{order_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def stock(client: AsyncClient, product_id: str) -> int:
    return (await client.get(f"/api/shop/products/{product_id}")).json()["stock"]


async def balances(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/shop/balances", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def ledger_accounts(client: AsyncClient, admin: str) -> dict[str, int]:
    response = await client.get("/api/admin/ledger/trial-balance", headers=bearer(admin))
    assert response.status_code == 200, response.text
    return {a["account"]: a["balance"]["amount_minor"] for a in response.json()["accounts"]}


def actions(order: dict[str, Any]) -> list[str]:
    return [e["action"] for e in order["events"]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Ship-by ---------------------------------------------------------------------------------------------------------
async def test_order_not_shipped_by_the_deadline_is_cancelled_refunded_and_restocked(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=5)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    async with listening(app, {await seller_of(client, product_id)}, product_id) as events:
        order = await buy(client, buyer, product_id, 2)
        await events.until(both(has(OrderPaid), has(StockChanged)))  # the checkout's own news
        assert at(order["ship_by"]) == at(order["created_at"]) + 7 * DAY
        assert await stock(client, product_id) == 3

        clock.advance(7 * DAY - SECOND)
        await app.state.sweeper.run_once()
        before = await get_order(client, buyer, order["id"])
        assert before["status"] == "paid" and before["refunded"] == usd(0)
        assert await stock(client, product_id) == 3
        assert (await balances(client, seller))["in_escrow"] == usd(5000)

        clock.advance(SECOND)
        await app.state.sweeper.run_once()

        # The next events on these topics are the cancellation's: the sweep a second earlier published nothing.
        seen = await events.until(both(has(OrderRefunded), has(StockChanged)))
    assert seen == [
        OrderRefunded(order["id"], amount=Money(5000, "USD"), refunded_total=Money(5000, "USD")),
        StockChanged(product_id, 5),
    ]
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "cancelled" and after["refunded"] == usd(5000)
    assert actions(after) == ["paid", "refunded", "cancelled_not_shipped"]
    assert after["events"][-1]["actor_id"] is None
    assert after["ship_by"] is None
    assert await stock(client, product_id) == 5
    assert await balances(client, seller) == {
        "pending": usd(0),
        "available": usd(0),
        "paid_out": usd(0),
        "in_escrow": usd(0),
    }
    accounts = await ledger_accounts(client, admin)
    assert accounts[f"escrow:{order['id']}"] == 0 and accounts["provider_clearing"] == 0
    assert await trial_balance_total(client, admin) == 0

    # Too late to ship now, and a second sweep changes nothing.
    late = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
    assert late.status_code == 409
    await app.state.sweeper.run_once()
    assert await get_order(client, buyer, order["id"]) == after
    assert await stock(client, product_id) == 5


async def test_order_shipped_in_the_last_second_is_not_cancelled(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    seller, product_id = await seller_with_product(client, stock=5)
    _, buyer = await signed_in(client)
    order = await buy(client, buyer, product_id, 2)
    clock.advance(7 * DAY - SECOND)
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200

    clock.advance(DAY)
    await app.state.sweeper.run_once()

    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "shipped" and after["refunded"] == usd(0)
    assert await stock(client, product_id) == 3


async def test_ship_by_cancels_only_the_unshipped_seller_order_of_a_checkout(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    prompt_seller, prompt_product = await seller_with_product(client, price=1000, stock=4)
    slow_seller, slow_product = await seller_with_product(client, price=3000, stock=4)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    paid = await checkout(
        client, buyer, [{"product_id": prompt_product, "quantity": 1}, {"product_id": slow_product, "quantity": 1}]
    )
    assert paid.status_code == 201, paid.text
    orders = {o["seller"]["id"]: o for o in paid.json()["orders"]}
    assert len(orders) == 2
    prompt_order = next(o for o in orders.values() if o["total"] == usd(1000))
    slow_order = next(o for o in orders.values() if o["total"] == usd(3000))
    shipped = await client.post(
        f"/api/shop/orders/{prompt_order['id']}/ship", headers=bearer(prompt_seller), json=TRACKING
    )
    assert shipped.status_code == 200

    clock.advance(7 * DAY)
    await app.state.sweeper.run_once()

    assert (await get_order(client, buyer, prompt_order["id"]))["status"] == "shipped"
    slow = await get_order(client, buyer, slow_order["id"])
    assert slow["status"] == "cancelled" and slow["refunded"] == usd(3000)
    assert await stock(client, prompt_product) == 3
    assert await stock(client, slow_product) == 4
    assert (await balances(client, prompt_seller))["in_escrow"] == usd(1000)
    assert (await balances(client, slow_seller))["in_escrow"] == usd(0)
    assert await trial_balance_total(client, admin) == 0


async def test_ship_by_window_comes_from_settings(make_settings, clock: FixedClock) -> None:
    app = create_app(make_settings(LIVECOMMERCE_SHIP_BY="90s", LIVECOMMERCE_AUTO_CONFIRM_AFTER="120s"), clock=clock)
    async with asgi_client(app) as client:
        seller, product_id = await seller_with_product(client, stock=5)
        _, buyer = await signed_in(client)
        first = await buy(client, buyer, product_id, 1)
        second = await buy(client, buyer, product_id, 1)
        assert at(first["ship_by"]) == at(first["created_at"]) + timedelta(seconds=90)
        await client.post(f"/api/shop/orders/{second['id']}/ship", headers=bearer(seller), json=TRACKING)

        clock.advance(timedelta(seconds=90))
        await app.state.sweeper.run_once()
        assert (await get_order(client, buyer, first["id"]))["status"] == "cancelled"
        assert (await get_order(client, buyer, second["id"]))["status"] == "shipped"

        clock.advance(timedelta(seconds=30))
        await app.state.sweeper.run_once()
        assert (await get_order(client, buyer, second["id"]))["status"] == "completed"
        assert await stock(client, product_id) == 4


# Auto-confirm ----------------------------------------------------------------------------------------------------
async def test_shipped_order_completes_itself_after_the_auto_confirm_window_and_releases_escrow(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=5)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    async with listening(app, {await seller_of(client, product_id)}) as events:
        order = await buy(client, buyer, product_id, 2)
        await events.until(has(OrderPaid))
        clock.advance(2 * DAY)
        shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
        assert at(shipped.json()["auto_confirm_at"]) == clock.now() + 30 * DAY

        clock.advance(30 * DAY - SECOND)
        await app.state.sweeper.run_once()
        assert (await get_order(client, buyer, order["id"]))["status"] == "shipped"
        assert (await balances(client, seller))["in_escrow"] == usd(5000)

        clock.advance(SECOND)
        await app.state.sweeper.run_once()

        seen = await events.until(has(OrderCompleted))
    assert seen == [OrderCompleted(order["id"], Money(5000, "USD"))]
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "completed" and after["refunded"] == usd(0)
    assert actions(after) == ["paid", "shipped", "auto_confirmed"]
    assert after["auto_confirm_at"] is None
    assert at(after["dispute_until"]) == clock.now() + 15 * DAY
    # 8% of 5000 to the platform; the seller's 4600 is pending until the dispute window closes.
    assert await balances(client, seller) == {
        "pending": usd(4600),
        "available": usd(0),
        "paid_out": usd(0),
        "in_escrow": usd(0),
    }
    assert (await ledger_accounts(client, admin))["platform_revenue"] == -400
    assert await trial_balance_total(client, admin) == 0
    # Confirming by hand afterwards cannot release twice.
    again = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
    assert again.status_code == 409
    await app.state.sweeper.run_once()
    assert (await balances(client, seller))["pending"] == usd(4600)


async def test_unshipped_order_is_never_auto_confirmed(client: AsyncClient, app: Litestar, clock: FixedClock) -> None:
    seller, product_id = await seller_with_product(client, stock=5)
    _, buyer = await signed_in(client)
    order = await buy(client, buyer, product_id, 1)
    assert order["auto_confirm_at"] is None

    early = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))

    assert early.status_code == 409
    assert (await get_order(client, buyer, order["id"]))["status"] == "paid"
    assert (await balances(client, seller))["pending"] == usd(0)


# The seller's cancel ---------------------------------------------------------------------------------------------
async def test_seller_cancelling_before_shipping_refunds_the_buyer_and_restocks(
    client: AsyncClient, app: Litestar
) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=5)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    async with listening(app, {await seller_of(client, product_id)}, product_id) as events:
        order = await buy(client, buyer, product_id, 2)
        await events.until(both(has(OrderPaid), has(StockChanged)))
        cancelled = await client.post(f"/api/shop/orders/{order['id']}/cancel", headers=bearer(seller))
        seen = await events.until(both(has(OrderRefunded), has(StockChanged)))

    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "cancelled" and body["refunded"] == usd(5000)
    assert actions(body) == ["paid", "refunded", "cancelled_by_seller"]
    assert seen == [
        OrderRefunded(order["id"], amount=Money(5000, "USD"), refunded_total=Money(5000, "USD")),
        StockChanged(product_id, 5),
    ]
    assert await stock(client, product_id) == 5
    assert (await balances(client, seller))["in_escrow"] == usd(0)
    assert await trial_balance_total(client, admin) == 0
    again = await client.post(f"/api/shop/orders/{order['id']}/cancel", headers=bearer(seller))
    assert again.status_code == 409
    assert await stock(client, product_id) == 5
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(5000)


async def test_shipped_order_cannot_be_cancelled_and_buyers_cannot_cancel(client: AsyncClient, app: Litestar) -> None:
    seller, product_id = await seller_with_product(client, stock=5)
    _, buyer = await signed_in(client)
    shipped_order = await buy(client, buyer, product_id, 1)
    paid_order = await buy(client, buyer, product_id, 1)
    await client.post(f"/api/shop/orders/{shipped_order['id']}/ship", headers=bearer(seller), json=TRACKING)

    too_late = await client.post(f"/api/shop/orders/{shipped_order['id']}/cancel", headers=bearer(seller))
    by_buyer = await client.post(f"/api/shop/orders/{paid_order['id']}/cancel", headers=bearer(buyer))

    assert too_late.status_code == 409
    assert too_late.json()["type"] == "/problems/order_state"
    assert by_buyer.status_code == 403
    assert (await get_order(client, buyer, shipped_order["id"]))["status"] == "shipped"
    assert (await get_order(client, buyer, paid_order["id"]))["status"] == "paid"
    assert await stock(client, product_id) == 3


# What checkout publishes -----------------------------------------------------------------------------------------
async def test_order_paid_is_published_after_commit_with_the_masked_buyer_and_lines(
    client: AsyncClient, app: Litestar
) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=5)
    buyer_account = await signup(client, display_name="Sam Buyer")
    buyer = await login(client, buyer_account["email"])

    async with listening(app, {await seller_of(client, product_id)}, product_id) as events:
        purchase = asyncio.create_task(buy(client, buyer, product_id, 2))
        seen = await events.until(both(has(OrderPaid), has(StockChanged)))
        # Heard while the checkout may still be answering: by then the order is committed and readable.
        visible = await client.get(f"/api/shop/orders/{seen[0].order_id}", headers=bearer(buyer))
        order = await purchase

    assert visible.status_code == 200 and visible.json()["status"] == "paid"
    assert [type(e) for e in seen] == [OrderPaid, StockChanged]
    assert msgspec.to_builtins(seen[0]) == {
        "type": "shop.order_paid",
        "order_id": order["id"],
        "buyer_id": buyer_account["id"],
        "buyer_masked": "S***r",
        "seller_id": order["seller"]["id"],
        "total": usd(5000),
        "lines": [
            {
                "product_id": product_id,
                "title": "Linen shirt",
                "quantity": 2,
                "creator_id": None,
                "source": None,
                "deal_id": None,
            }
        ],
    }
    assert seen[1] == StockChanged(product_id, 3)
    assert not any(b"Sam Buyer" in raw or buyer_account["email"].encode() in raw for raw in events.raw)


async def test_nothing_is_published_for_a_declined_or_refused_checkout(client: AsyncClient, app: Litestar) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=5)
    _, marker_product = await seller_with_product(client, price=100, stock=5)
    _, buyer = await signed_in(client)

    async with listening(
        app, {await seller_of(client, p) for p in (product_id, marker_product)}, product_id, marker_product
    ) as events:
        declined = await checkout(
            client, buyer, [{"product_id": product_id, "quantity": 1}], payment_token="tok_declined"
        )
        outage = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], payment_token="tok_error")
        short = await checkout(
            client, buyer, [{"product_id": marker_product, "quantity": 1}, {"product_id": product_id, "quantity": 6}]
        )
        assert (declined.status_code, outage.status_code, short.status_code) == (402, 503, 409)
        # A successful checkout afterwards: its events must be the first this subscriber receives.
        marker = await buy(client, buyer, marker_product, 1)
        seen = await events.until(both(has(OrderPaid), has(StockChanged)))

    assert [type(e) for e in seen] == [OrderPaid, StockChanged]
    assert seen[0].order_id == marker["id"]
    assert seen[1] == StockChanged(marker_product, 4)
    assert await stock(client, product_id) == 5


async def test_a_deadline_jobs_backlog_counts_due_orders_until_the_sweep_handles_them(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, product_id = await seller_with_product(client)
    _, buyer = await signed_in(client)
    assert (await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])).status_code == 201
    admin = await make_admin(client, app)
    (job,) = [j for j in app.state.sweeper.jobs if j.name == "cancel_unshipped"]
    clock.advance(7 * DAY + SECOND)

    async with app.state.db.transaction() as session:
        assert await job.backlog(session, clock.now()) == 1
    await app.state.sweeper.run_once()

    runs = {j["name"]: j for j in (await client.get("/api/admin/jobs", headers=bearer(admin))).json()["items"]}
    assert runs["cancel_unshipped"] | {"started_at": None, "finished_at": None} == {
        "name": "cancel_unshipped",
        "started_at": None,
        "finished_at": None,
        "outcome": "done",
        "handled": 1,
        "backlog": 0,
        "error": "",
    }
