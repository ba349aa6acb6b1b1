"""A creator's own figures through the public API: links with their clicks and sales, coupons with their use,
pausing and resuming a coupon, and the receipt of an order credited to them."""

from __future__ import annotations

from kernel.clock import FixedClock
from tests.factories import bearer
from tests.shop.attribution_helpers import attribution_app, buy, buyer, click, influencer, link
from tests.shop.helpers import checkout, seller_with_product


async def _coupon(client, token: str, code: str, discount_bps: int = 1000) -> dict:  # type: ignore[no-untyped-def]
    made = await client.post(
        "/api/attribution/coupons", json={"code": code, "discount_bps": discount_bps}, headers=bearer(token)
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_creators_links_list_their_clicks_orders_and_sales(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, product = await seller_with_product(client, price=2500)
        _, token = await influencer(client)
        _, other_token = await influencer(client)
        product_code = await link(client, token, {"product_id": product})
        storefront_code = await link(client, token, {"storefront": True})
        await link(client, other_token, {"storefront": True})
        _, buyer_token = await buyer(client)
        await click(client, product_code, buyer_token)
        await click(client, product_code)
        await app.state.touches.flush()
        await buy(client, buyer_token, product, quantity=2)

        listed = await client.get("/api/attribution/links", headers=bearer(token))

        assert listed.status_code == 200, listed.text
        items = {item["code"]: item for item in listed.json()["items"]}
        assert set(items) == {product_code, storefront_code}  # the other creator's link is not listed
        assert (items[product_code]["clicks"], items[product_code]["orders"]) == (2, 1)
        assert items[product_code]["sales"] == {"amount_minor": 5000, "currency": "USD"}
        assert items[product_code]["target"] == f"/shop/products/{product}?ref={product_code}"
        assert (items[storefront_code]["clicks"], items[storefront_code]["orders"]) == (0, 0)
        assert [i["code"] for i in listed.json()["items"]] == [storefront_code, product_code]  # newest first


async def test_links_page_through_with_a_cursor(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, token = await influencer(client)
        codes = [await link(client, token, {"storefront": True}) for _ in range(3)]
        first = (await client.get("/api/attribution/links?limit=2", headers=bearer(token))).json()
        second = await client.get(
            "/api/attribution/links", params={"limit": 2, "cursor": first["next_cursor"]}, headers=bearer(token)
        )
        seen = [i["code"] for i in first["items"] + second.json()["items"]]
        assert seen == codes[::-1] and second.json()["next_cursor"] is None
        bad = await client.get("/api/attribution/links?cursor=nonsense", headers=bearer(token))
        assert bad.status_code == 422


async def test_a_paused_coupon_is_refused_at_checkout_until_resumed(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, product = await seller_with_product(client, price=2000, stock=5)
        _, token = await influencer(client)
        coupon = await _coupon(client, token, "SPRING10")
        assert coupon["status"] == "active"
        _, buyer_token = await buyer(client)

        paused = await client.post(f"/api/attribution/coupons/{coupon['id']}/pause", headers=bearer(token))
        assert paused.status_code == 200 and paused.json()["status"] == "paused"
        refused = await checkout(client, buyer_token, [{"product_id": product, "quantity": 1}], coupon_code="spring10")
        assert refused.status_code == 422 and refused.json()["type"] == "/problems/coupon_paused"
        assert refused.json()["errors"][0]["field"] == "coupon_code"
        assert (await client.get(f"/api/shop/products/{product}")).json()["stock"] == 5

        resumed = await client.post(f"/api/attribution/coupons/{coupon['id']}/resume", headers=bearer(token))
        assert resumed.status_code == 200 and resumed.json()["status"] == "active"
        order = await buy(client, buyer_token, product, coupon_code="spring10")
        assert order["total"]["amount_minor"] == 1800


async def test_a_creators_coupons_list_times_used_and_sales(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, product = await seller_with_product(client, price=2000, stock=5)
        _, token = await influencer(client)
        await _coupon(client, token, "UNUSED5", 500)
        await _coupon(client, token, "FALL10")
        _, buyer_token = await buyer(client)
        await buy(client, buyer_token, product, coupon_code="FALL10")
        await buy(client, buyer_token, product, quantity=2, coupon_code="fall10")

        listed = await client.get("/api/attribution/coupons", headers=bearer(token))

        assert listed.status_code == 200, listed.text
        items = {i["code"]: i for i in listed.json()["items"]}
        assert (items["FALL10"]["times_used"], items["FALL10"]["sales"]["amount_minor"]) == (2, 1800 + 3600)
        assert (items["UNUSED5"]["times_used"], items["UNUSED5"]["sales"]["amount_minor"]) == (0, 0)


async def test_another_creators_coupon_cannot_be_paused(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, owner = await influencer(client)
        _, stranger = await influencer(client)
        coupon = await _coupon(client, owner, "OWNERS1")
        for action in ("pause", "resume"):
            response = await client.post(f"/api/attribution/coupons/{coupon['id']}/{action}", headers=bearer(stranger))
            assert response.status_code == 404, response.text
        missing = await client.post("/api/attribution/coupons/not-a-uuid/pause", headers=bearer(owner))
        assert missing.status_code == 404
        mine = (await client.get("/api/attribution/coupons", headers=bearer(owner))).json()["items"]
        assert mine[0]["status"] == "active"


async def test_a_creator_reads_why_an_order_was_credited_to_them_without_rivals_named(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, product = await seller_with_product(client, price=2500)
        creator, token = await influencer(client)
        rival, rival_token = await influencer(client)
        rival_code = await link(client, rival_token, {"product_id": product})
        await _coupon(client, token, "MINE15", 1500)
        _, buyer_token = await buyer(client)
        await click(client, rival_code, buyer_token)
        await app.state.touches.flush()
        order = await buy(client, buyer_token, product, coupon_code="MINE15")

        seen = await client.get(f"/api/attribution/orders/{order['id']}/receipt", headers=bearer(token))

        assert seen.status_code == 200, seen.text
        [line] = seen.json()["lines"]
        assert line["rule"] == "coupon" and line["creator_id"] == creator
        by_kind = {c["kind"]: c for c in line["candidates"]}
        assert by_kind["coupon"]["won"] and by_kind["coupon"]["yours"]
        assert not by_kind["click"]["won"] and by_kind["click"]["why"] == "coupon takes precedence"
        assert by_kind["click"]["creator_id"] is None and by_kind["click"]["source"] == {}
        assert rival not in seen.text and rival_code not in seen.text
        assert "buyer_id" not in seen.json()
        for outsider, status in ((rival_token, 404), (buyer_token, 403)):
            refused = await client.get(f"/api/attribution/orders/{order['id']}/receipt", headers=bearer(outsider))
            assert refused.status_code == status, refused.text
