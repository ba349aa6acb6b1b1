"""Live deals: offered by the host while live, bought through checkout at the deal price, never oversold."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from httpx import AsyncClient
from litestar import Litestar
from litestar.channels import ChannelsPlugin

from kernel.clock import FixedClock
from kernel.money import Money
from live.events import DealOffered
from shop import DealRemaining, StockChanged, product_topic
from tests.factories import bearer, signed_in
from tests.live.helpers import end_room, live_room, make_creator, make_products, next_event, rfc3339, room_events
from tests.shop.helpers import checkout, make_admin, trial_balance_total, usd
from tests.shop.orders.test_concurrency import assert_allowed, my_orders, problem, stock_of


def deal_body(product_id: str, clock: FixedClock, **fields: Any) -> dict[str, Any]:
    ends_at = rfc3339(clock.now() + timedelta(minutes=10))
    return {"product_id": product_id, "price": usd(1500), "quantity": 5, "ends_at": ends_at, **fields}


async def offer(client: AsyncClient, token: str, room_id: str, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/live/rooms/{room_id}/deals", json=body, headers=bearer(token))


async def offered(client: AsyncClient, token: str, room_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await offer(client, token, room_id, body)
    assert response.status_code == 201, response.text
    return response.json()


def deal_line(deal: dict[str, Any], quantity: int = 1) -> list[dict[str, Any]]:
    return [{"product_id": deal["product_id"], "quantity": quantity, "deal_id": deal["id"]}]


async def test_only_the_host_offers_sane_deals_while_live(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    _, stranger = await make_creator(client)
    admin = await make_admin(client, app)
    products = await make_products(client, 2, price=2500, stock=10)
    outsider = (await make_products(client))[0]
    scheduled = await client.post(
        "/api/live/rooms", json={"title": "Later", "product_ids": products}, headers=bearer(host)
    )
    room = await live_room(client, app, host, products)
    good = deal_body(products[0], clock)

    assert (await client.post(f"/api/live/rooms/{room['id']}/deals", json=good)).status_code == 401
    assert (await offer(client, stranger, room["id"], good)).status_code == 403
    assert (await offer(client, admin, room["id"], good)).status_code == 403  # the price is the host's promise
    assert (await offer(client, host, str(uuid.uuid4()), good)).status_code == 404
    not_live = await offer(client, host, scheduled.json()["id"], good)
    assert not_live.status_code == 409 and problem(not_live) == "room_not_live"
    refusals = {
        "product_not_in_room": {"product_id": outsider},
        "deal_price_not_lower": {"price": usd(2500)},
        "currency_mismatch": {"price": {"amount_minor": 1500, "currency": "EUR"}},
        "deal_exceeds_stock": {"quantity": 11},
        "bad_deal_end": {"ends_at": rfc3339(clock.now() - timedelta(seconds=1))},
    }
    for code, change in refusals.items():
        response = await offer(client, host, room["id"], {**good, **change})
        assert (response.status_code, problem(response)) == (422, code), response.text
    too_long = await offer(client, host, room["id"], {**good, "ends_at": rfc3339(clock.now() + timedelta(hours=25))})
    assert too_long.status_code == 422
    assert (await offer(client, host, room["id"], {**good, "price": usd(0)})).status_code == 400
    assert (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"] == []

    async with room_events(app, room["id"]) as events:
        deal = await offered(client, host, room["id"], good)
        assert (deal["price"], deal["quantity"], deal["remaining"], deal["per_buyer_limit"]) == (usd(1500), 5, 5, 1)
        assert await next_event(events) == DealOffered(
            deal["id"], products[0], Money(1500, "USD"), 5, 5, 1, deal["ends_at"]
        )
    running = await offer(client, host, room["id"], good)
    assert running.status_code == 409 and problem(running) == "deal_running"
    assert [d["id"] for d in (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"]] == [deal["id"]]


async def test_a_deal_is_bought_through_checkout_at_its_price_within_the_buyer_limit(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    host_user, host = await make_creator(client)
    products = await make_products(client, 2, price=2500, stock=10)
    room = await live_room(client, app, host, products)
    deal = await offered(client, host, room["id"], deal_body(products[0], clock, per_buyer_limit=2))
    _, buyer = await signed_in(client)
    channels = app.plugins.get(ChannelsPlugin)

    mismatch = await checkout(client, buyer, [{"product_id": products[1], "quantity": 1, "deal_id": deal["id"]}])
    assert mismatch.status_code == 422 and problem(mismatch) == "deal_product_mismatch"
    unknown = await checkout(client, buyer, [{"product_id": products[0], "quantity": 1, "deal_id": str(uuid.uuid4())}])
    assert unknown.status_code == 422 and problem(unknown) == "unknown_deal"

    async with channels.start_subscription([product_topic(products[0])]) as stock_events:
        await asyncio.sleep(0.05)
        bought = await checkout(client, buyer, deal_line(deal, 2))
        assert bought.status_code == 201, bought.text
        heard = []
        async with asyncio.timeout(5):
            async for raw in stock_events.iter_events():
                heard.append(msgspec.json.decode(raw, type=StockChanged | DealRemaining))
                if len(heard) == 2:
                    break
    assert sorted(heard, key=repr) == [DealRemaining(deal["id"], products[0], 3), StockChanged(products[0], 8)]
    order = bought.json()["orders"][0]
    line = order["items"][0]
    assert (line["unit_price"], order["total"]) == (usd(1500), usd(3000))
    # Found in the room: the line's source is the room, so the sale is the host's.
    assert line["source"] == {"room_id": room["id"]} and line["creator_id"] == host_user["id"]
    assert await stock_of(client, products[0]) == 8
    assert (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"][0]["remaining"] == 3

    over = await checkout(client, buyer, deal_line(deal))
    assert over.status_code == 422 and problem(over) == "deal_limit"
    full_price = await checkout(client, buyer, [{"product_id": products[0], "quantity": 1}])
    assert full_price.json()["orders"][0]["total"] == usd(2500)
    assert await stock_of(client, products[0]) == 7


async def test_an_ended_deal_or_a_sold_out_one_is_refused_and_nothing_is_charged(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 2, price=2500, stock=10)
    admin = await make_admin(client, app)
    room = await live_room(client, app, host, products)
    short = await offered(client, host, room["id"], deal_body(products[0], clock, quantity=1))
    timed = await offered(client, host, room["id"], deal_body(products[1], clock, quantity=5))
    (_, first), (_, second) = await signed_in(client), await signed_in(client)

    assert (await checkout(client, first, deal_line(short))).status_code == 201
    sold_out = await checkout(client, second, deal_line(short))
    assert sold_out.status_code == 409 and problem(sold_out) == "deal_sold_out"
    clock.advance(timedelta(minutes=11))
    ended = await checkout(client, second, deal_line(timed))
    assert ended.status_code == 422 and problem(ended) == "deal_ended"

    assert await my_orders(client, second) == []
    assert (await stock_of(client, products[0]), await stock_of(client, products[1])) == (9, 10)
    assert (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"] == []
    assert await trial_balance_total(client, admin) == 0


async def test_ending_the_room_ends_its_deals(client: AsyncClient, app: Litestar, clock: FixedClock) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 1, price=2500, stock=10)
    room = await live_room(client, app, host, products)
    deal = await offered(client, host, room["id"], deal_body(products[0], clock))
    _, buyer = await signed_in(client)

    await end_room(app, room["id"])

    refused = await checkout(client, buyer, deal_line(deal))
    assert refused.status_code == 422 and problem(refused) == "deal_ended"
    assert (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"] == []
    assert await stock_of(client, products[0]) == 10


async def test_buyers_racing_for_a_deal_get_exactly_its_quantity(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 1, price=2500, stock=20)
    admin = await make_admin(client, app)
    room = await live_room(client, app, host, products)
    deal = await offered(client, host, room["id"], deal_body(products[0], clock, quantity=6, per_buyer_limit=10))
    buyers = [(await signed_in(client))[1] for _ in range(8)]

    responses = await asyncio.gather(*(checkout(client, buyers[n % 8], deal_line(deal)) for n in range(40)))

    counts = assert_allowed(responses, (201, None), (409, "deal_sold_out"))
    if not counts[503]:
        assert (counts[201], counts[409]) == (6, 34)
    assert counts[201] <= 6
    sold = [o for token in buyers for o in await my_orders(client, token)]
    assert len(sold) == counts[201] and {o["total"]["amount_minor"] for o in sold} <= {1500}
    assert await stock_of(client, products[0]) == 20 - counts[201]
    remaining = (await client.get(f"/api/live/rooms/{room['id']}")).json()["deals"][0]["remaining"]
    assert remaining == 6 - counts[201]
    assert await trial_balance_total(client, admin) == 0


async def test_one_buyer_racing_themselves_stays_within_the_per_buyer_limit(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 1, price=2500, stock=20)
    room = await live_room(client, app, host, products)
    deal = await offered(client, host, room["id"], deal_body(products[0], clock, quantity=10, per_buyer_limit=2))
    _, buyer = await signed_in(client)

    responses = await asyncio.gather(*(checkout(client, buyer, deal_line(deal)) for _ in range(10)))

    counts = assert_allowed(responses, (201, None), (422, "deal_limit"))
    if not counts[503]:
        assert (counts[201], counts[422]) == (2, 8)
    assert len(await my_orders(client, buyer)) == counts[201] <= 2
    assert await stock_of(client, products[0]) == 20 - counts[201]


async def test_the_in_room_quick_buy_form_shows_the_deal_price_it_will_charge(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    _, host = await make_creator(client)
    products = await make_products(client, 1, price=2500, stock=10)
    room = await live_room(client, app, host, products)
    deal = await offered(client, host, room["id"], deal_body(products[0], clock, per_buyer_limit=2))
    _, buyer = await signed_in(client)

    form = await client.get(
        f"/shop/products/{products[0]}/buy?room_id={room['id']}&deal_id={deal['id']}",
        headers={"hx-request": "true", **bearer(buyer)},
    )

    assert form.status_code == 200
    assert 'data-testid="quick-buy-price">$15.00<' in form.text and "<s" in form.text and "$25.00" in form.text
    assert "5 left, up to 2 per buyer" in form.text
    plain = await client.get(f"/shop/products/{products[0]}/buy?room_id={room['id']}", headers=bearer(buyer))
    assert 'data-testid="quick-buy-price">$25.00<' in plain.text
