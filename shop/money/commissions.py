"""How a held amount splits between seller, platform and creators: pure arithmetic, exact to the minor unit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from kernel.money import Money, allocate

BPS = 10_000


@dataclass(frozen=True)
class LineTerms:
    """What a sold line earns for whom: its price and the rates frozen on it at checkout."""

    amount_minor: int
    commission_bps: int
    creator_id: UUID | None = None
    affiliate_rate_bps: int = 0


@dataclass(frozen=True)
class Split:
    seller: Money
    platform: Money
    creators: dict[UUID, Money] = field(default_factory=dict)

    def total(self) -> Money:
        return sum(self.creators.values(), self.seller + self.platform)


def split(held: Money, lines: Sequence[LineTerms]) -> Split:
    """Split ``held`` across ``lines`` in proportion to their amounts, then each line by its rates.

    The platform takes the category commission, an attributed line's creator the affiliate rate, and the seller the
    rest. Both steps use largest-remainder allocation, so the shares always add up to ``held`` exactly.
    """
    if not lines:
        raise ValueError("an order has at least one line")
    currency = held.currency
    seller, platform = 0, 0
    creators: dict[UUID, int] = defaultdict(int)
    for line, line_held in zip(lines, allocate(held, [line.amount_minor for line in lines]), strict=True):
        affiliate = line.affiliate_rate_bps if line.creator_id is not None else 0
        if line.commission_bps + affiliate > BPS:
            raise ValueError("commission and affiliate rate exceed the whole line")
        to_platform, to_creator, to_seller = allocate(
            line_held, [line.commission_bps, affiliate, BPS - line.commission_bps - affiliate]
        )
        platform += to_platform.amount_minor
        seller += to_seller.amount_minor
        if line.creator_id is not None and to_creator.amount_minor:
            creators[line.creator_id] += to_creator.amount_minor
    return Split(
        seller=Money(seller, currency),
        platform=Money(platform, currency),
        creators={creator: Money(amount, currency) for creator, amount in creators.items()},
    )
