"""Referral links and creator coupons through the public API: creating them, following a link, spending a coupon."""

from __future__ import annotations

from uuid import UUID

from kernel.clock import FixedClock
from shop.models import Touch
from tests.factories import bearer
from tests.shop.attribution_helpers import attribution_app, buy, buyer, click, influencer, link, receipt, staff
from tests.shop.helpers import checkout, seller_with_product


async def _touches(app) -> list[Touch]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    await app.state.touches.flush()
    async with app.state.db.transaction() as session:
        return list(await session.scalars(select(Touch).order_by(Touch.id)))


async def test_a_product_link_records_a_click_and_sends_the_visitor_to_the_product(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, product = await seller_with_product(client)
        creator, token = await influencer(client)
        response = await client.post(
            "/api/attribution/links", json={"target": {"product_id": product}}, headers=bearer(token)
        )
        assert response.status_code == 201, response.text
        code = response.json()["code"]
        assert response.json()["url"] == f"/r/{code}"
        _, buyer_token = await buyer(client)
        buyer_id = (await client.get("/api/me", headers=bearer(buyer_token))).json()["id"]

        assert await click(client, code.upper(), buyer_token) == f"/shop/products/{product}?ref={code}"

        [touch] = await _touches(app)
        assert (touch.kind, touch.creator_id, touch.product_id, touch.link_code) == (
            "click",
            UUID(creator),
            UUID(product),
            code,
        )
        assert touch.user_id == UUID(buyer_id) and touch.visitor_id is None


async def test_an_anonymous_visitor_gets_a_visitor_id_that_later_clicks_reuse(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, token = await influencer(client)
        code = await link(client, token, {"storefront": True})
        client.cookies.clear()
        first = await client.get(f"/r/{code}", follow_redirects=False)
        assert first.status_code == 303 and "lc_visitor" in first.cookies
        await client.get(f"/r/{code}", follow_redirects=False)  # the client sends the cookie back
        touches = await _touches(app)
        assert len(touches) == 2 and touches[0].user_id is None
        assert touches[0].visitor_id == touches[1].visitor_id == first.cookies["lc_visitor"]


async def test_a_visitor_id_the_server_did_not_make_is_replaced(make_settings, clock: FixedClock):
    """A client-chosen id (here one that would overflow the reports' viewer column) never reaches a touch."""
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, token = await influencer(client)
        code = await link(client, token, {"storefront": True})
        client.cookies.clear()
        client.cookies.set("lc_visitor", "x" * 64)
        first = await client.get(f"/r/{code}", follow_redirects=False)
        assert first.status_code == 303
        made = first.cookies["lc_visitor"]
        assert made != "x" * 64 and len(made) == 22
        [touch] = await _touches(app)
        assert touch.visitor_id == made


async def test_links_lead_to_rooms_posts_and_storefronts_by_path(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        creator, token = await influencer(client)
        room = rooms.open(creator)
        assert (await click(client, await link(client, token, {"room_id": room}))).startswith(
            f"/live/rooms/{room}?ref="
        )
        assert (await click(client, await link(client, token, {"storefront": True}))).startswith(
            f"/creators/{creator}?ref="
        )
        touches = await _touches(app)
        assert touches[0].room_id == UUID(room) and touches[0].creator_id == UUID(creator)


async def test_bad_link_requests_are_refused_and_unknown_codes_are_404(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        _, product = await seller_with_product(client)
        _, token = await influencer(client)
        _, buyer_token = await buyer(client)
        for target in (
            {},
            {"product_id": product, "storefront": True},
            {"room_id": "00000000-0000-7000-8000-000000000001"},
        ):
            response = await client.post("/api/attribution/links", json={"target": target}, headers=bearer(token))
            assert response.status_code == 422, (target, response.text)
        for_buyer = await client.post(
            "/api/attribution/links", json={"target": {"product_id": product}}, headers=bearer(buyer_token)
        )
        assert for_buyer.status_code == 403
        missing = await client.get("/r/nosuchcode", follow_redirects=False, headers={"accept": "text/html"})
        assert missing.status_code == 404 and "does not exist" in missing.text
        assert await _touches(app) == []


async def test_a_ref_carried_into_checkout_credits_the_links_creator(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, product = await seller_with_product(client)
        creator, token = await influencer(client)
        code = await link(client, token, {"storefront": True})
        _, buyer_token = await buyer(client)
        order = await buy(client, buyer_token, product, source={"ref": code.upper()})
        assert order["items"][0]["creator_id"] == creator


async def test_coupon_codes_are_unique_in_any_letter_case(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, first = await influencer(client)
        _, second = await influencer(client)
        _, buyer_token = await buyer(client)
        made = await client.post(
            "/api/attribution/coupons", json={"code": "Summer-10", "discount_bps": 1000}, headers=bearer(first)
        )
        assert made.status_code == 201 and made.json()["code"] == "Summer-10"
        taken = await client.post(
            "/api/attribution/coupons", json={"code": "SUMMER-10", "discount_bps": 500}, headers=bearer(second)
        )
        assert taken.status_code == 409
        for bad in (
            {"code": "X1", "discount_bps": 500},
            {"code": "ok-code", "discount_bps": 0},
            {"code": "ok-code", "discount_bps": 5001},
        ):
            response = await client.post("/api/attribution/coupons", json=bad, headers=bearer(second))
            assert response.status_code in (400, 422), (bad, response.text)
        refused = await client.post(
            "/api/attribution/coupons", json={"code": "mine", "discount_bps": 500}, headers=bearer(buyer_token)
        )
        assert refused.status_code == 403


async def test_a_coupon_discounts_every_line_exactly_and_credits_its_creator(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        admin = await staff(client, app, "admin")
        _, shirt = await seller_with_product(client, price=2500)
        _, socks = await seller_with_product(client, price=1333)
        creator, token = await influencer(client)
        await client.post(
            "/api/attribution/coupons", json={"code": "ANNA15", "discount_bps": 1500}, headers=bearer(token)
        )
        _, buyer_token = await buyer(client)

        response = await checkout(
            client,
            buyer_token,
            [{"product_id": shirt, "quantity": 1}, {"product_id": socks, "quantity": 3}],
            coupon_code="anna15",
        )

        assert response.status_code == 201, response.text
        orders = response.json()["orders"]
        basket = 2500 + 3 * 1333
        assert sum(o["total"]["amount_minor"] for o in orders) == basket - basket * 1500 // 10_000
        lines = [(await receipt(client, admin, o["id"]))["lines"][0] for o in orders]
        assert sum(line["discount"]["amount_minor"] for line in lines) == basket * 1500 // 10_000
        assert {line["creator_id"] for line in lines} == {creator}
        assert {line["rule"] for line in lines} == {"coupon"}
        for order, line in zip(orders, lines, strict=True):
            assert order["total"]["amount_minor"] == line["amount"]["amount_minor"] - line["discount"]["amount_minor"]


async def test_an_unknown_coupon_is_refused_and_nothing_is_charged(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (_app, client, _):
        _, product = await seller_with_product(client, stock=3)
        _, buyer_token = await buyer(client)
        response = await checkout(client, buyer_token, [{"product_id": product, "quantity": 1}], coupon_code="NOPE")
        assert response.status_code == 422 and response.json()["type"] == "/problems/unknown_coupon"
        assert (await client.get(f"/api/shop/products/{product}")).json()["stock"] == 3


async def test_a_creator_using_their_own_coupon_gets_the_discount_but_no_commission(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client, price=2000)
        _, token = await influencer(client)
        await client.post(
            "/api/attribution/coupons", json={"code": "SELF20", "discount_bps": 2000}, headers=bearer(token)
        )
        order = await buy(client, token, product, coupon_code="self20")
        assert order["total"]["amount_minor"] == 1600 and order["items"][0]["creator_id"] is None
        line = (await receipt(client, marketer, order["id"]))["lines"][0]
        assert line["rule"] == "none"
        assert [c["why"] for c in line["candidates"]] == ["self-referral: the buyer is this creator"]
