"""The report's commission is the ledger's: for any basket, what GET /api/reports/attribution shows per creator is
exactly what the escrow release credited to that creator's payable, to the minor unit."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from tests.factories import bearer, signed_in
from tests.shop.attribution_helpers import Rooms, attribution_app, buyer, complete, influencer, report
from tests.shop.helpers import checkout, make_admin, usd

HOSTS = 2  # creators per basket; a line is bought in one of their rooms, or credited to nobody
SELLERS = 2  # a basket from two sellers becomes two orders, each released on its own


@dataclass(frozen=True)
class Line:
    price_minor: int
    quantity: int
    commission_bps: int  # the category's rate
    affiliate_rate_bps: int  # the product's rate
    host: int | None  # which creator's room it was bought in; None: no source, so no creator
    seller: int


lines = st.builds(
    Line,
    price_minor=st.integers(1, 10**7),
    quantity=st.integers(1, 5),
    commission_bps=st.integers(0, 2000),
    affiliate_rate_bps=st.integers(0, 8000),
    host=st.none() | st.integers(0, HOSTS - 1),
    seller=st.integers(0, SELLERS - 1),
)
baskets = st.lists(lines, min_size=1, max_size=5)


@dataclass
class Shop:
    app: Litestar
    client: AsyncClient
    rooms: Rooms
    admin: str
    slugs: itertools.count


@pytest.fixture
async def shop(make_settings, clock) -> AsyncIterator[Shop]:  # type: ignore[no-untyped-def]
    """One app for every example: each basket has its own sellers, creators and buyer, so examples never mix."""
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        yield Shop(app, client, rooms, await make_admin(client, app), itertools.count(1))


async def _listed(shop: Shop, seller_token: str, line: Line) -> str:
    """A product priced and rated as ``line``, in a category of its own carrying the line's commission rate."""
    slug = f"rates-{next(shop.slugs)}"
    category = {"slug": slug, "name": slug, "commission_bps": line.commission_bps}
    made = await shop.client.post("/api/admin/categories", json=category, headers=bearer(shop.admin))
    assert made.status_code == 200, made.text
    product = await shop.client.post(
        "/api/shop/products",
        headers=bearer(seller_token),
        json={
            "title": "Anything",
            "category": slug,
            "price": usd(line.price_minor),
            "stock": line.quantity,
            "affiliate_rate_bps": line.affiliate_rate_bps,
        },
    )
    assert product.status_code == 201, product.text
    return product.json()["id"]


async def _creator_payables(shop: Shop) -> dict[str, int]:
    """What the ledger owes each creator, from the trial balance (payables are credits, so negative there)."""
    response = await shop.client.get("/api/admin/ledger/trial-balance", headers=bearer(shop.admin))
    assert response.status_code == 200, response.text
    prefix = "creator_payable:"
    return {
        a["account"].removeprefix(prefix): -a["balance"]["amount_minor"]
        for a in response.json()["accounts"]
        if a["account"].startswith(prefix)
    }


@settings(
    max_examples=20,
    deadline=None,
    # The app is deliberately shared by the examples (one per example would take a minute); no shrinking for speed.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(basket=baskets)
async def test_report_commission_equals_what_the_release_credits_each_creator(shop: Shop, basket: list[Line]) -> None:
    sellers = [await signed_in(shop.client, ["seller"]) for _ in range(SELLERS)]
    hosts = [await influencer(shop.client) for _ in range(HOSTS)]
    rooms = [shop.rooms.open(host_id) for host_id, _ in hosts]
    _, buyer_token = await buyer(shop.client)
    items: list[dict[str, Any]] = []
    for line in basket:
        item: dict[str, Any] = {
            "product_id": await _listed(shop, sellers[line.seller][1], line),
            "quantity": line.quantity,
        }
        if line.host is not None:
            item["source"] = {"room_id": rooms[line.host]}
        items.append(item)
    placed = await checkout(shop.client, buyer_token, items)
    assert placed.status_code == 201, placed.text
    seller_tokens = {user["id"]: token for user, token in sellers}
    for order in placed.json()["orders"]:
        await complete(shop.client, seller_tokens[order["seller"]["id"]], buyer_token, order["id"])

    rows = {row["key"]: row for row in (await report(shop.client, shop.admin, group_by="creator"))["rows"]}
    payables = await _creator_payables(shop)
    for host_id, _ in hosts:
        reported = rows[host_id]["commission"]["amount_minor"] if host_id in rows else 0
        assert reported == payables.get(host_id, 0)
