"""What shop keeps for the life of the process: its providers and the attribution resolvers."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.attribution.rule import Attribution
from shop.money.gateway import PaymentGateway, PayoutGateway
from shop.money.sandbox import SandboxPayments, SandboxPayouts


@dataclass
class ShopRuntime:
    payments: PaymentGateway = field(default_factory=SandboxPayments)
    payouts: PayoutGateway = field(default_factory=SandboxPayouts)
    attribution: Attribution = field(default_factory=Attribution)
