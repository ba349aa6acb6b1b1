"""Referral links: a creator's short code (``/r/{code}``) that sends a visitor to a product, a room, a post or the
creator's storefront, recording a click touch on the way so that a later purchase can be credited to them.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.errors import RuleBroken
from shop.models import Product, ReferralLink

# Lower case only and without look-alikes (i/l/1, o/0): a code survives being retyped, read aloud or upper-cased
# by a chat client. 31^10 ≈ 8·10^14 codes, so guessing one that exists is hopeless at any request rate.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10


class LinkTarget(StrEnum):
    PRODUCT = "product"
    ROOM = "room"
    POST = "post"
    STOREFRONT = "storefront"


# Where each kind of target lives; paths only, since shop never imports the domains that serve them.
TARGET_PATHS = {
    LinkTarget.PRODUCT: "/shop/products/{id}",
    LinkTarget.ROOM: "/live/rooms/{id}",
    LinkTarget.POST: "/posts/{id}",
    LinkTarget.STOREFRONT: "/creators/{id}",
}
# The source key each target hands to the attribution resolvers, to check that the room or post exists.
RESOLVER_KINDS = {LinkTarget.ROOM: "room_id", LinkTarget.POST: "post_id"}


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    return code.strip().lower()


def target_url(link: ReferralLink) -> str:
    """The page the link sends its visitors to, carrying ``?ref=`` so that the cart and checkout keep it."""
    target = LinkTarget(link.target_kind)
    target_id = link.creator_id if target is LinkTarget.STOREFRONT else link.target_id
    return TARGET_PATHS[target].format(id=target_id) + f"?ref={link.code}"


class LinkService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def create(self, creator_id: UUID, target: LinkTarget, target_id: UUID | None) -> ReferralLink:
        """A new link for ``creator_id``; the target must exist (rooms and posts are checked by ``exists``)."""
        if target is LinkTarget.PRODUCT and await self.session.get(Product, target_id) is None:
            raise RuleBroken(
                "unknown_product",
                f"There is no product {target_id}.",
                errors=[{"field": "target.product_id", "message": "unknown product"}],
            )
        for _ in range(5):  # a collision is astronomically rare; retrying keeps it from ever surfacing
            link = ReferralLink(
                code=new_code(),
                creator_id=creator_id,
                target_kind=target.value,
                target_id=None if target is LinkTarget.STOREFRONT else target_id,
                created_at=self.clock.now(),
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(link)
            except IntegrityError:
                continue
            return link
        raise RuntimeError("could not find a free referral code")


async def find(session: AsyncSession, code: str) -> ReferralLink | None:
    """The link with ``code``, in any letter case."""
    code = normalise(code)
    if len(code) != CODE_LENGTH:
        return None
    return await session.scalar(select(ReferralLink).where(ReferralLink.code == code))


async def creator_of_code(session: AsyncSession, code: str) -> UUID | None:
    """The attribution resolver for ``{"ref": code}`` sources."""
    link = await find(session, code)
    return link.creator_id if link is not None else None
