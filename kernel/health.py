"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import text

PROBE_TIMEOUT_S = 2.0


@get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@get("/readyz", tags=["health"], responses={503: ResponseSpec(dict[str, Any], description="Names what is unreachable")})
async def readyz(state: State) -> Response[dict[str, Any]]:
    """The database (and Redis and the bus's subscription, when configured) answer; 503 names whichever does not.

    Redis may answer a ping while the bus has not yet subscribed again after a restart, and until it has, no
    event reaches this process's sockets: the bus is checked on its own.
    """
    checks = {"database": _check_database(state)}
    if state.redis is not None:
        checks["redis"] = _check_redis(state)
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    if state.redis is not None:
        # Redis answering is the moment to resubscribe, not after the bus's backoff: the probe says what it finds then.
        bus = await state.bus.recheck(PROBE_TIMEOUT_S / 2) if results["redis"] == "ok" else state.bus.problem
        results["bus"] = bus or "ok"
    ready = all(result == "ok" for result in results.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": results}, status_code=200 if ready else 503)


async def _check_database(state: State) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


async def _check_redis(state: State) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await state.redis.ping()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"
