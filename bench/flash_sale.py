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
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.cookiejar
import json
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from harness import (
    CLK_TCK,
    HOST,
    NOISY_HOST_CORES,
    PG_ADMIN_DSN,
    busy_cores,
    cores_split,
    cpu_used,
    free_port,
    host_jiffies,
    machine_line,
    proc_stat,
    recreate_database,
    run_livecommerce,
    server_database_url,
    server_environment,
    serving,
    tree_cpu_seconds,
    unwind_on_sigterm,
    wait_for_quiet_host_async,
)

DATABASE = "livecommerce_flash"
PG_DSN = f"postgresql://postgres@{HOST}:5432/{DATABASE}"
REDIS_URL = f"redis://{HOST}:6379/12"
SECRET_KEY = "flash-sale-bench-key-0123456789-abcdefghijklmnop"  # noqa: S105 - a throwaway local server's key
PASSWORD = "flash-sale-password"  # noqa: S105 - throwaway accounts in a throwaway database
PRICE_MINOR = 1999
CURRENCY = "USD"
API_SAMPLE = 20  # --accounts fast: buyers signed up through the API; the rest are written like sign-up writes them
SETUP_CONCURRENCY = 64  # sign-ups and sign-ins hash passwords (argon2): a bounded queue, not a burst
SETUP_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
CLIENTS = {
    "raw": "asyncio streams, HTTP/1.1, one kept-alive connection per buyer ({n})",
    "httpx": "httpx {httpx} AsyncClient, keep-alive, max_connections={n}",
}
SHIPPING = {"name": "B", "line1": "1 Main", "city": "X", "postal_code": "1", "country": "US"}


# --- results ------------------------------------------------------------------------------------------------


@dataclass
class Burst:
    """One timed burst of N checkouts (over HTTP or straight to PostgreSQL) and what the database says after it."""

    kind: str
    wall_s: float
    latencies: list[float]  # seconds, every request
    ok_latencies: list[float]  # seconds, the successful checkouts
    outcomes: Counter[str]
    client_cpu_s: float
    server_cpu_s: float | None = None
    postgres_cpu_s: float | None = None  # every PostgreSQL process, whichever database it serves
    server_split: tuple[float, ...] = ()
    host_busy_cores: float = 0.0
    background_cores: float = 0.0  # host busy in the second before the burst, this benchmark idle: others' work
    units: int = 0
    replayed: Counter[str] = field(default_factory=Counter)  # unanswered requests sent again with the same key
    orders: int = 0
    stock_left: int = 0
    postings: int = 0
    trial_balance: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.outcomes["201"]

    @property
    def orders_per_s(self) -> float:
        return self.ok / self.wall_s

    @property
    def sold_out_s(self) -> float:
        """When the last successful checkout was answered, from the release of the burst."""
        return max(self.ok_latencies, default=float("nan"))

    @property
    def oversold(self) -> int:
        return max(0, self.orders - self.units)

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.wall_s


def percentile_ms(values: list[float], p: float) -> float:
    """Nearest-rank percentile in milliseconds (nan for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]


# --- PostgreSQL's CPU, read from /proc ----------------------------------------------------------------------


def postgres_cpu_seconds(postmaster: int | None) -> float | None:
    """CPU seconds of the PostgreSQL server so far: its live processes plus the backends that have exited
    (counted in the postmaster's cutime + cstime). None when its processes are not visible here."""
    if postmaster is None or not (fields := proc_stat(postmaster)):
        return None
    exited = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return exited + sum(tree_cpu_seconds(postmaster).values())


async def find_postmaster(conn: asyncpg.Connection) -> int | None:
    """The postmaster's pid: the parent of this connection's backend, if that process is visible here."""
    fields = proc_stat(await conn.fetchval("SELECT pg_backend_pid()"))
    return int(fields[1]) if fields else None


# --- the database -------------------------------------------------------------------------------------------


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


async def check_sale(conn: asyncpg.Connection, burst: Burst, product_id: uuid.UUID, units: int) -> None:
    """Fill in what the database says about one burst's product and the whole ledger; note every broken rule."""
    burst.units = units
    burst.orders = await conn.fetchval(
        "SELECT count(DISTINCT l.order_id) FROM shop_order_line l WHERE l.product_id = $1", product_id
    )
    burst.stock_left = await conn.fetchval("SELECT stock FROM shop_product WHERE id = $1", product_id)
    burst.postings = await conn.fetchval(
        "SELECT count(*) FROM shop_posting p JOIN shop_journal_entry e ON e.id = p.entry_id "
        "WHERE e.order_id IN (SELECT order_id FROM shop_order_line WHERE product_id = $1)",
        product_id,
    )
    burst.trial_balance = await conn.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM shop_posting")
    negative = await conn.fetchval("SELECT count(*) FROM shop_product WHERE stock < 0")
    expected_orders = min(units, len(burst.latencies))
    answered = burst.ok + burst.replayed["201"]
    if burst.orders > units:
        burst.problems.append(f"OVERSOLD: {burst.orders} orders for {units} units")
    if burst.orders != answered:
        burst.problems.append(
            f"{burst.orders} orders in the database but {burst.ok} successful answers"
            f" (+ {burst.replayed['201']} on replaying unanswered requests with the same key)"
        )
    if burst.stock_left != units - burst.orders or burst.stock_left < 0 or negative:
        burst.problems.append(f"stock left {burst.stock_left} after {burst.orders} orders of {units} units")
    if burst.orders < expected_orders:
        burst.problems.append(f"only {burst.orders} of {expected_orders} sellable units were sold")
    if burst.postings != 2 * burst.orders:
        burst.problems.append(f"{burst.postings} escrow postings for {burst.orders} orders (expected 2 each)")
    if burst.trial_balance != 0:
        burst.problems.append(f"trial balance is {burst.trial_balance}, not 0")
    unexpected = {k: v for k, v in burst.outcomes.items() if k not in {"201", "409 out_of_stock"}}
    if unexpected:
        burst.problems.append(f"unexpected answers: {unexpected}")
    if bad_replays := {k: v for k, v in burst.replayed.items() if k not in {"201", "409 out_of_stock"}}:
        burst.problems.append(f"unexpected answers to replays: {bad_replays}")


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


# --- the HTTP phase -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    id: uuid.UUID
    token: str


def http_client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=60)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=5.0)
    # No cookie jar: a stored session cookie would make the API demand a CSRF token; buyers use bearer tokens.
    no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False, cookies=no_cookies)


async def sign_up(client: httpx.AsyncClient, base_url: str, email: str, roles: list[str]) -> Buyer:
    body = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], "roles": roles}
    signup = await client.post(f"{base_url}/api/auth/signup", json=body, timeout=SETUP_TIMEOUT_S)
    if signup.status_code != 201:
        raise RuntimeError(f"Sign-up of {email} answered {signup.status_code}: {signup.text[:300]}")
    login = await client.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=SETUP_TIMEOUT_S
    )
    if login.status_code != 200:
        raise RuntimeError(f"Sign-in of {email} answered {login.status_code}: {login.text[:300]}")
    data = login.json()
    return Buyer(uuid.UUID(data["user"]["id"]), data["token"])


async def sign_up_buyers(client: httpx.AsyncClient, base_url: str, first: int, count: int, tag: str) -> list[Buyer]:
    """Buyers ``first`` .. ``first + count - 1``, each signed up and signed in through the API."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(i: int) -> Buyer:
        async with gate:
            return await sign_up(client, base_url, f"buyer{i}-{tag}@flash.test", ["buyer"])

    return list(await asyncio.gather(*(one(i) for i in range(first, first + count))))


async def insert_buyers(conn: asyncpg.Connection, like: Buyer, first: int, count: int, tag: str) -> list[Buyer]:
    """Buyers written as sign-up and sign-in write them (auth_user, auth_role, auth_token), skipping argon2.

    Each gets the password hash of ``like`` (same password; the hash carries its own salt) and a fresh random
    token of which only the SHA-256 is stored, exactly as ``AccountService.login`` stores it.
    """
    password_hash = await conn.fetchval("SELECT password_hash FROM auth_user WHERE id = $1", like.id)
    now = datetime.now(UTC)
    buyers, users, roles, tokens = [], [], [], []
    for i in range(first, first + count):
        user_id, token = uuid.uuid4(), secrets.token_urlsafe(32)
        email = f"buyer{i}-{tag}@flash.test"
        users.append((user_id, email, password_hash, email.split("@")[0], now, now))
        roles.append((uuid.uuid4(), user_id, "buyer"))
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        tokens.append((uuid.uuid4(), user_id, token_hash, now, now + timedelta(days=1)))
        buyers.append(Buyer(user_id, token))
    async with conn.transaction():
        await conn.copy_records_to_table(
            "auth_user",
            records=users,
            columns=["id", "email", "password_hash", "display_name", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table("auth_role", records=roles, columns=["id", "user_id", "role"])
        await conn.copy_records_to_table(
            "auth_token", records=tokens, columns=["id", "user_id", "token_hash", "created_at", "expires_at"]
        )
    return buyers


async def check_tokens(client: httpx.AsyncClient, base_url: str, buyers: list[Buyer]) -> None:
    """Every buyer's bearer token must sign them in as themselves (GET /api/me), whichever way it was made."""

    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(buyer: Buyer) -> None:
        async with gate:
            answer = await get_retrying(client, f"{base_url}/api/me", {"Authorization": f"Bearer {buyer.token}"})
        if answer.status_code != 200 or answer.json().get("id") != str(buyer.id):
            raise RuntimeError(f"GET /api/me for buyer {buyer.id} answered {answer.status_code}: {answer.text[:200]}")

    await asyncio.gather(*(one(b) for b in buyers))


async def get_retrying(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A GET outside the timed burst, tried again when a kept-alive connection was closed under it."""
    for attempt in range(3):
        try:
            return await client.get(url, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
            if attempt == 2:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def list_product(client: httpx.AsyncClient, base_url: str, seller: Buyer, units: int, title: str) -> uuid.UUID:
    body = {
        "title": title,
        "description": "Flash sale benchmark item",
        "category": "fashion",
        "price": {"amount_minor": PRICE_MINOR, "currency": CURRENCY},
        "stock": units,
        "affiliate_rate_bps": 0,
    }
    answer = await client.post(
        f"{base_url}/api/shop/products", json=body, headers={"Authorization": f"Bearer {seller.token}"}
    )
    if answer.status_code != 201:
        raise RuntimeError(f"Listing the product answered {answer.status_code}: {answer.text[:300]}")
    return uuid.UUID(answer.json()["id"])


async def replay(client: httpx.AsyncClient, url: str, payload: bytes, headers: dict[str, str]) -> str:
    """Send a request that got no answer again, same Idempotency-Key: the first outcome, or a checkout now."""
    result = "no answer"
    for _ in range(10):
        try:
            answer = await client.post(url, content=payload, headers=headers)
            result = outcome_of(answer.status_code, answer.content)
        except httpx.HTTPError as exc:
            result = f"error {type(exc).__name__}"
        if result != "409 idempotency_key_in_use" and not result.startswith("error"):
            return result
        await asyncio.sleep(2.0)  # the first attempt may still be running on the server
    return result


class RawConnection:
    """One kept-alive HTTP/1.1 connection driven by hand: a few microseconds of client CPU per request.

    httpx spends milliseconds of CPU per request once it holds hundreds of connections, which would make this
    process, not the server, decide when the checkouts arrive (see ``--client``).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        """Connect and do one GET /healthz, so a server worker has accepted the connection before the burst."""
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(HOST, port)
            conn = cls(reader, writer, f"{HOST}:{port}")
            status, _ = await conn.request("GET", "/healthz", {}, b"")
        if status != 200:
            raise RuntimeError(f"GET /healthz answered {status}")
        return conn

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in fields:
            return status, await self.reader.readexactly(int(fields["content-length"]))
        chunks = []
        if fields.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append((await self.reader.readexactly(size + 2))[:-2])
            await self.reader.readuntil(b"\r\n")
        return status, b"".join(chunks)

    def close(self) -> None:
        self.writer.close()


def outcome_of(status: int, body: bytes) -> str:
    if status == 409:
        try:
            kind = str(json.loads(body).get("type", "")).rsplit("/", 1)[-1]
        except (ValueError, AttributeError):
            kind = "?"
        return f"409 {kind}"
    return str(status)


async def http_burst(
    client: httpx.AsyncClient,
    base_url: str,
    buyers: list[Buyer],
    product_id: uuid.UUID,
    server_pid: int,
    mode: str,
    postmaster: int | None,
) -> Burst:
    """All N checkouts released at once over N connections opened beforehand; unanswered ones are replayed."""
    payload = json.dumps(
        {
            "items": [{"product_id": str(product_id), "quantity": 1}],
            "shipping_address": SHIPPING,
            "payment": {"method": "sandbox", "token": "tok_ok"},
        }
    ).encode()
    url = f"{base_url}/api/shop/checkout"
    port = int(base_url.rsplit(":", 1)[1])
    raw: list[RawConnection] = []
    if mode == "raw":
        raw = list(await asyncio.gather(*(RawConnection.open(port) for _ in buyers)))
    else:  # fill httpx's pool with (about) one kept-alive connection per buyer
        await asyncio.gather(*(get_retrying(client, f"{base_url}/healthz") for _ in buyers))
    start = asyncio.Event()
    results: list[tuple[str, float]] = []
    unanswered: list[dict[str, str]] = []

    async def buy(i: int, buyer: Buyer) -> None:
        headers = {
            "Authorization": f"Bearer {buyer.token}",
            "Idempotency-Key": f"flash-{uuid.uuid4()}",
            "Content-Type": "application/json",
        }
        await start.wait()
        began = time.perf_counter()
        try:
            if mode == "raw":
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    result = outcome_of(*await raw[i].request("POST", "/api/shop/checkout", headers, payload))
            else:
                response = await client.post(url, content=payload, headers=headers)
                result = outcome_of(response.status_code, response.content)
        except (httpx.HTTPError, OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            result = f"error {type(exc).__name__}"
            unanswered.append(headers)
        results.append((result, time.perf_counter() - began))

    tasks = [asyncio.create_task(buy(i, b)) for i, b in enumerate(buyers)]
    await asyncio.sleep(0.05)  # every task is parked on the gate
    cpu_before, client_before, host_before = tree_cpu_seconds(server_pid), time.process_time(), host_jiffies()
    pg_before = postgres_cpu_seconds(postmaster)
    began = time.perf_counter()
    start.set()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S + 30):
            await asyncio.gather(*tasks)
    finally:
        for conn in raw:
            conn.close()
    wall = time.perf_counter() - began
    cpu_after, client_after, host_after = tree_cpu_seconds(server_pid), time.process_time(), host_jiffies()
    pg_after = postgres_cpu_seconds(postmaster)
    used = cpu_used(cpu_before, cpu_after)
    replayed = Counter(await asyncio.gather(*(replay(client, url, payload, h) for h in unanswered)))
    return Burst(
        replayed=replayed,
        kind="HTTP",
        wall_s=wall,
        latencies=[lat for _, lat in results],
        ok_latencies=[lat for res, lat in results if res == "201"],
        outcomes=Counter(res for res, _ in results),
        client_cpu_s=client_after - client_before,
        server_cpu_s=sum(used),
        postgres_cpu_s=pg_after - pg_before if pg_after is not None and pg_before is not None else None,
        server_split=cores_split(used, wall),
        host_busy_cores=busy_cores(host_before, host_after),
    )


async def http_phase(
    base_url: str, server_pid: int, args: argparse.Namespace
) -> tuple[Buyer, list[Buyer], list[Burst]]:
    tag = uuid.uuid4().hex[:8]
    bursts: list[Burst] = []
    async with http_client(args.buyers) as client:
        began = time.perf_counter()
        seller = await sign_up(client, base_url, f"seller-{tag}@flash.test", ["seller"])
        through_api = args.buyers if args.accounts == "api" else min(args.buyers, API_SAMPLE)
        buyers = await sign_up_buyers(client, base_url, 0, through_api, tag)
        conn = await asyncpg.connect(PG_DSN, timeout=5)
        try:
            if args.buyers > through_api:
                buyers += await insert_buyers(conn, buyers[0], through_api, args.buyers - through_api, tag)
            await check_tokens(client, base_url, buyers)
            print(
                f"Setup: 1 seller and {len(buyers)} buyers, {through_api} of them signed up and in through the API"
                f"{'' if through_api == len(buyers) else ', the rest written to auth_user/auth_role/auth_token'}; "
                f"every token checked with GET /api/me ({time.perf_counter() - began:.1f} s)"
            )
            for run in range(1, args.runs + 1):
                product_id = await list_product(client, base_url, seller, args.units, f"Flash item {run}")
                # Waiting for a quiet host also lets the listing's after-commit work pass.
                background = await wait_for_quiet_host_async(args.quiet_wait)
                burst = await http_burst(client, base_url, buyers, product_id, server_pid, args.client, args.postmaster)
                burst.background_cores = background
                await check_sale(conn, burst, product_id, args.units)
                bursts.append(burst)
                print_burst(run, burst)
        finally:
            await conn.close()
    return seller, buyers, bursts


# --- the ceiling: the same transaction straight to PostgreSQL -----------------------------------------------


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


# --- report -------------------------------------------------------------------------------------------------


def print_burst(run: int, b: Burst) -> None:
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(b.outcomes.items()))
    server = ""
    if b.server_cpu_s is not None:
        split = " + ".join(f"{c:.2f}" for c in b.server_split)
        per_request = 1000 * b.server_cpu_s / len(b.latencies)
        server = f"; server CPU {b.server_cpu_s / b.wall_s:.2f} cores ({split}), {per_request:.1f} ms/request"
    if b.postgres_cpu_s is not None:
        server += f"; PostgreSQL CPU {b.postgres_cpu_s / b.wall_s:.2f} cores"
    print(
        f"  {b.kind:<7} run {run}: {b.orders_per_s:7.1f} orders/s, {b.requests_per_s:7.1f} req/s, "
        f"wall {b.wall_s:.2f} s, sold out at {b.sold_out_s:.2f} s, "
        f"p50/p99 {percentile_ms(b.latencies, 50):.0f}/{percentile_ms(b.latencies, 99):.0f} ms "
        f"(201s {percentile_ms(b.ok_latencies, 50):.0f}/{percentile_ms(b.ok_latencies, 99):.0f} ms); {answers}"
        f"{server}; client CPU {b.client_cpu_s / b.wall_s:.2f} cores; host busy {b.host_busy_cores:.2f} cores; "
        f"(before: {b.background_cores:.2f}); "
        f"DB: {b.orders} orders, stock left {b.stock_left}, trial balance {b.trial_balance}"
    )
    if b.replayed:
        replays = ", ".join(f"{k}: {v}" for k, v in sorted(b.replayed.items()))
        print(f"    unanswered requests sent again with the same Idempotency-Key: {replays}")
    for problem in b.problems:
        print(f"    PROBLEM: {problem}")


COLUMNS = [
    "path",
    "run",
    "orders/s",
    "req/s",
    "wall s",
    "sold out at s",
    "p50 ms",
    "p99 ms",
    "201 p50 ms",
    "201 p99 ms",
    "201",
    "409 out_of_stock",
    "other",
    "oversold",
    "server CPU (cores)",
    "server CPU ms/req",
    "PostgreSQL CPU (cores)",
    "client CPU (cores)",
    "host busy (cores)",
    "busy before (cores)",
]


def cells(b: Burst, run: str) -> list[str]:
    other = sum(v for k, v in b.outcomes.items() if k not in {"201", "409 out_of_stock"})
    server = f"{b.server_cpu_s / b.wall_s:.2f}" if b.server_cpu_s is not None else "-"
    return [
        b.kind,
        run,
        f"{b.orders_per_s:.1f}",
        f"{b.requests_per_s:.1f}",
        f"{b.wall_s:.2f}",
        f"{b.sold_out_s:.2f}",
        f"{percentile_ms(b.latencies, 50):.0f}",
        f"{percentile_ms(b.latencies, 99):.0f}",
        f"{percentile_ms(b.ok_latencies, 50):.0f}",
        f"{percentile_ms(b.ok_latencies, 99):.0f}",
        str(b.ok),
        str(b.outcomes["409 out_of_stock"]),
        str(other),
        str(b.oversold),
        server,
        f"{1000 * b.server_cpu_s / len(b.latencies):.1f}" if b.server_cpu_s is not None else "-",
        f"{b.postgres_cpu_s / b.wall_s:.2f}" if b.postgres_cpu_s is not None else "-",
        f"{b.client_cpu_s / b.wall_s:.2f}",
        f"{b.host_busy_cores:.2f}",
        f"{b.background_cores:.2f}",
    ]


def median_row(bursts: list[Burst]) -> list[str]:
    """The median of each numeric column over the runs (each column on its own)."""
    rows = [cells(b, "") for b in bursts]
    out = [bursts[0].kind, "median"]
    for i in range(2, len(COLUMNS)):
        values = [r[i] for r in rows]
        try:
            med = statistics.median(float(v) for v in values)
        except ValueError:
            out.append("-")
            continue
        decimals = len(values[0].split(".")[1]) if "." in values[0] else 0
        out.append(f"{med:.{decimals}f}")
    return out


def print_table(rows: list[list[str]]) -> None:
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join(["---", "---", *(["---:"] * (len(COLUMNS) - 2))]) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


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
