"""Archiving a product: buyers stop finding it anywhere, its seller still does, orders already placed go on."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.shop.helpers import checkout, picture, seller_with_product

TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def archive(client: AsyncClient, seller: str, product_id: str, undo: bool = False) -> dict:
    action = "unarchive" if undo else "archive"
    response = await client.post(f"/api/shop/products/{product_id}/{action}", headers=bearer(seller))
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_archived_product_is_hidden_from_buyers_and_unarchiving_brings_it_back(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    seller_id = (await client.get("/api/me", headers=bearer(seller))).json()["id"]
    _, buyer = await signed_in(client)
    assert (
        await client.post("/api/shop/cart/items", headers=bearer(buyer), json={"product_id": product_id})
    ).is_success

    assert (await archive(client, seller, product_id))["archived"] is True

    assert (await client.get(f"/api/shop/products/{product_id}")).status_code == 404
    assert (await client.get(f"/api/shop/products/{product_id}", headers=bearer(buyer))).status_code == 404
    assert (await client.get(f"/api/shop/products?seller_id={seller_id}")).json()["items"] == []
    assert (await client.get("/api/shop/cart", headers=bearer(buyer))).json()["items"] == []
    added = await client.post("/api/shop/cart/items", headers=bearer(buyer), json={"product_id": product_id})
    assert added.status_code == 404
    bought = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])
    assert bought.status_code == 422 and bought.json()["type"].endswith("unknown_product")
    # Its seller still finds it, to change it or put it back on sale.
    own = await client.get(f"/api/shop/products?seller_id={seller_id}", headers=bearer(seller))
    assert [p["id"] for p in own.json()["items"]] == [product_id]
    assert (await client.get(f"/api/shop/products/{product_id}", headers=bearer(seller))).json()["archived"] is True

    assert (await archive(client, seller, product_id, undo=True))["archived"] is False
    assert (await client.get(f"/api/shop/products/{product_id}")).status_code == 200
    assert len((await client.get("/api/shop/cart", headers=bearer(buyer))).json()["items"]) == 1


async def test_orders_placed_before_archiving_ship_and_complete(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    _, buyer = await signed_in(client)
    placed = await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])
    order_id = placed.json()["orders"][0]["id"]

    await archive(client, seller, product_id)

    shipped = await client.post(f"/api/shop/orders/{order_id}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    done = await client.post(f"/api/shop/orders/{order_id}/confirm-delivery", headers=bearer(buyer))
    assert done.status_code == 200 and done.json()["status"] == "completed"


async def test_only_its_seller_can_archive_a_product(client: AsyncClient) -> None:
    _, product_id = await seller_with_product(client)
    _, other = await signed_in(client, ["seller"])
    for action in ("archive", "unarchive"):
        response = await client.post(f"/api/shop/products/{product_id}/{action}", headers=bearer(other))
        assert response.status_code == 403
    assert (await client.get(f"/api/shop/products/{product_id}")).json()["archived"] is False


async def test_rooms_and_posts_show_the_products_picture_until_it_is_archived(client: AsyncClient) -> None:
    seller, product_id = await seller_with_product(client)
    added = await client.post(
        f"/api/shop/products/{product_id}/images", headers=bearer(seller), files={"image": ("p.png", picture(), "")}
    )
    cover = added.json()
    _, creator = await signed_in(client, ["influencer"])
    room = await client.post(
        "/api/live/rooms",
        headers=bearer(creator),
        json={"title": "Linen week", "description": "", "product_ids": [product_id]},
    )
    assert room.status_code == 201, room.text
    post = await client.post(
        "/api/community/posts",
        headers=bearer(creator),
        json={"title": "My shirt", "body": f"Look:\n\n[[product:{product_id}]]\n", "status": "published"},
    )
    assert post.status_code == 201, post.text
    room_path, post_path = f"/api/live/rooms/{room.json()['id']}", f"/api/community/posts/{post.json()['id']}"
    assert [p["id"] for p in (await client.get(room_path)).json()["products"]] == [product_id]
    assert [p["id"] for p in (await client.get(post_path)).json()["products"]] == [product_id]
    room_page = await client.get(f"/live/rooms/{room.json()['id']}", headers={"accept": "text/html"})
    post_page = await client.get(f"/posts/{post.json()['id']}", headers={"accept": "text/html"})
    assert cover["url"] in room_page.text or cover["thumbnail_url"] in room_page.text
    assert cover["thumbnail_url"] in post_page.text

    await archive(client, seller, product_id)

    assert (await client.get(room_path)).json()["products"] == []
    assert (await client.get(post_path)).json()["products"] == []
    assert cover["thumbnail_url"] not in (await client.get(f"/posts/{post.json()['id']}")).text
