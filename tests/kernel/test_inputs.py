"""Control characters never reach a handler: a NUL byte anywhere is a 400 problem naming the field, signed out too.

PostgreSQL refuses NUL in text, so each of these answered 500 with a traceback before the check at the edge.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient

from tests.factories import PASSWORD, bearer, signed_in, unique_email
from tests.shop.helpers import ADDRESS, new_key, usd

NUL = "\u0000"
SOME_ID = str(uuid4())  # the check comes before the handler looks anything up


def _checkout(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [{"product_id": SOME_ID, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment": {"method": "sandbox", "token": "tok_ok"},
    }
    body.update(changes)
    return body


# (who asks, method, path, query, JSON body, the field the problem must name)
CASES = [
    (None, "POST", "/api/auth/login", None, {"email": f"a{NUL}@example.com", "password": PASSWORD}, "email"),
    (
        None,
        "POST",
        "/api/auth/signup",
        None,
        {"email": unique_email(), "password": PASSWORD, "display_name": NUL, "roles": []},
        "display_name",
    ),
    (None, "GET", "/api/shop/products", {"q": f"shirt{NUL}"}, None, "q"),
    ("buyer", "GET", "/api/shop/orders", {"status": NUL}, None, "status"),
    ("influencer", "POST", "/api/community/posts", None, {"title": f"Hi{NUL}", "body": "x"}, "title"),
    ("buyer", "POST", f"/api/community/posts/{SOME_ID}/comments", None, {"body": f"nice{NUL}"}, "body"),
    ("influencer", "PATCH", "/api/community/creators/me", None, {"bio": f"me{NUL}"}, "bio"),
    (
        "seller",
        "POST",
        "/api/shop/products",
        None,
        {"title": f"Shirt{NUL}", "description": "", "category": "fashion", "price": usd(100), "stock": 1},
        "title",
    ),
    (
        "seller",
        "POST",
        "/api/shop/products",
        None,
        {"title": "Shirt", "description": "", "category": f"fa{NUL}", "price": usd(100), "stock": 1},
        "category",
    ),
    ("influencer", "POST", "/api/live/rooms", None, {"title": f"Show{NUL}", "product_ids": []}, "title"),
    (
        "seller",
        "POST",
        f"/api/shop/orders/{SOME_ID}/ship",
        None,
        {"carrier": f"U{NUL}PS", "tracking_number": "1Z999AA1"},
        "carrier",
    ),
    (
        "buyer",
        "POST",
        f"/api/shop/orders/{SOME_ID}/disputes",
        None,
        {"reason": "damaged", "detail": NUL, "requested_refund": usd(100)},
        "detail",
    ),
    (
        "buyer",
        "POST",
        "/api/shop/checkout",
        None,
        _checkout(shipping_address={**ADDRESS, "line1": f"1{NUL}"}),
        "shipping_address.line1",
    ),
    ("buyer", "POST", "/api/shop/checkout", None, _checkout(coupon_code=f"SAVE{NUL}"), "coupon_code"),
    ("buyer", "POST", "/api/shop/checkout", None, _checkout(source={"ref": f"x{NUL}"}), "source.ref"),
    (
        "buyer",
        "POST",
        "/api/shop/checkout",
        None,
        _checkout(items=[{"product_id": f"{SOME_ID}{NUL}", "quantity": 1}]),
        "items[0].product_id",
    ),
]


@pytest.mark.parametrize(("role", "method", "path", "query", "body", "field"), CASES)
async def test_a_nul_byte_is_a_400_naming_the_field(
    client: AsyncClient, role: str | None, method: str, path: str, query: Any, body: Any, field: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    if role is not None:
        headers.update(bearer((await signed_in(client, [role]))[1]))
    response = await client.request(method, path, params=query, json=body, headers=headers)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["status"] == 400 and field in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_other_control_characters_are_refused_but_newlines_and_tabs_are_text(client: AsyncClient) -> None:
    _, token = await signed_in(client, ["seller"])
    product = {"title": "Shirt", "category": "fashion", "price": usd(100), "stock": 1}
    bell = await client.post("/api/shop/products", headers=bearer(token), json={**product, "description": "a\u0007b"})
    assert bell.status_code == 400 and bell.json()["errors"][0]["field"] == "description"
    listed = await client.post(
        "/api/shop/products", headers=bearer(token), json={**product, "description": "Soft.\n\tWashable.\r\n"}
    )
    assert listed.status_code == 201, listed.text
    assert [p["id"] for p in (await client.get("/api/shop/products")).json()["items"]] == [listed.json()["id"]]


async def test_a_form_field_with_a_nul_byte_gets_the_error_page(client: AsyncClient) -> None:
    page = await client.get("/shop", params={"q": f"shirt{NUL}"}, headers={"accept": "text/html"})
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"] and "q" in page.text
