"""Words and times for shop pages: status names, order timelines, ledger movements, deadlines.

Everything here returns plain text; templates escape it like any other value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from kernel.money import MINOR_UNITS, Money
from kernel.web import format_money
from shop.models import DisputeStatus, OrderAction, OrderEvent, OrderStatus
from shop.money.ledger import EntryKind

STATUS_LABELS: dict[str, str] = {
    OrderStatus.PAID: "Paid, waiting to ship",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.DISPUTED: "In dispute",
    OrderStatus.REFUNDED: "Refunded",
    OrderStatus.PARTIALLY_REFUNDED: "Partially refunded",
}

DISPUTE_REASONS = {
    "not_received": "It never arrived",
    "damaged": "It arrived damaged",
    "not_as_described": "It is not as described",
}

DISPUTE_STATES: dict[str, str] = {
    DisputeStatus.OPEN: "Waiting for the seller",
    DisputeStatus.OFFERED: "Partial refund offered",
    DisputeStatus.ESCALATED: "With LiveCommerce",
    DisputeStatus.REFUNDED: "Refunded",
    DisputeStatus.REJECTED: "Closed without a refund",
}

A = OrderAction

POSTING_KINDS: dict[str, str] = {
    EntryKind.RELEASE: "Sale released from escrow",
    EntryKind.REFUND: "Claw-back after refund",
    EntryKind.PAYOUT: "Paid out",
}

SORTS = {"newest": "Newest", "price_asc": "Price: low to high", "price_desc": "Price: high to low"}

CARDS = [("tok_ok", "Card that works"), ("tok_declined", "Card that is declined")]

COUNTRIES = [
    ("US", "United States"),
    ("CA", "Canada"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("NL", "Netherlands"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
    ("JP", "Japan"),
]


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def event_line(action: str, detail: dict[str, Any]) -> str:
    """One line of an order's timeline."""
    if action == A.PAID:
        return "Paid: the money is held in escrow"
    if action == A.SHIPPED:
        return f"Shipped with {detail.get('carrier', '')}, tracking {detail.get('tracking_number', '')}"
    if action == A.DELIVERY_CONFIRMED:
        return "Delivery confirmed by the buyer: escrow released"
    if action == A.AUTO_CONFIRMED:
        return "Confirmed automatically after the delivery window: escrow released"
    if action in (A.CANCELLED_NOT_SHIPPED, A.CANCELLED_BY_SELLER):
        who = "not shipped by the deadline" if action == A.CANCELLED_NOT_SHIPPED else "by the seller"
        return f"Cancelled {who}; refunded in full"
    if action in (A.REFUNDED, A.DISPUTE_REFUNDED):
        amount = detail.get("amount")
        refunded = f"Refunded {format_money(amount)}" if amount else "Refunded"
        return f"Dispute settled: {refunded.lower()}" if action == A.DISPUTE_REFUNDED else refunded
    if action == A.DISPUTE_OPENED:
        return f"Dispute opened: {DISPUTE_REASONS.get(str(detail.get('reason')), 'other')}"
    if action == A.DISPUTE_ESCALATED:
        return "Dispute passed to LiveCommerce for a decision"
    if action == A.DISPUTE_REJECTED:
        return "Dispute closed without a refund"
    if action == A.DISPUTE_OFFERED:
        amount = detail.get("amount")
        return f"The seller offered a partial refund of {format_money(amount)}" if amount else "Partial refund offered"
    return action.replace("_", " ").capitalize()


# Actions whose line already says the order was refunded: the refund recorded just before each is not repeated.
SAYS_REFUNDED = (A.DISPUTE_REFUNDED, A.CANCELLED_NOT_SHIPPED, A.CANCELLED_BY_SELLER)


def timeline(events: Sequence[OrderEvent]) -> list[OrderEvent]:
    """An order's events as its timeline shows them, oldest first, each happening once: a dispute settled with a
    refund, or a cancellation, is one line, though the audit trail keeps its refund as a row of its own."""
    return [
        event
        for event, after in zip(events, [*events[1:], None], strict=True)
        if not (event.action == A.REFUNDED and after is not None and after.action in SAYS_REFUNDED)
    ]


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def absolute(value: datetime | None) -> str:
    """``2 Mar 2026, 09:00 UTC``."""
    if value is None:
        return ""
    value = utc(value)
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def _amount(delta: timedelta) -> tuple[int, str]:
    """The largest whole unit in ``delta``, rounded to the nearest: 6 days 23 hours is "7 days"."""
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return int(seconds / size + 0.5), unit
    return int(seconds + 0.5), "second"


def relative(value: datetime | None, now: datetime) -> str:
    """``in 3 days``, ``5 hours ago``, ``now``."""
    if value is None:
        return ""
    delta = utc(value) - utc(now)
    count, unit = _amount(delta)
    if count == 0:
        return "now"
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if delta > timedelta(0) else f"{words} ago"


def span(length: timedelta) -> str:
    """A duration as an adjective: ``15-day``, ``4-second``."""
    count, unit = _amount(length)
    return f"{count}-{unit}"


def duration(length: timedelta) -> str:
    """``3 days``, ``1 hour``."""
    count, unit = _amount(length)
    return f"{count} {unit}{'' if count == 1 else 's'}"


def short_id(value: object) -> str:
    """An id short enough to read out: the last 8 characters (UUIDv7's first ones are a timestamp, shared by
    everything created in the same minute)."""
    return str(value)[-8:]


def major_units(money: Money) -> str:
    """An amount as typed into a form: ``25.00`` for 2500 cents."""
    return str(Decimal(money.amount_minor).scaleb(-MINOR_UNITS[money.currency]))


HELPERS = {
    "short_id": short_id,
    "major_units": major_units,
    "absolute": absolute,
    "relative": relative,
    "status_label": status_label,
    "event_line": event_line,
    "timeline": timeline,
    "reasons": DISPUTE_REASONS,
    "dispute_states": DISPUTE_STATES,
    "posting_kinds": POSTING_KINDS,
}
