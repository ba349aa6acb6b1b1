"""Time as a dependency, so tests can move it and deadlines can be checked without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def rfc3339(value: datetime) -> str:
    """An aware time as RFC 3339 text, exactly as msgspec writes it in JSON: ``2026-03-02T09:00:00Z`` (microseconds
    only when there are some). For the few places that carry a time as text: bus events and HTML attributes."""
    if value.tzinfo is None:
        raise ValueError("rfc3339 needs a timezone-aware time")
    return value.isoformat().replace("+00:00", "Z")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
