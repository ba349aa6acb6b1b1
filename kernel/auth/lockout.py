"""Failed sign-ins counted per account, with a lockout its owner's own browser is never held to.

The per-address rate limit stops one client guessing; an attacker with many addresses guesses at one account, so
failures are also counted per account: past ``login_account_failures`` in a ``login_lockout`` window, signing in to
that account answers 429 until the window ends. A lockout that anyone can trigger would let them lock the owner out,
so a browser that signed in to the account before carries a device cookie (an HMAC of the account's email, as
OWASP's "device cookies") and is not held to it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.stores.base import Store

from kernel.auth.service import normalise_email
from kernel.errors import RateLimited
from kernel.settings import AuthSettings

DEVICE_COOKIE = "lc_device"
DEVICE_TTL_S = 365 * 24 * 3600
STORE = "login_failures"  # a named store: Redis when configured, so every worker counts together


class LoginGuard:
    def __init__(self, store: Store, settings: AuthSettings) -> None:
        self.store = store
        self.settings = settings

    def _mark(self, email: str) -> str:
        digest = hmac.new(self.settings.secret_key.encode(), f"device:{normalise_email(email)}".encode(), "sha256")
        return digest.hexdigest()[:40]

    def device_cookie(self, email: str) -> Cookie:
        """The cookie a successful sign-in leaves: this browser has signed in to this account."""
        return Cookie(
            key=DEVICE_COOKIE,
            value=self._mark(email),
            max_age=DEVICE_TTL_S,
            httponly=True,
            secure=self.settings.cookie_secure,
            samesite="lax",
        )

    def known_device(self, email: str, cookies: dict[str, str]) -> bool:
        return hmac.compare_digest(cookies.get(DEVICE_COOKIE, ""), self._mark(email))

    @staticmethod
    def _key(email: str) -> str:
        return hashlib.sha256(normalise_email(email).encode()).hexdigest()

    async def check(self, email: str, known_device: bool) -> None:
        """RateLimited (429, ``account_locked``) while the account is locked to browsers it does not know."""
        if known_device:
            return
        failures = await self.store.get(self._key(email))
        if failures is not None and int(failures) >= self.settings.login_account_failures:
            wait = await self.store.expires_in(self._key(email)) or 1
            raise RateLimited(
                "account_locked",
                f"Too many failed sign-ins to this account; try again in {math.ceil(wait / 60)} min, or from a "
                "browser that has signed in to it before.",
                retry_after=wait,
            )

    async def failed(self, email: str) -> None:
        """Count a wrong password; the window starts at the first failure and is not extended by later ones."""
        key = self._key(email)
        failures = await self.store.get(key)
        if failures is None:
            await self.store.set(key, b"1", expires_in=int(self.settings.login_lockout.total_seconds()))
            return
        remaining = await self.store.expires_in(key) or 1
        await self.store.set(key, str(int(failures) + 1).encode(), expires_in=remaining)


def login_guard(request: Request[Any, Any, Any]) -> LoginGuard:
    return LoginGuard(request.app.stores.get(STORE), request.app.state.settings.auth)
