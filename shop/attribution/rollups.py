"""Report rollups, kept up to date incrementally: counters per dimension value, day, creator and seller.

Two sources are folded in, each past a cursor (the last id read): touches (views, clicks, add-to-carts, unique
viewers) and the journal's ``hold`` and ``refund`` entries (orders, units, GMV, refunds, commission). Folding runs
in the sweeper and before each report, so a report reads only rollup rows for its range, never the raw tables.

Ids are handed out in commit order on SQLite (one writer at a time). On PostgreSQL a transaction may commit a
smaller id after a larger one is visible, so the horizon is read while holding a SHARE lock on the table for an
instant: it waits for inserts in flight, after which no id below the horizon can still appear.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID
from sqlalchemy import Date, Integer, String, case, cast, func, literal, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.db import Database
from kernel.jobs import Job
from kernel.money import Money, allocate
from shop.attribution.touches import TouchKind
from shop.models import (
    AttributionRollup,
    AttributionViewer,
    JournalEntry,
    LineAttribution,
    Order,
    OrderLine,
    Posting,
    Product,
    RollupCursor,
    Touch,
)
from shop.money import ledger
from shop.money.commissions import creator_commissions
from shop.money.ledger import EntryKind

NIL = UUID(int=0)  # "none" in the rollups' key, creator and seller columns (and the key of ``day`` rows)
# "Any creator"/"any seller": each fact is counted in four cells, (creator, seller), (creator, ALL), (ALL, seller)
# and (ALL, ALL), so a report with or without either filter reads only the rows it shows, never sums a cube.
ALL = UUID(int=2**128 - 1)
TOUCH_CHUNK = 100_000
ENTRY_CHUNK = 5_000
METRICS = ("views", "clicks", "add_to_carts", "orders", "units", "gmv_minor", "refunds_minor", "commission_minor")
CELL = ("dim", "key", "day", "creator_id", "seller_id")
FUNNEL = (TouchKind.VIEW, TouchKind.CLICK, TouchKind.ADD_TO_CART)  # counted into views, clicks, add_to_carts
# shop_attribution_viewer names people once per cell: viewers as they are ("u:<user>" or "v:<visitor>"), and with
# these prefixes the people who clicked and the buyers, so that conversion counts people who clicked and then
# bought, a share of those who clicked that cannot pass 100 %.
CLICKER = "click|"
BUYER = "buyer|"


async def catch_up(db: Database) -> int:
    """Fold every committed touch and money entry not folded yet; returns how many rows were read."""
    total = 0
    for source, fold in (("touches", _fold_touches), ("ledger", _fold_entries)):
        horizon = await _horizon(db, Touch if source == "touches" else JournalEntry)
        while True:
            async with db.transaction() as session:
                cursor = await _cursor(session, source)
                if cursor.last_id >= horizon:
                    break
                upto = min(horizon, cursor.last_id + (TOUCH_CHUNK if source == "touches" else ENTRY_CHUNK))
                total += await fold(session, cursor.last_id, upto)
                cursor.last_id = upto
    return total


def rollup_job() -> Job:
    async def run(db: Database, clock: Clock) -> int:
        return await catch_up(db)

    return Job("attribution_rollups", run, backlog)


async def backlog(session: AsyncSession, now: datetime) -> int:
    """Touches and money entries not folded yet."""
    done = {
        source: last_id for source, last_id in await session.execute(select(RollupCursor.source, RollupCursor.last_id))
    }
    waiting = 0
    for source, model in (("touches", Touch), ("ledger", JournalEntry)):
        query = select(func.count()).select_from(model).where(model.id > done.get(source, 0))
        waiting += int(await session.scalar(query) or 0)
    return waiting


async def _horizon(db: Database, model: type[Touch] | type[JournalEntry]) -> int:
    async with db.transaction() as session:
        if _dialect(session) == "postgresql":
            await session.execute(text(f"LOCK TABLE {model.__tablename__} IN SHARE MODE"))
        return int(await session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)


async def _cursor(session: AsyncSession, source: str) -> RollupCursor:
    """The source's cursor row, locked: concurrent catch-ups take turns instead of folding twice."""
    query = select(RollupCursor).where(RollupCursor.source == source).with_for_update()
    cursor = await session.scalar(query)
    if cursor is None:
        await session.execute(_insert(session, RollupCursor).values(source=source, last_id=0).on_conflict_do_nothing())
        cursor = await session.scalar(query.execution_options(populate_existing=True))
    return cursor


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


def _insert(session: AsyncSession, model: Any) -> Any:
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(model)


def _day(session: AsyncSession, column: Any) -> Any:
    if _dialect(session) == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)


def _viewer(session: AsyncSession) -> Any:
    if _dialect(session) == "postgresql":
        user = cast(Touch.user_id, String)
    else:
        user = func.lower(func.hex(Touch.user_id))
    # SQLite's hex(NULL) is '', not NULL, so the choice is spelled out rather than left to coalesce.
    return case(
        (Touch.user_id.is_not(None), literal("u:", String()).concat(user)),
        else_=literal("v:", String()).concat(Touch.visitor_id),
    )


# Touches ------------------------------------------------------------------------------------------------------
async def _fold_touches(session: AsyncSession, after: int, upto: int) -> int:
    nil = literal(NIL, GUID())
    keys = {
        "creator": Touch.creator_id,
        "room": Touch.room_id,
        "post": Touch.post_id,
        "product": Touch.product_id,
        "day": nil,
    }
    for dim, key in keys.items():
        rows = (
            select(
                key.label("key"),
                _day(session, Touch.at).label("day"),
                func.coalesce(Touch.creator_id, nil).label("creator_id"),
                func.coalesce(Product.seller_id, nil).label("seller_id"),
                Touch.kind.label("kind"),
                _viewer(session).label("viewer"),
            )
            .select_from(Touch)
            .outerjoin(Product, Product.id == Touch.product_id)
            .where(Touch.id > after, Touch.id <= upto, key.is_not(None))
            .subquery()
        )
        for creator, seller in _rollups_of(rows.c.creator_id, rows.c.seller_id):
            grouped = [c for c in (rows.c.key, rows.c.day, creator, seller) if c is not None]
            counts = select(
                literal(dim, String()),
                rows.c.key,
                rows.c.day,
                creator if creator is not None else literal(ALL, GUID()),
                seller if seller is not None else literal(ALL, GUID()),
                *(func.sum(case((rows.c.kind == kind, 1), else_=0)) for kind in FUNNEL),
                *(literal(0, Integer()) for _ in range(5)),
            ).group_by(*grouped)
            await session.execute(
                _upsert(session, _insert(session, AttributionRollup).from_select([*CELL, *METRICS], counts))
            )
            await session.execute(_people(session, dim, rows, creator, seller, TouchKind.CLICK))
            if seller is None:  # a view (joining a room, opening a post) has no seller: viewers are kept per creator
                await session.execute(_people(session, dim, rows, creator, seller, TouchKind.VIEW))
    return upto - after


def _people(session: AsyncSession, dim: str, rows: Any, creator: Any, seller: Any, kind: TouchKind) -> Any:
    """Who made touches of ``kind`` in each cell, once each (clickers under the CLICKER prefix)."""
    viewer = (
        rows.c.viewer
        if kind == TouchKind.VIEW
        else func.substr(literal(CLICKER, String()).concat(rows.c.viewer), 1, 64)
    )
    people = (
        select(
            literal(dim, String()),
            rows.c.key,
            rows.c.day,
            creator if creator is not None else literal(ALL, GUID()),
            seller if seller is not None else literal(ALL, GUID()),
            viewer,
        )
        .where(rows.c.kind == kind, rows.c.viewer.is_not(None))
        .distinct()
    )
    return (
        _insert(session, AttributionViewer)
        .from_select([*CELL, "viewer"], people)
        .on_conflict_do_nothing(index_elements=[*CELL, "viewer"])
    )


def _rollups_of(creator: Any, seller: Any) -> list[tuple[Any, Any]]:
    """The four cells a fact is counted in; None stands for ALL."""
    return [(creator, seller), (creator, None), (None, seller), (None, None)]


def _upsert(session: AsyncSession, statement: Any) -> Any:
    table = AttributionRollup.__table__
    return statement.on_conflict_do_update(
        index_elements=list(CELL),
        set_={m: table.c[m] + statement.excluded[m] for m in METRICS},
    )


# Orders and refunds ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Line:
    line: OrderLine
    receipt: LineAttribution | None

    @property
    def net(self) -> int:
        return self.line.amount_minor - (self.receipt.discount_minor if self.receipt else 0)

    def keys(self) -> dict[str, UUID | None]:
        source = self.line.source or {}
        room = (self.receipt.room_id if self.receipt else None) or _uuid(source.get("room_id"))
        post = (self.receipt.post_id if self.receipt else None) or _uuid(source.get("post_id"))
        return {
            "creator": self.line.creator_id,
            "room": room,
            "post": post,
            "product": self.line.product_id,
            "day": NIL,
        }


async def _fold_entries(session: AsyncSession, after: int, upto: int) -> int:
    entries = (
        await session.execute(
            select(JournalEntry.id, JournalEntry.kind, JournalEntry.order_id)
            .where(
                JournalEntry.id > after,
                JournalEntry.id <= upto,
                JournalEntry.kind.in_((EntryKind.HOLD, EntryKind.REFUND)),
                JournalEntry.order_id.is_not(None),
            )
            .order_by(JournalEntry.id)
        )
    ).all()
    if not entries:
        return upto - after
    order_ids = {order_id for _, _, order_id in entries}
    orders = {o.id: o for o in await session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    lines: dict[UUID, list[_Line]] = defaultdict(list)
    rows = await session.execute(
        select(OrderLine, LineAttribution)
        .outerjoin(LineAttribution, LineAttribution.line_id == OrderLine.id)
        .where(OrderLine.order_id.in_(order_ids))
        .order_by(OrderLine.id)
    )
    for line, receipt in rows:
        lines[line.order_id].append(_Line(line, receipt))
    refunded = await _refunds(session, [entry_id for entry_id, kind, _ in entries if kind == EntryKind.REFUND])
    cells: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
    counted: set[tuple[Any, ...]] = set()
    for entry_id, kind, order_id in entries:
        order, order_lines = orders[order_id], lines[order_id]
        if kind == EntryKind.HOLD:
            _add_sale(cells, counted, order, order_lines)
        else:
            before, amount = refunded[entry_id]
            _add_refund(cells, order, order_lines, before, amount)
    await _write_cells(session, cells)
    await _write_buyers(session, {(cell, orders[order_id].buyer_id) for cell, order_id in counted})
    return upto - after


async def _write_buyers(session: AsyncSession, bought: set[tuple[tuple[Any, ...], UUID]]) -> None:
    """Each buyer once per cell they bought in, named as ``_viewer`` names a signed-in person who clicked."""
    postgres = _dialect(session) == "postgresql"
    rows = [
        dict(zip(CELL, cell, strict=True)) | {"viewer": f"{BUYER}u:{buyer if postgres else buyer.hex}"}
        for cell, buyer in bought
    ]
    if rows:
        insert = _insert(session, AttributionViewer).on_conflict_do_nothing(index_elements=[*CELL, "viewer"])
        await session.execute(insert, rows)


def _cells(dim: str, key: UUID, order: Order, line: OrderLine) -> list[tuple[Any, ...]]:
    day = order.created_at.date()
    return [
        (dim, key, day, creator or ALL, seller or ALL)
        for creator, seller in _rollups_of(line.creator_id or NIL, order.seller_id)
    ]


def _add_sale(cells: dict, counted: set, order: Order, lines: list[_Line]) -> None:
    commissions = creator_commissions(order.total, [item.line for item in lines])
    for item, commission in zip(lines, commissions, strict=True):
        for dim, key in item.keys().items():
            if key is None:
                continue
            for c in _cells(dim, key, order, item.line):
                cell = cells[c]
                if (c, order.id) not in counted:  # an order counts once per cell, however many lines it has there
                    counted.add((c, order.id))
                    cell["orders"] += 1
                cell["units"] += item.line.quantity
                cell["gmv_minor"] += item.net
                cell["commission_minor"] += commission.amount_minor


def _add_refund(cells: dict, order: Order, lines: list[_Line], before: int, amount: int) -> None:
    """Book a refund on the order's day (reports are by sale date), pro rata over the lines' net amounts; the
    commission falls to what the remaining held amount would earn."""
    currency = order.currency
    plain = [item.line for item in lines]
    was = creator_commissions(Money(order.total_minor - before, currency), plain)
    now = creator_commissions(Money(order.total_minor - before - amount, currency), plain)
    shares = allocate(Money(amount, currency), [max(item.net, 0) for item in lines])
    for item, share, old, new in zip(lines, shares, was, now, strict=True):
        for dim, key in item.keys().items():
            for c in [] if key is None else _cells(dim, key, order, item.line):
                cells[c]["refunds_minor"] += share.amount_minor
                cells[c]["commission_minor"] -= (old - new).amount_minor


async def _refunds(session: AsyncSession, entry_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each refund entry: what the order had refunded before it, and the entry's amount."""
    result = {}
    for entry_id in entry_ids:
        entry = await session.get(JournalEntry, entry_id)
        amounts = dict(
            (
                await session.execute(
                    select(JournalEntry.id, -func.sum(Posting.amount_minor))
                    .join(Posting, Posting.entry_id == JournalEntry.id)
                    .where(
                        JournalEntry.order_id == entry.order_id,
                        JournalEntry.kind == EntryKind.REFUND,
                        JournalEntry.id <= entry_id,
                        Posting.account == ledger.REFUNDS,
                    )
                    .group_by(JournalEntry.id)
                )
            ).all()
        )
        result[entry_id] = (sum(v for k, v in amounts.items() if k < entry_id), int(amounts[entry_id]))
    return result


async def _write_cells(session: AsyncSession, cells: dict[tuple[Any, ...], dict[str, int]]) -> None:
    rows = [dict(zip(CELL, cell, strict=True)) | metrics for cell, metrics in cells.items()]
    if rows:  # one statement, many parameter sets: compiled once, sent in batches
        await session.execute(_upsert(session, _insert(session, AttributionRollup)), rows)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None
