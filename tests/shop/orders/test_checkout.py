"""Checkout through the public API: what a paid basket leaves behind in the buyer's cart."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.shop.helpers import checkout, seller_with_product


async def cart_products(client: AsyncClient, token: str) -> dict[str, int]:
    response = await client.get("/api/shop/cart", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {line["product"]["id"]: line["quantity"] for line in response.json()["items"]}


async def test_paid_products_leave_the_cart_and_the_rest_stays(client: AsyncClient) -> None:
    _, paid = await seller_with_product(client, stock=5)
    _, kept = await seller_with_product(client, stock=5)
    _, buyer = await signed_in(client)
    for product_id in (paid, kept):
        added = await client.post(
            "/api/shop/cart/items", headers=bearer(buyer), json={"product_id": product_id, "quantity": 2}
        )
        assert added.status_code == 200, added.text

    placed = await checkout(client, buyer, [{"product_id": paid, "quantity": 1}])

    assert placed.status_code == 201, placed.text
    assert await cart_products(client, buyer) == {kept: 2}


async def test_a_declined_payment_leaves_the_cart_as_it_was(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client, stock=5)
    _, buyer = await signed_in(client)
    await client.post("/api/shop/cart/items", headers=bearer(buyer), json={"product_id": product_id, "quantity": 1})

    declined = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}], payment_token="tok_declined")

    assert declined.status_code == 402, declined.text
    assert await cart_products(client, buyer) == {product_id: 1}
