"""Creator coupons: a code a creator hands out; a checkout that uses it gets the discount and credits the creator."""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.errors import Conflict, NotFound, RuleBroken
from kernel.money import Money, allocate
from shop.models import Coupon

BPS = 10_000
MAX_DISCOUNT_BPS = 5_000
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")


class CouponStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # checkouts refuse it until its creator resumes it; past sales keep their credit


def code_key(code: str) -> str:
    """A coupon's identity: "Summer-10" and "SUMMER-10" are the same coupon."""
    return code.strip().casefold()


class CouponService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def create(self, creator_id: UUID, code: str, discount_bps: int) -> Coupon:
        """Issue ``code`` for ``creator_id``; Conflict when any creator already holds it, in any letter case."""
        code = code.strip()
        if not CODE_PATTERN.match(code):
            raise RuleBroken(
                "invalid_coupon_code",
                "A coupon code is 3 to 40 letters, digits, '-' or '_', starting with a letter or digit.",
                errors=[{"field": "code", "message": "3-40 letters, digits, - or _"}],
            )
        if not 0 < discount_bps <= MAX_DISCOUNT_BPS:
            raise RuleBroken(
                "invalid_discount",
                f"A discount is more than 0 and at most {MAX_DISCOUNT_BPS} basis points (50%).",
                errors=[{"field": "discount_bps", "message": f"1 to {MAX_DISCOUNT_BPS}"}],
            )
        coupon = Coupon(
            code=code,
            code_key=code_key(code),
            creator_id=creator_id,
            discount_bps=discount_bps,
            created_at=self.clock.now(),
        )
        try:
            async with self.session.begin_nested():
                self.session.add(coupon)
        except IntegrityError:
            raise Conflict("coupon_code_taken", f"The coupon code {code!r} is already taken.") from None
        return coupon

    async def find(self, code: str) -> Coupon:
        """The coupon a checkout names; RuleBroken (422) when there is none or its creator paused it."""
        coupon = await self.session.scalar(select(Coupon).where(Coupon.code_key == code_key(code)))
        if coupon is None:
            raise RuleBroken(
                "unknown_coupon",
                f"There is no coupon {code!r}.",
                errors=[{"field": "coupon_code", "message": "There is no such coupon."}],
            )
        if coupon.status == CouponStatus.PAUSED:
            raise RuleBroken(
                "coupon_paused",
                f"The coupon {coupon.code!r} is paused by its creator.",
                errors=[{"field": "coupon_code", "message": "this coupon is paused"}],
            )
        return coupon

    async def set_status(self, creator_id: UUID, coupon_id: UUID, status: CouponStatus) -> Coupon:
        """Pause or resume one of ``creator_id``'s coupons; another creator's coupon is NotFound, like none."""
        coupon = await self.session.get(Coupon, coupon_id)
        if coupon is None or coupon.creator_id != creator_id:
            raise NotFound("coupon_not_found", f"There is no coupon {coupon_id}.")
        coupon.status = status.value
        await self.session.flush()
        return coupon


def discounts(coupon: Coupon, amounts: list[Money]) -> list[Money]:
    """The coupon's discount on each line: the percentage of the basket (rounded down), allocated exactly over the
    lines in proportion to their amounts, so the line discounts add up to the basket's discount."""
    total = sum(amounts, Money.zero(amounts[0].currency))
    off = Money(total.amount_minor * coupon.discount_bps // BPS, total.currency)
    return allocate(off, [amount.amount_minor for amount in amounts])
