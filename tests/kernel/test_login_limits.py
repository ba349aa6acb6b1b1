"""Sign-in limits that a client cannot dodge and an attacker cannot turn against an account's owner.

Per address: X-Forwarded-For counts only from LIVECOMMERCE_TRUSTED_PROXIES. Per account: failures past a limit lock
the account to browsers that never signed in to it, for a bounded window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from httpx import AsyncClient

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.e2e.server import LiveServer
from tests.factories import PASSWORD, signup


def _guess(client: AsyncClient | httpx.Client, email: str, address: str, password: str = "wrong password!"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers={"x-forwarded-for": address}
    )


@pytest.mark.slow
def test_a_served_app_does_not_believe_forwarded_addresses_from_just_anyone(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    """Through `livecommerce serve` on loopback: rotating X-Forwarded-For no longer escapes the per-address limit."""
    env = {"LIVECOMMERCE_LOGIN_RATE": "5/minute", "LIVECOMMERCE_LOGIN_ACCOUNT_FAILURES": "1000"}
    with (
        LiveServer(tmp_path / "data", env=env) as server,
        httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client,
    ):
        statuses = [_guess(client, "nobody@example.test", f"203.0.113.{n}").status_code for n in range(12)]
    assert statuses.count(429) >= 6, statuses


async def test_forwarded_addresses_count_only_from_trusted_proxies(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    settings = make_settings(
        LIVECOMMERCE_LOGIN_RATE="5/minute",
        LIVECOMMERCE_LOGIN_ACCOUNT_FAILURES="1000",
        LIVECOMMERCE_TRUSTED_PROXIES="127.0.0.1",  # the test client's address: it stands for the proxy
    )
    async with asgi_client(create_app(settings, clock=clock)) as client:
        rotating = [(await _guess(client, "a@example.test", f"198.51.100.{n}")).status_code for n in range(8)]
        assert 429 not in rotating, rotating  # each forwarded client has its own allowance
        one = [(await _guess(client, "a@example.test", "198.51.100.200")).status_code for _ in range(8)]
        assert one.count(429) == 3, one


async def test_failures_lock_the_account_for_a_while_but_never_for_its_owners_browser(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    settings = make_settings(
        LIVECOMMERCE_LOGIN_ACCOUNT_FAILURES="3",
        LIVECOMMERCE_LOGIN_LOCKOUT="2s",
        LIVECOMMERCE_TRUSTED_PROXIES="127.0.0.1",
    )
    app = create_app(settings, clock=clock)
    # Two browsers of one running app: the owner's keeps its cookies, the attacker's has its own jar.
    async with (
        asgi_client(app) as owner,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as attacker,
    ):
        user = await signup(owner)
        email = user["email"]
        assert (await _guess(owner, email, "192.0.2.1", PASSWORD)).status_code == 200  # the owner's browser
        owner.cookies.delete("lc_session")  # keep only the device cookie, as after signing out

        for n in range(3):  # from three addresses, so the per-address limit is not what stops them
            assert (await _guess(attacker, email, f"198.51.100.{n}")).status_code == 401
        locked = await _guess(attacker, email, "198.51.100.9", PASSWORD)  # even the right password
        assert locked.status_code == 429 and locked.json()["type"] == "/problems/account_locked"
        assert 1 <= int(locked.headers["retry-after"]) <= 2

        assert (await _guess(owner, email, "192.0.2.1", PASSWORD)).status_code == 200  # its owner is not locked out
        await asyncio.sleep(2.2)
        assert (await _guess(attacker, email, "198.51.100.9", PASSWORD)).status_code == 200  # the lock is short
