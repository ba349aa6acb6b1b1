"""Attribution report benchmark on PostgreSQL: report latency at scale against a hand-written SQL ceiling.

Method:
1. Rebuild the target database's schema from the migrations (the database is wiped: use a scratch one).
2. Generate, with asyncpg COPY, a shop spread over ``--days`` days: creators, sellers, buyers, products, rooms and
   posts; ``--touches`` touches (half room views, a third clicks from rooms, posts and links, the rest
   add-to-carts); ``--orders`` paid orders of one or two lines with their receipts and escrow ``hold`` entries,
   and a refund entry for ``--refund-share`` of them.
3. Fold everything into the rollups once (``shop.rollups.catch_up``, what the background loop does), timed.
4. For each grouping (creator, room, post, product, day), over the whole range: time ``GET
   /api/reports/attribution`` in process (the real app through its ASGI interface: auth, the catch-up check,
   queries, labels, JSON), and the same aggregation as one hand-written SQL statement over the rollup tables
   sent by asyncpg (the ceiling); print medians of ``--runs`` runs and the ratio. For scale, one run of the same
   aggregation straight from the raw touches and order lines (what a report would cost without rollups).

Run: ``.venv/bin/python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/lc_attrib``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import machine_line  # noqa: E402

from kernel.migrate import upgrade  # noqa: E402

NIL = uuid.UUID(int=0)
ALL = uuid.UUID(int=2**128 - 1)  # shop.rollups.ALL: "any creator", "any seller"
GROUPINGS = ("creator", "room", "post", "product", "day")
KINDS = (("view", 0.5), ("click", 0.35), ("add_to_cart", 0.15))
METRICS = "views, clicks, add_to_carts, orders, units, gmv_minor, refunds_minor, commission_minor"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) + " (1, 5, 15 min)"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class World:
    """The generated shop's ids, kept to draw touches and orders from."""

    def __init__(self, rng: random.Random, creators: int, sellers: int, buyers: int, products: int) -> None:
        self.creators = [uuid.uuid4() for _ in range(creators)]
        self.sellers = [uuid.uuid4() for _ in range(sellers)]
        self.buyers = [uuid.uuid4() for _ in range(buyers)]
        self.products = [(uuid.uuid4(), rng.choice(self.sellers), rng.randrange(500, 20_000)) for _ in range(products)]
        self.by_seller: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID, int]]] = {}
        for product in self.products:
            self.by_seller.setdefault(product[1], []).append(product)
        # Like real shops: a few creators draw most of the traffic, and each promotes a shelf of a dozen products
        # through their own three rooms, six posts and links.
        self.weights = [1 / (rank + 1) for rank in range(creators)]
        self.shelf = {c: rng.sample(self.products, k=min(12, products)) for c in self.creators}
        self.rooms_of = {c: [uuid.uuid4() for _ in range(3)] for c in self.creators}
        self.posts_of = {c: [uuid.uuid4() for _ in range(6)] for c in self.creators}
        self.rooms = [(room, c) for c, rooms in self.rooms_of.items() for room in rooms]
        self.posts = [(post, c) for c, posts in self.posts_of.items() for post in posts]

    def creator(self, rng: random.Random) -> uuid.UUID:
        return rng.choices(self.creators, self.weights)[0]


async def rebuild_schema(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, url.replace("postgresql://", "postgresql+asyncpg://", 1))


async def copy(conn: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def generate(conn: asyncpg.Connection, args: argparse.Namespace, start: datetime) -> World:
    rng = random.Random(args.seed)
    world = World(rng, args.creators, args.sellers, args.buyers, args.products)
    now = datetime.now(UTC)
    users = [
        (uid, f"{kind}{i}@bench.test", "x", f"{kind.title()} {i}", now, now)
        for kind, ids in (("creator", world.creators), ("seller", world.sellers), ("buyer", world.buyers))
        for i, uid in enumerate(ids)
    ]
    await copy(conn, "auth_user", ["id", "email", "password_hash", "display_name", "created_at", "updated_at"], users)
    categories = dict(await conn.fetch("SELECT slug, commission_bps FROM shop_category"))
    slugs = sorted(categories)
    product_category = {pid: rng.choice(slugs) for pid, _, _ in world.products}
    await copy(
        conn,
        "shop_product",
        [
            "id",
            "seller_id",
            "title",
            "description",
            "category_slug",
            "price_minor",
            "currency",
            "stock",
            "affiliate_rate_bps",
            "created_at",
            "updated_at",
        ],
        [
            (
                pid,
                seller,
                f"Product {i}",
                "",
                product_category[pid],
                price,
                "USD",
                1000,
                rng.choice((500, 1000, 1500)),
                now,
                now,
            )
            for i, (pid, seller, price) in enumerate(world.products)
        ],
    )
    log(f"users, products: {len(users):,} + {len(world.products):,}")

    span = args.days * 86_400
    weights = [w for _, w in KINDS]
    batch: list[tuple] = []
    written = 0
    columns = ["kind", "at", "creator_id", "product_id", "room_id", "post_id", "link_code", "user_id", "visitor_id"]
    for i in range(args.touches):
        kind = rng.choices(KINDS, weights)[0][0]
        at = start + timedelta(seconds=rng.randrange(span))
        user = rng.choice(world.buyers) if rng.random() < 0.6 else None
        visitor = None if user else f"v{rng.randrange(args.buyers * 2)}"
        room = post = product = link = None
        creator = world.creator(rng)
        if kind == "view":
            room = rng.choice(world.rooms_of[creator])
        else:
            product = rng.choice(world.shelf[creator])[0]
            via = rng.random()
            if via < 0.4:
                room = rng.choice(world.rooms_of[creator])
            elif via < 0.8:
                post = rng.choice(world.posts_of[creator])
            else:
                link = f"l{rng.randrange(10**9):09d}"
        batch.append((kind, at, creator, product, room, post, link, user, visitor))
        if len(batch) == 100_000 or i == args.touches - 1:
            await copy(conn, "shop_touch", columns, batch)
            written += len(batch)
            batch = []
            log(f"touches: {written:,} / {args.touches:,}")

    orders, lines, receipts, entries, postings = [], [], [], [], []
    entry_id = 0
    for i in range(args.orders):
        promoter = world.creator(rng)
        first = rng.choice(world.shelf[promoter])
        seller = first[1]
        others = [p for p in world.by_seller[seller] if p != first]
        chosen = [first, *([rng.choice(others)] if others and rng.random() < 0.3 else [])]
        at = start + timedelta(seconds=rng.randrange(span))
        order_id = uuid.uuid4()
        total = 0
        for pid, _, price in chosen:
            quantity = rng.choice((1, 1, 1, 2, 3))
            rule = rng.choices(("none", "last_click", "live_room", "coupon"), (3, 4, 2, 1))[0]
            creator, room, post, source = None, None, None, None
            if rule == "live_room":
                creator = promoter
                room = rng.choice(world.rooms_of[creator])
                source = f'{{"room_id": "{room}"}}'
            elif rule != "none":
                creator = promoter
                if rng.random() < 0.5:
                    post = rng.choice(world.posts_of[creator])
            line_id = uuid.uuid4()
            lines.append(
                (
                    line_id,
                    order_id,
                    pid,
                    "Product",
                    price,
                    quantity,
                    product_category[pid],
                    categories[product_category[pid]],
                    creator,
                    1000 if creator else 0,
                    source,
                )
            )
            receipts.append((line_id, order_id, 1, rule, creator, room, post, 7 * 86_400, at, 0, "[]"))
            total += price * quantity
        refunded = total // 2 if rng.random() < args.refund_share else 0
        orders.append(
            (
                order_id,
                uuid.uuid4(),
                rng.choice(world.buyers),
                seller,
                "partially_refunded" if refunded else "paid",
                "USD",
                total,
                refunded,
                '{"name": "B"}',
                f"ch_{i}",
                at,
                at + timedelta(days=7),
            )
        )
        entry_id += 1
        entries.append((entry_id, "hold", order_id, at, ""))
        postings += [
            (entry_id, "provider_clearing", total, "USD", at),
            (entry_id, f"escrow:{order_id}", -total, "USD", at),
        ]
        if refunded:
            entry_id += 1
            later = at + timedelta(days=1)
            entries.append((entry_id, "refund", order_id, later, ""))
            postings += [
                (entry_id, f"escrow:{order_id}", refunded, "USD", later),
                (entry_id, "refunds", -refunded, "USD", later),
            ]
    await copy(
        conn,
        "shop_order",
        [
            "id",
            "checkout_id",
            "buyer_id",
            "seller_id",
            "status",
            "currency",
            "total_minor",
            "refunded_minor",
            "shipping_address",
            "charge_id",
            "created_at",
            "ship_by",
        ],
        orders,
    )
    await copy(
        conn,
        "shop_order_line",
        [
            "id",
            "order_id",
            "product_id",
            "title",
            "unit_price_minor",
            "quantity",
            "category_slug",
            "commission_bps",
            "creator_id",
            "affiliate_rate_bps",
            "source",
        ],
        lines,
    )
    await copy(
        conn,
        "shop_line_attribution",
        [
            "line_id",
            "order_id",
            "rule_version",
            "rule",
            "creator_id",
            "room_id",
            "post_id",
            "window_seconds",
            "decided_at",
            "discount_minor",
            "candidates",
        ],
        receipts,
    )
    await copy(conn, "shop_journal_entry", ["id", "kind", "order_id", "at", "memo"], entries)
    await copy(conn, "shop_posting", ["entry_id", "account", "amount_minor", "currency", "available_at"], postings)
    await conn.execute("SELECT setval(pg_get_serial_sequence('shop_journal_entry', 'id'), $1)", entry_id)
    await conn.execute("ANALYZE")
    log(f"orders: {len(orders):,} with {len(lines):,} lines, {len(entries) - len(orders):,} refunds")
    return world


def ceiling_sql(group_by: str) -> str:
    """The report's aggregation, hand-written as one statement over the rollups."""
    key = "day" if group_by == "day" else "key"
    not_nil = "" if group_by == "day" else f"AND key <> '{NIL}'"
    # Built from the fixed GROUPINGS names, never from input; the report's rows are the (ALL, ALL) cells.
    cells = f"dim = $1 AND day BETWEEN $2 AND $3 AND creator_id = '{ALL}' AND seller_id = '{ALL}'"
    return f"""
        WITH totals AS MATERIALIZED (
            SELECT {key} AS k, sum(views) v, sum(clicks) c, sum(add_to_carts) a, sum(orders) o, sum(units) u,
                   sum(gmv_minor) g, sum(refunds_minor) r, sum(commission_minor) m
            FROM shop_attribution_rollup WHERE {cells} {not_nil} GROUP BY {key}),
        viewers AS MATERIALIZED (
            SELECT {key} AS k, count(DISTINCT viewer) n
            FROM shop_attribution_viewer WHERE {cells} GROUP BY {key})
        SELECT totals.*, coalesce(viewers.n, 0), g - r AS net FROM totals LEFT JOIN viewers USING (k)
        ORDER BY net DESC"""  # noqa: S608


RAW_KEYS = {
    "creator": ("t.creator_id", "l.creator_id"),
    "room": ("t.room_id", "a.room_id"),
    "post": ("t.post_id", "a.post_id"),
    "product": ("t.product_id", "l.product_id"),
    "day": ("(t.at AT TIME ZONE 'UTC')::date", "(o.created_at AT TIME ZONE 'UTC')::date"),
}


def raw_sql(group_by: str) -> str:
    """The same figures straight from the raw tables (no rollups): what each report would cost without them."""
    touch_key, line_key = RAW_KEYS[group_by]
    return f"""
        WITH t AS (
            SELECT {touch_key} AS k, count(*) FILTER (WHERE kind = 'view') v, count(*) FILTER (WHERE kind = 'click') c,
                   count(*) FILTER (WHERE kind = 'add_to_cart') a,
                   count(DISTINCT coalesce(t.user_id::text, t.visitor_id)) FILTER (WHERE kind = 'view') n
            FROM shop_touch t WHERE t.at >= $1 AND t.at < $2 AND {touch_key} IS NOT NULL GROUP BY 1),
        s AS (
            SELECT {line_key} AS k, count(DISTINCT o.id) o, sum(l.quantity) u,
                   sum(l.unit_price_minor * l.quantity - a.discount_minor) g
            FROM shop_order o JOIN shop_order_line l ON l.order_id = o.id
            JOIN shop_line_attribution a ON a.line_id = l.id
            WHERE o.created_at >= $1 AND o.created_at < $2 AND {line_key} IS NOT NULL GROUP BY 1)
        SELECT * FROM t FULL JOIN s USING (k)"""  # noqa: S608 - from the fixed RAW_KEYS table, never from input


async def timed(runs: int, call) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lc_attrib")
    )
    parser.add_argument("--touches", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--creators", type=int, default=300)
    parser.add_argument("--sellers", type=int, default=100)
    parser.add_argument("--buyers", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--refund-share", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data an earlier run left in the database (no generation)"
    )
    args = parser.parse_args()
    print(machine_line())
    print(f"Load before: {load()}")
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=args.days - 1)
    start = datetime.combine(first_day, datetime.min.time(), UTC)

    began = time.perf_counter()
    if not args.reuse:
        await rebuild_schema(args.database_url)
    conn = await asyncpg.connect(args.database_url)
    if not args.reuse:
        await generate(conn, args, start)
        log(f"generated in {time.perf_counter() - began:.1f} s")
    touches = await conn.fetchval("SELECT count(*) FROM shop_touch")
    orders = await conn.fetchval("SELECT count(*) FROM shop_order")
    log(f"data: {touches:,} touches, {orders:,} orders")

    from app import create_app
    from kernel.auth.models import Role
    from kernel.auth.service import AccountService
    from kernel.errors import Conflict
    from kernel.settings import load_settings
    from shop.attribution import rollups

    data_dir = Path(tempfile.gettempdir()) / "lc-bench-reports"
    settings = load_settings(
        {
            "DATABASE_URL": args.database_url.replace("postgresql://", "postgresql+asyncpg://", 1),
            "LIVECOMMERCE_DATA_DIR": str(data_dir),
            "LIVECOMMERCE_SECRET_KEY": "bench-reports-secret-key-0123456789-abcdefgh",
            "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
            "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
            "LIVECOMMERCE_LOG_LEVEL": "WARNING",
            "LIVECOMMERCE_SWEEP_INTERVAL": "1h",  # the bench folds explicitly, then measures reads alone
        }
    )
    app = create_app(settings)
    folded_began = time.perf_counter()
    folded = await rollups.catch_up(app.state.db)
    fold_s = time.perf_counter() - folded_began
    cells = await conn.fetchval("SELECT count(*) FROM shop_attribution_rollup")
    viewers = await conn.fetchval("SELECT count(*) FROM shop_attribution_viewer")
    log(f"rollups folded: {folded:,} source rows in {fold_s:.1f} s -> {cells:,} rollup rows, {viewers:,} viewer rows")
    await conn.execute("ANALYZE shop_attribution_rollup; ANALYZE shop_attribution_viewer")  # as autovacuum would

    async with app.lifespan():
        with contextlib.suppress(Conflict):  # made by an earlier run (--reuse)
            async with app.state.db.transaction() as session:
                accounts = AccountService(session, app.state.clock, settings.auth.session_ttl, app.state.passwords)
                await accounts.create_user("marketer@bench.test", "bench-password-1", "Marketer", [Role.MARKETER])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
            login = await client.post(
                "/api/auth/login", json={"email": "marketer@bench.test", "password": "bench-password-1"}
            )
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            client.cookies.clear()
            print(f"\nRange {first_day} to {today} ({args.days} days); medians of {args.runs} runs after one warm-up\n")
            print(
                f"{'group_by':<9} {'rows':>6} {'endpoint ms':>12} {'ceiling ms':>11} {'ratio':>6} {'raw tables ms':>14}"
            )
            for group_by in GROUPINGS:
                params = {"group_by": group_by, "from": str(first_day), "to": str(today)}

                async def endpoint(params: dict = params) -> httpx.Response:
                    response = await client.get("/api/reports/attribution", params=params, headers=headers)
                    response.raise_for_status()
                    return response

                async def ceiling(group_by: str = group_by) -> list:
                    return await conn.fetch(ceiling_sql(group_by), group_by, first_day, today)

                await endpoint()
                await ceiling()
                api_s, response = await timed(args.runs, endpoint)
                sql_s, ceiling_rows = await timed(args.runs, ceiling)
                rows = len(response.json()["rows"])
                # The ceiling computes the same figures: check them, so the comparison is like for like.
                api = {
                    row["key"]: (row["net_gmv"]["amount_minor"], row["unique_viewers"])
                    for row in response.json()["rows"]
                }
                sql = {str(row["k"]): (int(row["net"]), int(row["coalesce"])) for row in ceiling_rows}
                assert api == sql, f"{group_by}: the endpoint and the ceiling disagree"
                raw_s, _ = await timed(
                    1, lambda g=group_by: conn.fetch(raw_sql(g), start, start + timedelta(days=args.days))
                )
                print(
                    f"{group_by:<9} {rows:>6} {api_s * 1000:>12.1f} {sql_s * 1000:>11.1f} {api_s / sql_s:>6.2f} "
                    f"{raw_s * 1000:>14.0f}",
                    flush=True,
                )
            csv_s, csv_response = await timed(
                args.runs,
                lambda: client.get(
                    "/api/reports/attribution",
                    headers=headers,
                    params={"group_by": "product", "from": str(first_day), "to": str(today), "format": "csv"},
                ),
            )
            print(f"\nCSV, group_by=product: {csv_s * 1000:.1f} ms for {len(csv_response.text.splitlines()) - 1} rows")
    await app.state.db.dispose()
    await conn.close()
    print(f"Load after: {load()}")


if __name__ == "__main__":
    asyncio.run(main())
