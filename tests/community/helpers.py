"""Community actions through the public API, shared by the community tests."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.factories import bearer, signed_in


async def creator(client: AsyncClient, name: str = "Creator") -> tuple[dict[str, Any], str]:
    """A new influencer account and its bearer token."""
    return await signed_in(client, ["influencer"])


async def publish(client: AsyncClient, token: str, body: str = "Hello", **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/community/posts",
        json={
            "title": fields.pop("title", "A post"),
            "body": body,
            "status": fields.pop("status", "published"),
            **fields,
        },
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return response.json()
