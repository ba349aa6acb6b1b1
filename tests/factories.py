"""Helpers that act through the public API, as a client would."""

from __future__ import annotations

import itertools
from typing import Any

from httpx import AsyncClient

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}@example.test"


async def signup(
    client: AsyncClient,
    roles: list[str] | None = None,
    email: str | None = None,
    display_name: str = "Test User",
) -> dict[str, Any]:
    email = email or unique_email()
    body = {"email": email, "password": PASSWORD, "display_name": display_name, "roles": roles or ["buyer"]}
    response = await client.post("/api/auth/signup", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in as an API client would: a bearer token, no cookies kept."""
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in(client: AsyncClient, roles: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """A new account with ``roles`` and a bearer token for it."""
    user = await signup(client, roles)
    return user, await login(client, user["email"])
