"""Turn rows into the API's output shapes (one place, used by the JSON API, pages and replays)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.money import Money
from shop.catalog.products import CatalogService, ProductView
from shop.models import Dispute, ProductImage
from shop.orders.dispute_threads import ThreadMessage
from shop.orders.lifecycle import OrderView
from shop.schemas import (
    DisputeMessageOut,
    DisputeOut,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    PhotoOut,
    ProductImageOut,
    ProductOut,
    SellerOut,
)


def image_out(image: ProductImage) -> ProductImageOut:
    return ProductImageOut(image.id, f"/media/{image.path}", f"/media/{image.thumbnail_path}")


def product_out(view: ProductView) -> ProductOut:
    p = view.product
    images = [image_out(image) for image in view.images]
    return ProductOut(
        id=p.id,
        title=p.title,
        description=p.description,
        category=p.category_slug,
        price=p.price,
        stock=p.stock,
        affiliate_rate_bps=p.affiliate_rate_bps,
        seller=SellerOut(p.seller_id, view.seller_name),
        image_url=images[0].url if images else None,
        thumbnail_url=images[0].thumbnail_url if images else None,
        images=images,
        archived=p.archived_at is not None,
    )


def order_out(view: OrderView) -> OrderOut:
    o = view.order
    return OrderOut(
        id=o.id,
        checkout_id=o.checkout_id,
        status=o.status,
        items=[
            OrderLineOut(
                product_id=line.product_id,
                title=line.title,
                quantity=line.quantity,
                unit_price=Money(line.unit_price_minor, o.currency),
                amount=Money(line.amount_minor, o.currency),
                creator_id=line.creator_id,
                affiliate_rate_bps=line.affiliate_rate_bps,
                source=line.source,
            )
            for line in view.lines
        ],
        total=o.total,
        refunded=Money(o.refunded_minor, o.currency),
        seller=SellerOut(o.seller_id, view.seller_name),
        buyer=SellerOut(o.buyer_id, view.buyer_name),
        shipping_address=o.shipping_address,
        carrier=o.carrier,
        tracking_number=o.tracking_number,
        created_at=o.created_at,
        ship_by=o.ship_by,
        auto_confirm_at=o.auto_confirm_at,
        dispute_until=o.dispute_until,
        events=[msgspec.convert(e, OrderEventOut, from_attributes=True) for e in view.events],
    )


def dispute_out(d: Dispute) -> DisputeOut:
    return DisputeOut(
        id=d.id,
        order_id=d.order_id,
        status=d.status,
        reason=d.reason,
        detail=d.detail,
        requested_refund=Money(d.requested_minor, d.currency),
        refunded=Money(d.refunded_minor, d.currency),
        opened_at=d.opened_at,
        respond_by=d.respond_by,
        resolved_at=d.resolved_at,
        offered_refund=Money(d.offered_minor, d.currency) if d.offered_minor is not None else None,
    )


def photo_url(dispute_id: UUID, photo_id: UUID) -> str:
    return f"/api/shop/disputes/{dispute_id}/photos/{photo_id}"


def message_out(dispute_id: UUID, m: ThreadMessage) -> DisputeMessageOut:
    return DisputeMessageOut(
        id=m.id,
        author=SellerOut(m.author_id, m.author_name),
        party=m.party,
        body=m.body,
        at=m.at,
        photos=[PhotoOut(p.id, p.content_type, p.size, photo_url(dispute_id, p.id)) for p in m.photos],
    )


async def products_by_id(session: AsyncSession, product_ids: Iterable[UUID]) -> dict[UUID, ProductOut]:
    """The products among ``product_ids`` that exist, as the API shows them (for rooms, posts and pages)."""
    views = await CatalogService(session, currency="").views(list(dict.fromkeys(product_ids)))
    return {view.product.id: product_out(view) for view in views}


async def find_products(session: AsyncSession, q: str, limit: int) -> list[ProductOut]:
    """Products whose title or description holds ``q``, newest first (the site-wide search, other domains' pickers)."""
    views, _ = await CatalogService(session, currency="").search(q=q.strip()[:100] or None, limit=limit)
    return [product_out(view) for view in views]


async def newest_products(session: AsyncSession, limit: int) -> list[ProductOut]:
    """The most recently listed products, newest first (for pages outside the shop, such as the Fan Zone)."""
    views, _ = await CatalogService(session, currency="").search(limit=limit)
    return [product_out(view) for view in views]
