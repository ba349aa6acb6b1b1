"""The attribution reports benchmark's data: a generated shop written to PostgreSQL with asyncpg COPY.

Creators, sellers, buyers and products; touches drawn the way real shops see them (a few creators draw most of the
traffic, each promoting a shelf of products through their rooms, posts and links); paid orders with their lines,
attribution receipts, escrow ``hold`` entries and some refunds. Rows go straight into the tables, not through the
app, so a million touches take seconds; the benchmark then folds them into the rollups the app's way.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

KINDS = (("view", 0.5), ("click", 0.35), ("add_to_cart", 0.15))


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
