"""The flash sale's setup, not timed: the HTTP client, the seller and buyers with their bearer tokens, the product.

Sign-up and sign-in each cost one argon2 hash (~0.25 CPU-s here), so ``--accounts fast`` sends only ``API_SAMPLE``
buyers through the API and writes the rest to the database the way sign-up and sign-in write them; every token is
then checked with GET /api/me either way.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.cookiejar
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from flash_sale_burst import CURRENCY, PRICE_MINOR, REQUEST_TIMEOUT_S

PASSWORD = "flash-sale-password"  # noqa: S105 - throwaway accounts in a throwaway database
API_SAMPLE = 20  # --accounts fast: buyers signed up through the API; the rest are written like sign-up writes them
SETUP_CONCURRENCY = 64  # sign-ups and sign-ins hash passwords (argon2): a bounded queue, not a burst
SETUP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Buyer:
    id: uuid.UUID
    token: str


def http_client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=60)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=5.0)
    # No cookie jar: a stored session cookie would make the API demand a CSRF token; buyers use bearer tokens.
    no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False, cookies=no_cookies)


async def sign_up(client: httpx.AsyncClient, base_url: str, email: str, roles: list[str]) -> Buyer:
    body = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], "roles": roles}
    signup = await client.post(f"{base_url}/api/auth/signup", json=body, timeout=SETUP_TIMEOUT_S)
    if signup.status_code != 201:
        raise RuntimeError(f"Sign-up of {email} answered {signup.status_code}: {signup.text[:300]}")
    login = await client.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=SETUP_TIMEOUT_S
    )
    if login.status_code != 200:
        raise RuntimeError(f"Sign-in of {email} answered {login.status_code}: {login.text[:300]}")
    data = login.json()
    return Buyer(uuid.UUID(data["user"]["id"]), data["token"])


async def sign_up_buyers(client: httpx.AsyncClient, base_url: str, first: int, count: int, tag: str) -> list[Buyer]:
    """Buyers ``first`` .. ``first + count - 1``, each signed up and signed in through the API."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(i: int) -> Buyer:
        async with gate:
            return await sign_up(client, base_url, f"buyer{i}-{tag}@flash.test", ["buyer"])

    return list(await asyncio.gather(*(one(i) for i in range(first, first + count))))


async def insert_buyers(conn: asyncpg.Connection, like: Buyer, first: int, count: int, tag: str) -> list[Buyer]:
    """Buyers written as sign-up and sign-in write them (auth_user, auth_role, auth_token), skipping argon2.

    Each gets the password hash of ``like`` (same password; the hash carries its own salt) and a fresh random
    token of which only the SHA-256 is stored, exactly as ``AccountService.login`` stores it.
    """
    password_hash = await conn.fetchval("SELECT password_hash FROM auth_user WHERE id = $1", like.id)
    now = datetime.now(UTC)
    buyers, users, roles, tokens = [], [], [], []
    for i in range(first, first + count):
        user_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
        email = f"buyer{i}-{tag}@flash.test"
        users.append((user_id, email, password_hash, email.split("@")[0], now, now))
        roles.append((uuid.uuid4(), user_id, "buyer"))
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        tokens.append((uuid.uuid4(), user_id, token_hash, now, now + timedelta(days=1)))
        buyers.append(Buyer(user_id, token))
    async with conn.transaction():
        await conn.copy_records_to_table(
            "auth_user",
            records=users,
            columns=["id", "email", "password_hash", "display_name", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table("auth_role", records=roles, columns=["id", "user_id", "role"])
        await conn.copy_records_to_table(
            "auth_token", records=tokens, columns=["id", "user_id", "token_hash", "created_at", "expires_at"]
        )
    return buyers


async def check_tokens(client: httpx.AsyncClient, base_url: str, buyers: list[Buyer]) -> None:
    """Every buyer's bearer token must sign them in as themselves (GET /api/me), whichever way it was made."""

    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(buyer: Buyer) -> None:
        async with gate:
            answer = await get_retrying(client, f"{base_url}/api/me", {"Authorization": f"Bearer {buyer.token}"})
        if answer.status_code != 200 or answer.json().get("id") != str(buyer.id):
            raise RuntimeError(f"GET /api/me for buyer {buyer.id} answered {answer.status_code}: {answer.text[:200]}")

    await asyncio.gather(*(one(b) for b in buyers))


async def get_retrying(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A GET outside the timed burst, tried again when a kept-alive connection was closed under it."""
    for attempt in range(3):
        try:
            return await client.get(url, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
            if attempt == 2:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def list_product(client: httpx.AsyncClient, base_url: str, seller: Buyer, units: int, title: str) -> uuid.UUID:
    body = {
        "title": title,
        "description": "Flash sale benchmark item",
        "category": "fashion",
        "price": {"amount_minor": PRICE_MINOR, "currency": CURRENCY},
        "stock": units,
        "affiliate_rate_bps": 0,
    }
    answer = await client.post(
        f"{base_url}/api/shop/products", json=body, headers={"Authorization": f"Bearer {seller.token}"}
    )
    if answer.status_code != 201:
        raise RuntimeError(f"Listing the product answered {answer.status_code}: {answer.text[:300]}")
    return uuid.UUID(answer.json()["id"])
