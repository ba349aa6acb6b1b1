"""The sweeper: runs registered jobs every interval in every worker, so deadlines apply without a scheduler.

A job claims its due rows itself (``claim_due`` adds ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number
of workers may sweep at once and each row is handled by one of them; a job that fails is logged and tried again
on the next tick. Each round leaves one ``kernel_job_run`` row per job (its last run, outcome and backlog), so an
admin can see a stuck or failing job without reading the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Select, String, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kernel.clock import Clock
from kernel.db import Database, is_unavailable, outage_summary
from kernel.workers import Worker

log = logging.getLogger("livecommerce.jobs")


class JobOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    DEFERRED = "deferred"  # the database was away; the next round retries


class JobRun(UUIDv7Base):
    """A job's last run as any worker saw it; one row per job name, overwritten each round."""

    __tablename__ = "kernel_job_run"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    outcome: Mapped[str] = mapped_column(String(20))
    handled: Mapped[int] = mapped_column(default=0)
    backlog: Mapped[int | None] = mapped_column(default=None)  # rows still due after the run; None: not counted
    error: Mapped[str] = mapped_column(String(300), default="")


@dataclass(frozen=True)
class Job:
    """A named unit of sweeping; ``run`` returns how many rows it handled, ``backlog`` how many are still due."""

    name: str
    run: Callable[[Database, Clock], Awaitable[int]]
    backlog: Callable[[AsyncSession, datetime], Awaitable[int]] | None = None


def claim_due(query: Select[Any], due_column: Any, now: datetime, limit: int = 100) -> Select[Any]:
    """Narrow ``query`` to rows due by ``now``, oldest first, locked so other workers skip them."""
    return query.where(due_column <= now).order_by(due_column).limit(limit).with_for_update(skip_locked=True)


async def count_due(session: AsyncSession, query: Select[Any], due_column: Any, now: datetime) -> int:
    """How many rows of ``query`` are due by ``now``: the backlog of a job that claims them with ``claim_due``."""
    return int(await session.scalar(select(func.count()).select_from(query.where(due_column <= now).subquery())) or 0)


async def job_runs(session: AsyncSession) -> list[JobRun]:
    """Every job's last recorded run, by name."""
    return list(await session.scalars(select(JobRun).order_by(JobRun.name)))


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
        runs: list[dict[str, Any]] = []
        for job in self.jobs:
            started = self.clock.now()
            outcome, error = JobOutcome.DONE, ""
            try:
                handled[job.name] = await job.run(self.db, self.clock)
            except Exception as exc:
                if is_unavailable(exc):  # a database outage: no bug to trace, the next round retries
                    outcome, error = JobOutcome.DEFERRED, outage_summary(exc)
                    log.warning("job.deferred", extra={"job": job.name, "error": error})
                else:
                    outcome, error = JobOutcome.FAILED, f"{type(exc).__name__}: {exc}"
                    log.exception("job.failed", extra={"job": job.name})
            if handled.get(job.name):
                log.info("job.done", extra={"job": job.name, "handled": handled[job.name]})
            runs.append(
                {
                    "name": job.name,
                    "started_at": started,
                    "finished_at": self.clock.now(),
                    "outcome": outcome,
                    "handled": handled.get(job.name, 0),
                    "error": error[:300],
                }
            )
        await self._record(runs)
        return handled

    async def _record(self, runs: list[dict[str, Any]]) -> None:
        """Keep each job's last run (and its backlog) in one transaction; losing a record never stops the sweep."""
        if not runs:
            return
        backlogs = {job.name: job.backlog for job in self.jobs if job.backlog is not None}
        try:
            async with self.db.transaction() as session:
                insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
                for run in runs:
                    count = backlogs.get(run["name"])
                    backlog = await count(session, self.clock.now()) if count else None
                    row = insert(JobRun).values(**run, backlog=backlog)
                    fields = ("started_at", "finished_at", "outcome", "handled", "error", "backlog")
                    await session.execute(
                        row.on_conflict_do_update(index_elements=["name"], set_={f: row.excluded[f] for f in fields})
                    )
        except Exception as exc:
            if not is_unavailable(exc):
                log.exception("job.record_failed")

    def start(self) -> None:
        if self.jobs:
            self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()
