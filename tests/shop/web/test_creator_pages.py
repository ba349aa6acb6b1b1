"""A creator's links and coupons pages as a browser and htmx use them: making a link for a product or the
storefront, its clicks and sales, coupons made, refused beside their fields, paused and resumed, and the receipt
page of an order credited to the creator, reached from the earnings lines."""

from __future__ import annotations

import re

from httpx import AsyncClient
from litestar import Litestar

from tests.factories import bearer, signed_in
from tests.pages import HTML, HTMX, browse_as, submit
from tests.shop.helpers import checkout, make_admin, seller_with_product
from tests.shop.web.test_pages import checkout_form, in_cart, my_orders, stock


async def test_a_creator_makes_product_and_storefront_links_and_sees_their_clicks_and_sales(
    client: AsyncClient, app: Litestar
) -> None:
    _, product_id = await seller_with_product(client, price=2500)
    _, buyer = await signed_in(client)
    await browse_as(client, ["influencer"], name="Rae")

    made = await submit(client, "/studio/links", {"target": "product", "product_id": product_id})
    assert made.status_code == 303 and made.headers["location"].startswith("/studio/links#link-")
    code = made.headers["location"].rsplit("#link-", 1)[1]
    assert (await submit(client, "/studio/links", {"target": "storefront"})).status_code == 303
    page = await client.get("/studio/links", headers=HTML)
    assert page.status_code == 200
    assert f'value="http://testserver.local/r/{code}"' in page.text  # the whole address, ready to share
    assert page.text.count('data-testid="referral-link"') == 2 and 'data-copy="u-' in page.text
    assert "/static/js/copy.js" in page.text

    await client.get(f"/r/{code}", headers=bearer(buyer), follow_redirects=False)
    await app.state.touches.flush()
    bought = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])
    assert bought.status_code == 201, bought.text
    row = re.search(rf'<tr id="link-{code}".*?</tr>', (await client.get("/studio/links", headers=HTML)).text, re.S)
    assert row is not None
    assert re.search(r'data-testid="link-clicks">1<', row.group(0))
    assert re.search(r'data-testid="link-orders">1<', row.group(0)) and "$25.00" in row.group(0)


async def test_a_link_to_an_unknown_product_is_refused_beside_the_search_and_nothing_is_made(
    client: AsyncClient,
) -> None:
    await browse_as(client, ["influencer"])
    for product_id in ("not-a-product", "0192f0c0-0000-7000-8000-00000000dead"):
        refused = await submit(client, "/studio/links", {"target": "product", "product_id": product_id})
        assert refused.status_code == 422, refused.text
        assert 'id="e-product_id"' in refused.text
    assert 'data-testid="referral-link"' not in (await client.get("/studio/links", headers=HTML)).text


async def test_coupon_mistakes_are_shown_beside_their_fields_and_nothing_is_made(client: AsyncClient) -> None:
    await browse_as(client, ["influencer"])
    for values, field in (
        ({"code": "X", "discount": "10"}, "code"),
        ({"code": "GOOD10", "discount": "80"}, "discount"),
        ({"code": "GOOD10", "discount": "ten"}, "discount"),
    ):
        refused = await submit(client, "/studio/coupons", values)
        assert refused.status_code in (400, 422), (values, refused.text)
        assert f'id="e-{field}"' in refused.text, values
        assert f'value="{values["code"]}"' in refused.text  # what was typed is shown again
    assert 'data-testid="coupon"' not in (await client.get("/studio/coupons", headers=HTML)).text


async def test_a_taken_coupon_code_is_refused_beside_the_code(client: AsyncClient) -> None:
    _, other = await signed_in(client, ["influencer"])
    await client.post("/api/attribution/coupons", json={"code": "TAKEN5", "discount_bps": 500}, headers=bearer(other))
    await browse_as(client, ["influencer"])
    refused = await submit(client, "/studio/coupons", {"code": "taken5", "discount": "5"})
    assert refused.status_code == 409 and 'id="e-code"' in refused.text and "Taken" in refused.text


async def test_a_creator_makes_pauses_and_resumes_a_coupon_and_sees_its_use(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, price=2000)
    _, buyer = await signed_in(client)
    await browse_as(client, ["influencer"])
    made = await submit(client, "/studio/coupons", {"code": "RAE10", "discount": "10"})
    assert made.status_code == 303
    coupon_id = made.headers["location"].rsplit("#coupon-", 1)[1]

    paused = await submit(client, f"/studio/coupons/{coupon_id}/pause", {}, htmx=True)
    assert paused.status_code == 200 and 'data-status="paused"' in paused.text and "Coupon paused" in paused.text
    refused = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], coupon_code="RAE10")
    assert refused.status_code == 422

    resumed = await submit(client, f"/studio/coupons/{coupon_id}/resume", {})
    assert resumed.status_code == 303
    assert (await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], coupon_code="rae10")).is_success
    page = (await client.get("/studio/coupons", headers=HTML)).text
    assert 'data-status="active"' in page
    assert re.search(r'data-testid="coupon-uses">1<', page) and "$18.00" in page


async def test_another_creators_coupon_cannot_be_paused_from_the_page(client: AsyncClient) -> None:
    _, owner = await signed_in(client, ["influencer"])
    made = await client.post(
        "/api/attribution/coupons", json={"code": "OWNED7", "discount_bps": 700}, headers=bearer(owner)
    )
    await browse_as(client, ["influencer"])
    refused = await submit(client, f"/studio/coupons/{made.json()['id']}/pause", {})
    assert refused.status_code == 404
    listed = await client.get("/api/attribution/coupons", headers=bearer(owner))
    assert listed.json()["items"][0]["status"] == "active"


async def test_the_creator_reaches_the_receipt_of_a_credited_order_from_the_earnings_lines(
    client: AsyncClient, app: Litestar
) -> None:
    _, product_id = await seller_with_product(client, price=2000)
    _, buyer = await signed_in(client)
    admin = await make_admin(client, app)
    await browse_as(client, ["influencer"], name="Rae")
    made = await submit(client, "/studio/coupons", {"code": "WHY10", "discount": "10"})
    assert made.status_code == 303
    bought = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], coupon_code="WHY10")
    order_id = bought.json()["orders"][0]["id"]

    earnings = await client.get("/reports/earnings", headers=HTMX)
    assert f'href="/reports/orders/{order_id}"' in earnings.text
    receipt = await client.get(f"/reports/orders/{order_id}", headers=HTML)
    assert receipt.status_code == 200
    assert "your coupon was used at checkout" in receipt.text and 'data-won="true"' in receipt.text
    assert "Earnings" in (await client.get("/studio/coupons", headers=HTML)).text  # the menu entry

    staff = await client.get(f"/reports/orders/{order_id}", headers={**HTML, **bearer(admin)})
    assert staff.status_code == 200 and 'data-testid="receipt-line"' in staff.text
    assert "another creator" not in staff.text and 'href="/shop/seller/earnings"' not in staff.text

    await browse_as(client, ["influencer"], name="Stranger")
    assert (await client.get(f"/reports/orders/{order_id}", headers=HTML)).status_code == 404
    await browse_as(client, ["buyer"], name="Buyer")
    assert (await client.get(f"/reports/orders/{order_id}", headers=HTML)).status_code == 403
    assert (await client.get("/studio/links", headers=HTML)).status_code == 403


async def test_a_paused_coupon_is_refused_beside_the_checkout_pages_coupon_field(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=5)
    _, creator = await signed_in(client, ["influencer"])
    made = await client.post(
        "/api/attribution/coupons", json={"code": "NAP-5", "discount_bps": 500}, headers=bearer(creator)
    )
    paused = await client.post(f"/api/attribution/coupons/{made.json()['id']}/pause", headers=bearer(creator))
    assert paused.status_code == 200
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)

    refused = await submit(client, "/shop/checkout", checkout_form(page.text, coupon_code="nap-5"))

    assert refused.status_code == 422
    assert re.search(r'id="e-coupon_code"[^>]*>this coupon is paused<', refused.text)
    assert await my_orders(client) == [] and await stock(client, product_id) == 5
