"""Soak: two workers on a private PostgreSQL and Redis, steady traffic for minutes, and a timeline of faults.

What it does:

1. A private PostgreSQL and Redis (``private_services.py``) on free ports, each behind a chaos proxy
   (``chaos_proxy.py``); ``livecommerce db upgrade``, ``demo load`` and ``serve --workers 2`` through the proxies,
   with ``LIVECOMMERCE_RECONCILE_AFTER=10s`` and a 1 s sweep so abandoned charges are settled within the run.
2. Setup through the API: a seller and one product (so one checkout is one order), buyers, a host, a room, chatters.
3. For ``--minutes``, at fixed rates: catalog reads, signed-in reads (``/api/me``, the buyer's orders), checkouts
   (``tok_ok``, one Idempotency-Key per purchase, retried like a real client), chat messages from a few chatters to
   a room watched by anonymous WebSocket viewers. Meanwhile, the chaos timeline: PostgreSQL restarted, Redis
   restarted, a proxy blackholed for 10 s, and one worker SIGKILLed while its checkout (``tok_slow``) has charged
   and not committed; the client then retries that key. Workers' VmRSS is sampled every few seconds.
4. Traffic stops; after the reconcile delay the provider's record, the orders and the charge intents are read
   from the database, and the trial balance from the admin API. Then every gate prints; any failure exits 1.

Run: ``make soak`` or ``PYTHONPATH=. .venv/bin/python bench/soak.py [--minutes 5]`` (about 7 minutes in all, and it
stops by itself past a hard limit). Only 127.0.0.1 is contacted and only the processes started here are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from chaos_proxy import ProxyThread
from harness import HOST, ROOT, free_port, machine_line, run_livecommerce, server_environment, serving
from private_services import PrivatePostgres, PrivateRedis
from soak_gates import (
    Fault,
    provider_charges,
    reconcile,
    report,
)
from soak_traffic import (
    Purchase,
    Records,
    account,
    at_rate,
    chatter,
    checkout_body,
    complete_purchase,
    exchange,
    viewer,
)
from worker_processes import kill_worker_holding, rss_kib, wait_for_workers, workers_of

log = logging.getLogger("bench.soak")
PASSWORD = "soak bench password"  # noqa: S105 - throwaway accounts in a temporary database
ADMIN = {"email": "admin@demo.livecommerce.test", "password": "livecommerce-demo"}
WORKERS = 2
PRICE_MINOR = 1500
SLOW_QUANTITY = 3  # the killed checkout's quantity: its charge amount is unique, so the provider's record shows it
DOWN_S = 3.0  # how long PostgreSQL and Redis stay down in a restart
BLACKHOLE_S = 10.0
RSS_EVERY_S = 5.0
RECONCILE_AFTER_S = 10
SETTLE_LIMIT_S = 120.0
HARD_LIMIT_EXTRA_S = 300.0  # the whole run stops by itself this long past the traffic's minutes


async def setup(base_url: str, buyers: int, chatters: int) -> dict:  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as http:
        _, seller = await account(http, "seller", PASSWORD)
        listed = await http.post(
            "/api/shop/products",
            headers={"Authorization": f"Bearer {seller}"},
            json={
                "title": "Soak mug",
                "description": "A mug for the soak.",
                "category": "home",
                "price": {"amount_minor": PRICE_MINOR, "currency": "USD"},
                "stock": 1_000_000,
            },
        )
        assert listed.status_code == 201, listed.text
        _, host = await account(http, "influencer", PASSWORD)
        room = await http.post(
            "/api/live/rooms",
            headers={"Authorization": f"Bearer {host}"},
            json={"title": "Soak room", "product_ids": [listed.json()["id"]]},
        )
        assert room.status_code == 201, room.text
        return {
            "product_id": listed.json()["id"],
            "room_id": room.json()["id"],
            "buyers": [(await account(http, "", PASSWORD))[1] for _ in range(buyers)],
            "chatters": [(await account(http, "", PASSWORD))[1] for _ in range(chatters)],
        }


class Soak:
    def __init__(self, args: argparse.Namespace, base_url: str, serve_pid: int, data_dir: Path, world: dict) -> None:  # type: ignore[type-arg]
        self.args = args
        self.base_url = base_url
        self.serve_pid = serve_pid
        self.record_path = data_dir / "sandbox-charges.sqlite3"
        self.world = world
        self.records = Records(chat_received=[{} for _ in range(args.viewers)])
        self.faults: list[Fault] = []
        self.rss: list[tuple[float, int, int]] = []
        self.t0 = time.monotonic()
        self.client = httpx.AsyncClient(
            base_url=base_url, trust_env=False, limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
        )

    def at(self) -> float:
        return time.monotonic() - self.t0

    def note(self, event: str, **fields: object) -> None:
        print(f"[{self.at():6.1f} s] {event} " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)

    async def read(self, n: int) -> None:
        path = "/api/shop/products" if n % 2 else f"/api/shop/products/{self.world['product_id']}"
        await exchange(self.client, self.records, "catalog", "GET", path, 5.0)

    async def signed_in_read(self, n: int) -> None:
        token = self.world["buyers"][n % len(self.world["buyers"])]
        path = "/api/me" if n % 2 else "/api/shop/orders"
        await exchange(
            self.client, self.records, "signed_in", "GET", path, 5.0, headers={"Authorization": f"Bearer {token}"}
        )

    async def buy(self, n: int) -> None:
        purchase = Purchase(
            key=f"soak-{uuid.uuid4().hex}",
            body=checkout_body(self.world["product_id"], 1, "tok_ok"),
            token=self.world["buyers"][n % len(self.world["buyers"])],
            started=time.monotonic(),
        )
        self.records.purchases.append(purchase)
        await complete_purchase(self.client, self.records, purchase)

    async def sample_rss(self, until: float) -> None:
        while time.monotonic() < until:
            for pid in workers_of(self.serve_pid):
                if (kib := rss_kib(pid)) is not None:
                    self.rss.append((time.monotonic(), pid, kib))
            await asyncio.sleep(RSS_EVERY_S)

    async def restart(self, name: str, stop, start) -> None:  # type: ignore[no-untyped-def]
        started = time.monotonic()
        self.note(f"fault: {name}")
        await asyncio.to_thread(stop)
        await asyncio.sleep(DOWN_S)
        await asyncio.to_thread(start)
        self.faults.append(Fault(name, started, time.monotonic()))
        self.note(f"recovered: {name}")

    async def blackhole(self, proxies: ProxyThread, target: str) -> None:
        proxy = next(p for p in proxies.proxies if p.name == target)
        started = time.monotonic()
        self.note(f"fault: {target} blackholed", seconds=BLACKHOLE_S)
        proxies.blackhole(proxy)
        await asyncio.sleep(BLACKHOLE_S)
        proxies.heal(proxy)
        self.faults.append(Fault(f"{target} blackholed {BLACKHOLE_S:.0f} s", started, time.monotonic()))
        self.note(f"recovered: {target} blackhole")

    async def kill_mid_checkout(self) -> None:
        """Send a tok_slow checkout, wait for the provider to record its charge, SIGKILL the worker serving it."""
        key, token = f"soak-killed-{uuid.uuid4().hex}", self.world["buyers"][0]
        body = checkout_body(self.world["product_id"], SLOW_QUANTITY, "tok_slow")
        before = await asyncio.to_thread(self._slow_charges)
        started = time.monotonic()
        reader, writer = await asyncio.open_connection(HOST, self.args.port)
        payload = httpx.Request(
            "POST",
            f"{self.base_url}/api/shop/checkout",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Connection": "close"},
        )
        head = f"POST /api/shop/checkout HTTP/1.1\r\nHost: {HOST}:{self.args.port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in payload.headers.items() if k.lower() != "host"
        )
        writer.write(head.encode() + b"\r\n" + payload.read())
        for _ in range(500):  # up to 10 s: the provider records the charge, then sleeps 3 s before answering
            if await asyncio.to_thread(self._slow_charges) > before:
                break
            await asyncio.sleep(0.02)
        killed = kill_worker_holding(writer.get_extra_info("sockname")[1], self.args.port, self.serve_pid)
        started = time.monotonic()
        self.note(
            "fault: worker SIGKILLed mid-checkout",
            pid=killed,
            charged=await asyncio.to_thread(self._slow_charges) > before,
        )
        with contextlib.suppress(OSError):
            answer = await asyncio.wait_for(reader.read(), 10)
            self.note("the killed checkout's client got", bytes=len(answer))
        writer.close()
        await wait_for_workers(self.serve_pid, WORKERS, killed)
        self.faults.append(Fault("worker SIGKILL mid-checkout", started, time.monotonic()))
        self.note("recovered: a replacement worker is up", workers=workers_of(self.serve_pid))
        purchase = Purchase(key, body, token, time.monotonic())  # the client retries its key, as a real one would
        self.records.purchases.append(purchase)
        await complete_purchase(self.client, self.records, purchase)
        self.note("the killed checkout's retry", status=purchase.final_status, attempts=purchase.attempts)

    def _slow_charges(self) -> int:
        if not self.record_path.exists():
            return 0
        with sqlite3.connect(f"file:{self.record_path}?mode=ro", uri=True, timeout=15) as db:
            return db.execute(
                "SELECT count(*) FROM sandbox_charge WHERE amount_minor = ?", (PRICE_MINOR * SLOW_QUANTITY,)
            ).fetchone()[0]

    async def chaos(self, pg: PrivatePostgres, redis: PrivateRedis, proxies: ProxyThread, seconds: float) -> None:
        timeline = [
            (0.15, lambda: self.restart("PostgreSQL restart", pg.stop, pg.start)),
            (0.35, lambda: self.restart("Redis restart", redis.stop, redis.start)),
            (0.55, lambda: self.blackhole(proxies, self.args.blackhole)),
            (0.75, self.kill_mid_checkout),
        ]
        for fraction, fault in timeline:
            await asyncio.sleep(max(0.0, self.t0 + fraction * seconds - time.monotonic()))
            await fault()

    async def run(self, pg: PrivatePostgres, redis: PrivateRedis, proxies: ProxyThread) -> None:
        args, seconds = self.args, self.args.minutes * 60
        until = self.t0 + seconds
        url = f"ws://{HOST}:{args.port}/live/rooms/{self.world['room_id']}/ws"
        viewers = [asyncio.create_task(viewer(url, i, self.records)) for i in range(args.viewers)]
        await asyncio.sleep(1.0)  # the viewers have joined before the first message
        chatters = [
            chatter(url, t, args.chat_rate / len(self.world["chatters"]), until, self.records)
            for t in self.world["chatters"]
        ]
        await asyncio.gather(
            at_rate(args.read_rate, until, "catalog", self.records, self.read),
            at_rate(args.signed_in_rate, until, "signed_in", self.records, self.signed_in_read),
            at_rate(args.checkout_rate, until, "checkout", self.records, self.buy),
            self.sample_rss(until),
            self.chaos(pg, redis, proxies, seconds),
            *chatters,
        )
        await asyncio.sleep(2.0)  # the last messages reach the viewers
        for task in viewers:
            task.cancel()
        await asyncio.gather(*viewers, return_exceptions=True)
        self.note("traffic stopped")

    async def settle(self, dsn: str) -> tuple[list[str], dict[str, str], int]:
        """Wait until the reconciler has closed every intent (or the limit); the orders' charges and the intents."""
        deadline = time.monotonic() + SETTLE_LIMIT_S
        await asyncio.sleep(RECONCILE_AFTER_S + 3)
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            open_count = -1
            while open_count and time.monotonic() < deadline:
                open_count = await conn.fetchval("SELECT count(*) FROM shop_charge_intent WHERE status = 'open'")
                await asyncio.sleep(1.0 if open_count else 0)
            order_charge_ids = [r["charge_id"] for r in await conn.fetch("SELECT charge_id FROM shop_order")]
            intents = {str(r["id"]): r["key"] for r in await conn.fetch("SELECT id, key FROM shop_charge_intent")}
        finally:
            await conn.close()
        self.note("settled", open_intents=open_count)
        return order_charge_ids, intents, open_count

    async def trial_balance(self) -> int | None:
        login = await self.client.post("/api/auth/login", json=ADMIN, timeout=30)
        self.client.cookies.clear()
        token = login.json()["token"]
        trial = await self.client.get(
            "/api/admin/ledger/trial-balance", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        return trial.json()["total"]["amount_minor"] if trial.status_code == 200 else None


def server_log_errors(log_path: Path, limit: int = 5) -> list[str]:
    """The first distinct error lines the server logged (JSON, one event a line), for the report."""
    seen: list[str] = []
    for line in log_path.read_text(errors="replace").splitlines():
        if ('"ERROR"' in line or "Traceback" in line) and line[:200] not in seen:
            seen.append(line[:200])
    return seen[:limit]


async def soak(args: argparse.Namespace) -> int:
    print(machine_line())
    seconds = args.minutes * 60
    print(
        f"Load before: {os.getloadavg()[0]:.2f}; {seconds:.0f} s of traffic, {WORKERS} workers; catalog "
        f"{args.read_rate}/s, signed-in {args.signed_in_rate}/s, checkout {args.checkout_rate}/s; room: "
        f"{args.viewers} viewers, {args.chatters} chatters, {args.chat_rate} msg/s",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="livecommerce-soak-") as tmp, contextlib.ExitStack() as stack:
        data_dir = Path(tmp) / "data"
        pg = PrivatePostgres()
        stack.callback(pg.remove)
        await asyncio.to_thread(pg.start)
        redis = PrivateRedis(Path(tmp))
        stack.callback(redis.stop)
        await asyncio.to_thread(redis.start)
        proxies = ProxyThread()
        stack.callback(proxies.stop)
        pg_proxy, redis_proxy = proxies.add("postgres", pg.port), proxies.add("redis", redis.port)
        args.port = free_port()
        base_url = f"http://{HOST}:{args.port}"
        env = server_environment(
            data_dir,
            base_url,
            secret_key="soak-bench-secret-key-0123456789abcdefghijkl",  # noqa: S106 - a throwaway server
            auth_rate="100000/minute",
            database_url=f"postgresql+asyncpg://postgres@{HOST}:{pg_proxy.port}/postgres",
            redis_url=f"redis://{HOST}:{redis_proxy.port}/0",
            extra={
                "PYTHONPATH": str(ROOT),  # this checkout's code, whichever checkout the command was installed from
                "LIVECOMMERCE_RECONCILE_AFTER": f"{RECONCILE_AFTER_S}s",
                "LIVECOMMERCE_SWEEP_INTERVAL": "1s",
                "LIVECOMMERCE_CHAT_BURST": "1000000",
                "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
                "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
                "LIVECOMMERCE_LOG_LEVEL": "WARNING",
            },
        )
        await asyncio.to_thread(run_livecommerce, "db", "upgrade", env=env)
        await asyncio.to_thread(run_livecommerce, "demo", "load", env=env)
        server_log = Path(tmp) / "server.log"
        serve_pid = await asyncio.to_thread(stack.enter_context, serving(args.port, WORKERS, env, server_log))
        world = await setup(base_url, args.buyers, args.chatters)
        run = Soak(args, base_url, serve_pid, data_dir, world)
        print(f"Workers: {workers_of(serve_pid)}; traffic starts", flush=True)
        try:
            await run.run(pg, redis, proxies)
            order_charge_ids, intent_keys, open_intents = await run.settle(pg.dsn)
            found = reconcile(provider_charges(run.record_path), order_charge_ids, intent_keys, open_intents)
            found.trial_balance_minor = await run.trial_balance()
        finally:
            await run.client.aclose()
        gates = report(run.records, run.faults, run.rss, run.t0, found, seconds)
        errors = server_log_errors(server_log)
    if errors:
        print("\nServer log, first distinct errors:\n  " + "\n  ".join(errors))
    failed = [g for g in gates if not g.passed]
    print(
        f"\n{len(gates) - len(failed)} of {len(gates)} gates passed"
        + (f"; FAILED: {', '.join(g.name for g in failed)}" if failed else "")
    )
    return 1 if failed else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="traffic time (default 5)")
    parser.add_argument("--read-rate", type=float, default=12.0, help="catalog reads a second (default 12)")
    parser.add_argument("--signed-in-rate", type=float, default=6.0, help="signed-in reads a second (default 6)")
    parser.add_argument("--checkout-rate", type=float, default=1.5, help="new purchases a second (default 1.5)")
    parser.add_argument("--viewers", type=int, default=12, help="anonymous room viewers (default 12)")
    parser.add_argument("--chatters", type=int, default=3, help="signed-in chatters (default 3)")
    parser.add_argument("--chat-rate", type=float, default=3.0, help="chat messages a second, all chatters (default 3)")
    parser.add_argument("--buyers", type=int, default=5, help="signed-in buyers sharing the purchases (default 5)")
    parser.add_argument("--blackhole", choices=["postgres", "redis"], default="postgres", help="whose proxy is cut")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness import unwind_on_sigterm

    unwind_on_sigterm()
    limit = args.minutes * 60 + HARD_LIMIT_EXTRA_S
    return asyncio.run(asyncio.wait_for(soak(args), limit))


if __name__ == "__main__":
    sys.exit(main())
