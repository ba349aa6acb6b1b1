"""The sandbox provider: deterministic outcomes chosen by the card token, no network.

Like a real provider it keeps its own record of charges, outside the app's database transaction: a SQLite file
beside the app's data (every worker shares it), or memory when no file is given (tests). What the record holds is
what the provider would say it charged, whatever the app committed, so tests and the soak can check that every
charge has exactly one order or one void.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from pathlib import Path

from kernel.errors import PaymentDeclined, RuleBroken, Unavailable
from kernel.money import Money
from shop.money.gateway import Charge

TOKENS = {"tok_ok", "tok_slow", "tok_declined", "tok_error"}
SLOW_S = 3.0  # tok_slow: a new charge is made, then the provider takes this long to answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_charge (
    charge_id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    voided INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


def _ref(prefix: str, *parts: str) -> str:
    return f"{prefix}_" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class ChargeRecord:
    """The provider's book of charges: one row per reference, written the moment the provider charges."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", timeout=15, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
            self._db.execute(_SCHEMA)

    def charge(self, reference: str, amount: Money) -> tuple[Charge, bool]:
        """The charge under ``reference`` and whether it was made now (else: the one made before, returned as a
        provider answers a repeated idempotency key)."""
        with self._lock:
            made = self._db.execute(
                "INSERT OR IGNORE INTO sandbox_charge (charge_id, reference, amount_minor, currency) VALUES (?,?,?,?)",
                (_ref("ch", reference), reference, amount.amount_minor, amount.currency),
            ).rowcount
            return self._by_reference(reference), made == 1  # type: ignore[return-value]

    def find(self, reference: str) -> Charge | None:
        with self._lock:
            return self._by_reference(reference)

    def void(self, charge_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE sandbox_charge SET voided = 1 WHERE charge_id = ?", (charge_id,))

    def all(self) -> list[Charge]:
        with self._lock:
            rows = self._db.execute("SELECT charge_id, amount_minor, currency, voided FROM sandbox_charge").fetchall()
        return [
            Charge(charge_id, Money(amount, currency), bool(voided)) for charge_id, amount, currency, voided in rows
        ]

    def _by_reference(self, reference: str) -> Charge | None:
        row = self._db.execute(
            "SELECT charge_id, amount_minor, currency, voided FROM sandbox_charge WHERE reference = ?", (reference,)
        ).fetchone()
        return None if row is None else Charge(row[0], Money(row[1], row[2]), bool(row[3]))


class SandboxPayments:
    """``tok_ok`` succeeds, ``tok_slow`` succeeds slowly, ``tok_declined`` is declined, ``tok_error`` fails like a
    provider outage."""

    def __init__(self, record: Path | None = None) -> None:
        self.record = ChargeRecord(record)

    async def charge(self, amount: Money, token: str, reference: str) -> Charge:
        if token == "tok_declined":
            raise PaymentDeclined("card_declined", "The card was declined; try another payment method.")
        if token == "tok_error":
            raise Unavailable(
                "payment_provider_unavailable",
                "The payment provider did not answer; nothing was charged. Try again in a moment.",
                retry_after=5,
            )
        if token not in TOKENS:
            raise RuleBroken(
                "unknown_payment_token",
                f"The sandbox accepts {', '.join(sorted(TOKENS))}.",
                errors=[{"field": "payment.token", "message": "unknown sandbox token"}],
            )
        charge, made_now = await asyncio.to_thread(self.record.charge, reference, amount)
        if charge.amount != amount:
            raise RuleBroken(
                "payment_reference_reused",
                "This checkout was first tried with another total; start a new checkout with a new Idempotency-Key.",
            )
        if token == "tok_slow" and made_now:  # a repeated reference is answered at once, as a provider's replay
            await asyncio.sleep(SLOW_S)
        return charge

    async def find(self, reference: str) -> Charge | None:
        return await asyncio.to_thread(self.record.find, reference)

    async def void(self, charge_id: str) -> None:
        await asyncio.to_thread(self.record.void, charge_id)

    async def refund(self, charge_id: str, amount: Money) -> str:
        return _ref("re", charge_id, str(amount))


class SandboxPayouts:
    async def pay(self, party_id: str, amount: Money, reference: str) -> str:
        return _ref("po", party_id, str(amount), reference)
