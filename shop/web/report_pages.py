"""The attribution dashboard (/reports): a funnel, net GMV over time, top creators and the report table, with
filters that htmx applies in place. Charts are inline SVG drawn here, on the server; no script, no CDN.

Marketers and admins see every creator; a creator sees the same dashboard narrowed to their own rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import Role, requires_role
from kernel.auth.people import Person, people, person
from kernel.errors import DomainError
from shop.attribution import receipts, rollups
from shop.attribution.earnings import REASONS, creator_earnings
from shop.attribution.reports import GroupBy, ReportQuery, attribution_report, report_scope
from shop.attribution.schemas import ReportRowOut
from shop.orders.carts import CartService
from shop.web.display import HELPERS
from shop.web.forms import field_errors
from shop.web.rendering import fragment, me, page

TOP = 5
CANDIDATE_KINDS = {
    "coupon": "Coupon at checkout",
    "live_room": "Bought in a live room",
    "checkout_source": "Where checkout came from",
    "click": "A click",
}
REFRESH_SECONDS = 20
CHART_WIDTH, CHART_HEIGHT = 600, 160


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as shown
    width: float  # percent of the widest bar


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    tip: str


@dataclass(frozen=True)
class Series:
    columns: list[Column]
    peak: str  # the tallest column's amount, for the axis label


def bars(items: list[tuple[str, int, str]]) -> list[Bar]:
    widest = max((value for _, value, _ in items), default=0) or 1
    return [Bar(label, value, text, round(100 * max(value, 0) / widest, 2)) for label, value, text in items]


def series(rows: list[ReportRowOut]) -> Series:
    """Net GMV per day as columns, one per day with activity, in date order."""
    tallest = max(rows, key=lambda row: row.net_gmv.amount_minor, default=None)
    peak = max(tallest.net_gmv.amount_minor, 1) if tallest else 1
    step = CHART_WIDTH / max(len(rows), 1)
    columns = []
    for i, row in enumerate(rows):
        height = round(CHART_HEIGHT * max(row.net_gmv.amount_minor, 0) / peak, 1)
        tip = f"{row.key}: {row.net_gmv}"
        columns.append(Column(round(i * step, 1), CHART_HEIGHT - height, round(min(step * 0.8, 40), 1), height, tip))
    return Series(columns, str(tallest.net_gmv) if tallest else "")


def funnel(rows: list[ReportRowOut]) -> list[Bar]:
    steps = [
        ("Views", sum(r.views for r in rows)),
        ("Clicks", sum(r.clicks for r in rows)),
        ("Added to cart", sum(r.add_to_carts for r in rows)),
        ("Orders", sum(r.orders for r in rows)),
    ]
    return bars([(label, value, f"{value:,}") for label, value in steps])


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Pick:
    """A filter that names a creator or a seller: who is chosen, what was typed, the choices offered, any error."""

    field: str  # "creator" or "seller": the form sends <field>_id (the list) and <field>_q (the search box)
    chosen: Person | None
    typed: str
    options: list[Person]
    error: str = ""


PICKABLE = {"creator": (Role.INFLUENCER, "creator"), "seller": (Role.SELLER, "seller")}


async def pick(session: AsyncSession, field: str, chosen_id: str, typed: str) -> Pick:
    """The creator or seller a report is narrowed to: the id chosen in the list, else the one name matching what
    was typed (a plain form without htmx sends only that); a name that matches nobody, or several, is an error."""
    role, noun = PICKABLE[field]
    typed = typed.strip()[:80]
    if chosen_id:
        chosen = await person(session, role, uid) if (uid := _uuid(chosen_id)) else None
        options = await people(session, role, typed)
        error = "" if chosen else f"There is no such {noun}; pick one from the list."
        return Pick(field, chosen, typed, _with(options, chosen), error)
    if not typed:
        return Pick(field, None, "", await people(session, role))
    matches = await people(session, role, typed)
    exact = [p for p in matches if p.name.casefold() == typed.casefold()]
    if len(matches) == 1 or len(exact) == 1:
        chosen = matches[0] if len(matches) == 1 else exact[0]
        return Pick(field, chosen, typed, matches)
    if not matches:
        return Pick(field, None, typed, [], f"No {noun} name contains “{typed}”.")
    return Pick(field, None, typed, matches, f"{len(matches)} {noun}s match “{typed}”: pick one from the list.")


def _with(options: list[Person], chosen: Person | None) -> list[Person]:
    return options if chosen is None or chosen in options else [chosen, *options]


def _status(context: dict[str, Any]) -> int:
    return 422 if context["errors"] else 200


class ReportPages(Controller):
    path = "/reports"
    guards = [requires_role(Role.MARKETER, Role.ADMIN, Role.INFLUENCER)]

    @get("/")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        carts: NamedDependency[CartService],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Template:
        context = await self._context(request, db_session, state)
        return await page(request, "shop/reports.html", carts, _status(context), **context)

    @get("/results")
    async def results(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], state: State
    ) -> Template:
        """The filters and the charts and table for them (htmx swaps them in place, and the address bar shows the
        page's own URL, so a reload or a shared link opens the same report); a filter's error shows beside it."""
        context = await self._context(request, db_session, state)
        if request.headers.get("HX-Trigger") == "report-results":  # its own refresh: the address stays as it is
            return fragment("shop/partials/_report_results.html", **context)
        query = urlencode({k: v for k, v in context["filters"].items() if v})
        return HTMXTemplate(
            template_name="shop/partials/_report.html",
            context={**HELPERS, **context},
            status_code=_status(context),
            push_url="/reports" + (f"?{query}" if query else ""),
        )

    @get("/people")
    async def choices(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        field: FromQuery[Literal["creator", "seller"]],
    ) -> Template:
        """The options of the creator or seller list for what is typed in its search box (``creator_q`` or
        ``seller_q``, as the box is named in the form), the first match chosen."""
        typed = request.query_params.get(f"{field}_q", "")
        found = await pick(db_session, field, "", typed)
        return fragment("shop/partials/_report_choices.html", pick=found, first=bool(found.typed))

    @get("/earnings")
    async def earnings(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], state: State
    ) -> Template:
        """A creator's commission per order line and where it stands (loaded into the earnings page)."""
        found = await creator_earnings(db_session, me(request).id, state.clock.now(), state.settings.shop.currency)
        return fragment("shop/partials/_creator_earnings.html", earnings=found)

    @get("/orders/{order_id:uuid}")
    async def receipt(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[UUID],
        carts: NamedDependency[CartService],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        """Why each line of an order was credited as it was. Marketers and admins see the whole receipt; a creator
        sees only their own lines (an order with none is not found), other creators left unnamed."""
        user = me(request)
        found = await receipts.for_order(db_session, order_id)
        staff = user.has(Role.MARKETER) or user.has(Role.ADMIN)
        shown = found if staff else receipts.for_creator(found, user.id)
        return await page(request, "shop/receipt.html", carts, receipt=shown, reasons=REASONS, kinds=CANDIDATE_KINDS)

    async def _context(self, request: Request[Any, Any, Any], db_session: AsyncSession, state: State) -> dict[str, Any]:
        params = request.query_params
        user = me(request)
        staff = user.has(Role.MARKETER) or user.has(Role.ADMIN)
        # Before this request's session reads anything: on SQLite its transaction would hold the lock catch_up needs.
        await rollups.catch_up(state.db)
        creator = (
            await pick(db_session, "creator", params.get("creator_id", ""), params.get("creator_q", ""))
            if staff
            else Pick("creator", None, "", [])  # a creator's report is their own
        )
        seller = await pick(db_session, "seller", params.get("seller_id", ""), params.get("seller_q", ""))
        filters = {
            "group_by": params.get("group_by") or "creator",
            "from": params.get("from") or "",
            "to": params.get("to") or "",
            "creator_id": str(creator.chosen.id) if creator.chosen else "",
            "seller_id": str(seller.chosen.id) if seller.chosen else "",
        }
        errors = {f"{p.field}_q": p.error for p in (creator, seller) if p.error}
        today = state.clock.now().date()
        scope = report_scope(user, creator.chosen.id if creator.chosen else None)
        seller_id = seller.chosen.id if seller.chosen else None
        try:
            query = ReportQuery.parse(
                filters["group_by"], filters["from"] or None, filters["to"] or None, today, scope, seller_id
            )
        except DomainError as exc:
            errors.update(field_errors(exc))
            query = ReportQuery.parse(GroupBy.CREATOR.value, None, None, today, scope, seller_id)
            filters.update({"group_by": query.group_by.value, "from": "", "to": ""})
        attribution, currency = state.shop.attribution, state.settings.shop.currency

        async def rows_by(group_by: GroupBy) -> list[ReportRowOut]:
            narrowed = ReportQuery(group_by, query.since, query.until, query.creator_id, query.seller_id)
            return await attribution_report(db_session, attribution, narrowed, currency)

        rows = await rows_by(query.group_by)
        days = rows if query.group_by is GroupBy.DAY else await rows_by(GroupBy.DAY)
        creators = rows if query.group_by is GroupBy.CREATOR else await rows_by(GroupBy.CREATOR)
        csv_params = {k: v for k, v in {**filters, "from": str(query.since), "to": str(query.until)}.items() if v}
        return {
            "errors": errors,
            "picks": [creator, seller] if staff else [seller],
            # A range that includes today refreshes itself: a host watches their room's figures during the show.
            "live_refresh": REFRESH_SECONDS if query.until >= today else None,
            "refresh_url": "/reports/results?" + urlencode(csv_params),
            "filters": filters,
            "query": query,
            "staff": staff,
            "rows": rows,
            "funnel": funnel(days),
            "trend": series(days),
            "trend_size": (CHART_WIDTH, CHART_HEIGHT),
            "top_creators": bars([(r.label, r.net_gmv.amount_minor, str(r.net_gmv)) for r in creators[:TOP]]),
            "groupings": [g.value for g in GroupBy],
            "csv_url": "/api/reports/attribution?" + urlencode({**csv_params, "format": "csv"}),
        }


REPORT_PAGES = [ReportPages]
