"""The sweeper runs every job each tick, survives failing jobs, and due rows are claimed by one worker only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from kernel.auth.models import AuthToken
from kernel.clock import FixedClock
from kernel.db import Database, is_sqlite
from kernel.jobs import Job, Sweeper, claim_due
from tests.factories import login, signup


async def test_a_failing_job_does_not_stop_the_others(app, clock: FixedClock, caplog) -> None:
    ran: list[str] = []

    async def broken(db: Database, clock: FixedClock) -> int:
        raise RuntimeError("boom")

    async def fine(db: Database, clock: FixedClock) -> int:
        ran.append("fine")
        return 3

    sweeper = Sweeper(app.state.db, clock, timedelta(seconds=1), [Job("broken", broken), Job("fine", fine)])
    assert await sweeper.run_once() == {"fine": 3}
    assert ran == ["fine"]
    assert any(r.getMessage() == "job.failed" and r.job == "broken" for r in caplog.records)


async def test_the_sweeper_ticks_until_stopped(app, clock: FixedClock) -> None:
    ticks = 0

    async def count(db: Database, clock: FixedClock) -> int:
        nonlocal ticks
        ticks += 1
        return 0

    sweeper = Sweeper(app.state.db, clock, timedelta(milliseconds=10), [Job("count", count)])
    sweeper.start()
    await asyncio.sleep(0.2)
    await sweeper.stop()
    seen = ticks
    await asyncio.sleep(0.05)
    assert seen >= 3 and ticks == seen


async def test_due_rows_are_claimed_by_one_worker_only(client, app, clock: FixedClock) -> None:
    if is_sqlite(app.state.db.url):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers with BEGIN IMMEDIATE instead")
    user = await signup(client)
    for _ in range(6):
        await login(client, user["email"])
    now = clock.now() + timedelta(days=100)  # past the tests' 90-day session TTL: every token is "due"
    query = select(AuthToken.id)
    db: Database = app.state.db
    async with db.transaction() as first, db.transaction() as second:
        mine = set(await first.scalars(claim_due(query, AuthToken.expires_at, now, limit=4)))
        theirs = set(await second.scalars(claim_due(query, AuthToken.expires_at, now, limit=10)))
    assert len(mine) == 4 and len(theirs) == 2
    assert not mine & theirs


async def test_each_jobs_last_run_outcome_and_backlog_are_readable_by_admins(client, app, clock: FixedClock) -> None:
    from tests.factories import bearer
    from tests.shop.helpers import make_admin

    async def broken(db: Database, clock: FixedClock) -> int:
        raise RuntimeError("boom")

    async def fine(db: Database, clock: FixedClock) -> int:
        return 2

    async def two_left(session, now) -> int:  # type: ignore[no-untyped-def]
        return 5

    sweeper = Sweeper(app.state.db, clock, timedelta(seconds=1), [Job("broken", broken), Job("fine", fine, two_left)])
    await sweeper.run_once()
    clock.advance(timedelta(minutes=1))
    await sweeper.run_once()  # a second round overwrites the first: one row per job

    admin = await make_admin(client, app)
    items = {j["name"]: j for j in (await client.get("/api/admin/jobs", headers=bearer(admin))).json()["items"]}

    assert items["broken"]["outcome"] == "failed" and items["broken"]["error"] == "RuntimeError: boom"
    assert items["broken"]["backlog"] is None
    assert items["fine"] | {"started_at": None, "finished_at": None} == {
        "name": "fine",
        "outcome": "done",
        "handled": 2,
        "backlog": 5,
        "error": "",
        "started_at": None,
        "finished_at": None,
    }
    assert items["fine"]["finished_at"].startswith("2026-03-02T09:01:00")
    page = await client.get("/admin/jobs", headers={"accept": "text/html", **bearer(admin)})
    assert page.status_code == 200 and 'data-job="broken"' in page.text and "RuntimeError: boom" in page.text
