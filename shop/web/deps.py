"""Dependency providers: each request's services share its database session."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from shop.catalog.products import CatalogService
from shop.orders.carts import CartService
from shop.orders.checkout import Checkout
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService


def provide_catalog(db_session: NamedDependency[AsyncSession], state: State) -> CatalogService:
    return CatalogService(db_session, state.settings.shop.currency)


def provide_orders(db_session: NamedDependency[AsyncSession], state: State) -> OrderService:
    return OrderService(db_session, state.clock, state.settings.shop, state.shop.payments, state.bus)


def provide_disputes(
    db_session: NamedDependency[AsyncSession], state: State, orders: NamedDependency[OrderService]
) -> DisputeService:
    return DisputeService(db_session, state.clock, state.settings.shop, orders)


def provide_checkout(db_session: NamedDependency[AsyncSession], state: State) -> Checkout:
    shop = state.shop
    return Checkout(db_session, state.clock, state.settings.shop, shop.payments, state.bus, shop.attribution)


def provide_carts(
    db_session: NamedDependency[AsyncSession], catalog: NamedDependency[CatalogService], state: State
) -> CartService:
    return CartService(db_session, catalog, state.touches, state.shop.attribution)


SHOP_DEPENDENCIES = {
    "catalog": Provide(provide_catalog, sync_to_thread=False),
    "orders": Provide(provide_orders, sync_to_thread=False),
    "disputes": Provide(provide_disputes, sync_to_thread=False),
    "checkout": Provide(provide_checkout, sync_to_thread=False),
    "carts": Provide(provide_carts, sync_to_thread=False),
}
