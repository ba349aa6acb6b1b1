"""JSON handlers under /api/shop and /api/admin: parse, call a service, map the result. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, MultipartBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, provide_current_user, requires_role, requires_signed_in
from kernel.money import Money
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import problem_spec
from shop import idempotency, ledger, payouts
from shop.carts import CartService
from shop.catalog import CatalogService, ProductSort, parse_uuid
from shop.checkout import Checkout
from shop.deps import SHOP_DEPENDENCIES
from shop.disputes import DisputeService
from shop.idempotency import Replay
from shop.images import MAX_IMAGE_BYTES
from shop.orders import OrderService
from shop.schemas import (
    AccountBalanceOut,
    BalancesOut,
    CartItemIn,
    CartLineOut,
    CartOut,
    CategoryIn,
    CategoryOut,
    CheckoutIn,
    CheckoutOut,
    DisputeIn,
    DisputeOut,
    OrderOut,
    OrderPage,
    PayoutOut,
    PayoutRunOut,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    ResolveIn,
    ShipIn,
    TrialBalanceOut,
)
from shop.views import dispute_out, order_out, product_out

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
NOT_FOUND = problem_spec("Not found, or not yours to see")
CONFLICT = problem_spec("The order's state does not allow this")


def replayed(reply: Replay) -> Response[Any]:
    return Response(reply.body, status_code=reply.status_code)


class CatalogController(Controller):
    path = "/api/shop"
    tags = ["shop"]
    dependencies = {**SHOP_DEPENDENCIES, "current_user": Provide(provide_current_user)}

    @get("/categories")
    async def categories(self, catalog: NamedDependency[CatalogService]) -> list[CategoryOut]:
        """Categories and the platform commission each one carries."""
        return [CategoryOut(c.slug, c.name, c.commission_bps) for c in await catalog.categories()]

    @post("/products", guards=[requires_role(Role.SELLER)], responses={422: problem_spec("Unknown category")})
    async def create_product(
        self,
        data: JSONBody[ProductIn],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> ProductOut:
        """List a product for sale."""
        product = await catalog.create(UUID(current_user.id), data)
        return product_out(await catalog.view(product.id))

    @get("/products")
    async def list_products(
        self,
        catalog: NamedDependency[CatalogService],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        seller_id: FromQuery[UUID | None] = None,
        sort: FromQuery[ProductSort] = "newest",
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> ProductPage:
        """Search the catalog; ``sort`` is newest, price_asc or price_desc; pages follow ``next_cursor``."""
        views, next_cursor = await catalog.search(
            q=q, category=category, seller_id=seller_id, sort=sort, limit=limit, cursor=cursor
        )
        return ProductPage([product_out(v) for v in views], next_cursor)

    @get("/products/{product_id:str}", responses={404: NOT_FOUND})
    async def get_product(self, product_id: FromPath[str], catalog: NamedDependency[CatalogService]) -> ProductOut:
        return product_out(await catalog.view(parse_uuid(product_id)))

    @patch(
        "/products/{product_id:str}",
        guards=[requires_role(Role.SELLER)],
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND},
    )
    async def update_product(
        self,
        product_id: FromPath[str],
        data: JSONBody[ProductPatch],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> ProductOut:
        """Change a product's price, stock or text (its seller only)."""
        product = await catalog.update(UUID(current_user.id), parse_uuid(product_id), data)
        return product_out(await catalog.view(product.id))

    @post(
        "/products/{product_id:str}/image",
        guards=[requires_role(Role.SELLER)],
        status_code=200,
        request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024,
        responses={
            403: problem_spec("Not your product"),
            404: NOT_FOUND,
            413: problem_spec("Image too large"),
            422: problem_spec("Not a PNG, JPEG or WebP image"),
        },
    )
    async def upload_image(
        self,
        product_id: FromPath[str],
        data: MultipartBody[ImageUpload],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> ProductOut:
        """Set the product's picture (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB)."""
        content = await data.image.read()
        product = await catalog.set_image(
            UUID(current_user.id), parse_uuid(product_id), state.settings.media_dir, content
        )
        return product_out(await catalog.view(product.id))


@dataclass
class ImageUpload:
    image: UploadFile


class CartController(Controller):
    path = "/api/shop/cart"
    tags = ["shop"]
    guards = [requires_signed_in]
    dependencies = {**SHOP_DEPENDENCIES, "current_user": Provide(provide_current_user)}

    @get("/")
    async def cart(
        self,
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)

    @post("/items", status_code=200, responses={404: NOT_FOUND, 422: problem_spec("Not enough stock")})
    async def add(
        self,
        data: JSONBody[CartItemIn],
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        """Add a product (or more of it) to the cart, remembering where the buyer found it."""
        source = data.source.as_dict() if data.source else None
        await carts.add(UUID(current_user.id), parse_uuid(data.product_id), data.quantity, source)
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)

    @post("/items/{product_id:str}/remove", status_code=200)
    async def remove(
        self,
        product_id: FromPath[str],
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        await carts.remove(UUID(current_user.id), parse_uuid(product_id))
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)


async def _cart_out(carts: CartService, catalog: CatalogService, user: CurrentUser, currency: str) -> CartOut:
    lines = await carts.lines(UUID(user.id))
    views = {v.product.id: v for v in await catalog.views([line.product.id for line in lines])}
    total = sum((line.amount for line in lines), Money.zero(currency))
    return CartOut(
        [CartLineOut(product_out(views[line.product.id]), line.quantity, line.amount, line.source) for line in lines],
        total,
    )


class OrderController(Controller):
    path = "/api/shop"
    tags = ["orders"]
    guards = [requires_signed_in]
    dependencies = {**SHOP_DEPENDENCIES, "current_user": Provide(provide_current_user)}

    @post(
        "/checkout",
        responses={
            402: problem_spec("Payment declined"),
            409: problem_spec("Not enough stock"),
            422: problem_spec("Invalid basket or reused Idempotency-Key"),
            503: problem_spec("Payment provider unavailable"),
        },
    )
    async def checkout(
        self,
        data: JSONBody[CheckoutIn],
        checkout: NamedDependency[Checkout],
        current_user: NamedDependency[CurrentUser],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CheckoutOut]:
        """Pay for a basket: one order per seller, the money held in escrow. Needs an Idempotency-Key."""
        return replayed(await checkout.place_order(current_user, data, idempotency_key))

    @get("/orders")
    async def list_orders(
        self,
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
        as_: Annotated[Literal["buyer", "seller"], QueryParameter(name="as")] = "buyer",
        status: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> OrderPage:
        """Your purchases, or with ``as=seller`` your sales; newest first."""
        found, next_cursor = await orders.list_for(current_user, as_, status, limit, cursor)
        return OrderPage([order_out(v) for v in await orders.views(found)], next_cursor)

    @get("/orders/{order_id:str}", responses={404: NOT_FOUND})
    async def get_order(
        self, order_id: FromPath[str], orders: NamedDependency[OrderService], current_user: NamedDependency[CurrentUser]
    ) -> OrderOut:
        order = await orders.visible(current_user, parse_uuid(order_id, "order"))
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:str}/ship",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def ship(
        self,
        order_id: FromPath[str],
        data: JSONBody[ShipIn],
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
    ) -> OrderOut:
        """Mark an order shipped with its carrier and tracking number (its seller only)."""
        order = await orders.ship(current_user, parse_uuid(order_id, "order"), data.carrier, data.tracking_number)
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:str}/confirm-delivery",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def confirm_delivery(
        self, order_id: FromPath[str], orders: NamedDependency[OrderService], current_user: NamedDependency[CurrentUser]
    ) -> OrderOut:
        """The buyer has the goods: complete the order and release escrow."""
        order = await orders.confirm_delivery(current_user, parse_uuid(order_id, "order"))
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:str}/cancel",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def cancel(
        self, order_id: FromPath[str], orders: NamedDependency[OrderService], current_user: NamedDependency[CurrentUser]
    ) -> OrderOut:
        """Cancel an unshipped order (its seller): the buyer is refunded in full and stock returns."""
        order = await orders.cancel_by_seller(current_user, parse_uuid(order_id, "order"), "cancelled by the seller")
        return order_out(await orders.view(order))

    @post("/orders/{order_id:str}/disputes", responses={404: NOT_FOUND, 409: CONFLICT})
    async def open_dispute(
        self,
        order_id: FromPath[str],
        data: JSONBody[DisputeIn],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
    ) -> DisputeOut:
        """Buyer Protection: not received, damaged or not as described."""
        return dispute_out(await disputes.open(current_user, parse_uuid(order_id, "order"), data))

    @get("/disputes")
    async def my_disputes(
        self, disputes: NamedDependency[DisputeService], current_user: NamedDependency[CurrentUser]
    ) -> list[DisputeOut]:
        """Disputes you opened as a buyer or must answer as a seller."""
        return [dispute_out(d) for d in await disputes.for_user(current_user)]

    @get("/disputes/{dispute_id:str}", responses={404: NOT_FOUND})
    async def get_dispute(
        self,
        dispute_id: FromPath[str],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
    ) -> DisputeOut:
        return dispute_out(await disputes.get(current_user, parse_uuid(dispute_id, "dispute")))

    @post(
        "/disputes/{dispute_id:str}/resolve",
        status_code=200,
        responses={403: problem_spec("Not the seller or an admin"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def resolve_dispute(
        self,
        dispute_id: FromPath[str],
        data: JSONBody[ResolveIn],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
        db_session: NamedDependency[AsyncSession],
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DisputeOut]:
        """The seller accepts (refund) or rejects; an admin refunds any amount up to what is left, or rejects."""
        scope = f"resolve:{current_user.id}"
        if idempotency_key:
            claimed = await idempotency.claim(
                db_session,
                scope,
                idempotency.check_key(idempotency_key),
                idempotency.request_hash(data),
                state.clock.now(),
            )
            if isinstance(claimed, Replay):
                return replayed(claimed)
        out = dispute_out(await disputes.resolve(current_user, parse_uuid(dispute_id, "dispute"), data))
        if idempotency_key:
            await idempotency.remember(db_session, claimed, 200, out)
        return Response(out, status_code=200)

    @get("/balances", guards=[requires_role(Role.SELLER, Role.INFLUENCER)])
    async def balances(
        self, db_session: NamedDependency[AsyncSession], current_user: NamedDependency[CurrentUser], state: State
    ) -> BalancesOut:
        """What you have earned as a seller or creator: pending (in the dispute window), available, paid out."""
        currency = state.settings.shop.currency
        party = await ledger.party_balance(
            db_session, ledger.party_accounts(current_user.id), currency, state.clock.now()
        )
        in_escrow = await ledger.seller_escrow(db_session, UUID(current_user.id), currency)
        return BalancesOut(
            pending=party.pending, available=party.available, paid_out=party.paid_out, in_escrow=in_escrow
        )


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]
    dependencies = {**SHOP_DEPENDENCIES, "current_user": Provide(provide_current_user)}

    @get("/ledger/trial-balance")
    async def trial_balance(self, db_session: NamedDependency[AsyncSession], state: State) -> TrialBalanceOut:
        """Every ledger account's balance; they always sum to zero."""
        rows = await ledger.trial_balance(db_session)
        currency = state.settings.shop.currency
        total = sum((r.balance for r in rows if r.balance.currency == currency), Money.zero(currency))
        return TrialBalanceOut([AccountBalanceOut(r.account, r.balance) for r in rows], total)

    @post("/payouts/run", status_code=200, responses={422: problem_spec("Idempotency-Key missing or reused")})
    async def run_payouts(
        self,
        db_session: NamedDependency[AsyncSession],
        state: State,
        current_user: NamedDependency[CurrentUser],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PayoutRunOut]:
        """Pay every positive available balance once. Needs an Idempotency-Key."""
        now = state.clock.now()
        key = idempotency.check_key(idempotency_key)
        claimed = await idempotency.claim(db_session, "payouts", key, idempotency.request_hash(msgspec.Struct()), now)
        if isinstance(claimed, Replay):
            return replayed(claimed)
        currency = state.settings.shop.currency
        paid = await payouts.run(db_session, state.clock, state.shop.payouts, currency)
        out = PayoutRunOut(
            [PayoutOut(p.party_id, p.account, p.amount, p.provider_ref) for p in paid],
            sum((p.amount for p in paid), Money.zero(currency)),
        )
        return replayed(await idempotency.remember(db_session, claimed, 200, out))

    @get("/disputes")
    async def dispute_queue(
        self, disputes: NamedDependency[DisputeService], status: FromQuery[Literal["escalated", "open"]] = "escalated"
    ) -> list[DisputeOut]:
        """Disputes waiting for an admin (rejected by the seller or ignored past the deadline)."""
        return [dispute_out(d) for d in await disputes.queue((status,))]

    @post("/categories", status_code=200)
    async def set_category(self, data: JSONBody[CategoryIn], catalog: NamedDependency[CatalogService]) -> CategoryOut:
        """Create a category or change its commission rate."""
        category = await catalog.set_category(data)
        return CategoryOut(category.slug, category.name, category.commission_bps)


SHOP_CONTROLLERS = [CatalogController, CartController, OrderController, AdminController]
