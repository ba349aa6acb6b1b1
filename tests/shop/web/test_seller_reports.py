"""What a seller reads about their money: the fee breakdown of each sale on the earnings page, and the sales report
(JSON and page) by product and by source, never another seller's figures."""

from __future__ import annotations

import re
from datetime import timedelta

from httpx import AsyncClient

from kernel.clock import FixedClock
from tests.factories import PASSWORD, bearer, signed_in
from tests.pages import HTML, HTMX
from tests.shop.attribution_helpers import buy, click, complete, influencer, link, refund
from tests.shop.helpers import seller_with_product, usd


def cents(text: str) -> int:
    return round(float(text.replace("$", "").replace(",", "")) * 100)


async def as_browser(client: AsyncClient, email: str) -> None:
    client.cookies.clear()
    signed = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text


async def test_each_sale_on_the_earnings_page_shows_price_commissions_and_net_adding_up(client: AsyncClient) -> None:
    # fashion carries 8% platform commission; the product pays creators 10%.
    seller, product_id = await seller_with_product(client, price=2599, affiliate_bps=1000)
    seller_email = (await client.get("/api/me", headers=bearer(seller))).json()["email"]
    _, creator = await influencer(client)
    code = await link(client, creator, {"product_id": product_id})
    _, buyer = await signed_in(client)
    await click(client, code, buyer)
    order = await buy(client, buyer, product_id, quantity=2, source={"ref": code})
    await complete(client, seller, buyer, order["id"])
    pending = (await client.get("/api/shop/balances", headers=bearer(seller))).json()["pending"]

    await as_browser(client, seller_email)
    page = await client.get("/shop/seller/earnings", headers=HTML)
    assert page.status_code == 200
    (box,) = re.findall(r'<dl class="fee-breakdown" data-testid="fee-breakdown">(.*?)</dl>', page.text, re.S)
    shown = {k: cents(v) for k, v in re.findall(r'data-testid="fee-(\w+)">([^<]+)<', box)}
    assert shown["price"] == 5198
    assert shown["platform"] == 416 and shown["creators"] == 520  # 8% and 10% of 51.98, to the cent
    assert shown["net"] == pending["amount_minor"] == 5198 - 416 - 520


async def test_the_sales_report_counts_units_and_revenue_by_product_and_by_source(
    client: AsyncClient, clock: FixedClock
) -> None:
    seller, shirt = await seller_with_product(client, price=2500)
    made = await client.post(
        "/api/shop/products",
        headers=bearer(seller),
        json={"title": "Mug", "description": "", "category": "home", "price": usd(1200), "stock": 9},
    )
    mug = made.json()["id"]
    other_seller, other_product = await seller_with_product(client, price=9900)
    _, creator = await influencer(client)
    code = await link(client, creator, {"product_id": shirt})
    _, buyer = await signed_in(client)
    await buy(client, buyer, shirt, quantity=2)
    await click(client, code, buyer)
    await buy(client, buyer, shirt, quantity=1, source={"ref": code})
    await buy(client, buyer, mug, quantity=3)
    await buy(client, buyer, other_product, quantity=1)

    async def sales(token: str, **params: str) -> dict:
        response = await client.get("/api/shop/sales", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    by_product = await sales(seller)
    rows = {r["key"]: r for r in by_product["rows"]}
    assert set(rows) == {shirt, mug}  # never the other seller's product
    assert (rows[shirt]["units"], rows[shirt]["revenue"]) == (3, usd(7500))
    assert (rows[mug]["units"], rows[mug]["revenue"], rows[mug]["orders"]) == (3, usd(3600), 1)
    assert by_product["total"]["revenue"] == usd(11100) and by_product["total"]["units"] == 6

    by_source = {r["key"]: r for r in (await sales(seller, group_by="source"))["rows"]}
    assert by_source["direct"]["units"] == 5 and by_source["direct"]["revenue"] == usd(8600)
    assert by_source["creator"]["units"] == 1 and by_source["creator"]["revenue"] == usd(2500)
    assert by_source["creator"]["net"]["amount_minor"] < 2500  # platform and creator commission come off

    theirs = await sales(other_seller)
    assert [r["key"] for r in theirs["rows"]] == [other_product]

    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    assert (await sales(seller, **{"from": tomorrow, "to": tomorrow}))["rows"] == []
    clock.advance(timedelta(days=40))
    assert (await sales(seller))["rows"] == []  # the default range is the last 30 days

    for params in ({"group_by": "buyer"}, {"from": "yesterday"}, {"from": "2026-05-02", "to": "2026-05-01"}):
        refused = await client.get("/api/shop/sales", params=params, headers=bearer(seller))
        assert refused.status_code == 422, params
    _, buyer_only = await signed_in(client)
    assert (await client.get("/api/shop/sales", headers=bearer(buyer_only))).status_code == 403


async def test_the_sales_page_shows_the_report_and_bad_dates_beside_their_fields(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client, price=2500)
    seller_email = (await client.get("/api/me", headers=bearer(seller))).json()["email"]
    _, buyer = await signed_in(client)
    await buy(client, buyer, product_id, quantity=2)

    await as_browser(client, seller_email)
    page = await client.get("/shop/seller/sales", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="sales-units">2<' in page.text and 'data-testid="sales-revenue">$50.00<' in page.text

    by_source = await client.get("/shop/seller/sales?group_by=source", headers=HTMX)
    assert by_source.text.lstrip().startswith('<section id="sales-report"') and "Direct (the shop)" in by_source.text

    bad = await client.get("/shop/seller/sales?from=2026-13-40", headers=HTML)
    assert bad.status_code == 422 and 'id="e-from"' in bad.text and "YYYY-MM-DD" in bad.text
    backwards = await client.get("/shop/seller/sales?from=2026-05-02&to=2026-05-01", headers=HTMX)
    assert backwards.status_code == 422 and 'id="e-from"' in backwards.text

    await as_browser(client, (await client.get("/api/me", headers=bearer(buyer))).json()["email"])
    assert (await client.get("/shop/seller/sales", headers=HTML)).status_code == 403


async def test_a_refund_after_release_shows_what_each_share_gave_back(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client, price=5000, affiliate_bps=1000)
    seller_email = (await client.get("/api/me", headers=bearer(seller))).json()["email"]
    _, creator = await influencer(client)
    code = await link(client, creator, {"product_id": product_id})
    _, buyer = await signed_in(client)
    await click(client, code, buyer)
    order = await buy(client, buyer, product_id, source={"ref": code})
    await complete(client, seller, buyer, order["id"])
    await refund(client, seller, buyer, order["id"], 1000)

    await as_browser(client, seller_email)
    page = await client.get("/shop/seller/earnings", headers=HTML)
    boxes = re.findall(r'<dl class="fee-breakdown" data-testid="fee-breakdown">(.*?)</dl>', page.text, re.S)
    shown = [{k: cents(v) for k, v in re.findall(r'data-testid="fee-(\w+)">([^<]+)<', box)} for box in boxes]
    claw_back, release = shown  # newest first
    assert release == {"price": 5000, "platform": 400, "creators": 500, "net": 4100}
    assert claw_back["price"] == -1000
    assert claw_back["platform"] + claw_back["creators"] + claw_back["net"] == -1000
    assert (claw_back["platform"], claw_back["creators"], claw_back["net"]) == (-80, -100, -820)
    assert "Refunded" in boxes[0]
