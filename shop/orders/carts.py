"""The signed-in buyer's cart, kept on the server so every device and page sees the same one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from kernel.errors import RuleBroken
from kernel.money import Money
from shop.attribution.rule import Attribution
from shop.attribution.touches import TouchKind, TouchRecorder
from shop.catalog.products import CatalogService
from shop.models import CartItem, Product

MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    source: dict[str, Any] | None

    @property
    def amount(self) -> Money:
        return self.product.price * self.quantity


class CartService:
    def __init__(
        self,
        session: AsyncSession,
        catalog: CatalogService,
        touches: TouchRecorder | None = None,
        attribution: Attribution | None = None,
    ) -> None:
        self.session = session
        self.catalog = catalog
        self.touches = touches  # add-to-cart touches feed the reports' funnel
        self.attribution = attribution

    async def lines(self, buyer_id: UUID) -> list[CartLine]:
        rows = await self.session.execute(
            select(CartItem, Product)
            .join(Product, Product.id == CartItem.product_id)
            # An archived product leaves every cart; its line comes back if the seller puts it on sale again.
            .where(CartItem.buyer_id == buyer_id, Product.archived_at.is_(None))
            .order_by(CartItem.created_at)
        )
        return [CartLine(product, item.quantity, item.source) for item, product in rows]

    async def add(
        self, buyer_id: UUID, product_id: UUID, quantity: int = 1, source: dict[str, Any] | None = None
    ) -> None:
        """Add ``quantity`` to the buyer's line of this product, up to the stock: one conditional upsert, so adds
        racing from several tabs or devices each count once and never pass the stock."""
        product = await self.catalog.on_sale(product_id)
        limit = min(MAX_QUANTITY, product.stock)
        if not 0 < quantity <= limit:
            raise RuleBroken("quantity_unavailable", f"Only {product.stock} of {product.title!r} are in stock.")
        now = datetime.now(UTC)
        insert = _insert_for(self.session)(CartItem).values(
            id=uuid7(),
            buyer_id=buyer_id,
            product_id=product.id,
            quantity=quantity,
            source=source,
            created_at=now,
            updated_at=now,
        )
        current = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=[CartItem.buyer_id, CartItem.product_id],
            # Where the buyer found it last, if this add says; otherwise where they found it before.
            set_={"quantity": CartItem.quantity + current.quantity, "updated_at": current.updated_at}
            | ({"source": current.source} if source else {}),
            where=CartItem.quantity + current.quantity <= limit,
        ).returning(CartItem.source)
        added = (await self.session.execute(upsert)).first()
        if added is None:  # the line would pass the stock: the row was left as it was
            raise RuleBroken("quantity_unavailable", f"Only {product.stock} of {product.title!r} are in stock.")
        await self._touch(buyer_id, product.id, added.source or {})

    async def _touch(self, buyer_id: UUID, product_id: UUID, source: dict[str, Any]) -> None:
        if self.touches is None:
            return
        creator = None
        if self.attribution is not None:
            for kind, value in source.items():
                if creator := await self.attribution.resolve(self.session, kind, str(value)):
                    break
        self.touches.record(
            TouchKind.ADD_TO_CART,
            creator_id=creator,
            product_id=product_id,
            room_id=_uuid(source.get("room_id")),
            post_id=_uuid(source.get("post_id")),
            link_code=str(source["ref"])[:32] if source.get("ref") else None,
            user_id=buyer_id,
        )

    async def set_quantity(self, buyer_id: UUID, product_id: UUID, quantity: int) -> None:
        if quantity <= 0:
            await self.remove(buyer_id, product_id)
            return
        item = await self.session.scalar(
            select(CartItem).where(CartItem.buyer_id == buyer_id, CartItem.product_id == product_id)
        )
        if item is not None:
            item.quantity = min(quantity, MAX_QUANTITY)
            await self.session.flush()

    async def remove(self, buyer_id: UUID, product_id: UUID) -> None:
        await self.remove_all(buyer_id, [product_id])

    async def remove_all(self, buyer_id: UUID, product_ids: Iterable[UUID]) -> None:
        """Take these products out of the buyer's cart, whatever their quantities; the other lines stay."""
        await self.session.execute(
            delete(CartItem).where(CartItem.buyer_id == buyer_id, CartItem.product_id.in_(list(product_ids)))
        )


def _insert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT ... DO UPDATE (PostgreSQL and SQLite spell it alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None
