"""The interfaces checkout, refunds and payouts use to move real money."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kernel.money import Money


@dataclass(frozen=True)
class Charge:
    charge_id: str
    amount: Money
    voided: bool = False


class PaymentGateway(Protocol):
    async def charge(self, amount: Money, token: str, reference: str) -> Charge:
        """Capture ``amount``; raise PaymentDeclined (402) or Unavailable (503).

        ``reference`` is the provider's idempotency key: charging again under a reference that already holds a
        charge returns that charge, never a second one (a checkout retried after a crash is charged once).
        """
        ...

    async def find(self, reference: str) -> Charge | None:
        """The charge made under ``reference``, if the provider made one (the reconciler asks)."""
        ...

    async def void(self, charge_id: str) -> None:
        """Cancel a capture whose order could not be recorded; voiding a voided charge does nothing."""
        ...

    async def refund(self, charge_id: str, amount: Money) -> str:
        """Send ``amount`` of a charge back to the buyer; returns the provider's reference."""
        ...


class PayoutGateway(Protocol):
    async def pay(self, party_id: str, amount: Money, reference: str) -> str:
        """Send ``amount`` to a seller or creator; returns the provider's reference."""
        ...
