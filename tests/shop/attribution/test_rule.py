"""Attribution rule v1 through the public API: precedence, the window's edges, self-referral, and the receipts
that explain every line."""

from __future__ import annotations

from datetime import timedelta

from kernel.clock import FixedClock
from tests.factories import bearer
from tests.shop.attribution_helpers import attribution_app, buy, buyer, click, influencer, link, receipt, staff
from tests.shop.helpers import seller_with_product


def _won(line: dict) -> list[dict]:
    return [c for c in line["candidates"] if c["won"]]


async def test_a_click_just_inside_the_window_earns_and_one_just_outside_does_not(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock, LIVECOMMERCE_ATTRIBUTION_WINDOW="7d") as (app, client, _):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client)
        creator, creator_token = await influencer(client)
        code = await link(client, creator_token, {"product_id": product})
        _, inside_buyer = await buyer(client)
        _, outside_buyer = await buyer(client)
        await click(client, code, inside_buyer)
        await click(client, code, outside_buyer)
        await app.state.touches.flush()

        clock.advance(timedelta(days=7))  # exactly the window: still inside
        inside = await buy(client, inside_buyer, product)
        clock.advance(timedelta(seconds=1))  # one second past it
        outside = await buy(client, outside_buyer, product)

        assert inside["items"][0]["creator_id"] == creator
        assert outside["items"][0]["creator_id"] is None
        won = (await receipt(client, marketer, inside["id"]))["lines"][0]
        assert won["rule"] == "last_click" and won["rule_version"] == 1
        assert won["window_seconds"] == 7 * 24 * 3600
        assert _won(won)[0]["source"]["ref"] == code and _won(won)[0]["creator_id"] == creator
        lost = (await receipt(client, marketer, outside["id"]))["lines"][0]
        assert lost["rule"] == "none" and lost["creator_id"] is None
        assert [c["why"] for c in lost["candidates"]] == ["outside the attribution window (7d)"]


async def test_a_coupon_beats_a_live_room_which_beats_a_click(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        admin = await staff(client, app, "admin")
        _, product = await seller_with_product(client, stock=20)
        clicker, clicker_token = await influencer(client)
        host, _ = await influencer(client)
        coupon_creator, coupon_token = await influencer(client)
        room = rooms.open(host)
        code = await link(client, clicker_token, {"product_id": product})
        response = await client.post(
            "/api/attribution/coupons", json={"code": "ANNA10", "discount_bps": 1000}, headers=bearer(coupon_token)
        )
        assert response.status_code == 201, response.text
        _, buyer_token = await buyer(client)
        await click(client, code, buyer_token)  # left in the recorder's buffer: checkout must still see it
        clock.advance(timedelta(minutes=5))

        by_click = await buy(client, buyer_token, product)
        in_room = await buy(client, buyer_token, product, source={"room_id": room})
        with_coupon = await buy(client, buyer_token, product, source={"room_id": room}, coupon_code="anna10")

        assert by_click["items"][0]["creator_id"] == clicker
        assert in_room["items"][0]["creator_id"] == host
        assert with_coupon["items"][0]["creator_id"] == coupon_creator
        rules = [(await receipt(client, admin, o["id"]))["lines"][0] for o in (by_click, in_room, with_coupon)]
        assert [r["rule"] for r in rules] == ["last_click", "live_room", "coupon"]
        coupon_line = rules[2]
        whys = {c["kind"]: c["why"] for c in coupon_line["candidates"]}
        assert whys == {"coupon": "won", "live_room": "coupon takes precedence", "click": "coupon takes precedence"}
        room_line = rules[1]
        assert {c["kind"]: c["why"] for c in room_line["candidates"]} == {
            "live_room": "won",
            "click": "live_room takes precedence",
        }


async def test_the_newest_click_wins_among_clicks_and_a_storefront_link_counts(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client)
        first, first_token = await influencer(client)
        second, second_token = await influencer(client)
        product_code = await link(client, first_token, {"product_id": product})
        storefront_code = await link(client, second_token, {"storefront": True})
        _, buyer_token = await buyer(client)
        await click(client, product_code, buyer_token)
        clock.advance(timedelta(hours=1))
        assert (await click(client, storefront_code, buyer_token)).startswith(f"/creators/{second}?ref=")
        await app.state.touches.flush()
        clock.advance(timedelta(hours=1))

        order = await buy(client, buyer_token, product)

        assert order["items"][0]["creator_id"] == second
        line = (await receipt(client, marketer, order["id"]))["lines"][0]
        assert [(c["creator_id"], c["why"]) for c in line["candidates"]] == [
            (second, "won"),
            (first, "a newer click won"),
        ]


async def test_a_creator_buying_through_their_own_link_or_room_earns_nothing(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client)
        creator, creator_token = await influencer(client)
        code = await link(client, creator_token, {"product_id": product})
        await click(client, code, creator_token)
        room = rooms.open(creator)

        own_link = await buy(client, creator_token, product)
        own_room = await buy(client, creator_token, product, source={"room_id": room})

        for order in (own_link, own_room):
            assert order["items"][0]["creator_id"] is None
            line = (await receipt(client, marketer, order["id"]))["lines"][0]
            assert line["rule"] == "none" and line["affiliate_rate_bps"] == 0
            assert {c["why"] for c in line["candidates"]} == {"self-referral: the buyer is this creator"}


async def test_a_self_referral_does_not_hide_another_creators_earlier_click(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client)
        other, other_token = await influencer(client)
        me, my_token = await influencer(client)
        await click(client, await link(client, other_token, {"product_id": product}), my_token)

        order = await buy(client, my_token, product, source={"room_id": rooms.open(me)})

        assert order["items"][0]["creator_id"] == other
        line = (await receipt(client, marketer, order["id"]))["lines"][0]
        assert line["rule"] == "last_click"
        assert {c["kind"]: c["why"] for c in line["candidates"]} == {
            "live_room": "self-referral: the buyer is this creator",
            "click": "won",
        }


async def test_each_line_has_at_most_one_creator_and_a_rate_frozen_at_checkout(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        seller_token, product = await seller_with_product(client, affiliate_bps=1200)
        a, a_token = await influencer(client)
        _, b_token = await influencer(client)
        _, buyer_token = await buyer(client)
        await click(client, await link(client, b_token, {"product_id": product}), buyer_token)
        clock.advance(timedelta(seconds=1))
        await click(client, await link(client, a_token, {"product_id": product}), buyer_token)

        order = await buy(client, buyer_token, product)
        changed = await client.patch(
            f"/api/shop/products/{product}", json={"affiliate_rate_bps": 300}, headers=bearer(seller_token)
        )
        assert changed.status_code == 200, changed.text

        admin = await staff(client, app, "admin")
        line = (await receipt(client, admin, order["id"]))["lines"][0]
        assert line["creator_id"] == a and line["affiliate_rate_bps"] == 1200
        assert len(_won(line)) == 1


async def test_receipts_are_for_marketers_and_admins_only(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        seller_token, product = await seller_with_product(client)
        creator_token = (await influencer(client))[1]
        _, buyer_token = await buyer(client)
        order = await buy(client, buyer_token, product)
        for token in (seller_token, creator_token, buyer_token):
            response = await client.get(f"/api/reports/attribution/orders/{order['id']}", headers=bearer(token))
            assert response.status_code == 403
        missing = await client.get(
            "/api/reports/attribution/orders/00000000-0000-7000-8000-000000000000",
            headers=bearer(await staff(client, app, "marketer")),
        )
        assert missing.status_code == 404
