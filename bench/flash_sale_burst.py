"""The flash sale's figures: one burst's record, the database's check of it, and how bursts are reported.

Both paths (HTTP in ``flash_sale_http``, the direct asyncpg ceiling in ``flash_sale_ceiling``) fill in the same
``Burst``, are checked by the same ``check_sale`` and printed by the same lines and table, so their figures compare
like for like. The sale's fixed terms (its database, price and shipping address, the per-request timeout) are here
for the same reason: both paths sell the same thing.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
from harness import CLK_TCK, HOST, proc_stat, tree_cpu_seconds

DATABASE = "livecommerce_flash"
PG_DSN = f"postgresql://postgres@{HOST}:5432/{DATABASE}"
PRICE_MINOR = 1999
CURRENCY = "USD"
REQUEST_TIMEOUT_S = 30.0
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


# --- the database's check -----------------------------------------------------------------------------------


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
