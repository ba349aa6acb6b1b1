"""The sweeper: runs registered jobs every interval in every worker, so deadlines apply without a scheduler.

A job claims its due rows itself (``claim_due`` adds ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number
of workers may sweep at once and each row is handled by one of them; a job that fails is logged and tried again
on the next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select

from kernel.clock import Clock
from kernel.db import Database, is_unavailable, outage_summary
from kernel.workers import Worker

log = logging.getLogger("livecommerce.jobs")


@dataclass(frozen=True)
class Job:
    """A named unit of sweeping; ``run`` returns how many rows it handled."""

    name: str
    run: Callable[[Database, Clock], Awaitable[int]]


def claim_due(query: Select[Any], due_column: Any, now: datetime, limit: int = 100) -> Select[Any]:
    """Narrow ``query`` to rows due by ``now``, oldest first, locked so other workers skip them."""
    return query.where(due_column <= now).order_by(due_column).limit(limit).with_for_update(skip_locked=True)


class Sweeper:
    def __init__(self, db: Database, clock: Clock, interval: timedelta, jobs: Sequence[Job]) -> None:
        self.db = db
        self.clock = clock
        self.interval = interval.total_seconds()
        self.jobs = list(jobs)
        self._worker = Worker("sweeper", self.run_once, every=self.interval)

    def add(self, job: Job) -> None:
        """Sweep ``job`` too, from the next start (another domain's deadlines on the same loop)."""
        self.jobs.append(job)

    async def run_once(self) -> dict[str, int]:
        """Run every job once; a failing job is logged and does not stop the others."""
        handled: dict[str, int] = {}
        for job in self.jobs:
            try:
                handled[job.name] = await job.run(self.db, self.clock)
            except Exception as exc:
                if is_unavailable(exc):  # a database outage: no bug to trace, the next round retries
                    log.warning("job.deferred", extra={"job": job.name, "error": outage_summary(exc)})
                else:
                    log.exception("job.failed", extra={"job": job.name})
                continue
            if handled[job.name]:
                log.info("job.done", extra={"job": job.name, "handled": handled[job.name]})
        return handled

    def start(self) -> None:
        if self.jobs:
            self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()
