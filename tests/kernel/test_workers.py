"""The background worker: one task between start and stop; crashes logged, rounds repeated."""

from __future__ import annotations

import asyncio

import pytest

from kernel.workers import Worker


async def test_stop_cancels_the_loop_and_waits_for_it() -> None:
    cleaned_up = asyncio.Event()

    async def loop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    worker = Worker("forever", loop)
    worker.start()
    await asyncio.sleep(0)
    assert worker.running
    await worker.stop()
    assert cleaned_up.is_set() and not worker.running
    await worker.stop()  # stopping twice is harmless


async def test_a_crash_is_logged_not_raised_at_stop(caplog: pytest.LogCaptureFixture) -> None:
    async def crash() -> None:
        raise RuntimeError("boom")

    worker = Worker("crasher", crash)
    worker.start()
    await asyncio.sleep(0.01)
    await worker.stop()
    assert any(record.message == "worker.crashed" for record in caplog.records)


async def test_rounds_repeat_after_a_failed_one() -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("first round fails")
        if len(rounds) == 3:
            third.set()

    worker = Worker("rounds", round_, every=0.001)
    worker.start()
    async with asyncio.timeout(2):
        await third.wait()
    await worker.stop()


async def test_started_waits_for_readiness() -> None:
    ready = asyncio.Event()

    async def subscribe() -> None:
        ready.set()
        await asyncio.Event().wait()

    async def never_ready() -> None:
        await asyncio.Event().wait()

    subscribed = Worker("subscriber", subscribe)
    assert await subscribed.started(ready, 1.0)
    late = Worker("late", never_ready)
    assert not await late.started(asyncio.Event(), 0.01)
    await subscribed.stop()
    await late.stop()
