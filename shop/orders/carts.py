"""The signed-in buyer's cart, kept on the server so every device and page sees the same one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
            .where(CartItem.buyer_id == buyer_id)
            .order_by(CartItem.created_at)
        )
        return [CartLine(product, item.quantity, item.source) for item, product in rows]

    async def add(
        self, buyer_id: UUID, product_id: UUID, quantity: int = 1, source: dict[str, Any] | None = None
    ) -> None:
        product = await self.catalog.get(product_id)
        item = await self._item(buyer_id, product.id)
        if item is None:
            _check_available(product, quantity)
            try:
                # A savepoint: the same buyer adding the same product from another tab may insert its row first
                # (the unique constraint refuses ours); then this add goes onto that row instead.
                async with self.session.begin_nested():
                    self.session.add(
                        CartItem(buyer_id=buyer_id, product_id=product.id, quantity=quantity, source=source)
                    )
            except IntegrityError:
                item = await self._item(buyer_id, product.id)
            else:
                await self._touch(buyer_id, product.id, source or {})
                return
        assert item is not None, "the row that refused our insert is there"
        _check_available(product, item.quantity + quantity)
        item.quantity += quantity
        item.source = source or item.source
        await self.session.flush()
        await self._touch(buyer_id, product.id, item.source or {})

    async def _item(self, buyer_id: UUID, product_id: UUID) -> CartItem | None:
        """The buyer's cart row of a product, locked (on PostgreSQL) so that concurrent adds do not lose one."""
        return await self.session.scalar(
            select(CartItem).where(CartItem.buyer_id == buyer_id, CartItem.product_id == product_id).with_for_update()
        )

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


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _check_available(product: Product, quantity: int) -> None:
    if not 0 < quantity <= min(MAX_QUANTITY, product.stock):
        raise RuleBroken("quantity_unavailable", f"Only {product.stock} of {product.title!r} are in stock.")
