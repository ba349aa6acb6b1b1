"""Shop actions through the public API, shared by the shop tests."""

from __future__ import annotations

import io
import itertools
from typing import Any

from httpx import AsyncClient

from tests.factories import bearer, login, signed_in

_keys = itertools.count(1)
ADDRESS = {"name": "Sam Buyer", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


def usd(amount_minor: int) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": "USD"}


def picture(kind: str = "PNG", size: tuple[int, int] = (1200, 800), colour: str = "teal") -> bytes:
    """A real picture of one colour, encoded as ``kind`` (PNG, JPEG or WEBP)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def new_key() -> str:
    return f"test-key-{next(_keys):06d}"


async def make_admin(client: AsyncClient, app) -> str:  # type: ignore[no-untyped-def]
    """An admin account (only the operator can make one: here through the service the CLI uses)."""
    from kernel.auth.models import Role
    from kernel.auth.service import AccountService
    from tests.factories import PASSWORD, unique_email

    email = unique_email("admin")
    async with app.state.db.transaction() as session:
        await AccountService(
            session, app.state.clock, app.state.settings.auth.session_ttl, app.state.passwords
        ).create_user(email, PASSWORD, "Admin", [Role.ADMIN])
    return await login(client, email)


async def seller_with_product(
    client: AsyncClient, price: int = 2500, stock: int = 10, category: str = "fashion", affiliate_bps: int = 1000
) -> tuple[str, str]:
    """A new seller's token and the id of a product they listed."""
    _, token = await signed_in(client, ["seller"])
    product = await client.post(
        "/api/shop/products",
        headers=bearer(token),
        json={
            "title": "Linen shirt",
            "description": "Breathable.",
            "category": category,
            "price": usd(price),
            "stock": stock,
            "affiliate_rate_bps": affiliate_bps,
        },
    )
    assert product.status_code == 201, product.text
    return token, product.json()["id"]


async def checkout(
    client: AsyncClient,
    token: str,
    items: list[dict[str, Any]],
    key: str | None = None,
    payment_token: str = "tok_ok",
    **extra: Any,
) -> Any:
    body = {
        "items": items,
        "shipping_address": ADDRESS,
        "payment": {"method": "sandbox", "token": payment_token},
        **extra,
    }
    return await client.post(
        "/api/shop/checkout", json=body, headers={**bearer(token), "Idempotency-Key": key or new_key()}
    )


async def trial_balance_total(client: AsyncClient, admin_token: str) -> int:
    response = await client.get("/api/admin/ledger/trial-balance", headers=bearer(admin_token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert sum(a["balance"]["amount_minor"] for a in body["accounts"]) == body["total"]["amount_minor"]
    return body["total"]["amount_minor"]
