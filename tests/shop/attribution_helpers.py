"""Shared steps of the attribution tests: an app whose rooms resolve to hosts, accounts of each role, links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

from httpx import AsyncClient
from litestar import Litestar

from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.factories import bearer, login, signed_in
from tests.shop.helpers import checkout


class Rooms:
    """Stand-in for live's rooms: a room id and its host, resolved the way live registers it."""

    def __init__(self) -> None:
        self.hosts: dict[str, UUID] = {}
        self.titles: dict[UUID, str] = {}

    def open(self, host_id: str, title: str = "Friday live") -> str:
        room = uuid4()
        self.hosts[str(room)] = UUID(host_id)
        self.titles[room] = title
        return str(room)

    async def host(self, session: Any, room_id: str) -> UUID | None:
        return self.hosts.get(room_id)

    async def labels(self, session: Any, ids: list[UUID]) -> dict[UUID, str]:
        return {i: self.titles[i] for i in ids if i in self.titles}


@asynccontextmanager
async def attribution_app(
    make_settings: Callable[..., Settings], clock: FixedClock, **env: str
) -> AsyncIterator[tuple[Litestar, AsyncClient, Rooms]]:
    from app import create_app
    from shop import ShopRuntime
    from tests.clients import asgi_client

    rooms = Rooms()
    runtime = ShopRuntime()
    app = create_app(make_settings(**env), clock=clock, shop_runtime=runtime)
    # After create_app, which registers live's own resolvers: these rooms exist only in this test.
    runtime.attribution.register("room_id", rooms.host)
    runtime.attribution.register_labels("room", rooms.labels)
    async with asgi_client(app) as client:
        yield app, client, rooms
        await every_line_has_a_receipt(app)
    await app.state.db.dispose()


async def every_line_has_a_receipt(app: Litestar) -> None:
    """Whatever a test did: each order line sold has a receipt naming its rule, and a credited line's receipt has
    exactly one winning candidate, of that creator; every other candidate says why it lost."""
    from sqlalchemy import select

    from shop.models import LineAttribution, OrderLine

    async with app.state.db.transaction() as session:
        rows = (
            await session.execute(
                select(OrderLine, LineAttribution).outerjoin(LineAttribution, LineAttribution.line_id == OrderLine.id)
            )
        ).all()
    for line, receipt in rows:
        assert receipt is not None, f"line {line.id} has no receipt"
        assert receipt.rule in {"coupon", "live_room", "last_click", "none"} and receipt.rule_version == 1
        winners = [c for c in receipt.candidates if c["won"]]
        if line.creator_id is None:
            assert receipt.rule == "none" and winners == []
        else:
            assert [w["creator_id"] for w in winners] == [str(line.creator_id)] and winners[0]["rule"] == receipt.rule
        assert all(c["why"] and (c["won"] or c["why"] != "won") for c in receipt.candidates)


async def staff(client: AsyncClient, app: Litestar, role: str) -> str:
    """A marketer or admin account (made by the operator, as the CLI does) and its token."""
    from kernel.auth.models import Role
    from kernel.auth.service import AccountService
    from tests.factories import PASSWORD, unique_email

    email = unique_email(role)
    async with app.state.db.transaction() as session:
        await AccountService(
            session, app.state.clock, app.state.settings.auth.session_ttl, app.state.passwords
        ).create_user(email, PASSWORD, role.title(), [Role(role)])
    return await login(client, email)


async def influencer(client: AsyncClient) -> tuple[str, str]:
    """A creator's user id and token."""
    user, token = await signed_in(client, ["influencer"])
    return user["id"], token


async def buyer(client: AsyncClient) -> tuple[str, str]:
    user, token = await signed_in(client, ["buyer"])
    return user["id"], token


async def link(client: AsyncClient, token: str, target: dict[str, Any]) -> str:
    response = await client.post("/api/attribution/links", json={"target": target}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def click(client: AsyncClient, code: str, token: str | None = None) -> str:
    """Follow ``/r/{code}`` as the holder of ``token`` (anonymous without one); returns where it redirected."""
    response = await client.get(f"/r/{code}", headers=bearer(token) if token else {}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


async def buy(client: AsyncClient, token: str, product_id: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    response = await checkout(client, token, [{"product_id": product_id, "quantity": quantity}], **extra)
    assert response.status_code == 201, response.text
    return response.json()["orders"][0]


async def receipt(client: AsyncClient, staff_token: str, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/reports/attribution/orders/{order_id}", headers=bearer(staff_token))
    assert response.status_code == 200, response.text
    return response.json()


TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def complete(client: AsyncClient, seller_token: str, buyer_token: str, order_id: str) -> None:
    """Ship and confirm delivery: escrow is released and the dispute window starts."""
    shipped = await client.post(f"/api/shop/orders/{order_id}/ship", headers=bearer(seller_token), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    done = await client.post(f"/api/shop/orders/{order_id}/confirm-delivery", headers=bearer(buyer_token))
    assert done.status_code == 200, done.text


async def refund(client: AsyncClient, seller_token: str, buyer_token: str, order_id: str, amount: int) -> None:
    """The buyer disputes the order and the seller accepts the refund of ``amount``."""
    body = {"reason": "damaged", "detail": "Crushed.", "requested_refund": {"amount_minor": amount, "currency": "USD"}}
    opened = await client.post(f"/api/shop/orders/{order_id}/disputes", headers=bearer(buyer_token), json=body)
    assert opened.status_code == 201, opened.text
    accepted = await client.post(
        f"/api/shop/disputes/{opened.json()['id']}/resolve",
        headers=bearer(seller_token),
        json={"outcome": "refund", "amount": {"amount_minor": amount, "currency": "USD"}},
    )
    assert accepted.status_code == 200, accepted.text


async def report(client: AsyncClient, token: str, **params: str) -> dict[str, Any]:
    response = await client.get("/api/reports/attribution", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()
