"""Sliding-window limits for what people send in a room: chat bursts, slow mode, likes.

A limit is ``(key, limit, window)``: at most ``limit`` hits in any ``window`` seconds. Several limits are checked
together and a hit is recorded in all of them only when every one admits it, so a message refused by slow mode
does not also use up the user's burst. With Redis the check runs as one script, so every worker shares the
counts; without Redis the counts live in this process. Times come from the app's clock, so tests move them.
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS: the limits' sorted sets; ARGV: now (ms), a unique member, then limit and window (ms) per key.
# Returns {0, 0} when admitted (and recorded everywhere), else {milliseconds to wait, the index of the limit
# that makes the wait longest}.
_SCRIPT = """
local now = tonumber(ARGV[1])
local wait, which = 0, 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i + 1])
  local window = tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local this = math.max(1, tonumber(oldest[2]) + window - now)
    if this > wait then wait, which = this, i end
  end
end
if wait > 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2] .. ':' .. i)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 2]))
end
return {0, 0}
"""


# Longer than any window we set (slow mode is at most 10 minutes), so a swept window had nothing left in it.
IDLE_AFTER_S = 3600.0


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_s: float


@dataclass(frozen=True)
class Refusal:
    wait_s: float  # until every limit admits
    limit: Limit  # the one that makes the wait longest


class Limiter:
    """Admit or refuse one hit against several limits: ``None`` when admitted, else a :class:`Refusal`."""

    def __init__(self, redis: Redis | None, namespace: str = "livecommerce:live:limits") -> None:
        self.redis = redis
        self.namespace = namespace
        self._script = redis.register_script(_SCRIPT) if redis is not None else None
        self._hits: dict[str, deque[float]] = {}
        self._swept = 0.0

    async def hit(self, limits: list[Limit], now: float) -> Refusal | None:
        limits = [limit for limit in limits if limit.limit > 0 and limit.window_s > 0]
        if not limits:
            return None
        if self._script is None:
            return self.hit_here(limits, now)
        keys = [f"{self.namespace}:{limit.key}" for limit in limits]
        args: list[int | str] = [int(now * 1000), uuid.uuid4().hex]
        for limit in limits:
            args += [limit.limit, int(limit.window_s * 1000)]
        wait_ms, which = await self._script(keys=keys, args=args)
        return Refusal(int(wait_ms) / 1000, limits[int(which) - 1]) if int(wait_ms) > 0 else None

    def hit_here(self, limits: list[Limit], now: float) -> Refusal | None:
        refusal: Refusal | None = None
        for limit in limits:
            hits = self._hits.setdefault(limit.key, deque())
            while hits and hits[0] <= now - limit.window_s:
                hits.popleft()
            if len(hits) >= limit.limit:
                wait = max(hits[0] + limit.window_s - now, 0.001)
                if refusal is None or wait > refusal.wait_s:
                    refusal = Refusal(wait, limit)
        if refusal is not None:
            return refusal
        for limit in limits:
            self._hits[limit.key].append(now)
        self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        # People who stopped sending leave their windows behind; sweep them once a minute, not on every hit.
        if now - self._swept > 60:
            self._swept = now
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - IDLE_AFTER_S}


def retry_after(wait_s: float) -> int:
    """Whole seconds to wait, never 0 (a client told "0" would retry at once and be refused again)."""
    return max(1, math.ceil(wait_s))
