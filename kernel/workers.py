"""Background work: one task per loop, started with the app and cancelled (and awaited) at shutdown.

Every background class holds a :class:`Worker` for each of its loops instead of writing its own create-task,
cancel and await. A loop that crashes is logged rather than left as an unretrieved exception that only surfaces
at shutdown; with ``every`` set, the work is one round repeated at that interval and a failed round is logged and
the next one runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from kernel.db import is_unavailable, outage_summary

log = logging.getLogger("livecommerce.workers")


class Worker:
    """Runs ``work`` in a task of its own between ``start()`` and ``stop()``.

    Args:
        name: the task's name, also in the logs.
        work: the loop (or, with ``every``, one round of it).
        every: seconds between the end of one round and the start of the next; None: ``work`` is the whole loop.
    """

    def __init__(self, name: str, work: Callable[[], Awaitable[object]], every: float | None = None) -> None:
        self.name = name
        self._work = work
        self._every = every
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Started and not stopped (the loop itself may have ended)."""
        return self._task is not None

    def start(self) -> None:
        """Start the task (once: starting a running worker does nothing)."""
        if self._task is None:
            self._task = asyncio.create_task(self._main(), name=self.name)

    async def started(self, ready: asyncio.Event, within: float) -> bool:
        """Start, then wait until the work sets ``ready`` (True), or ends or ``within`` seconds pass (False)."""
        self.start()
        assert self._task is not None
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiting}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
        return ready.is_set()

    async def stop(self) -> None:
        """Cancel the task and wait until it has ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _main(self) -> None:
        if self._every is None:
            try:
                await self._work()
            except Exception:
                log.exception("worker.crashed", extra={"worker": self.name})
            return
        while True:
            try:
                await self._work()
            except Exception as exc:
                if is_unavailable(exc):  # the database is away: no bug to trace, the next round retries
                    log.warning("worker.round_deferred", extra={"worker": self.name, "error": outage_summary(exc)})
                else:
                    log.exception("worker.round_failed", extra={"worker": self.name})
            await asyncio.sleep(self._every)
