"""After-commit hooks: work that must happen only once the database agrees (publish an event, fan out a feed).

One global pair of SQLAlchemy Session listeners serves every feature: a feature registers a callback on the session
inside its transaction; the callbacks run in registration order when that transaction commits and are forgotten when
it rolls back. ``collect`` gathers one feature's items of a transaction into a single batch delivered at commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_CALLBACKS = "livecommerce.after_commit"
_BATCHES = "livecommerce.after_commit.batches"


def after_commit(session: AsyncSession | Session, callback: Callable[[], object]) -> None:
    """Call ``callback`` once ``session``'s transaction commits; forget it if the transaction rolls back."""
    session.info.setdefault(_CALLBACKS, []).append(callback)


def collect(session: AsyncSession | Session, key: str, item: Any, deliver: Callable[[list[Any]], object]) -> None:
    """Add ``item`` to the transaction's batch under ``key``; at commit the batch goes to ``deliver`` in one call.

    The ``deliver`` of the batch's first item is the one called.
    """
    batches: dict[str, list[Any]] = session.info.setdefault(_BATCHES, {})
    batch = batches.get(key)
    if batch is None:
        batch = batches[key] = []
        after_commit(session, lambda: deliver(batch))
    batch.append(item)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    session.info.pop(_BATCHES, None)
    for callback in session.info.pop(_CALLBACKS, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _forget_callbacks(session: Session) -> None:
    session.info.pop(_BATCHES, None)
    session.info.pop(_CALLBACKS, None)
