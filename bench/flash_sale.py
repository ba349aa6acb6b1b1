"""Flash sale: N buyers race for K units of one product through POST /api/shop/checkout; no unit may be oversold.

What it does, on PostgreSQL (database ``livecommerce_flash``, made fresh and dropped afterwards) and Redis db 12:

1. ``livecommerce db upgrade``, then ``livecommerce serve --workers W`` on a free port on 127.0.0.1.
2. Setup (not timed): a seller signs up and in; buyers sign up and in concurrently for bearer tokens. Sign-up and
   sign-in each cost one argon2 hash (~0.25 CPU-s here), so by default (``--accounts fast``) only 20 buyers go
   through the API and the rest are written to auth_user/auth_role/auth_token as sign-up and sign-in write them;
   ``--accounts api`` sends all N through the API. Either way every token is checked with GET /api/me.
3. HTTP runs (R of them, each on a new product listed by the seller with stock K): N keep-alive connections are
   opened first (one GET /healthz each), then all N checkouts are released at once, each with its own
   Idempotency-Key. Measured: orders/s (201s / wall time of the burst), requests/s, p50/p99 latency of all requests
   and of the 201s, the answers by status, the server's CPU (its whole process tree, from /proc/<pid>/stat, over
   the burst / wall time) and this client's CPU. A request left unanswered (client timeout, dropped connection) is
   then sent again with its Idempotency-Key, as a real client would. Afterwards the database is checked: the
   product's orders must equal the 201s (including replayed ones) and never exceed K (the excess is the oversell
   count), stock must be K - orders and never negative, every order holds its price in escrow (2 postings), and
   the trial balance is zero.
4. The ceiling (the server stopped): the same transaction written directly with asyncpg (no HTTP, no ORM), by N
   concurrent tasks sharing a pool as large as the server's (W x (pool size + overflow)), R runs on new products:
   BEGIN; claim the idempotency key; UPDATE shop_product SET stock = stock - 1 WHERE id = $1 AND stock >= 1
   RETURNING stock; INSERT shop_order, shop_order_line, shop_order_event, shop_journal_entry and its 2
   shop_posting rows; store the response on the key (as ``idempotency.remember`` does); COMMIT.

Before each burst the script waits (``--quiet-wait``, default 10 s) for an idle second on the host and prints how
busy the host was just before ("busy before": other people's work), since a busy host slows every figure down.
The burst's client runs in this process. By default (``--client raw``) it is asyncio streams speaking HTTP/1.1 on
one kept-alive connection per buyer, opened (and answered once) before the burst: microseconds of client CPU per
request. ``--client httpx`` uses httpx.AsyncClient with max_connections=N instead (aiohttp is not installed here);
with hundreds of connections httpx costs milliseconds of CPU per request, so it delivers the "simultaneous" burst
over seconds and becomes the limit. Setup and replays use httpx. The client shares the cores with the server and
PostgreSQL, so its CPU is printed too. Run with
``.venv/bin/python bench/flash_sale.py [--buyers 500] [--units 100] [--workers 2] [--runs 3]``. Only 127.0.0.1 is
contacted; every request has a timeout; only the server this script started is stopped. Exit status: 0 when every
check passed, 1 when one failed (oversell, lost order, unbalanced ledger, 5xx or errors), 2 when PostgreSQL or
Redis does not answer.

This module holds the command line, the run's order and its summary. The parts live beside it: ``flash_sale_setup``
(accounts and the product, not timed), ``flash_sale_http`` (the HTTP burst and its client), ``flash_sale_ceiling``
(the direct asyncpg transaction) and ``flash_sale_burst`` (a burst's figures, the database's check and the report).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
from flash_sale_burst import DATABASE, cells, find_postmaster, median_row, print_table
from flash_sale_ceiling import ceiling_phase
from flash_sale_http import http_phase
from flash_sale_setup import API_SAMPLE
from harness import (
    HOST,
    NOISY_HOST_CORES,
    PG_ADMIN_DSN,
    free_port,
    machine_line,
    recreate_database,
    run_livecommerce,
    server_database_url,
    server_environment,
    serving,
    unwind_on_sigterm,
)

REDIS_URL = f"redis://{HOST}:6379/12"
SECRET_KEY = "flash-sale-bench-key-0123456789-abcdefghijklmnop"  # noqa: S105 - a throwaway local server's key
CLIENTS = {
    "raw": "asyncio streams, HTTP/1.1, one kept-alive connection per buyer ({n})",
    "httpx": "httpx {httpx} AsyncClient, keep-alive, max_connections={n}",
}


# --- the services it needs ----------------------------------------------------------------------------------


async def postgres_probe() -> tuple[str, int | None] | None:
    """PostgreSQL's version string and postmaster pid (None if not visible), or None when it does not answer."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return await conn.fetchval("SELECT version()", timeout=5), await find_postmaster(conn)
    finally:
        await conn.close()


async def redis_answers() -> bool:
    try:
        async with asyncio.timeout(3):
            reader, writer = await asyncio.open_connection(HOST, 6379)
            writer.write(b"PING\r\n")
            await writer.drain()
            answer = await reader.readline()
            writer.close()
            return answer.startswith(b"+PONG")
    except (OSError, TimeoutError):
        return False


# --- the server's log ---------------------------------------------------------------------------------------


def server_log_errors(log_path: Path) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], str]]:
    """Unhandled errors in the server's JSON log, counted by (path, last line of the traceback), and the first
    traceback of each."""
    found: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"exception": line} if "Traceback" in line else None
        if isinstance(record, dict) and (trace := str(record.get("exception") or "").strip()):
            key = (str(record.get("path", "?")), trace.splitlines()[-1][:200])
            found[key] += 1
            first.setdefault(key, trace)
    return found, first


# --- the command line ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=500, help="concurrent buyers N (default 500)")
    parser.add_argument("--units", type=int, default=100, help="units K on sale (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers W (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="bursts per path; the median is reported (default 3)")
    parser.add_argument("--pool-size", type=int, default=10, help="LIVECOMMERCE_DB_POOL_SIZE per worker (default 10)")
    parser.add_argument(
        "--accounts",
        choices=["fast", "api"],
        default="fast",
        help="api: every buyer signs up and in through the API (two argon2 hashes, ~0.5 CPU-s, per buyer); "
        f"fast (default): the seller and {API_SAMPLE} buyers do, the rest are written to the database the same way",
    )
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="the burst's HTTP client: raw (default) asyncio streams, one kept-alive connection per buyer; httpx: "
        "httpx.AsyncClient with max_connections=N (milliseconds of client CPU per request at that size)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=10.0,
        help="seconds to wait for an idle host (a 1-s sample under 0.25 busy cores) before each burst (default 10)",
    )
    parser.add_argument("--keep-database", action="store_true", help=f"leave {DATABASE} in place afterwards")
    args = parser.parse_args(argv)
    if min(args.buyers, args.units, args.workers, args.runs, args.pool_size) < 1:
        parser.error("--buyers, --units, --workers, --runs and --pool-size must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_sigterm()  # so the server and the database are cleaned up
    probe = asyncio.run(postgres_probe())
    if probe is None:
        print(f"PostgreSQL at {HOST}:5432 (user postgres) does not answer; the flash-sale benchmark needs it.")
        return 2
    version, args.postmaster = probe
    if not asyncio.run(redis_answers()):
        print(f"Redis at {HOST}:6379 does not answer; the flash-sale benchmark needs it.")
        return 2
    pool_total = args.workers * 2 * args.pool_size
    print(machine_line())
    print(f"         {version}")
    print(
        f"Method:  {args.buyers} buyers race for {args.units} units, {args.runs} run(s) per path; server: "
        f"`livecommerce serve --workers {args.workers}`, DB pool {args.pool_size}+{args.pool_size} per worker, "
        f"accounts: {args.accounts}"
    )
    print(
        f"         burst client: {CLIENTS[args.client].format(n=args.buyers, httpx=httpx.__version__)}, "
        "in this process, connections opened before each burst"
    )
    print(
        f"         ceiling: asyncpg {asyncpg.__version__}, pool of {pool_total}, the same transaction, "
        "no HTTP, no ORM, server stopped"
    )
    print(
        "         server CPU = CPU time of the serve process tree / burst wall time; PostgreSQL CPU = the same for all"
        " PostgreSQL processes (every database's)"
    )

    asyncio.run(recreate_database(DATABASE, create=True, force=True))
    try:
        with tempfile.TemporaryDirectory(prefix="lc-flash-") as tmp:
            port = free_port()
            base_url = f"http://{HOST}:{port}"
            env = server_environment(
                Path(tmp),
                base_url,
                secret_key=SECRET_KEY,
                auth_rate="1000000/minute",
                database_url=server_database_url(DATABASE),
                redis_url=REDIS_URL,
                extra={"LIVECOMMERCE_DB_POOL_SIZE": str(args.pool_size)},
            )
            run_livecommerce("db", "upgrade", env=env)
            log_path = Path(tmp) / "server.log"
            with serving(port, args.workers, env, log_path) as server_pid:
                seller, buyers, http_bursts = asyncio.run(http_phase(base_url, server_pid, args))
            server_errors, tracebacks = server_log_errors(log_path)
            for (path, error), count in server_errors.most_common(5):
                print(f"The server logged {count} unhandled error(s) on {path}: {error}")
                if "QueuePool limit" not in error:  # that one's traceback says nothing more
                    print(textwrap.indent("\n".join(tracebacks[path, error].splitlines()[-24:]), "    | "))
        print("Ceiling: the same transaction straight to PostgreSQL")
        direct_bursts = asyncio.run(ceiling_phase(seller, buyers, args))
    finally:
        if not args.keep_database:
            asyncio.run(recreate_database(DATABASE, create=False, force=True))

    print()
    rows = []
    for bursts in (http_bursts, direct_bursts):
        rows += [cells(b, str(i)) for i, b in enumerate(bursts, 1)]
        rows.append(median_row(bursts))
    print_table(rows)
    http_median = statistics.median(b.orders_per_s for b in http_bursts)
    direct_median = statistics.median(b.orders_per_s for b in direct_bursts)
    oversold = sum(b.oversold for b in (*http_bursts, *direct_bursts))
    print(
        f"\nMedian orders/s: HTTP {http_median:.1f}, asyncpg ceiling {direct_median:.1f}; "
        f"HTTP / ceiling = {http_median / direct_median:.2f}. Oversold units over all runs: {oversold}."
    )
    if (noisiest := max(b.background_cores for b in (*http_bursts, *direct_bursts))) > NOISY_HOST_CORES:
        print(
            f"Warning: other work kept the host up to {noisiest:.2f} cores busy just before a burst; these figures "
            "understate an idle machine. Run again when it is quiet."
        )
    failed = [p for b in (*http_bursts, *direct_bursts) for p in b.problems]
    if failed or server_errors:
        errors = sum(server_errors.values())
        print(f"FAILED: {len(failed)} broken rule(s), {errors} unhandled server error(s); see above.")
        return 1
    print("Every check passed: no oversell, orders = 201s, stock = K - orders, escrow held, trial balance 0.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
