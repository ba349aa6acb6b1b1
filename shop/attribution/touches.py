"""Attribution touches, written in batches so that recording one never slows a room, a feed or a page.

``record`` only appends to a buffer; a background task inserts the buffer with one statement every
``flush_every`` (or sooner when it fills). A crash loses at most one interval of touches, which only weakens
attribution of later sales; money never depends on an unflushed touch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import insert

from kernel.clock import Clock
from kernel.db import Database
from kernel.workers import Worker
from shop.models import Touch

log = logging.getLogger("livecommerce.touches")


class TouchKind(StrEnum):
    VIEW = "view"  # joined a room, opened a post
    CLICK = "click"  # opened a product from a room, a post or a referral link
    ADD_TO_CART = "add_to_cart"


class TouchRecorder:
    def __init__(
        self, db: Database, clock: Clock, flush_every: timedelta = timedelta(seconds=1), max_batch: int = 1000
    ) -> None:
        self._db = db
        self._clock = clock
        self._interval = flush_every.total_seconds()
        self._max_batch = max_batch
        self._buffer: list[dict[str, Any]] = []
        self._writing: list[dict[str, Any]] = []  # the batch being inserted: neither buffered nor committed yet
        self._full = asyncio.Event()
        # One flush at a time: a flush called while the background one is writing waits for it, so everything
        # recorded before a flush() call is committed when it returns (reports and shutdown rely on that).
        self._flushing = asyncio.Lock()
        self._worker = Worker("touch-recorder", self._run)

    def record(
        self,
        kind: TouchKind,
        *,
        creator_id: UUID | None = None,
        product_id: UUID | None = None,
        room_id: UUID | None = None,
        post_id: UUID | None = None,
        link_code: str | None = None,
        user_id: UUID | None = None,
        visitor_id: str | None = None,
    ) -> None:
        """Remember one touch; it reaches the database within ``flush_every``."""
        self._buffer.append(
            {
                "kind": kind.value,
                "at": self._clock.now(),
                "creator_id": creator_id,
                "product_id": product_id,
                "room_id": room_id,
                "post_id": post_id,
                "link_code": link_code,
                "user_id": user_id,
                "visitor_id": visitor_id,
            }
        )
        if len(self._buffer) >= self._max_batch:
            self._full.set()

    def pending(self) -> list[dict[str, Any]]:
        """Touches recorded but perhaps not committed yet, for readers that must not miss the last second (the
        attribution rule at checkout, which cannot wait for a flush inside its own transaction)."""
        return [*self._writing, *self._buffer]

    async def flush(self) -> int:
        """Write what is buffered now, after any flush under way; returns how many touches this call wrote."""
        async with self._flushing:
            return await self._write_buffer()

    async def _write_buffer(self) -> int:
        batch, self._buffer = self._buffer, []
        self._full.clear()
        if not batch:
            return 0
        self._writing = batch
        try:
            async with self._db.sessionmaker() as session, session.begin():
                await session.execute(insert(Touch), batch)
        except Exception:
            log.exception("touches.flush_failed", extra={"lost": len(batch)})
            return 0
        finally:
            self._writing = []
        return len(batch)

    def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._interval)
            await self.flush()
