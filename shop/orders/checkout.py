"""Checkout: one function and one transaction from a basket to paid orders with their money held in escrow."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser
from kernel.bus import Bus
from kernel.clock import Clock
from kernel.errors import RuleBroken
from kernel.money import Money
from kernel.settings import ShopSettings
from shop.attribution import coupons, receipts
from shop.attribution.coupons import CouponService
from shop.attribution.rule import Attribution, Decision
from shop.catalog import deals
from shop.catalog.products import CatalogService
from shop.events import ORDERS_TOPIC, DealRemaining, OrderPaid, PaidLine, StockChanged, mask_name, product_topic
from shop.models import Category, ChargeIntent, Coupon, Deal, Order, OrderAction, OrderLine, OrderStatus, Product
from shop.money import escrow
from shop.money.gateway import PaymentGateway
from shop.orders import intents
from shop.orders.carts import CartService
from shop.orders.lifecycle import OrderService, OrderView
from shop.schemas import CheckoutIn


@dataclass(frozen=True)
class _Line:
    product: Product
    quantity: int
    commission_bps: int
    creator_id: UUID | None
    source: dict[str, str] | None
    deal: Deal | None = None  # bought at the deal's price
    decision: Decision | None = None  # why the line is credited to its creator: stored as its receipt
    coupon: Coupon | None = None
    discount_minor: int = 0  # the coupon's share of this line

    @property
    def unit_price(self) -> Money:
        return self.deal.price if self.deal is not None else self.product.price

    @property
    def net(self) -> Money:
        return self.unit_price * self.quantity - Money(self.discount_minor, self.product.currency)


@dataclass(frozen=True)
class Placed:
    """A paid basket: its checkout id and its orders (one per seller), as their buyer sees them."""

    checkout_id: UUID
    orders: list[OrderView]


class Checkout:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        settings: ShopSettings,
        gateway: PaymentGateway,
        bus: Bus,
        attribution: Attribution,
    ) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.gateway = gateway
        self.bus = bus
        self.attribution = attribution
        self.catalog = CatalogService(session, settings.currency)
        self._uncommitted: list[str] = []  # charges placed in this transaction, voided unless it commits

    async def place_order(self, buyer: CurrentUser, cart: CheckoutIn, intent: ChargeIntent) -> Placed:
        """Validate, reserve stock, charge once, write one order per seller and its escrow hold.

        ``intent`` was committed before (see shop.orders.intents): the provider is charged under its reference and
        the orders carry its id as their checkout id, so a retry after a crash is charged once.

        The paid products leave the buyer's cart in the same transaction. Nothing is committed here: run it inside
        ``committing()``, so that what the caller writes beside the orders commits with them or not at all.

        Raises RuleBroken (422), Conflict (409, short stock: nothing reserved or charged), PaymentDeclined (402,
        nothing reserved) or Unavailable (503).
        """
        now = self.clock.now()
        buyer_id = buyer.id
        lines = await self._price(buyer_id, cart)  # validate everything first: nothing is reserved yet
        stock_left = {}
        for product_id, quantity in sorted(_quantities(lines).items()):  # one lock order: no deadlocks
            stock_left[product_id] = await self.catalog.reserve(product_id, quantity)
        deals_left = {}
        for deal, quantity in _deal_quantities(lines):  # after the products, in id order: one lock order again
            deals_left[deal] = await deals.take(self.session, deal, quantity, now)
            # Counted after ``take`` locked the deal's row, so a buyer's concurrent checkouts see each other.
            deals.check_limit(deal, await deals.bought_by(self.session, deal.id, buyer_id), quantity)
        total = sum((line.net for line in lines), Money.zero(self.settings.currency))
        checkout_id = intent.id
        charge = await self.gateway.charge(total, cart.payment.token, reference=intent.reference)
        try:
            orders = await self._write_orders(buyer, checkout_id, charge.charge_id, cart, lines)
            await intents.complete(self.session, intent, charge.charge_id)
            for product_id, left in stock_left.items():
                self.bus.after_commit(self.session, product_topic(product_id), StockChanged(str(product_id), left))
            for deal, left in deals_left.items():
                remaining = DealRemaining(str(deal.id), str(deal.product_id), left)
                self.bus.after_commit(self.session, product_topic(deal.product_id), remaining)
            # Bought is bought: a paid product leaves the cart whatever quantity it held; the other lines stay.
            await CartService(self.session, self.catalog).remove_all(buyer_id, [line.product.id for line in lines])
            views = await OrderService(self.session, self.clock, self.settings, self.gateway, self.bus).views(orders)
        except BaseException:
            await self.gateway.void(charge.charge_id)  # the orders were not recorded, so the money goes back
            raise
        self._uncommitted.append(charge.charge_id)
        return Placed(checkout_id, views)

    @asynccontextmanager
    async def committing(self) -> AsyncIterator[None]:
        """Commit the session's transaction after the block; if the block or the commit fails, void its charges.

        A charge whose orders never reached the database must not keep the buyer's money.
        """
        try:
            yield
            await self.session.commit()
        except BaseException:
            for charge_id in self._uncommitted:
                await self.gateway.void(charge_id)
            raise
        finally:
            self._uncommitted.clear()

    async def _price(self, buyer_id: UUID, cart: CheckoutIn) -> list[_Line]:
        ids = [_product_id(item.product_id, index) for index, item in enumerate(cart.items)]
        on_sale = select(Product).where(Product.id.in_(ids), Product.archived_at.is_(None))
        products = {p.id: p for p in await self.session.scalars(on_sale)}
        rates = dict((await self.session.execute(select(Category.slug, Category.commission_bps))).all())
        coupon = None
        if cart.coupon_code is not None:  # an unknown code is refused (422), never silently ignored
            coupon = await CouponService(self.session, self.clock).find(cart.coupon_code)
        lines = []
        for index, (item, product_id) in enumerate(zip(cart.items, ids, strict=True)):
            deal = None if item.deal_id is None else await self._deal(item.deal_id, product_id, index)
            product = products.get(product_id)
            if product is None:
                raise RuleBroken(
                    "unknown_product",
                    f"There is no product {item.product_id!r}.",
                    errors=[{"field": f"items[{index}].product_id", "message": "unknown product"}],
                )
            if product.currency != self.settings.currency:
                raise RuleBroken(
                    "unsupported_currency", f"Product {product.id} is not priced in {self.settings.currency}."
                )
            found_at = item.source or cart.source
            source = found_at.as_dict() if found_at else None
            if source is None and deal is not None:
                source = dict(deal.context)  # a deal is found where it runs: its room credits its host
            decision = await self.attribution.decide(
                self.session, buyer_id, product.id, source, coupon, self.clock.now(), self.settings.attribution_window
            )
            rate = rates[product.category_slug]
            lines.append(_Line(product, item.quantity, rate, decision.creator_id, source, deal, decision, coupon))
        if coupon is not None:
            off = coupons.discounts(coupon, [line.unit_price * line.quantity for line in lines])
            lines = [replace(line, discount_minor=d.amount_minor) for line, d in zip(lines, off, strict=True)]
        return lines

    async def _deal(self, raw_id: str, product_id: UUID, index: int) -> Deal:
        field = f"items[{index}].deal_id"
        try:
            deal = await self.session.get(Deal, UUID(raw_id))
        except ValueError:
            deal = None
        if deal is None:
            raise RuleBroken(
                "unknown_deal", f"There is no deal {raw_id!r}.", errors=[{"field": field, "message": "unknown deal"}]
            )
        deals.check_open(deal, product_id, self.clock.now(), field)
        return deal

    async def _write_orders(
        self, buyer: CurrentUser, checkout_id: UUID, charge_id: str, cart: CheckoutIn, lines: list[_Line]
    ) -> list[Order]:
        now = self.clock.now()
        by_seller: dict[UUID, list[_Line]] = defaultdict(list)
        for line in lines:
            by_seller[line.product.seller_id].append(line)
        orders = []
        for seller_id, seller_lines in by_seller.items():
            total = sum(line.net.amount_minor for line in seller_lines)
            order = Order(
                checkout_id=checkout_id,
                buyer_id=buyer.id,
                seller_id=seller_id,
                status=OrderStatus.PAID,
                currency=self.settings.currency,
                total_minor=total,
                shipping_address=msgspec.to_builtins(cart.shipping_address),
                charge_id=charge_id,
                created_at=now,
                ship_by=now + self.settings.ship_by,
            )
            self.session.add(order)
            await self.session.flush()
            written = [
                OrderLine(
                    order_id=order.id,
                    product_id=line.product.id,
                    title=line.product.title,
                    unit_price_minor=line.unit_price.amount_minor,
                    quantity=line.quantity,
                    category_slug=line.product.category_slug,
                    commission_bps=line.commission_bps,
                    creator_id=line.creator_id,
                    affiliate_rate_bps=line.product.affiliate_rate_bps if line.creator_id else 0,
                    source=line.source,
                    deal_id=line.deal.id if line.deal is not None else None,
                )
                for line in seller_lines
            ]
            self.session.add_all(written)
            await self.session.flush()
            receipts.store(
                self.session,
                order,
                [
                    (row, line.decision, line.coupon, Money(line.discount_minor, order.currency))
                    for row, line in zip(written, seller_lines, strict=True)
                    if line.decision is not None
                ],
            )
            await OrderService(self.session, self.clock, self.settings, self.gateway, self.bus).record(
                order, OrderAction.PAID, buyer.id, at=now, charge_id=charge_id
            )
            await escrow.hold(self.session, order, now)
            self.bus.after_commit(
                self.session,
                ORDERS_TOPIC,
                OrderPaid(
                    order_id=str(order.id),
                    buyer_id=buyer.id,
                    buyer_masked=mask_name(buyer.display_name),
                    seller_id=str(seller_id),
                    total=order.total,
                    lines=[
                        PaidLine(
                            str(li.product.id),
                            li.product.title,
                            li.quantity,
                            str(li.creator_id) if li.creator_id else None,
                            li.source,
                            str(li.deal.id) if li.deal is not None else None,
                        )
                        for li in seller_lines
                    ],
                ),
            )
            orders.append(order)
        await self.session.flush()
        return orders


def _quantities(lines: list[_Line]) -> dict[UUID, int]:
    totals: dict[UUID, int] = defaultdict(int)
    for line in lines:
        totals[line.product.id] += line.quantity
    return totals


def _deal_quantities(lines: list[_Line]) -> list[tuple[Deal, int]]:
    totals: dict[UUID, int] = defaultdict(int)
    by_id = {}
    for line in lines:
        if line.deal is not None:
            totals[line.deal.id] += line.quantity
            by_id[line.deal.id] = line.deal
    return [(by_id[deal_id], totals[deal_id]) for deal_id in sorted(totals)]


def _product_id(value: str, index: int) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise RuleBroken(
            "unknown_product",
            f"There is no product {value!r}.",
            errors=[{"field": f"items[{index}].product_id", "message": "not a product id"}],
        ) from None
