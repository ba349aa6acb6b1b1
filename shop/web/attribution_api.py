"""Attribution and reports JSON API (/api/attribution, /api/reports) and the referral redirect (/r/{code})."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Stream
from sqlalchemy.ext.asyncio import AsyncSession

from kernel import spreadsheets
from kernel.auth import CurrentUser, Role, requires_role
from kernel.errors import RuleBroken
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import not_found_when_malformed, problem_response, problem_spec
from kernel.web import visitor
from shop.attribution import links, performance, receipts, reports, rollups
from shop.attribution.coupons import CouponService, CouponStatus
from shop.attribution.earnings import creator_earnings
from shop.attribution.links import LinkService, LinkTarget
from shop.attribution.receipts import CreatorReceiptOut, OrderReceiptOut
from shop.attribution.reports import ReportQuery, report_scope
from shop.attribution.schemas import (
    CouponIn,
    CouponOut,
    CouponPage,
    EarningsOut,
    LinkIn,
    LinkOut,
    LinkPage,
    LinkTargetIn,
    ReportOut,
)
from shop.attribution.touches import TouchKind
from shop.catalog.products import parse_uuid


def _target(data: LinkTargetIn) -> tuple[LinkTarget, UUID | None]:
    given = [
        (kind, value)
        for kind, value in (
            (LinkTarget.PRODUCT, data.product_id),
            (LinkTarget.ROOM, data.room_id),
            (LinkTarget.POST, data.post_id),
            (LinkTarget.STOREFRONT, data.storefront or None),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise RuleBroken(
            "invalid_target",
            "Name exactly one target: product_id, room_id, post_id, or storefront: true.",
            errors=[{"field": "target", "message": "exactly one of product_id, room_id, post_id, storefront"}],
        )
    kind, value = given[0]
    return kind, None if kind is LinkTarget.STOREFRONT else parse_uuid(str(value))


class AttributionController(Controller):
    path = "/api/attribution"
    tags = ["attribution"]
    guards = [requires_role(Role.INFLUENCER)]

    @post("/links", responses={422: problem_spec("No single target, or it does not exist")})
    async def create_link(
        self,
        data: JSONBody[LinkIn],
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> LinkOut:
        """A short referral link (``/r/{code}``) to a product, room, post or the creator's storefront."""
        kind, target_id = _target(data.target)
        if (resolver_kind := links.RESOLVER_KINDS.get(kind)) and not await state.shop.attribution.resolve(
            db_session, resolver_kind, str(target_id)
        ):
            raise RuleBroken(
                f"unknown_{kind.value}",
                f"There is no {kind.value} {target_id}.",
                errors=[{"field": f"target.{resolver_kind}", "message": f"unknown {kind.value}"}],
            )
        link = await LinkService(db_session, state.clock).create(current_user.id, kind, target_id)
        return LinkOut(code=link.code, url=f"/r/{link.code}", target=links.target_url(link))

    @post("/coupons", responses={409: problem_spec("The code is taken"), 422: problem_spec("Bad code or discount")})
    async def create_coupon(
        self,
        data: JSONBody[CouponIn],
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CouponOut:
        """A discount code that credits its creator with every line of the checkouts that use it."""
        coupon = await CouponService(db_session, state.clock).create(current_user.id, data.code, data.discount_bps)
        return CouponOut.of(coupon)

    @get("/links")
    async def list_links(
        self,
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> LinkPage:
        """Your referral links, newest first, each with its clicks and the orders and sales it won."""
        return await performance.link_page(db_session, current_user.id, state.settings.shop.currency, limit, cursor)

    @get("/coupons")
    async def list_coupons(
        self,
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> CouponPage:
        """Your coupons, newest first, each with its status, the checkouts that used it and their sales."""
        return await performance.coupon_page(db_session, current_user.id, state.settings.shop.currency, limit, cursor)

    @post("/coupons/{coupon_id:uuid}/pause", status_code=200, responses={404: problem_spec("Not your coupon")})
    async def pause_coupon(
        self,
        coupon_id: FromPath[UUID],
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CouponOut:
        """Stop a coupon: checkouts naming it are refused (422 ``coupon_paused``) until it is resumed."""
        coupons = CouponService(db_session, state.clock)
        return CouponOut.of(await coupons.set_status(current_user.id, coupon_id, CouponStatus.PAUSED))

    @post("/coupons/{coupon_id:uuid}/resume", status_code=200, responses={404: problem_spec("Not your coupon")})
    async def resume_coupon(
        self,
        coupon_id: FromPath[UUID],
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CouponOut:
        """Let checkouts use a paused coupon again."""
        coupons = CouponService(db_session, state.clock)
        return CouponOut.of(await coupons.set_status(current_user.id, coupon_id, CouponStatus.ACTIVE))

    @get("/orders/{order_id:uuid}/receipt", responses={404: problem_spec("No line of the order is yours")})
    async def receipt(
        self,
        order_id: FromPath[UUID],
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
    ) -> CreatorReceiptOut:
        """Why an order's lines were credited to you: for each of your lines, the candidates the rule weighed
        (other creators' unnamed) and why each lost."""
        return receipts.for_creator(await receipts.for_order(db_session, order_id), current_user.id)

    @get("/earnings")
    async def earnings(
        self, db_session: NamedDependency[AsyncSession], current_user: NamedDependency[CurrentUser], state: State
    ) -> EarningsOut:
        """Your commission per order line: amount, state (pending, approved, payable, paid, reversed), when it
        becomes payable, and the attribution rule that credited it."""
        return await creator_earnings(db_session, current_user.id, state.clock.now(), state.settings.shop.currency)


class ReportController(Controller):
    path = "/api/reports/attribution"
    tags = ["reports"]

    @get(
        "/",
        guards=[requires_role(Role.MARKETER, Role.ADMIN, Role.INFLUENCER)],
        responses={403: problem_spec("Not a marketer, admin or creator"), 422: problem_spec("Bad grouping or range")},
    )
    async def report(
        self,
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
        group_by: FromQuery[str] = "creator",
        since: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD")] = None,
        until: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD")] = None,
        creator_id: FromQuery[UUID | None] = None,
        seller_id: FromQuery[UUID | None] = None,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[Any]:
        """Views, clicks, carts, orders and money per creator, room, post, product or day; CSV with format=csv."""
        query = ReportQuery.parse(
            group_by, since, until, state.clock.now().date(), report_scope(current_user, creator_id), seller_id
        )
        await rollups.catch_up(state.db)  # fold what happened since the sweeper last ran: the report is current
        rows = await reports.attribution_report(db_session, state.shop.attribution, query, state.settings.shop.currency)
        if format == "csv":
            name = f"attribution-{query.group_by}-{query.since}-{query.until}.csv"
            return Stream(
                reports.csv_lines(rows),
                media_type=spreadsheets.MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        body = ReportOut(query.group_by.value, query.since, query.until, rows)
        return Response(body)

    @get(
        "/orders/{order_id:uuid}",
        guards=[requires_role(Role.MARKETER, Role.ADMIN)],
        responses={404: problem_spec("No such order")},
    )
    async def receipt(self, order_id: FromPath[UUID], db_session: NamedDependency[AsyncSession]) -> OrderReceiptOut:
        """For each line: the candidates the rule weighed, the one that won and why the others lost."""
        return await receipts.for_order(db_session, order_id)


@get("/r/{code:str}", include_in_schema=False)
async def follow_link(
    request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession], state: State
) -> Response[Any]:
    """Record a click touch for the link's creator and send the visitor on to the target (``?ref=`` kept)."""
    link = await links.find(db_session, code)
    if link is None:
        return problem_response(request, 404, "unknown_link", "This link does not exist; check it was copied whole.")
    user = request.user
    visitor_id, cookies = visitor(request)
    target = LinkTarget(link.target_kind)
    state.touches.record(
        TouchKind.CLICK,
        creator_id=link.creator_id,
        product_id=link.target_id if target is LinkTarget.PRODUCT else None,
        room_id=link.target_id if target is LinkTarget.ROOM else None,
        post_id=link.target_id if target is LinkTarget.POST else None,
        link_code=link.code,
        user_id=user.id if user is not None else None,
        visitor_id=visitor_id,
    )
    return Redirect(links.target_url(link), status_code=303, cookies=cookies)


ATTRIBUTION_CONTROLLERS = [AttributionController, ReportController, follow_link]
not_found_when_malformed(ATTRIBUTION_CONTROLLERS, order_id="order", coupon_id="coupon")
