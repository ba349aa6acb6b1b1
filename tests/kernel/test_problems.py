"""Malformed ids in paths answer as the missing thing they name, in every domain."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.factories import bearer, signed_in
from tests.pages import HTML

MALFORMED = [
    ("GET", "/api/shop/products/not-a-uuid", "product_not_found"),
    ("PATCH", "/api/shop/products/not-a-uuid", "product_not_found"),
    ("POST", "/api/shop/cart/items/not-a-uuid/remove", "product_not_found"),
    ("GET", "/api/shop/orders/not-a-uuid", "order_not_found"),
    ("POST", "/api/shop/orders/not-a-uuid/confirm-delivery", "order_not_found"),
    ("GET", "/api/shop/disputes/not-a-uuid", "dispute_not_found"),
    ("GET", "/api/live/rooms/not-a-uuid", "room_not_found"),
    ("POST", "/live/rooms/not-a-uuid/whep", "room_not_found"),
    ("GET", "/api/community/posts/not-a-uuid", "post_not_found"),
    ("POST", "/api/community/posts/not-a-uuid/likes", "post_not_found"),
    ("DELETE", "/api/community/comments/not-a-uuid", "comment_not_found"),
    ("GET", "/api/community/creators/not-a-uuid", "creator_not_found"),
]


@pytest.mark.parametrize(("method", "path", "code"), MALFORMED)
async def test_malformed_id_in_a_path_is_the_domains_not_found_problem(
    client: AsyncClient, method: str, path: str, code: str
) -> None:
    _, token = await signed_in(client)
    response = await client.request(method, path, headers=bearer(token), json={})

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{code}"
    assert response.json()["detail"] == f"There is no {code.removesuffix('_not_found')} 'not-a-uuid'."


async def test_malformed_id_in_a_page_path_is_the_not_found_page(client: AsyncClient) -> None:
    page = await client.get("/shop/products/not-a-uuid", headers=HTML)

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "product_not_found" not in page.text


async def test_an_htmx_request_that_fails_gets_a_toast_never_problem_json(client: AsyncClient) -> None:
    """htmx asks with ``Accept: */*`` and swaps any answer into the page, so an error must arrive as HTML."""
    missing = "/shop/products/0193a5a0-0000-7000-8000-000000000000"
    response = await client.get(missing, headers={"hx-request": "true", "accept": "*/*"})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["hx-retarget"] == "#toasts"
    assert '"type"' not in response.text and "toast" in response.text
    api = await client.get("/api/shop/products/0193a5a0-0000-7000-8000-000000000000", headers={"hx-request": "true"})
    assert api.headers["content-type"] == "application/problem+json"
