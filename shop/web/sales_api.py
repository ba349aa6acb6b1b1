"""JSON handler of the seller's sales report (/api/shop/sales): parse, call, map."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, requires_role
from kernel.problems import problem_spec
from shop.orders.sales import SalesQuery, SalesRow, seller_sales
from shop.schemas import SalesOut, SalesRowOut


def sales_row_out(row: SalesRow) -> SalesRowOut:
    return SalesRowOut(row.key, row.label, row.orders, row.units, row.revenue, row.net)


class SalesController(Controller):
    path = "/api/shop/sales"
    tags = ["shop"]
    guards = [requires_role(Role.SELLER)]

    @get("/", responses={422: problem_spec("Unknown group_by or a bad date range")})
    async def sales(
        self,
        db_session: NamedDependency[AsyncSession],
        current_user: NamedDependency[CurrentUser],
        state: State,
        group_by: FromQuery[str] = "product",
        since: Annotated[str | None, QueryParameter(name="from", description="First day, YYYY-MM-DD")] = None,
        until: Annotated[str | None, QueryParameter(name="to", description="Last day, YYYY-MM-DD")] = None,
    ) -> SalesOut:
        """The caller's own sales (orders placed in the range, UTC days): units, revenue and net, by ``product``
        or by ``source`` (room, post, creator, direct); the range defaults to the last 30 days."""
        query = SalesQuery.parse(group_by, since, until, state.clock.now().date())
        rows, total = await seller_sales(db_session, current_user.id, query, state.settings.shop.currency)
        return SalesOut(
            query.group_by.value, query.since, query.until, [sales_row_out(r) for r in rows], sales_row_out(total)
        )


SALES_CONTROLLERS = [SalesController]
