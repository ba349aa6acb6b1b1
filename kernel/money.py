"""Money in integer minor units with its currency; the one place where amounts are split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec

# Minor units per major unit; currencies outside this table are refused rather than guessed.
MINOR_UNITS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "CAD": 2, "AUD": 2, "JPY": 0, "KRW": 0}

CurrencyCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", examples=["USD"])]
# 10^13 minor units is far above any single price; it keeps sums far from 64-bit limits.
AmountMinor = Annotated[int, msgspec.Meta(ge=0, le=10**13)]


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class Money(msgspec.Struct, frozen=True):
    """An amount of one currency in minor units (cents for USD)."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int):
            raise TypeError("Money is multiplied by whole quantities only")
        return Money(self.amount_minor * quantity, self.currency)

    def __str__(self) -> str:
        digits = MINOR_UNITS[self.currency]
        sign = "-" if self.amount_minor < 0 else ""
        major, minor = divmod(abs(self.amount_minor), 10**digits)
        return f"{sign}{major:,}.{minor:0{digits}d} {self.currency}" if digits else f"{sign}{major:,} {self.currency}"


def allocate(total: Money, weights: Sequence[int]) -> list[Money]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up to it exactly.

    Largest-remainder method: each part gets the floor of its exact share, and the leftover minor units go one
    each to the parts with the largest remainders, ties to the earlier part, so the result is deterministic.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("allocate needs at least one non-negative weight and a positive sum")
    sign = -1 if total.amount_minor < 0 else 1
    amount, weight_sum = abs(total.amount_minor), sum(weights)
    floors = [amount * w // weight_sum for w in weights]
    remainders = [amount * w % weight_sum for w in weights]
    leftover = amount - sum(floors)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        floors[index] += 1
    return [Money(sign * part, total.currency) for part in floors]
