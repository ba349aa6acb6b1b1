"""The sandbox provider: deterministic outcomes chosen by the card token, no network."""

from __future__ import annotations

import hashlib

from kernel.errors import PaymentDeclined, RuleBroken, Unavailable
from kernel.money import Money
from shop.money.gateway import Charge

TOKENS = {"tok_ok", "tok_declined", "tok_error"}


def _ref(prefix: str, *parts: str) -> str:
    return f"{prefix}_" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class SandboxPayments:
    """``tok_ok`` succeeds, ``tok_declined`` is declined, ``tok_error`` fails like a provider outage."""

    async def charge(self, amount: Money, token: str, reference: str) -> Charge:
        if token == "tok_declined":
            raise PaymentDeclined("card_declined", "The card was declined; try another payment method.")
        if token == "tok_error":
            raise Unavailable(
                "payment_provider_unavailable",
                "The payment provider did not answer; nothing was charged. Try again in a moment.",
                retry_after=5,
            )
        if token != "tok_ok":
            raise RuleBroken(
                "unknown_payment_token",
                f"The sandbox accepts {', '.join(sorted(TOKENS))}.",
                errors=[{"field": "payment.token", "message": "unknown sandbox token"}],
            )
        return Charge(charge_id=_ref("ch", reference, str(amount)), amount=amount)

    async def void(self, charge_id: str) -> None:
        return None

    async def refund(self, charge_id: str, amount: Money) -> str:
        return _ref("re", charge_id, str(amount))


class SandboxPayouts:
    async def pay(self, party_id: str, amount: Money, reference: str) -> str:
        return _ref("po", party_id, str(amount), reference)
