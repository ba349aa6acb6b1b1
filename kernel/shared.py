"""The kernel objects the app factory builds once per process and hands to every domain's plugin."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis

from kernel.bus import Bus
from kernel.clock import Clock
from kernel.db import Database
from kernel.settings import Settings


@dataclass(frozen=True)
class Shared:
    """Settings, time, the database, Redis (when configured), the Channels plugin and the bus built on it."""

    settings: Settings
    clock: Clock
    db: Database
    redis: Redis | None
    channels: ChannelsPlugin
    bus: Bus
