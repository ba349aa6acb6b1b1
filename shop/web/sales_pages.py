"""The seller's sales report page (/shop/seller/sales): the same figures as GET /api/shop/sales, with a filter form
that works as a plain GET form and, with htmx, replaces the table in place; bad dates are shown by their fields."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import Role, requires_role
from kernel.errors import DomainError
from shop.orders.carts import CartService
from shop.orders.sales import DEFAULT_DAYS, SalesGroup, SalesQuery, seller_sales
from shop.web.forms import field_errors
from shop.web.rendering import fragment, my_id, page


class SalesPages(Controller):
    path = "/shop/seller/sales"
    guards = [requires_role(Role.SELLER)]

    @get("/")
    async def sales(
        self,
        request: HTMXRequest,
        carts: NamedDependency[CartService],
        db_session: NamedDependency[AsyncSession],
        state: State,
        group_by: FromQuery[str] = "product",
    ) -> Template:
        """Units, revenue and net by product or by source over a date range (``?from=`` and ``?to=``)."""
        raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
        values = {"group_by": group_by, "from": raw_from or "", "to": raw_to or ""}
        context: dict[str, Any] = {"groups": list(SalesGroup), "values": values, "errors": {}, "days": DEFAULT_DAYS}
        status = 200
        try:
            query = SalesQuery.parse(group_by, raw_from or None, raw_to or None, state.clock.now().date())
            rows, total = await seller_sales(db_session, my_id(request), query, state.settings.shop.currency)
            values.update({"from": query.since.isoformat(), "to": query.until.isoformat()})
            context.update(query=query, rows=rows, total=total)
        except DomainError as exc:
            status, context["errors"] = exc.status, field_errors(exc)
            context.update(query=None, rows=[], total=None)
        if request.htmx:
            return fragment("shop/partials/_sales_report.html", status_code=status, **context)
        return await page(request, "shop/sales.html", carts, status_code=status, **context)
