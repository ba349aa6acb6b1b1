"""The attribution report: funnel and money per creator, room, post, product or day, read from the rollups.

Every figure comes from ``shop_attribution_rollup`` (and distinct viewers from ``shop_attribution_viewer``),
narrowed by dimension and day range through their indexes; the raw touches and orders are never scanned here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import String, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kernel import spreadsheets
from kernel.auth import CurrentUser, Role
from kernel.auth.models import User
from kernel.errors import Forbidden, RuleBroken
from kernel.money import Money
from shop.attribution.rollups import ALL, BUYER, CLICKER, NIL
from shop.attribution.rule import Attribution
from shop.attribution.schemas import ReportRowOut
from shop.models import AttributionRollup, AttributionViewer, Product

MAX_DAYS = 400
DEFAULT_DAYS = 30


class GroupBy(StrEnum):
    CREATOR = "creator"
    ROOM = "room"
    POST = "post"
    PRODUCT = "product"
    DAY = "day"


@dataclass(frozen=True)
class ReportQuery:
    group_by: GroupBy
    since: date
    until: date
    creator_id: UUID | None = None
    seller_id: UUID | None = None

    @classmethod
    def parse(
        cls,
        group_by: str,
        since: str | None,
        until: str | None,
        today: date,
        creator_id: UUID | None = None,
        seller_id: UUID | None = None,
    ) -> ReportQuery:
        """Validate the query parameters; the range defaults to the last 30 days and includes both ends."""
        try:
            dimension = GroupBy(group_by)
        except ValueError:
            raise RuleBroken(
                "invalid_group_by",
                "group_by is one of creator, room, post, product, day.",
                errors=[{"field": "group_by", "message": "creator, room, post, product or day"}],
            ) from None
        last = _date(until, "to") if until else today
        first = _date(since, "from") if since else last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last or (last - first).days >= MAX_DAYS:
            raise RuleBroken(
                "invalid_range",
                f"from must not be after to, and the range is at most {MAX_DAYS} days.",
                errors=[{"field": "from", "message": "a date on or before to"}],
            )
        return cls(dimension, first, last, creator_id, seller_id)


def report_scope(user: CurrentUser, creator_id: UUID | None) -> UUID | None:
    """Marketers and admins see every creator; a creator sees only their own rows (403 for anyone else's)."""
    if user.has(Role.MARKETER) or user.has(Role.ADMIN):
        return creator_id
    if creator_id is not None and creator_id != user.id:
        raise Forbidden("not_your_report", "Creators see only their own attribution report.")
    return user.id


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RuleBroken(
            "invalid_date", f"{field} is a date like 2026-03-01.", errors=[{"field": field, "message": "YYYY-MM-DD"}]
        ) from None


async def attribution_report(
    session: AsyncSession, attribution: Attribution, query: ReportQuery, currency: str
) -> list[ReportRowOut]:
    """One row per dimension value with any activity in the range; money rows biggest net GMV first, days in order."""
    rollup, viewers = AttributionRollup, AttributionViewer
    key = rollup.day if query.group_by is GroupBy.DAY else rollup.key
    sums = [
        func.sum(getattr(rollup, m)).label(m)
        for m in (
            "views",
            "clicks",
            "add_to_carts",
            "orders",
            "units",
            "gmv_minor",
            "refunds_minor",
            "commission_minor",
        )
    ]
    totals = select(key.label("key"), *sums).where(*_filters(rollup, query)).group_by(key)
    viewer_key = viewers.day if query.group_by is GroupBy.DAY else viewers.key
    people = (
        select(viewer_key, func.count(func.distinct(viewers.viewer)))
        .where(*_filters(viewers, query))
        .group_by(viewer_key)
    )
    is_marked = or_(viewers.viewer.startswith(CLICKER), viewers.viewer.startswith(BUYER))
    uniques = dict((await session.execute(people.where(~is_marked))).all())
    clickers = dict((await session.execute(people.where(viewers.viewer.startswith(CLICKER)))).all())
    found = (await session.execute(totals)).all()
    labels = await _labels(session, attribution, query.group_by, [row.key for row in found])
    converted = await _converted(session, query) if clickers else {}
    rows = [
        _row(row, uniques.get(row.key, 0), (converted.get(row.key, 0), clickers.get(row.key, 0)), labels, currency)
        for row in found
    ]
    if query.group_by is GroupBy.DAY:
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.net_gmv.amount_minor, -r.clicks, r.key))


async def _converted(session: AsyncSession, query: ReportQuery) -> dict:
    """Per row, how many of the people who clicked also bought there in the range."""
    clicked, bought = aliased(AttributionViewer), aliased(AttributionViewer)
    row_key = clicked.day if query.group_by is GroupBy.DAY else clicked.key
    same_cell = [getattr(bought, c) == getattr(clicked, c) for c in ("dim", "key", "creator_id", "seller_id")]
    if query.group_by is GroupBy.DAY:
        same_cell.append(bought.day == clicked.day)
    person = func.substr(clicked.viewer, len(CLICKER) + 1)
    found = await session.execute(
        select(row_key, func.count(func.distinct(clicked.viewer)))
        .join(bought, and_(*same_cell, bought.viewer == literal(BUYER, String()).concat(person)))
        .where(*_filters(clicked, query), *_filters(bought, query), clicked.viewer.startswith(CLICKER))
        .group_by(row_key)
    )
    return dict(found.all())


def _filters(model: type[AttributionRollup] | type[AttributionViewer], query: ReportQuery) -> list:
    conditions = [model.dim == query.group_by.value, model.day >= query.since, model.day <= query.until]
    if query.group_by is not GroupBy.DAY:
        conditions.append(model.key != NIL)
    conditions.append(model.creator_id == (query.creator_id or ALL))  # see rollups.ALL: no summing of cells
    conditions.append(model.seller_id == (query.seller_id or ALL))
    return conditions


def _row(row, unique_viewers: int, conversion: tuple[int, int], labels: dict, currency: str) -> ReportRowOut:  # type: ignore[no-untyped-def]
    key = row.key.isoformat() if isinstance(row.key, date) else str(row.key)
    gmv, refunds, commission = (int(row.gmv_minor), int(row.refunds_minor), int(row.commission_minor))
    clicks, orders = int(row.clicks), int(row.orders)
    net = gmv - refunds
    return ReportRowOut(
        key=key,
        label=labels.get(row.key, key),
        views=int(row.views),
        unique_viewers=int(unique_viewers),
        clicks=clicks,
        add_to_carts=int(row.add_to_carts),
        orders=orders,
        units=int(row.units),
        gmv=Money(gmv, currency),
        refunds=Money(refunds, currency),
        net_gmv=Money(net, currency),
        commission=Money(commission, currency),
        conversion_rate=round(conversion[0] / conversion[1], 4) if conversion[1] else 0.0,
        epc=Money(commission // clicks if clicks else 0, currency),
        aov=Money(net // orders if orders else 0, currency),
    )


async def _labels(session: AsyncSession, attribution: Attribution, group_by: GroupBy, keys: list) -> dict:
    if group_by is GroupBy.DAY or not keys:
        return {}
    if group_by is GroupBy.CREATOR:
        return dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(keys)))).all())
    if group_by is GroupBy.PRODUCT:
        return dict((await session.execute(select(Product.id, Product.title).where(Product.id.in_(keys)))).all())
    return await attribution.labels(session, group_by.value, keys)


FIELDS = ReportRowOut.__struct_fields__
MONEY_FIELDS = frozenset({"gmv", "refunds", "net_gmv", "commission", "epc", "aov"})
# The JSON row's fields in order; each money field becomes an amount column and a currency column.
CSV_COLUMNS = [
    column
    for name in FIELDS
    for column in ((f"{name}_amount_minor", f"{name}_currency") if name in MONEY_FIELDS else (name,))
]


def csv_values(row: ReportRowOut) -> list:
    values = []
    for name in FIELDS:
        value = getattr(row, name)
        values.extend((value.amount_minor, value.currency) if name in MONEY_FIELDS else (value,))
    return values


def csv_lines(rows: list[ReportRowOut]) -> Iterator[str]:
    """The rows as spreadsheet-safe CSV, one line at a time after a header line, in the JSON rows' order."""
    return spreadsheets.csv_lines(CSV_COLUMNS, (csv_values(row) for row in rows))


async def live_row(
    session: AsyncSession, attribution: Attribution, room_id: UUID, host_id: UUID, since: date, currency: str
) -> ReportRowOut | None:
    """The host's own report row for one room from ``since`` on: their live dashboard during the show (call
    ``catch_up`` first, outside this session's transaction, so the last moments' touches and sales are in)."""
    query = ReportQuery(GroupBy.ROOM, since, date.max, creator_id=host_id)
    rows = await attribution_report(session, attribution, query, currency)
    return next((row for row in rows if row.key == str(room_id)), None)
