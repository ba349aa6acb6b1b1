"""What shop keeps for the life of the process: its providers and the attribution resolvers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shop.attribution.rule import Attribution
from shop.money.gateway import PaymentGateway, PayoutGateway
from shop.money.sandbox import SandboxPayments, SandboxPayouts

SANDBOX_RECORD = "sandbox-charges.sqlite3"  # the sandbox provider's own book, in the data folder


@dataclass
class ShopRuntime:
    payments: PaymentGateway = field(default_factory=SandboxPayments)
    payouts: PayoutGateway = field(default_factory=SandboxPayouts)
    attribution: Attribution = field(default_factory=Attribution)

    @classmethod
    def sandbox(cls, data_dir: Path) -> ShopRuntime:
        """The sandbox providers, keeping their record of charges in ``data_dir`` for every worker to share."""
        return cls(payments=SandboxPayments(data_dir / SANDBOX_RECORD))
