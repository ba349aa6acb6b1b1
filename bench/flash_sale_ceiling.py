"""The flash sale's ceiling: the checkout's transaction written straight to PostgreSQL with asyncpg.

No HTTP and no ORM, with the server stopped: N concurrent tasks share a pool as large as the server's, and each
writes statement for statement what the HTTP path writes. The HTTP path's orders/s over this one's says what the
server's layers cost.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from flash_sale_burst import (
    CURRENCY,
    PG_DSN,
    PRICE_MINOR,
    REQUEST_TIMEOUT_S,
    SHIPPING,
    Burst,
    check_sale,
    postgres_cpu_seconds,
    print_burst,
)
from flash_sale_setup import Buyer
from harness import busy_cores, host_jiffies, wait_for_quiet_host_async


class OutOfStock(Exception):
    pass


SQL_CLAIM = "INSERT INTO shop_idempotency_key (id, scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
SQL_RESERVE = "UPDATE shop_product SET stock = stock - 1 WHERE id = $1 AND stock >= 1 RETURNING stock"
SQL_ORDER = (
    "INSERT INTO shop_order (id, checkout_id, buyer_id, seller_id, status, currency, total_minor, refunded_minor,"
    " shipping_address, charge_id, created_at, ship_by) VALUES ($1, $2, $3, $4, 'paid', $5, $6, 0, $7::jsonb, $8,"
    " $9, $10)"
)
SQL_LINE = (
    "INSERT INTO shop_order_line (id, order_id, product_id, title, unit_price_minor, quantity, category_slug,"
    " commission_bps, creator_id, affiliate_rate_bps, source) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, NULL, 0, NULL)"
)
SQL_EVENT = (
    "INSERT INTO shop_order_event (id, order_id, action, actor_id, at, detail)"
    " VALUES ($1, $2, 'paid', $3, $4, $5::jsonb)"
)
SQL_ENTRY = "INSERT INTO shop_journal_entry (kind, order_id, at, memo) VALUES ('hold', $1, $2, '') RETURNING id"
SQL_POSTINGS = (
    "INSERT INTO shop_posting (entry_id, account, amount_minor, currency, available_at) VALUES"
    " ($1, 'provider_clearing', $2, $3, $4), ($1, $5, -$2::integer, $3, $4)"
)
SQL_REMEMBER = "UPDATE shop_idempotency_key SET status_code = 201, response = $2::jsonb WHERE id = $1"


@dataclass(frozen=True)
class SaleItem:
    product_id: uuid.UUID
    seller_id: uuid.UUID
    title: str
    category: str
    commission_bps: int


async def direct_checkout(pool: asyncpg.Pool, buyer: Buyer, item: SaleItem) -> None:
    """One checkout as one transaction, statement for statement what the HTTP path writes; raises OutOfStock."""
    now = datetime.now(UTC)
    key_id, order_id, checkout_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    digest = hashlib.sha256(f"{item.product_id}|1|{buyer.id}".encode()).hexdigest()
    charge_id = "ch_" + hashlib.sha256(f"{checkout_id}|{PRICE_MINOR}".encode()).hexdigest()[:24]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SQL_CLAIM, key_id, f"checkout:{buyer.id}", f"flash-{uuid.uuid4()}", digest, now)
        if await conn.fetchval(SQL_RESERVE, item.product_id) is None:
            raise OutOfStock
        await conn.execute(
            SQL_ORDER,
            order_id,
            checkout_id,
            buyer.id,
            item.seller_id,
            CURRENCY,
            PRICE_MINOR,
            json.dumps(SHIPPING),
            charge_id,
            now,
            now + timedelta(days=7),
        )
        await conn.execute(
            SQL_LINE,
            uuid.uuid4(),
            order_id,
            item.product_id,
            item.title,
            PRICE_MINOR,
            item.category,
            item.commission_bps,
        )
        await conn.execute(SQL_EVENT, uuid.uuid4(), order_id, buyer.id, now, json.dumps({"charge_id": charge_id}))
        entry_id = await conn.fetchval(SQL_ENTRY, order_id, now)
        await conn.execute(SQL_POSTINGS, entry_id, PRICE_MINOR, CURRENCY, now, f"escrow:{order_id}")
        response = {"checkout_id": str(checkout_id), "orders": [{"id": str(order_id), "status": "paid"}]}
        await conn.execute(SQL_REMEMBER, key_id, json.dumps(response))


async def direct_burst(pool: asyncpg.Pool, buyers: list[Buyer], item: SaleItem, postmaster: int | None) -> Burst:
    start = asyncio.Event()
    results: list[tuple[str, float]] = []

    async def buy(buyer: Buyer) -> None:
        await start.wait()
        began = time.perf_counter()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                await direct_checkout(pool, buyer, item)
            result = "201"
        except OutOfStock:
            result = "409 out_of_stock"
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            result = f"error {type(exc).__name__}"
        results.append((result, time.perf_counter() - began))

    tasks = [asyncio.create_task(buy(b)) for b in buyers]
    await asyncio.sleep(0.05)
    client_before, host_before, pg_before = time.process_time(), host_jiffies(), postgres_cpu_seconds(postmaster)
    began = time.perf_counter()
    start.set()
    async with asyncio.timeout(REQUEST_TIMEOUT_S + 30):
        await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    pg_after = postgres_cpu_seconds(postmaster)
    return Burst(
        kind="asyncpg",
        wall_s=wall,
        latencies=[lat for _, lat in results],
        ok_latencies=[lat for res, lat in results if res == "201"],
        outcomes=Counter(res for res, _ in results),
        client_cpu_s=time.process_time() - client_before,
        host_busy_cores=busy_cores(host_before, host_jiffies()),
        postgres_cpu_s=pg_after - pg_before if pg_after is not None and pg_before is not None else None,
    )


async def ceiling_phase(seller: Buyer, buyers: list[Buyer], args: argparse.Namespace) -> list[Burst]:
    size = args.workers * 2 * args.pool_size  # each worker: pool_size connections + as many overflow
    bursts = []
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        commission = await conn.fetchval("SELECT commission_bps FROM shop_category WHERE slug = 'fashion'")
        async with asyncpg.create_pool(
            PG_DSN, min_size=size, max_size=size, timeout=5, command_timeout=REQUEST_TIMEOUT_S
        ) as pool:
            for run in range(1, args.runs + 1):
                item = SaleItem(uuid.uuid4(), seller.id, f"Flash item direct {run}", "fashion", commission)
                now = datetime.now(UTC)
                await conn.execute(
                    "INSERT INTO shop_product (id, seller_id, title, description, category_slug, price_minor,"
                    " currency, stock, affiliate_rate_bps, created_at, updated_at)"
                    " VALUES ($1, $2, $3, '', $4, $5, $6, $7, 0, $8, $8)",
                    item.product_id,
                    seller.id,
                    item.title,
                    item.category,
                    PRICE_MINOR,
                    CURRENCY,
                    args.units,
                    now,
                )
                background = await wait_for_quiet_host_async(args.quiet_wait)
                burst = await direct_burst(pool, buyers, item, args.postmaster)
                burst.background_cores = background
                await check_sale(conn, burst, item.product_id, args.units)
                bursts.append(burst)
                print_burst(run, burst)
    finally:
        await conn.close()
    return bursts
