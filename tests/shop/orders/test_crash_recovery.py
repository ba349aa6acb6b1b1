"""A real ``livecommerce serve`` SIGKILLed between the charge and the commit: nothing is charged twice, and every
charge the provider made ends with exactly one order or one void.

The sandbox token ``tok_slow`` makes the provider record the charge, then take seconds to answer: the test kills
the server once the provider's own record shows the charge, as a crash at the worst moment would. Runs on the
PostgreSQL leg against its database, and on the SQLite leg against a file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shop.money.gateway import Charge
from shop.money.sandbox import ChargeRecord
from shop.runtime import SANDBOX_RECORD
from tests.conftest import PG_URL
from tests.e2e.server import LiveServer
from tests.factories import PASSWORD, unique_email
from tests.shop.helpers import ADDRESS

pytestmark = pytest.mark.slow
ADMIN = {"email": "admin@demo.livecommerce.test", "password": "livecommerce-demo"}


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    url = PG_URL or f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"  # the SQLite leg: a file the restart keeps
    live = LiveServer(
        tmp_path / "data",
        database_url=url,
        env={"LIVECOMMERCE_RECONCILE_AFTER": "5s", "LIVECOMMERCE_SWEEP_INTERVAL": "1s"},
    )
    live.start()
    yield live
    live.stop()


def _token(client: httpx.Client, roles: list[str]) -> str:
    email = unique_email("crash")
    body = {"email": email, "password": PASSWORD, "display_name": "Crash", "roles": roles}
    assert client.post("/api/auth/signup", json=body).status_code == 201
    token = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()["token"]
    client.cookies.clear()  # bearer tokens only: a session cookie would ask for CSRF tokens
    return token


def _charges(server: LiveServer) -> list[Charge]:
    return ChargeRecord(server.data_dir / SANDBOX_RECORD).all()


def _checkout_in_background(url: str, token: str, body: dict[str, Any], key: str) -> threading.Thread:
    def send() -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        try:
            httpx.post(f"{url}/api/shop/checkout", json=body, headers=headers, timeout=30, trust_env=False)
        except httpx.HTTPError:
            pass  # the server dies under it

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _kill_once_charged(server: LiveServer, charged_before: int) -> None:
    deadline = time.monotonic() + 20
    while len(_charges(server)) == charged_before:
        assert time.monotonic() < deadline, "the provider never recorded the charge"
        time.sleep(0.02)
    server.kill()  # the charge is made; the orders' transaction has not committed


def test_a_checkout_killed_after_its_charge_is_charged_once_or_voided(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        seller, buyer = _token(client, ["seller"]), _token(client, [])
        listed = client.post(
            "/api/shop/products",
            headers={"Authorization": f"Bearer {seller}"},
            json={
                "title": "Lamp",
                "description": "",
                "category": "home",
                "price": {"amount_minor": 4200, "currency": "USD"},
                "stock": 10,
            },
        )
        assert listed.status_code == 201, listed.text
        body = {
            "items": [{"product_id": listed.json()["id"], "quantity": 2}],
            "shipping_address": ADDRESS,
            "payment": {"method": "sandbox", "token": "tok_slow"},
        }

        # 1. Killed after the charge; the buyer retries with the same key once the server is back.
        _checkout_in_background(server.base_url, buyer, body, "crash-retry-0001").join(0)
        _kill_once_charged(server, 0)
        server.start()
        retried = client.post(
            "/api/shop/checkout",
            json=body,
            headers={"Authorization": f"Bearer {buyer}", "Idempotency-Key": "crash-retry-0001"},
        )
        assert retried.status_code == 201, retried.text
        # Back within the reconcile delay, the retry got the first charge back; later, that one was voided and the
        # retry charged anew. Either way the buyer pays once.
        (charge,) = [c for c in _charges(server) if not c.voided]
        assert charge.amount.amount_minor == 8400
        assert retried.json()["orders"][0]["total"]["amount_minor"] == 8400
        charged_so_far = len(_charges(server))

        # 2. Killed after the charge; nobody comes back: the reconciler voids the charge.
        _checkout_in_background(server.base_url, buyer, body, "crash-alone-0002").join(0)
        _kill_once_charged(server, charged_so_far)
        server.start()
        deadline = time.monotonic() + 20
        while not all(c.voided for c in _charges(server) if c.charge_id != charge.charge_id):
            assert time.monotonic() < deadline, "the abandoned charge was never voided"
            time.sleep(0.2)

    with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as client:
        orders = client.get("/api/shop/orders", headers={"Authorization": f"Bearer {buyer}"}).json()["items"]
        charged = {o["id"]: o for o in orders}
        assert len(charged) == 1  # one order, for the retried checkout
        product = client.get(f"/api/shop/products/{listed.json()['id']}").json()
        assert product["stock"] == 8  # the killed transactions reserved nothing that stayed
        for c in _charges(server):  # every charge: exactly one order, or voided
            assert c.voided != (c.charge_id == charge.charge_id), c
        admin = client.post("/api/auth/login", json=ADMIN).json()["token"]
        trial = client.get("/api/admin/ledger/trial-balance", headers={"Authorization": f"Bearer {admin}"}).json()
        assert trial["total"]["amount_minor"] == 0
