"""The admin console's landing page and its background-jobs section (the page and /api/admin/jobs).

The landing page only links the sections; each section lives with what it manages (accounts in kernel.auth,
categories, payouts, the ledger and disputes in shop). Jobs are read from what the sweeper records each round.
"""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import Role, requires_role
from kernel.jobs import JobRun, job_runs


class JobRunOut(Struct):
    name: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    handled: int
    backlog: int | None
    error: str


class JobsOut(Struct):
    items: list[JobRunOut]
    interval_s: float


def job_run_out(run: JobRun) -> JobRunOut:
    return JobRunOut(run.name, run.started_at, run.finished_at, run.outcome, run.handled, run.backlog, run.error)


async def _jobs(session: AsyncSession, state: State) -> JobsOut:
    interval = state.settings.shop.sweep_interval.total_seconds()
    return JobsOut([job_run_out(r) for r in await job_runs(session)], interval)


class JobsController(Controller):
    path = "/api/admin/jobs"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/")
    async def jobs(self, db_session: NamedDependency[AsyncSession], state: State) -> JobsOut:
        """Each background job's last run: when, its outcome, rows handled and rows still due (its backlog)."""
        return await _jobs(db_session, state)


class ConsolePages(Controller):
    path = "/admin"
    guards = [requires_role(Role.ADMIN)]

    @get("/")
    async def index(self) -> Template:
        return Template("admin/index.html")

    @get("/jobs")
    async def jobs(self, db_session: NamedDependency[AsyncSession], state: State) -> Template:
        return Template("admin/jobs.html", context={"jobs": await _jobs(db_session, state)})
