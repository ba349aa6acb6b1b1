"""The shop's HTML pages as a browser without JavaScript, and as htmx, would use them.

A browser here is the test client holding a session cookie; other parties (the seller who lists, an admin) act
through the JSON API with bearer tokens, which never touch that cookie.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from litestar import Litestar

from kernel.clock import FixedClock
from tests.factories import PASSWORD, bearer, signed_in
from tests.pages import HTML, HTMX, browse_as, submit
from tests.shop.helpers import make_admin, seller_with_product, usd

TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
XSS = "<script>alert(1)</script>"


async def list_product(client: AsyncClient, seller: str, **fields: Any) -> str:
    body = {"title": "Linen shirt", "description": "", "category": "fashion", "price": usd(2500), "stock": 10}
    body.update(fields)
    response = await client.post("/api/shop/products", headers=bearer(seller), json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def checkout_form(page: str, **overrides: str) -> dict[str, Any]:
    """What the checkout form sends: its hidden fields (key, basket) and a filled-in address."""
    hidden = dict.fromkeys(("idempotency_key", "source", "quoted_coupon"), "")
    for name in hidden:
        if found := re.search(rf'name="{name}" value="([^"]*)"', page):
            hidden[name] = found.group(1).replace("&#34;", '"')
    return {
        **{k: v for k, v in hidden.items() if v},
        "product_id": re.findall(r'name="product_id" value="([^"]+)"', page),
        "quantity": re.findall(r'name="quantity" value="([^"]+)"', page),
        "name": "Sam Buyer",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        "card": "tok_ok",
        **overrides,
    }


async def in_cart(client: AsyncClient, product_id: str, quantity: int = 1) -> None:
    added = await submit(client, "/shop/cart/items", {"product_id": product_id, "quantity": str(quantity)})
    assert added.status_code == 303, added.text


async def my_orders(client: AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/api/shop/orders")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def stock(client: AsyncClient, product_id: str) -> int:
    return (await client.get(f"/api/shop/products/{product_id}")).json()["stock"]


async def bought_and_shipped(client: AsyncClient, price: int = 2500) -> tuple[str, str, dict[str, Any]]:
    """A seller's token, their product, and the browser's order for it, shipped."""
    seller, product_id = await seller_with_product(client, price=price)
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    assert (await submit(client, "/shop/checkout", checkout_form(page.text))).status_code == 303
    (order,) = await my_orders(client)
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    return seller, product_id, order


# Catalog ------------------------------------------------------------------------------------------------------
async def test_shop_page_lists_filters_and_sorts_products(client: AsyncClient) -> None:
    _, seller = await signed_in(client, ["seller"])
    await list_product(client, seller, title="Desk lamp", category="home", price=usd(4500))
    await list_product(client, seller, title="Wireless headphones", category="electronics", price=usd(9900))
    await list_product(client, seller, title="Linen shirt", category="fashion", price=usd(2500))

    everything = await client.get("/shop", headers=HTML)
    assert everything.status_code == 200
    assert everything.text.count('data-testid="product-card"') == 3
    assert "$99.00" in everything.text and "$25.00" in everything.text

    electronics = await client.get("/shop?category=electronics", headers=HTML)
    assert "Wireless headphones" in electronics.text and "Desk lamp" not in electronics.text

    cheapest_first = (await client.get("/shop?sort=price_asc", headers=HTML)).text
    assert cheapest_first.index("Linen shirt") < cheapest_first.index("Desk lamp") < cheapest_first.index("Wireless")
    dearest_first = (await client.get("/shop?sort=price_desc", headers=HTML)).text
    assert dearest_first.index("Wireless") < dearest_first.index("Desk lamp") < dearest_first.index("Linen shirt")

    lamp = await client.get("/shop?q=LAMP", headers=HTML)
    assert "Desk lamp" in lamp.text and "Linen shirt" not in lamp.text

    changed = await client.get("/shop/results?category=home", headers=HTMX)
    assert changed.text.lstrip().startswith('<section id="product-results"')  # a fragment, not a page
    assert changed.headers["hx-push-url"] == "/shop?category=home"


async def test_load_more_appends_the_next_page_and_works_as_a_plain_link(client: AsyncClient) -> None:
    _, seller = await signed_in(client, ["seller"])
    for n in range(14):
        await list_product(client, seller, title=f"Poster {n:02d}", price=usd(1000 + n))

    first = await client.get("/shop?sort=price_asc", headers=HTML)
    assert first.text.count('data-testid="product-card"') == 12
    link = re.search(r'href="/shop\?([^"]*cursor=[^"]+)"', first.text)
    assert link, "no Load more link"
    query = link.group(1).replace("&amp;", "&")
    assert f'hx-get="/shop/results?{link.group(1)}"' in first.text and 'hx-swap="beforeend"' in first.text

    more = await client.get(f"/shop/results?{query}", headers=HTMX)
    assert more.text.count('data-testid="product-card"') == 2
    assert "Poster 12" in more.text and "Poster 13" in more.text and "Poster 11" not in more.text
    assert re.search(r'<div id="load-more" class="load-more" hx-swap-oob="true">\s*</div>', more.text)

    plain = await client.get(f"/shop?{query}", headers=HTML)
    assert plain.text.count('data-testid="product-card"') == 2 and "Back to the first page" in plain.text


async def test_product_page_asks_anonymous_visitors_to_sign_in(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    page = await client.get(f"/shop/products/{product_id}", headers=HTML)
    assert page.status_code == 200
    assert "$25.00" in page.text and "Add to cart" not in page.text
    assert f'href="/signin?next=/shop/products/{product_id}"' in page.text

    assert (await client.get("/shop/products/not-a-uuid", headers=HTML)).status_code == 404


# Cart ---------------------------------------------------------------------------------------------------------
async def test_add_to_cart_with_htmx_swaps_the_header_badge_and_shows_a_toast(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    await browse_as(client)

    response = await submit(client, "/shop/cart/items", {"product_id": product_id, "quantity": "2"}, htmx=True)
    assert response.status_code == 200, response.text
    badge = re.search(r'<span id="cart-badge"[^>]*hx-swap-oob="true"[^>]*>(\d+)</span>', response.text)
    assert badge and badge.group(1) == "2"
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text and "Added to your cart" in response.text

    page = await client.get("/shop", headers=HTML)
    assert re.search(r'<span id="cart-badge"[^>]*>2</span>', page.text)
    elsewhere = await client.get("/account", headers=HTML)  # outside the shop the badge loads itself
    assert 'hx-get="/shop/cart/badge"' in elsewhere.text
    assert ">2</span>" in (await client.get("/shop/cart/badge", headers=HTMX)).text


async def test_plain_add_to_cart_redirects_to_the_cart_where_lines_change(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=10)
    await browse_as(client)
    added = await submit(client, "/shop/cart/items", {"product_id": product_id, "quantity": "1"})
    assert added.status_code == 303 and added.headers["location"] == "/shop/cart"

    updated = await submit(client, f"/shop/cart/items/{product_id}", {"quantity": "3"}, htmx=True)
    assert updated.text.lstrip().startswith('<section id="cart"')
    assert "$75.00" in updated.text and re.search(r'id="cart-badge"[^>]*hx-swap-oob="true"[^>]*>3<', updated.text)

    cart = await client.get("/shop/cart", headers=HTML)
    assert 'data-testid="cart-total">$75.00<' in cart.text

    removed = await submit(client, f"/shop/cart/items/{product_id}/remove", {})
    assert removed.status_code == 303
    assert "Your cart is empty" in (await client.get("/shop/cart", headers=HTML)).text

    too_many = await submit(client, "/shop/cart/items", {"product_id": product_id, "quantity": "11"}, htmx=True)
    assert too_many.status_code == 422 and too_many.headers["hx-retarget"] == "#toasts"


async def test_cart_pages_send_signed_out_visitors_to_sign_in(client: AsyncClient) -> None:
    response = await client.get("/shop/cart", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/signin?next=/shop/cart"


# Checkout -----------------------------------------------------------------------------------------------------
async def test_checkout_form_places_one_order_clears_the_cart_and_a_double_submit_pays_once(
    client: AsyncClient,
) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=5)
    await browse_as(client)
    await in_cart(client, product_id, 2)

    page = await client.get("/shop/checkout", headers=HTML)
    assert page.status_code == 200 and "Pay $50.00" in page.text
    form = checkout_form(page.text)
    assert re.fullmatch(r"[0-9a-f-]{36}", form["idempotency_key"])

    first = await submit(client, "/shop/checkout", form)
    assert first.status_code == 303 and first.headers["location"].startswith("/shop/orders?placed=")
    again = await submit(client, "/shop/checkout", form)  # the same page submitted twice
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]

    (order,) = await my_orders(client)
    assert order["status"] == "paid" and order["total"] == usd(5000)
    assert await stock(client, product_id) == 3
    assert "Your cart is empty" in (await client.get("/shop/cart", headers=HTML)).text
    orders_page = await client.get(first.headers["location"], headers=HTML)
    assert 'data-testid="order-placed"' in orders_page.text and "Paid, waiting to ship" in orders_page.text


async def test_a_creator_coupon_on_the_checkout_page_discounts_and_credits_its_creator(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, price=2500, stock=5)
    creator, creator_token = await signed_in(client, ["influencer"])
    coupon = {"code": "SAM-10", "discount_bps": 1000}
    made = await client.post("/api/attribution/coupons", json=coupon, headers=bearer(creator_token))
    assert made.status_code == 201, made.text
    await browse_as(client)
    await in_cart(client, product_id, 2)
    page = await client.get("/shop/checkout", headers=HTML)
    coupon_input = re.search(r'<input id="f-coupon_code"[^>]*>', page.text)
    assert coupon_input and "required" not in coupon_input.group(0)  # optional: an empty one must not block paying

    unknown = await submit(client, "/shop/checkout", checkout_form(page.text, coupon_code="NOPE"))
    assert unknown.status_code == 422 and "There is no coupon" in unknown.text and await my_orders(client) == []
    assert 'id="e-coupon_code">There is no such coupon.' in unknown.text and "Pay $50.00" in unknown.text

    # Paying with a coupon the total does not show yet shows the discounted total first, and charges nothing.
    quoted = await submit(client, "/shop/checkout", checkout_form(page.text, coupon_code="sam-10"))
    assert quoted.status_code == 200 and await my_orders(client) == []
    assert '<span data-testid="checkout-subtotal">$50.00</span>' in quoted.text
    assert (
        "Coupon SAM-10 (10% off)" in quoted.text
        and '<span data-testid="checkout-discount">\u2212$5.00</span>' in quoted.text
    )
    assert '<strong data-testid="checkout-total">$45.00</strong>' in quoted.text and "Pay $45.00" in quoted.text
    applied = await submit(
        client, "/shop/checkout", {**checkout_form(page.text, coupon_code="sam-10"), "apply": "coupon"}
    )
    assert applied.status_code == 200 and "Pay $45.00" in applied.text
    swapped = await submit(
        client, "/shop/checkout", {**checkout_form(page.text, coupon_code="sam-10"), "apply": "1"}, True
    )
    assert swapped.text.lstrip().startswith('<form id="checkout-form"') and "Pay $45.00" in swapped.text
    placed = await submit(client, "/shop/checkout", checkout_form(quoted.text, coupon_code="sam-10"))

    assert placed.status_code == 303
    (order,) = await my_orders(client)
    assert order["total"] == usd(4500)  # what the button said
    assert order["items"][0]["creator_id"] == creator["id"]


async def test_htmx_checkout_redirects_through_hx_redirect(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    response = await submit(client, "/shop/checkout", checkout_form(page.text), htmx=True)
    assert response.status_code == 200 and response.headers["hx-redirect"].startswith("/shop/orders?placed=")


async def test_declined_card_shows_the_error_in_the_form_and_creates_nothing(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, stock=5)
    await browse_as(client)
    await in_cart(client, product_id, 2)
    page = await client.get("/shop/checkout", headers=HTML)
    form = checkout_form(page.text, card="tok_declined")

    declined = await submit(client, "/shop/checkout", form)
    assert declined.status_code == 402
    assert "The card was declined" in declined.text and 'class="form-error"' in declined.text
    assert f'value="{form["idempotency_key"]}"' in declined.text  # retry with another card under the same key
    assert 'value="tok_declined" checked' in declined.text

    fragment = await submit(client, "/shop/checkout", form, htmx=True)
    assert fragment.status_code == 402 and fragment.text.lstrip().startswith('<form id="checkout-form"')

    assert await my_orders(client) == []
    assert await stock(client, product_id) == 5
    assert 'data-testid="cart-line"' in (await client.get("/shop/cart", headers=HTML)).text

    paid = await submit(client, "/shop/checkout", {**form, "card": "tok_ok"})
    assert paid.status_code == 303 and len(await my_orders(client)) == 1


async def test_checkout_shows_address_mistakes_beside_their_fields(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    response = await submit(client, "/shop/checkout", checkout_form(page.text, city=""))
    assert response.status_code == 422
    assert 'id="e-city"' in response.text and await my_orders(client) == []


async def test_where_the_buyer_came_from_travels_from_the_product_page_to_the_order(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    await browse_as(client)
    product_page = await client.get(f"/shop/products/{product_id}?ref=SPRING24", headers=HTML)
    assert '<input type="hidden" name="ref" value="SPRING24">' in product_page.text
    added = await submit(client, "/shop/cart/items", {"product_id": product_id, "quantity": "1", "ref": "SPRING24"})
    assert added.status_code == 303

    page = await client.get("/shop/checkout", headers=HTML)
    assert (await submit(client, "/shop/checkout", checkout_form(page.text))).status_code == 303
    (order,) = await my_orders(client)
    assert order["items"][0]["source"] == {"ref": "SPRING24"}


async def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client: AsyncClient) -> None:
    await browse_as(client)
    response = await client.get("/shop/checkout", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303, 307) and response.headers["location"] == "/shop/cart"


# Orders -------------------------------------------------------------------------------------------------------
async def test_buyer_confirms_delivery_and_sees_the_timeline(client: AsyncClient) -> None:
    _, _, order = await bought_and_shipped(client)
    page = await client.get("/shop/orders", headers=HTML)
    assert "1Z999AA10123456784" in page.text and "Confirm delivery" in page.text
    assert "Shipped with UPS" in page.text

    confirmed = await submit(client, f"/shop/orders/{order['id']}/confirm-delivery", {}, htmx=True)
    assert confirmed.status_code == 200
    assert confirmed.text.lstrip().startswith(f'<article class="card order-card stack" id="order-{order["id"]}"')
    assert 'data-status="completed"' in confirmed.text and "Delivery confirmed" in confirmed.text
    assert "Confirm delivery</button>" not in confirmed.text

    again = await submit(client, f"/shop/orders/{order['id']}/confirm-delivery", {}, htmx=True)
    assert again.status_code == 409 and again.headers["hx-retarget"] == "#toasts"


async def test_dispute_form_converts_the_amount_exactly_and_rejects_bad_ones(client: AsyncClient) -> None:
    _, _, order = await bought_and_shipped(client, price=2500)
    path = f"/shop/orders/{order['id']}/disputes"

    too_precise = await submit(client, path, {"reason": "damaged", "amount": "12.345", "detail": ""}, htmx=True)
    assert too_precise.status_code == 422
    assert "at most 2 decimal places" in too_precise.text and 'value="12.345"' in too_precise.text
    too_much = await submit(client, path, {"reason": "damaged", "amount": "25.01", "detail": ""})
    assert too_much.status_code == 422 and "Ask for between" in too_much.text

    opened = await submit(client, path, {"reason": "damaged", "amount": "0.1", "detail": "Crushed box"}, htmx=True)
    assert opened.status_code == 200 and 'data-status="disputed"' in opened.text
    (dispute,) = (await client.get("/api/shop/disputes")).json()
    assert dispute["requested_refund"] == usd(10) and dispute["reason"] == "damaged"


# Seller and admin ---------------------------------------------------------------------------------------------
async def test_seller_pages_refuse_everyone_but_sellers(client: AsyncClient) -> None:
    anonymous = await client.get("/shop/seller", headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307)
    assert anonymous.headers["location"] == "/signin?next=/shop/seller"

    await browse_as(client, ["buyer"])
    for path in ("/shop/seller", "/shop/seller/earnings", "/admin/disputes"):
        refused = await client.get(path, headers=HTML)
        assert refused.status_code == 403, path
        assert "Not allowed" in refused.text
    posted = await submit(client, "/shop/seller/products", {"title": "Nope"})
    assert posted.status_code == 403
    page = await client.get("/shop", headers=HTML)
    assert 'href="/shop/seller"' not in page.text and 'href="/admin/disputes"' not in page.text


async def test_seller_lists_a_product_with_the_form(client: AsyncClient) -> None:
    await browse_as(client, ["seller"])
    dashboard = await client.get("/shop/seller", headers=HTML)
    assert dashboard.status_code == 200 and 'href="/shop/seller"' in dashboard.text
    form = {
        "title": "Canvas tote",
        "category": "fashion",
        "price": "19.99",
        "stock": "7",
        "affiliate_rate": "12.5",
        "description": "Roomy.",
    }
    created = await submit(client, "/shop/seller/products", form, htmx=True)
    assert created.status_code == 200, created.text
    assert created.text.lstrip().startswith('<form id="product-form"')
    assert 'hx-swap-oob="afterbegin:#seller-products"' in created.text and "Canvas tote" in created.text

    (product,) = (await client.get("/api/shop/products?q=tote")).json()["items"]
    assert product["price"] == usd(1999) and product["affiliate_rate_bps"] == 1250 and product["stock"] == 7

    bad = await submit(client, "/shop/seller/products", {**form, "price": "abc", "title": XSS})
    assert bad.status_code == 422
    assert "Enter a number such as 25.00." in bad.text and XSS not in bad.text
    plain = await submit(client, "/shop/seller/products", {**form, "title": "Second tote"})
    assert plain.status_code == 303 and plain.headers["location"] == "/shop/seller#products"


async def test_seller_ships_from_the_dashboard_and_earnings_show_when_money_is_available(
    client: AsyncClient, clock: FixedClock
) -> None:
    seller = await browse_as(client, ["seller"], name="Maker")
    created = await submit(
        client,
        "/shop/seller/products",
        {"title": "Mug", "category": "home", "price": "20", "stock": "3", "affiliate_rate": "0"},
    )
    assert created.status_code == 303
    (product,) = (await client.get("/api/shop/products?q=mug")).json()["items"]

    client.cookies.clear()  # the buyer acts through the API; the seller's browser signs in again below
    _, buyer = await signed_in(client)
    paid = await client.post(
        "/api/shop/checkout",
        headers={**bearer(buyer), "Idempotency-Key": "pages-ship-0001"},
        json={
            "items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_address": {"name": "B", "line1": "1 St", "city": "C", "postal_code": "1", "country": "US"},
            "payment": {"method": "sandbox", "token": "tok_ok"},
        },
    )
    order_id = paid.json()["orders"][0]["id"]
    client.cookies.clear()
    await client.post("/api/auth/login", json={"email": seller["email"], "password": PASSWORD})

    dashboard = await client.get("/shop/seller", headers=HTML)
    assert 'data-testid="ship-by">' in dashboard.text and "in 7 days" in dashboard.text
    assert 'data-testid="balance-escrow">$20.00<' in dashboard.text

    no_tracking = await submit(
        client, f"/shop/seller/orders/{order_id}/ship", {"carrier": "UPS", "tracking_number": "x"}, htmx=True
    )
    assert (
        no_tracking.status_code == 422
        and 'id="tracking-' in no_tracking.text
        and "Not in the expected format" in no_tracking.text
    )
    shipped = await submit(
        client, f"/shop/seller/orders/{order_id}/ship", {**TRACKING, "tracking_number": "1z-track-42"}, htmx=True
    )
    assert shipped.status_code == 200 and 'data-testid="shipped"' in shipped.text and "1Z-TRACK-42" in shipped.text

    confirmed = await client.post(f"/api/shop/orders/{order_id}/confirm-delivery", headers=bearer(buyer))
    assert confirmed.status_code == 200, confirmed.text
    dashboard = await client.get("/shop/seller", headers=HTML)
    # home carries 6% commission: 120 to the platform, 1880 to the seller, pending for the dispute window.
    assert 'data-testid="balance-pending">$18.80<' in dashboard.text
    assert 'data-testid="balance-available">$0.00<' in dashboard.text

    earnings = await client.get("/shop/seller/earnings", headers=HTML)
    assert "Sale released from escrow" in earnings.text and "$18.80" in earnings.text
    assert f"after the 15-day Buyer Protection window on order {order_id[-8:]}" in earnings.text

    clock.advance(timedelta(days=15, seconds=1))
    later = await client.get("/shop/seller/earnings", headers=HTML)
    assert 'data-testid="balance-available">$18.80<' in later.text and "Available since" in later.text


async def test_admin_resolves_an_escalated_dispute_from_the_queue(client: AsyncClient, app: Litestar) -> None:
    seller, _, order = await bought_and_shipped(client, price=2500)
    opened = await submit(client, f"/shop/orders/{order['id']}/disputes", {"reason": "not_received", "amount": "25"})
    assert opened.status_code == 303
    (dispute,) = (await client.get("/api/shop/disputes")).json()
    rejected = await client.post(
        f"/api/shop/disputes/{dispute['id']}/resolve", headers=bearer(seller), json={"outcome": "reject"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "escalated"

    admin_token = await make_admin(client, app)  # clears the cookies; the admin signs in as a browser below
    me = (await client.get("/api/me", headers=bearer(admin_token))).json()
    await client.post("/api/auth/login", json={"email": me["email"], "password": PASSWORD})
    queue = await client.get("/admin/disputes", headers=HTML)
    assert queue.status_code == 200 and 'data-testid="dispute-case"' in queue.text and "It never arrived" in queue.text

    path = f"/admin/disputes/{dispute['id']}/resolve"
    too_much = await submit(client, path, {"outcome": "refund", "amount": "30", "note": ""}, htmx=True)
    assert too_much.status_code == 409 and "can still be refunded" in too_much.text
    refunded = await submit(client, path, {"outcome": "refund", "amount": "15.50", "note": "Partial"}, htmx=True)
    assert refunded.status_code == 200 and "Refunded $15.50: Partial" in refunded.text
    assert "Refund sent" in refunded.text
    assert 'data-testid="dispute-case"' not in (await client.get("/admin/disputes", headers=HTML)).text


# Escaping -----------------------------------------------------------------------------------------------------
async def test_user_provided_text_is_escaped_on_every_page(client: AsyncClient) -> None:
    seller = await browse_as(client, ["seller"], name=XSS)
    await submit(
        client,
        "/shop/seller/products",
        {"title": XSS, "category": "fashion", "price": "5", "stock": "5", "description": f"<b>bold</b>{XSS}"},
    )
    (product,) = (await client.get("/api/shop/products")).json()["items"]
    assert product["title"] == XSS

    await browse_as(client, name=XSS)
    await in_cart(client, product["id"])
    pages = ["/shop", f"/shop?q={XSS}", f"/shop/products/{product['id']}", "/shop/cart", "/shop/checkout"]
    checkout_page = ""
    for path in pages:
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<b>bold" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        checkout_page = page.text
    assert (await submit(client, "/shop/checkout", checkout_form(checkout_page, name=XSS))).status_code == 303
    (order,) = await my_orders(client)
    await submit(client, f"/shop/orders/{order['id']}/disputes", {"reason": "damaged", "amount": "x"})

    client.cookies.clear()
    await client.post("/api/auth/login", json={"email": seller["email"], "password": PASSWORD})
    for path in ("/shop/seller", "/shop/seller/earnings"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200 and "<script>alert" not in page.text, path
    seller_page = (await client.get("/shop/seller", headers=HTML)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in seller_page
    added = await submit(client, f"/shop/seller/orders/{order['id']}/ship", {"carrier": XSS, "tracking_number": "bad"})
    assert added.status_code == 422 and "<script>alert" not in added.text


async def test_home_page_shows_the_newest_products(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    home = await client.get("/", headers=HTML)
    assert home.status_code == 200 and 'id="fresh-products"' in home.text
    assert f"/shop/products/{product_id}" in home.text


async def test_an_order_shows_its_discount_paid_refunded_and_net_and_each_refund_once(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client, price=2500, stock=5)
    _, creator_token = await signed_in(client, ["influencer"])
    made = await client.post(
        "/api/attribution/coupons", json={"code": "SAM-10", "discount_bps": 1000}, headers=bearer(creator_token)
    )
    assert made.status_code == 201, made.text
    await browse_as(client)
    await in_cart(client, product_id, 2)
    page = await client.get("/shop/checkout", headers=HTML)
    quoted = await submit(client, "/shop/checkout", checkout_form(page.text, coupon_code="SAM-10", apply="coupon"))
    assert (await submit(client, "/shop/checkout", checkout_form(quoted.text, coupon_code="SAM-10"))).status_code == 303
    (order,) = await my_orders(client)
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    path = f"/shop/orders/{order['id']}/disputes"
    assert (await submit(client, path, {"reason": "damaged", "amount": "10", "detail": "Dented"})).status_code == 303
    (dispute,) = (await client.get("/api/shop/disputes")).json()
    accepted = await client.post(
        f"/api/shop/disputes/{dispute['id']}/resolve", headers=bearer(seller), json={"outcome": "refund"}
    )
    assert accepted.status_code == 200, accepted.text

    card = (await client.get("/shop/orders", headers=HTML)).text
    assert '<span data-testid="order-discount">\u2212$5.00</span>' in card
    assert '<strong data-testid="order-paid">$45.00</strong>' in card
    assert '<span data-testid="order-refunded">\u2212$10.00</span>' in card
    assert '<strong data-testid="order-net">$35.00</strong>' in card
    timeline = card[card.index('aria-label="Timeline"') :]
    assert timeline.count("efunded $10.00") == 1 and "Dispute settled: refunded $10.00" in timeline
    assert [e["action"] for e in (await client.get(f"/api/shop/orders/{order['id']}")).json()["events"]][-2:] == [
        "refunded",
        "dispute_refunded",
    ]  # the audit trail keeps both rows; the page tells the story once
