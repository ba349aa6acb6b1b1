"""/schema/openapi.json describes every JSON endpoint the app serves."""

from __future__ import annotations

from httpx import AsyncClient
from litestar import Litestar
from litestar.routes import HTTPRoute


async def test_every_json_route_is_in_the_openapi_document(client: AsyncClient, app: Litestar) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    published = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    served = {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    assert served, "the app serves JSON endpoints"
    assert served <= published, served - published


async def test_accounts_contract_is_published(client: AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/auth/signup", "/api/auth/login", "/api/auth/logout", "/api/me"} <= paths.keys()
    signup = paths["/api/auth/signup"]["post"]
    assert {"201", "409", "422", "429"} <= signup["responses"].keys()
