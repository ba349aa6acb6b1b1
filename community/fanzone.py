"""What the Fan Zone keeps per process: the trending snapshots, the Redis feed writer and the go-live notifier.

The community plugin makes one, starts it with the app and stops it at shutdown. Without Redis there is no writer:
the feed is read from the database.
"""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis

from community.reminders import GoLiveNotifier
from community.timelines import WRITER_KEY, FeedWriter
from community.trending import TrendingCache
from kernel.clock import Clock
from kernel.db import Database
from kernel.settings import CommunitySettings


class FanZone:
    def __init__(
        self, settings: CommunitySettings, db: Database, redis: Redis | None, channels: ChannelsPlugin, clock: Clock
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.trending = TrendingCache(settings.trending_half_life)
        self.writer = FeedWriter(redis, db.sessionmaker, settings.feed_cap) if redis is not None else None
        self.notifier = GoLiveNotifier(channels, db, clock)
        if self.writer is not None:
            # Every session of this app carries the writer, so the hooks in community.timelines find it at commit.
            db.sessionmaker.configure(info={WRITER_KEY: self.writer})

    async def start(self) -> None:
        if self.writer is not None:
            self.writer.start()
        await self.notifier.start()

    async def stop(self) -> None:
        await self.notifier.stop()
        if self.writer is not None:
            await self.writer.stop()
