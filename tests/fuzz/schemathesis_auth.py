"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz.schemathesis_auth): every request carries a demo account's
bearer token: the account named by FUZZ_EMAIL, or when it is unset, the one meant to call each operation.

Tokens are fetched once per account and again after a 401 (schemathesis signs in again and replays the request), so
a generated POST /api/auth/logout does not leave the rest of the run signed out.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

from demo import DEMO_PASSWORD
from tests.fuzz.roles import ROLE_EMAILS, role_for


def account(case: Any, context: Any) -> str:
    return os.environ.get("FUZZ_EMAIL") or ROLE_EMAILS[role_for(case.operation.method, case.operation.path)]


@schemathesis.auth(refresh_interval=24 * 3600, cache_by_key=account)
class DemoBearer:
    def get(self, case: Any, context: Any) -> str:
        login = httpx.post(
            f"{os.environ['FUZZ_BASE_URL']}/api/auth/login",
            json={"email": account(case, context), "password": DEMO_PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        return login.json()["token"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
