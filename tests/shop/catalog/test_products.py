"""Catalog listing: search, filters, sorting and cursor pagination, as an API client pages through it."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.shop.helpers import usd


async def _list(client: AsyncClient, token: str, prices: list[int], category: str = "home") -> None:
    for index, price in enumerate(prices):
        response = await client.post(
            "/api/shop/products",
            headers=bearer(token),
            json={"title": f"Lamp {index}", "category": category, "price": usd(price), "stock": 1},
        )
        assert response.status_code == 201, response.text


async def test_pages_by_price_cover_every_product_once_in_order(client: AsyncClient) -> None:
    _, seller = await signed_in(client, ["seller"])
    prices = [500, 300, 300, 900, 100, 700, 300]
    await _list(client, seller, prices)
    seen, cursor = [], None
    while True:
        query = "sort=price_asc&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/api/shop/products?{query}")).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [p["price"]["amount_minor"] for p in seen] == sorted(prices)
    assert len({p["id"] for p in seen}) == len(prices)


async def test_search_and_category_filter(client: AsyncClient) -> None:
    _, seller = await signed_in(client, ["seller"])
    await _list(client, seller, [100, 200], category="home")
    await client.post(
        "/api/shop/products",
        headers=bearer(seller),
        json={
            "title": "Silk scarf",
            "category": "fashion",
            "price": usd(900),
            "stock": 3,
            "description": "Hand-rolled",
        },
    )
    assert [p["title"] for p in (await client.get("/api/shop/products?q=SCARF")).json()["items"]] == ["Silk scarf"]
    assert [p["title"] for p in (await client.get("/api/shop/products?q=hand-rolled")).json()["items"]] == [
        "Silk scarf"
    ]
    homes = (await client.get("/api/shop/products?category=home")).json()["items"]
    assert {p["category"] for p in homes} == {"home"} and len(homes) == 2


async def test_limits_and_cursors_out_of_range_are_refused(client: AsyncClient) -> None:
    for query, field in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("cursor=WzFd", "cursor"),
        ("cursor=not-a-cursor", "cursor"),
        ("sort=cheapest", "sort"),
    ]:
        response = await client.get(f"/api/shop/products?{query}")
        assert response.status_code in (400, 422), (query, response.text)
        assert response.json()["errors"][0]["field"] == field
