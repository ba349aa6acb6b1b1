"""How a held amount splits between seller, platform and creators: pure arithmetic, exact to the minor unit.

This is the one commission rule: the escrow release pays by ``split`` and the reports and earnings count by
``creator_commissions``, both built on ``line_shares``, so what a report shows is what the ledger credits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from kernel.money import Money, allocate

BPS = 10_000


class SoldLine(Protocol):
    """What the rule reads from a sold line: an ``OrderLine`` row, or ``LineTerms``."""

    @property
    def amount_minor(self) -> int: ...

    @property
    def commission_bps(self) -> int: ...

    @property
    def creator_id(self) -> UUID | None: ...

    @property
    def affiliate_rate_bps(self) -> int: ...


@dataclass(frozen=True)
class LineTerms:
    """What a sold line earns for whom: its price and the rates frozen on it at checkout."""

    amount_minor: int
    commission_bps: int
    creator_id: UUID | None = None
    affiliate_rate_bps: int = 0


@dataclass(frozen=True)
class LineShares:
    """One line's part of a held amount."""

    seller: Money
    platform: Money
    creator: Money  # zero when the line has no creator, whatever the product's affiliate rate


@dataclass(frozen=True)
class Split:
    seller: Money
    platform: Money
    creators: dict[UUID, Money] = field(default_factory=dict)

    def total(self) -> Money:
        return sum(self.creators.values(), self.seller + self.platform)


def line_shares(held: Money, lines: Sequence[SoldLine]) -> list[LineShares]:
    """Split ``held`` across ``lines`` in proportion to their amounts, then each line by its rates.

    The platform takes the category commission, an attributed line's creator the affiliate rate, and the seller the
    rest. Both steps use largest-remainder allocation, so the shares always add up to ``held`` exactly.

    Args:
        held: What escrow holds (or would hold) for the lines: their total, or less after refunds.
        lines: The order's lines, in a stable order (allocation gives remainders by position).

    Returns:
        Each line's shares, in the order of ``lines``.

    Raises:
        ValueError: There are no lines, or a line's rates add up to more than the whole line.
    """
    if not lines:
        raise ValueError("an order has at least one line")
    shares = []
    for line, line_held in zip(lines, allocate(held, [line.amount_minor for line in lines]), strict=True):
        affiliate = line.affiliate_rate_bps if line.creator_id is not None else 0
        if line.commission_bps + affiliate > BPS:
            raise ValueError("commission and affiliate rate exceed the whole line")
        to_platform, to_creator, to_seller = allocate(
            line_held, [line.commission_bps, affiliate, BPS - line.commission_bps - affiliate]
        )
        shares.append(LineShares(seller=to_seller, platform=to_platform, creator=to_creator))
    return shares


def creator_commissions(held: Money, lines: Sequence[SoldLine]) -> list[Money]:
    """Each line's creator commission out of ``held``, exactly as the escrow release pays it.

    Args:
        held: What escrow holds (or would hold) for the lines.
        lines: The order's lines, in the order the release reads them.

    Returns:
        One amount per line, in the order of ``lines``; zero for lines with no creator.
    """
    return [share.creator for share in line_shares(held, lines)]


def split(held: Money, lines: Sequence[SoldLine]) -> Split:
    """The shares of ``held`` per party: the seller, the platform and each creator (see ``line_shares``).

    Args:
        held: What escrow holds for the order.
        lines: The order's lines.

    Returns:
        The seller's, the platform's and each paid creator's total; creators earning nothing are left out.
    """
    currency = held.currency
    shares = line_shares(held, lines)
    creators: dict[UUID, int] = defaultdict(int)
    for line, share in zip(lines, shares, strict=True):
        if line.creator_id is not None and share.creator.amount_minor:
            creators[line.creator_id] += share.creator.amount_minor
    return Split(
        seller=Money(sum(share.seller.amount_minor for share in shares), currency),
        platform=Money(sum(share.platform.amount_minor for share in shares), currency),
        creators={creator: Money(amount, currency) for creator, amount in creators.items()},
    )
