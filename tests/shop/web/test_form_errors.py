"""Each shop form answers a mistake with the form again, the message beside the field and nothing changed; never
problem JSON, neither for a plain browser nor for htmx (which asks with ``Accept: */*`` and swaps what comes back)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.factories import PASSWORD, bearer
from tests.pages import HTML, browse_as, csrf_token, submit
from tests.shop.helpers import seller_with_product
from tests.shop.web.test_pages import checkout_form, in_cart, my_orders

PRODUCT = {"title": "Canvas tote", "category": "fashion", "price": "19.99", "stock": "7", "affiliate_rate": "10"}


async def htmx_post(client: AsyncClient, path: str, data: dict[str, Any]) -> Response:
    """A form posted as htmx does: the CSRF token in a header and no HTML in its Accept."""
    token = await csrf_token(client)
    return await client.post(path, data=data, headers={"hx-request": "true", "accept": "*/*", "x-csrftoken": token})


def refused_beside(answer: Response, field: str, message: str) -> None:
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    error = f'id="e-{field}">{message}'
    assert error in answer.text, answer.text


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("title", "   ", "Required."), ("price", "0", "At least 1."), ("stock", "-1", "At least 0.")],
)
async def test_listing_a_product_wrongly_shows_the_form_again(
    client: AsyncClient, htmx: bool, field: str, value: str, message: str
) -> None:
    await browse_as(client, ["seller"])
    form = {**PRODUCT, field: value}
    answer = (
        await htmx_post(client, "/shop/seller/products", form)
        if htmx
        else await submit(client, "/shop/seller/products", form)
    )
    refused_beside(answer, field, message)
    assert 'id="product-form"' in answer.text and 'name="category"' in answer.text and "Fashion" in answer.text
    assert (await client.get("/api/shop/products?q=tote")).json()["items"] == []


@pytest.mark.parametrize("htmx", [True, False])
async def test_checkout_with_an_unknown_coupon_or_a_blank_name_shows_the_form_again(
    client: AsyncClient, htmx: bool
) -> None:
    _, product_id = await seller_with_product(client)
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    for field, value in (("name", "  "), ("coupon_code", "NOSUCHCODE")):
        form = checkout_form(page.text, **{field: value})
        answer = (
            await htmx_post(client, "/shop/checkout", form) if htmx else await submit(client, "/shop/checkout", form)
        )
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"].startswith("text/html")
        assert 'id="checkout-form"' in answer.text and f'id="e-{field}"' in answer.text, answer.text
    assert await my_orders(client) == []


@pytest.mark.parametrize("htmx", [True, False])
async def test_shipping_without_a_tracking_number_shows_the_form_again(client: AsyncClient, htmx: bool) -> None:
    seller, product_id = await seller_with_product(client)
    await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    assert (await submit(client, "/shop/checkout", checkout_form(page.text))).status_code == 303
    (order,) = await my_orders(client)
    seller_email = (await client.get("/api/me", headers=bearer(seller))).json()["email"]
    client.cookies.clear()
    assert (await client.post("/api/auth/login", json={"email": seller_email, "password": PASSWORD})).status_code == 200

    path, form = f"/shop/seller/orders/{order['id']}/ship", {"carrier": "UPS", "tracking_number": " "}
    answer = await htmx_post(client, path, form) if htmx else await submit(client, path, form)
    assert 400 <= answer.status_code < 500 and answer.headers["content-type"].startswith("text/html")
    assert 'name="tracking_number"' in answer.text and 'class="error"' in answer.text, answer.text
    assert (await client.get(f"/api/shop/orders/{order['id']}")).json()["status"] == "paid"


@pytest.mark.parametrize("htmx", [True, False])
async def test_a_quantity_that_is_no_whole_number_is_shown_in_its_cart_line(client: AsyncClient, htmx: bool) -> None:
    _, product_id = await seller_with_product(client, price=2500)
    await browse_as(client)
    await in_cart(client, product_id, 2)
    path, form = f"/shop/cart/items/{product_id}", {"quantity": "1.5"}
    answer = await htmx_post(client, path, form) if htmx else await submit(client, path, form)
    refused_beside(answer, f"quantity-{product_id}", "Enter a whole number.")
    assert 'value="1.5"' in answer.text and 'data-testid="cart-total">$50.00<' in answer.text
    assert 'data-testid="cart-total">$50.00<' in (await client.get("/shop/cart", headers=HTML)).text
