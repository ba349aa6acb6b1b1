"""Buyer Protection through the public API: disputes, the seller's answer, the admin queue, refunds and claw-backs.

Fashion carries 8% commission, so a 5000 sale splits 400 to the platform and 4600 to the seller (4100 when a
creator with a 10% affiliate rate is credited, who gets 500).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient, Response
from litestar import Litestar

from app import create_app
from kernel.clock import FixedClock
from shop import ShopRuntime
from tests.clients import asgi_client
from tests.factories import bearer, login, signed_in, signup
from tests.shop.helpers import checkout, make_admin, new_key, seller_with_product, trial_balance_total, usd

DAY = timedelta(days=1)
TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


# Actions -------------------------------------------------------------------------------------------------------
async def buy(client: AsyncClient, buyer: str, product_id: str, quantity: int = 2, **extra: Any) -> dict[str, Any]:
    paid = await checkout(client, buyer, [{"product_id": product_id, "quantity": quantity}], **extra)
    assert paid.status_code == 201, paid.text
    return paid.json()["orders"][0]


async def ship(client: AsyncClient, seller: str, order_id: str) -> dict[str, Any]:
    shipped = await client.post(f"/api/shop/orders/{order_id}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    return shipped.json()


async def confirm(client: AsyncClient, buyer: str, order_id: str) -> dict[str, Any]:
    done = await client.post(f"/api/shop/orders/{order_id}/confirm-delivery", headers=bearer(buyer))
    assert done.status_code == 200, done.text
    return done.json()


async def dispute(
    client: AsyncClient, buyer: str, order_id: str, amount: int | dict[str, Any], reason: str = "damaged", **extra: Any
) -> Response:
    body = {
        "reason": reason,
        "detail": "The box arrived crushed.",
        "requested_refund": usd(amount) if isinstance(amount, int) else amount,
        **extra,
    }
    return await client.post(f"/api/shop/orders/{order_id}/disputes", headers=bearer(buyer), json=body)


async def opened(client: AsyncClient, buyer: str, order_id: str, amount: int) -> dict[str, Any]:
    response = await dispute(client, buyer, order_id, amount)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "open"
    return response.json()


async def resolve(
    client: AsyncClient, token: str, dispute_id: str, outcome: str, amount: int | None = None, key: str | None = None
) -> Response:
    body: dict[str, Any] = {"outcome": outcome}
    if amount is not None:
        body["amount"] = usd(amount)
    headers = {**bearer(token), **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"/api/shop/disputes/{dispute_id}/resolve", headers=headers, json=body)


async def get_order(client: AsyncClient, token: str, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/shop/orders/{order_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def balances(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/shop/balances", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def owed(client: AsyncClient, token: str) -> tuple[int, int]:
    """What the platform owes this seller or creator: (pending, available) in cents."""
    body = await balances(client, token)
    return body["pending"]["amount_minor"], body["available"]["amount_minor"]


async def admin_queue(client: AsyncClient, admin: str) -> list[str]:
    response = await client.get("/api/admin/disputes", headers=bearer(admin))
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()]


async def ledger_accounts(client: AsyncClient, admin: str) -> dict[str, int]:
    response = await client.get("/api/admin/ledger/trial-balance", headers=bearer(admin))
    assert response.status_code == 200, response.text
    return {a["account"]: a["balance"]["amount_minor"] for a in response.json()["accounts"]}


async def run_payouts(client: AsyncClient, admin: str) -> dict[str, Any]:
    response = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": new_key()})
    assert response.status_code == 200, response.text
    return response.json()


async def shipped_order(client: AsyncClient, price: int = 2500, quantity: int = 2) -> tuple[str, str, dict[str, Any]]:
    """A seller's token, a buyer's token and their shipped order."""
    seller, product_id = await seller_with_product(client, price=price, stock=10)
    _, buyer = await signed_in(client)
    order = await buy(client, buyer, product_id, quantity)
    await ship(client, seller, order["id"])
    return seller, buyer, order


def actions(order: dict[str, Any]) -> list[str]:
    return [e["action"] for e in order["events"]]


# The seller's answer -------------------------------------------------------------------------------------------
async def test_seller_accepting_a_full_dispute_refunds_the_buyer_before_release(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    assert (await get_order(client, buyer, order["id"]))["status"] == "disputed"

    accepted = await resolve(client, seller, case["id"], "refund")

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "refunded" and accepted.json()["refunded"] == usd(5000)
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "refunded" and after["refunded"] == usd(5000)
    assert actions(after)[-3:] == ["dispute_opened", "refunded", "dispute_refunded"]
    assert after["auto_confirm_at"] is None  # nothing left to release
    assert await balances(client, seller) == {
        "pending": usd(0),
        "available": usd(0),
        "paid_out": usd(0),
        "in_escrow": usd(0),
    }
    accounts = await ledger_accounts(client, admin)
    assert accounts[f"escrow:{order['id']}"] == 0 and accounts["refunds"] == 0
    assert await trial_balance_total(client, admin) == 0
    # The order is closed: the buyer cannot confirm it and nothing is released later.
    again = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
    assert again.status_code == 409


async def test_seller_accepting_part_of_the_price_leaves_the_order_partially_refunded(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 1500)

    accepted = await resolve(client, seller, case["id"], "refund")

    assert accepted.status_code == 200 and accepted.json()["refunded"] == usd(1500)
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "partially_refunded" and after["refunded"] == usd(1500)
    assert (await balances(client, seller))["in_escrow"] == usd(3500)
    assert await trial_balance_total(client, admin) == 0


async def test_seller_cannot_refund_more_than_the_buyer_asked_for(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    case = await opened(client, buyer, order["id"], 3000)

    higher = await resolve(client, seller, case["id"], "refund", amount=3001)

    assert higher.status_code == 422
    assert higher.json()["type"] == "/problems/offer_above_request"
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(0)
    assert (await client.get(f"/api/shop/disputes/{case['id']}", headers=bearer(buyer))).json()["status"] == "open"


async def test_seller_rejecting_sends_the_dispute_to_the_admin_queue(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    assert await admin_queue(client, admin) == []

    rejected = await resolve(client, seller, case["id"], "reject")

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "escalated" and rejected.json()["refunded"] == usd(0)
    assert await admin_queue(client, admin) == [case["id"]]
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "disputed" and after["refunded"] == usd(0)
    assert actions(after)[-1] == "dispute_escalated"
    assert (await balances(client, seller))["in_escrow"] == usd(5000)
    # Once rejected the seller has had their say: accepting now is the admin's call.
    late = await resolve(client, seller, case["id"], "refund")
    assert late.status_code == 409


async def test_dispute_the_seller_ignores_past_the_response_deadline_is_escalated_by_the_sweeper(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    assert case["respond_by"] is not None

    clock.advance(3 * DAY - timedelta(seconds=1))
    await app.state.sweeper.run_once()
    assert await admin_queue(client, admin) == []
    assert (await client.get(f"/api/shop/disputes/{case['id']}", headers=bearer(buyer))).json()["status"] == "open"

    clock.advance(timedelta(seconds=1))
    await app.state.sweeper.run_once()

    assert await admin_queue(client, admin) == [case["id"]]
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "disputed" and after["refunded"] == usd(0)
    assert after["events"][-1]["action"] == "dispute_escalated"
    assert after["events"][-1]["detail"] == {"dispute_id": case["id"], "why": "seller_did_not_answer"}
    assert (await resolve(client, seller, case["id"], "refund")).status_code == 409
    decided = await resolve(client, admin, case["id"], "refund", amount=2000)
    assert decided.status_code == 200 and decided.json()["refunded"] == usd(2000)
    assert await admin_queue(client, admin) == []
    assert await trial_balance_total(client, admin) == 0


async def test_rejected_dispute_returns_the_order_to_shipped_and_resumes_the_auto_confirm_clock(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    deadline = (await get_order(client, buyer, order["id"]))["auto_confirm_at"]
    clock.advance(2 * DAY)
    case = await opened(client, buyer, order["id"], 5000)
    assert (await get_order(client, buyer, order["id"]))["auto_confirm_at"] is None
    assert (await resolve(client, seller, case["id"], "reject")).json()["status"] == "escalated"

    rejected = await resolve(client, admin, case["id"], "reject")

    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "shipped" and after["refunded"] == usd(0)
    assert after["auto_confirm_at"] == deadline  # the original 30 days from shipment, not a new window
    clock.advance(28 * DAY - timedelta(seconds=1))
    await app.state.sweeper.run_once()
    assert (await get_order(client, buyer, order["id"]))["status"] == "shipped"
    clock.advance(timedelta(seconds=1))
    await app.state.sweeper.run_once()
    completed = await get_order(client, buyer, order["id"])
    assert completed["status"] == "completed" and actions(completed)[-1] == "auto_confirmed"
    assert (await balances(client, seller))["pending"] == usd(4600)
    assert await trial_balance_total(client, admin) == 0


async def test_dispute_that_outlasts_the_auto_confirm_window_completes_at_the_next_sweep_after_rejection(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    clock.advance(29 * DAY)
    case = await opened(client, buyer, order["id"], 5000)
    clock.advance(5 * DAY)  # past the original auto-confirm deadline while the dispute was open
    await app.state.sweeper.run_once()
    assert (await get_order(client, buyer, order["id"]))["status"] == "disputed"

    await resolve(client, admin, case["id"], "reject")
    await app.state.sweeper.run_once()

    assert (await get_order(client, buyer, order["id"]))["status"] == "completed"
    assert (await balances(client, seller))["pending"] == usd(4600)


# Admin refunds and the escrow ------------------------------------------------------------------------------------
async def test_partial_refund_before_release_then_completion_releases_only_the_rest(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    await resolve(client, seller, case["id"], "reject")

    refunded = await resolve(client, admin, case["id"], "refund", amount=1000)

    assert refunded.status_code == 200 and refunded.json()["refunded"] == usd(1000)
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "partially_refunded" and after["refunded"] == usd(1000)
    assert after["auto_confirm_at"] is not None
    assert (await balances(client, seller))["in_escrow"] == usd(4000)

    done = await confirm(client, buyer, order["id"])

    assert done["status"] == "partially_refunded"  # completed, with a refund on record
    # 4000 released: 8% (320) to the platform, 3680 to the seller.
    assert await balances(client, seller) == {
        "pending": usd(3680),
        "available": usd(0),
        "paid_out": usd(0),
        "in_escrow": usd(0),
    }
    accounts = await ledger_accounts(client, admin)
    assert accounts["platform_revenue"] == -320
    assert accounts[f"escrow:{order['id']}"] == 0
    assert await trial_balance_total(client, admin) == 0


@pytest.fixture
async def attributed(make_settings, clock: FixedClock) -> AsyncIterator[tuple[Litestar, AsyncClient, dict[str, str]]]:
    """An app whose room ids resolve to their host, and the room table it reads."""
    rooms: dict[str, str] = {}

    async def room_host(session: Any, value: str) -> UUID | None:
        return UUID(rooms[value]) if value in rooms else None

    runtime = ShopRuntime()
    runtime.attribution.register("room_id", room_host)
    app = create_app(make_settings(), clock=clock, shop_runtime=runtime)
    async with asgi_client(app) as client:
        yield app, client, rooms


async def creator_sale(client: AsyncClient, rooms: dict[str, str]) -> tuple[str, str, str, dict[str, Any]]:
    """Seller, creator and buyer tokens and a completed 5000 order credited to the creator's room."""
    seller, product_id = await seller_with_product(client, price=2500, stock=10, affiliate_bps=1000)
    creator = await signup(client, ["influencer"])
    rooms["room-1"] = creator["id"]
    creator_token = await login(client, creator["email"])
    _, buyer = await signed_in(client)
    order = await buy(client, buyer, product_id, 2, source={"room_id": "room-1"})
    assert order["items"][0]["creator_id"] == creator["id"]
    await ship(client, seller, order["id"])
    await confirm(client, buyer, order["id"])
    return seller, creator_token, buyer, order


async def test_refund_after_release_claws_back_pro_rata_from_seller_platform_and_creator(
    attributed: tuple[Litestar, AsyncClient, dict[str, str]],
) -> None:
    app, client, rooms = attributed
    admin = await make_admin(client, app)
    seller, creator, buyer, order = await creator_sale(client, rooms)
    assert await owed(client, seller) == (4100, 0)
    assert await owed(client, creator) == (500, 0)
    assert (await ledger_accounts(client, admin))["platform_revenue"] == -400

    case = await opened(client, buyer, order["id"], 1000)
    assert (await resolve(client, seller, case["id"], "refund")).status_code == 200

    # 1000 of 5000 back: a fifth of every share, taken from what is still pending.
    assert await balances(client, seller) == {
        **await balances(client, seller),
        "pending": usd(3280),
        "available": usd(0),
    }
    assert await balances(client, creator) == {
        **await balances(client, creator),
        "pending": usd(400),
        "available": usd(0),
    }
    assert (await ledger_accounts(client, admin))["platform_revenue"] == -320
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "partially_refunded" and after["refunded"] == usd(1000)
    assert await trial_balance_total(client, admin) == 0

    rest = await opened(client, buyer, order["id"], 4000)
    assert (await resolve(client, seller, rest["id"], "refund")).status_code == 200

    assert await owed(client, seller) == (0, 0)
    assert await owed(client, creator) == (0, 0)
    assert (await ledger_accounts(client, admin))["platform_revenue"] == 0
    assert (await get_order(client, buyer, order["id"]))["status"] == "refunded"
    assert await trial_balance_total(client, admin) == 0


async def test_many_small_refunds_after_release_never_claw_back_more_than_a_share(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    await confirm(client, buyer, order["id"])  # 4600 to the seller, 400 to the platform
    # Each cent, split 92:8, rounds to the seller; the last refund must take only what each side still holds.
    for _ in range(13):
        case = await opened(client, buyer, order["id"], 1)
        assert (await resolve(client, seller, case["id"], "refund")).status_code == 200

    last = await opened(client, buyer, order["id"], 4987)
    assert (await resolve(client, seller, last["id"], "refund")).status_code == 200

    assert (await get_order(client, buyer, order["id"]))["status"] == "refunded"
    assert await owed(client, seller) == (0, 0)
    assert (await ledger_accounts(client, admin))["platform_revenue"] == 0
    assert await trial_balance_total(client, admin) == 0


async def test_refund_after_payout_leaves_payables_negative_and_nets_them_against_later_earnings(
    attributed: tuple[Litestar, AsyncClient, dict[str, str]], clock: FixedClock
) -> None:
    app, client, rooms = attributed
    admin = await make_admin(client, app)
    seller, creator, buyer, order = await creator_sale(client, rooms)
    case = await opened(client, buyer, order["id"], 5000)
    assert (await resolve(client, seller, case["id"], "reject")).status_code == 200

    # The release matures while the admin has not decided yet, and is paid out.
    clock.advance(16 * DAY)
    paid = await run_payouts(client, admin)
    assert paid["total"] == usd(4600)
    assert (await balances(client, seller))["paid_out"] == usd(4100)

    decided = await resolve(client, admin, case["id"], "refund")
    assert decided.status_code == 200 and decided.json()["refunded"] == usd(5000)

    assert await balances(client, seller) == {
        "pending": usd(0),
        "available": usd(-4100),
        "paid_out": usd(4100),
        "in_escrow": usd(0),
    }
    assert await balances(client, creator) == {
        "pending": usd(0),
        "available": usd(-500),
        "paid_out": usd(500),
        "in_escrow": usd(0),
    }
    assert (await ledger_accounts(client, admin))["platform_revenue"] == 0
    assert await trial_balance_total(client, admin) == 0
    assert (await run_payouts(client, admin))["payouts"] == []  # nothing is paid while a balance is negative

    # A later sale of 10000 (no creator): 9200 to the seller, of which 4100 settles the debt.
    _, other_buyer = await signed_in(client)
    product_id = order["items"][0]["product_id"]
    later = await buy(client, other_buyer, product_id, 4)
    await ship(client, seller, later["id"])
    await confirm(client, other_buyer, later["id"])
    assert (await balances(client, seller))["available"] == usd(-4100)
    assert (await run_payouts(client, admin))["payouts"] == []
    clock.advance(15 * DAY + timedelta(seconds=1))
    assert (await balances(client, seller))["available"] == usd(5100)

    run = await run_payouts(client, admin)

    assert [(p["account"], p["amount"]) for p in run["payouts"]] == [
        (f"seller_payable:{later['seller']['id']}", usd(5100))
    ]
    assert await balances(client, seller) == {
        "pending": usd(0),
        "available": usd(0),
        "paid_out": usd(9200),
        "in_escrow": usd(0),
    }
    assert (await balances(client, creator))["available"] == usd(-500)
    assert await trial_balance_total(client, admin) == 0


# Limits ------------------------------------------------------------------------------------------------------
async def test_refunds_never_exceed_what_was_paid_minus_earlier_refunds(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)

    too_much = await dispute(client, buyer, order["id"], 5001)
    assert too_much.status_code == 422
    assert [e["field"] for e in too_much.json()["errors"]] == ["requested_refund"]
    assert (await get_order(client, buyer, order["id"]))["status"] == "shipped"
    assert (await client.get("/api/shop/disputes", headers=bearer(buyer))).json() == []

    first = await opened(client, buyer, order["id"], 2000)
    assert (await resolve(client, admin, first["id"], "refund")).status_code == 200
    assert (await dispute(client, buyer, order["id"], 3001)).status_code == 422

    second = await opened(client, buyer, order["id"], 3000)
    before = (await ledger_accounts(client, admin), await get_order(client, buyer, order["id"]))
    over = await resolve(client, admin, second["id"], "refund", amount=3001)

    assert over.status_code == 409
    assert over.json()["type"] == "/problems/refund_too_large"
    assert over.json()["refundable"] == usd(3000)
    assert (await ledger_accounts(client, admin), await get_order(client, buyer, order["id"])) == before
    assert (await client.get(f"/api/shop/disputes/{second['id']}", headers=bearer(buyer))).json()["status"] == "open"

    rest = await resolve(client, admin, second["id"], "refund", amount=3000)
    assert rest.status_code == 200
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "refunded" and after["refunded"] == usd(5000)
    assert (await dispute(client, buyer, order["id"], 1)).status_code == 409
    assert (await resolve(client, admin, second["id"], "refund", amount=1)).status_code == 409
    assert (await balances(client, seller))["in_escrow"] == usd(0)
    assert await trial_balance_total(client, admin) == 0


async def test_replayed_resolution_refunds_once(client: AsyncClient, app) -> None:
    _, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 2000)
    key = new_key()

    first = await resolve(client, admin, case["id"], "refund", amount=2000, key=key)
    again = await resolve(client, admin, case["id"], "refund", amount=2000, key=key)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(2000)
    other = await resolve(client, admin, case["id"], "refund", amount=1000, key=key)
    assert other.status_code == 422
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(2000)
    assert await trial_balance_total(client, admin) == 0


async def test_a_resolution_key_reused_on_another_dispute_is_refused_and_leaves_it_open(
    client: AsyncClient, app
) -> None:
    _, buyer, first_order = await shipped_order(client)
    _, other_buyer, second_order = await shipped_order(client)
    admin = await make_admin(client, app)
    first = await opened(client, buyer, first_order["id"], 2000)
    second = await opened(client, other_buyer, second_order["id"], 2000)
    key = new_key()

    assert (await resolve(client, admin, first["id"], "refund", amount=2000, key=key)).status_code == 200
    reused = await resolve(client, admin, second["id"], "refund", amount=2000, key=key)

    assert reused.status_code == 422 and reused.json()["type"] == "/problems/idempotency_key_reused", reused.text
    assert (await client.get(f"/api/shop/disputes/{second['id']}", headers=bearer(admin))).json()["status"] == "open"
    assert (await get_order(client, other_buyer, second_order["id"]))["refunded"] == usd(0)


async def test_dispute_after_the_protection_window_is_refused(client: AsyncClient, app, clock: FixedClock) -> None:
    _, buyer, order = await shipped_order(client)
    await confirm(client, buyer, order["id"])
    clock.advance(15 * DAY)
    assert (await dispute(client, buyer, order["id"], 100)).status_code == 201  # the last moment still counts

    _, buyer2, order2 = await shipped_order(client)
    await confirm(client, buyer2, order2["id"])
    clock.advance(15 * DAY + timedelta(seconds=1))

    late = await dispute(client, buyer2, order2["id"], 100)

    assert late.status_code == 409
    assert late.json()["type"] == "/problems/dispute_window_closed"
    after = await get_order(client, buyer2, order2["id"])
    assert after["status"] == "completed" and actions(after)[-1] == "delivery_confirmed"


async def test_unshipped_and_cancelled_orders_cannot_be_disputed(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client, stock=10)
    _, buyer = await signed_in(client)
    order = await buy(client, buyer, product_id)

    unshipped = await dispute(client, buyer, order["id"], 100, reason="not_received")

    assert unshipped.status_code == 409
    assert unshipped.json()["type"] == "/problems/not_disputable"
    assert (await get_order(client, buyer, order["id"]))["status"] == "paid"
    assert (await client.post(f"/api/shop/orders/{order['id']}/cancel", headers=bearer(seller))).status_code == 200
    assert (await dispute(client, buyer, order["id"], 100)).status_code == 409
    assert (await client.get("/api/shop/disputes", headers=bearer(buyer))).json() == []


async def test_only_one_dispute_at_a_time(client: AsyncClient) -> None:
    _, buyer, order = await shipped_order(client)
    await opened(client, buyer, order["id"], 1000)

    second = await dispute(client, buyer, order["id"], 1000)

    assert second.status_code == 409
    assert len((await client.get("/api/shop/disputes", headers=bearer(buyer))).json()) == 1


MALFORMED_DISPUTES = [
    ({"reason": "changed_my_mind"}, "reason"),
    ({"reason": None}, "reason"),
    ({"requested_refund": {"amount_minor": 10.5, "currency": "USD"}}, "requested_refund.amount_minor"),
    ({"requested_refund": {"amount_minor": 100.0, "currency": "USD"}}, "requested_refund.amount_minor"),
    ({"requested_refund": {"amount_minor": "100", "currency": "USD"}}, "requested_refund.amount_minor"),
    ({"requested_refund": {"amount_minor": -100, "currency": "USD"}}, "requested_refund.amount_minor"),
    ({"requested_refund": {"amount_minor": 100, "currency": "usd"}}, "requested_refund.currency"),
    ({"requested_refund": {"amount_minor": 100, "currency": "XXX"}}, "requested_refund"),
    ({"requested_refund": {"amount_minor": 100}}, "requested_refund"),
    ({"requested_refund": 1.0}, "requested_refund"),
    ({"detail": "x" * 2001}, "detail"),
    ({"refund_now": True}, "refund_now"),
]


async def test_malformed_dispute_is_refused_naming_the_field_and_opens_nothing(client: AsyncClient) -> None:
    _, buyer, order = await shipped_order(client)
    for change, field in MALFORMED_DISPUTES:
        body = {"reason": "damaged", "detail": "", "requested_refund": usd(100), **change}

        response = await client.post(f"/api/shop/orders/{order['id']}/disputes", headers=bearer(buyer), json=body)

        assert response.status_code == 400, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (change, response.text)
    assert (await get_order(client, buyer, order["id"]))["status"] == "shipped"
    assert (await client.get("/api/shop/disputes", headers=bearer(buyer))).json() == []


async def test_dispute_amount_breaking_a_rule_is_refused_naming_the_field(client: AsyncClient) -> None:
    _, buyer, order = await shipped_order(client)
    for amount in (0, {"amount_minor": 100, "currency": "EUR"}):
        response = await dispute(client, buyer, order["id"], amount)

        assert response.status_code == 422, (amount, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["requested_refund"]
    assert (await get_order(client, buyer, order["id"]))["status"] == "shipped"
    assert (await client.get("/api/shop/disputes", headers=bearer(buyer))).json() == []


MALFORMED_RESOLUTIONS = [
    ({"outcome": "maybe"}, 400),
    ({"outcome": "refund", "amount": {"amount_minor": 10.0, "currency": "USD"}}, 400),
    ({"outcome": "refund", "amount": {"amount_minor": "10", "currency": "USD"}}, 400),
    ({"outcome": "refund", "amount": {"amount_minor": 100, "currency": "XXX"}}, 400),
    ({"outcome": "refund", "extra": 1}, 400),
    ({"outcome": "refund", "amount": {"amount_minor": 0, "currency": "USD"}}, 409),
    ({"outcome": "refund", "amount": {"amount_minor": 100, "currency": "EUR"}}, 409),
]


async def test_malformed_resolution_changes_nothing(client: AsyncClient, app) -> None:
    _, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 1000)
    before = await ledger_accounts(client, admin)

    for body, status in MALFORMED_RESOLUTIONS:
        response = await client.post(f"/api/shop/disputes/{case['id']}/resolve", headers=bearer(admin), json=body)
        assert response.status_code == status, (body, response.text)

    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "disputed" and after["refunded"] == usd(0)
    assert (await client.get(f"/api/shop/disputes/{case['id']}", headers=bearer(admin))).json()["status"] == "open"
    assert await ledger_accounts(client, admin) == before
