"""Room fan-out: V viewers in one room, M chat messages a second; our room channel against a bare broadcast server.

What it does:

1. ``livecommerce db upgrade`` and ``livecommerce serve`` (one worker, the embedded shape: SQLite file, in-process
   bus; ``--redis URL`` puts the bus on Redis) on a free port on 127.0.0.1, chat limits lifted for the load.
   Setup (not timed): a seller, a product, a host, a room and ``--senders`` signed-in chatters, through the API.
2. The ceiling: a bare server in a subprocess of this script (``websockets`` asyncio server, uvloop, no
   compression) that does the least a room must do: parse each chat frame, keep it for the tick, and every tick
   send one JSON array to every socket with ``websockets.broadcast``. Same tick (75 ms), same frame shape.
3. For each server and each V (1,000 and 2,000 by default): V anonymous viewers connect (not timed) and read
   their join state; then for each M (20, 200, 1,000 by default) the chatters send M messages a second for
   ``--seconds`` (a few seconds), and after a grace second the cell is read:
   - delivered: chat events received by all viewers per second of sending, against V x M expected;
   - drops: expected minus delivered (a slow viewer's dropped frames, or lost messages);
   - latency: send to receipt, p50/p99, from ``--sampled`` viewers that parse every frame (the others count chat
     events in the raw text);
   - CPU: the server's process tree (``/proc``), and this client (all viewers and chatters), in cores.
   The ratio is our server's CPU over the bare server's for the same cell.

The client shares the 2 cores with the server; its CPU is printed, and above ~100 k frames/s a Python client is
the limit (REALTIME-MEDIA-NOTES.md). Run: ``.venv/bin/python bench/room_fanout.py [--viewers 1000,2000]
[--rates 20,200,1000] [--seconds 4]``. Each cell is a few seconds, the whole run a few minutes; only 127.0.0.1 is
contacted and only the processes started here are stopped.

This module holds our server's setup, the measured cells and the tables; the bare server is in
``room_fanout_bare`` and the viewers and chatters in ``room_fanout_audience``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop
from harness import (
    HOST,
    busy_cores,
    free_port,
    host_jiffies,
    machine_line,
    run_livecommerce,
    server_environment,
    serving,
    tree_cpu_seconds,
    unwind_on_sigterm,
    wait_for_quiet_host_async,
)
from room_fanout_audience import Counters, audience, chat_load
from room_fanout_bare import TICK_S, bare_server, bare_serving

PASSWORD = "fan-out bench password"  # noqa: S105 - throwaway accounts in a temporary database
GRACE_S = 1.0
RUN_LIMIT_S = 15 * 60  # the whole run stops by itself past this, whatever the arguments


# --- our server ------------------------------------------------------------------------------------------------


async def _account(http: httpx.AsyncClient, role: str, n: int) -> str:
    email = f"{role}{n}-{uuid.uuid4().hex[:8]}@bench.test"
    body = {"email": email, "password": PASSWORD, "display_name": f"{role.title()} {n}", "roles": [role]}
    assert (await http.post("/api/auth/signup", json=body)).status_code == 201
    http.cookies.clear()
    response = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    http.cookies.clear()
    response.raise_for_status()
    return response.json()["token"]


async def make_room(base_url: str, senders: int) -> tuple[str, list[str]]:
    """A room with one product, and bearer tokens for ``senders`` chatters."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as http:
        seller = await _account(http, "seller", 0)
        product = await http.post(
            "/api/shop/products",
            headers={"Authorization": f"Bearer {seller}"},
            json={
                "title": "Tote",
                "category": "fashion",
                "price": {"amount_minor": 2400, "currency": "USD"},
                "stock": 9,
            },
        )
        product.raise_for_status()
        host = await _account(http, "influencer", 0)
        room = await http.post(
            "/api/live/rooms",
            headers={"Authorization": f"Bearer {host}"},
            json={"title": "Fan-out bench", "product_ids": [product.json()["id"]]},
        )
        room.raise_for_status()
        tokens = [await _account(http, "buyer", n) for n in range(senders)]
    return room.json()["id"], tokens


# --- the measured cells ----------------------------------------------------------------------------------------


@dataclass
class Cell:
    server: str
    viewers: int
    rate: int
    sent: int
    seconds: float
    delivered: int
    frames: int
    p50_ms: float
    p99_ms: float
    server_cores: float
    server_cpu_s: float
    client_cores: float
    host_busy: float
    busy_before: float

    @property
    def drops(self) -> int:
        return max(0, self.viewers * self.sent - self.delivered)

    @property
    def us_per_delivery(self) -> float:
        """Server CPU per chat message delivered to one viewer: robust to a busy host, unlike cores."""
        return self.server_cpu_s / max(self.delivered, 1) * 1e6


async def run_cells(
    name: str, url: str, pid: int, viewers: int, rates: list[int], args: argparse.Namespace, headers: list[dict]
) -> list[Cell]:
    counters = Counters()
    cells = []
    async with audience(url, viewers, args.sampled, counters, headers) as senders:
        await asyncio.sleep(1.0)  # let the joins' work settle
        for rate in rates:
            busy_before = await wait_for_quiet_host_async(args.quiet_wait)
            counters.delivered = counters.frames = 0
            counters.latencies_ns = []
            counters.counting = True
            server_before, client_before, host_before = tree_cpu_seconds(pid), time.process_time(), host_jiffies()
            started = time.monotonic()
            sent = await chat_load(senders, rate, args.seconds)
            elapsed = time.monotonic() - started
            await asyncio.sleep(GRACE_S)  # what was sent is delivered (or dropped) by now; CPU counts it all
            counters.counting = False
            window = time.monotonic() - started
            server_after, client_after, host_after = tree_cpu_seconds(pid), time.process_time(), host_jiffies()
            used = sum(server_after.values()) - sum(server_before.get(p, 0.0) for p in server_after)
            lat = sorted(counters.latencies_ns) or [0]
            cells.append(
                Cell(
                    server=name,
                    viewers=viewers - counters.failed_joins,
                    rate=rate,
                    sent=sent,
                    seconds=elapsed,
                    delivered=counters.delivered,
                    frames=counters.frames,
                    p50_ms=statistics.median(lat) / 1e6,
                    p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e6,
                    server_cores=used / window,
                    server_cpu_s=used,
                    client_cores=(client_after - client_before) / window,
                    host_busy=busy_cores(host_before, host_after),
                    busy_before=busy_before,
                )
            )
            print(row(cells[-1]), flush=True)
            await asyncio.sleep(0.5)
    return cells


def row(cell: Cell, ratio: str = "") -> str:
    expected = cell.viewers * cell.sent / cell.seconds
    return (
        f"| {cell.server} | {cell.viewers} | {cell.rate} | {cell.delivered / cell.seconds:,.0f} | {expected:,.0f} | "
        f"{cell.drops / max(cell.viewers * cell.sent, 1):.1%} | {cell.p50_ms:.0f} | {cell.p99_ms:.0f} | "
        f"{cell.server_cores:.2f} | {cell.us_per_delivery:.1f} | {cell.client_cores:.2f} | "
        f"{cell.busy_before:.2f} | {ratio} |"
    )


HEADER = (
    "| server | viewers | msg/s sent | delivered msg/s | expected | drops | p50 ms | p99 ms | server cores | "
    "server µs per delivery | client cores | host busy before | ours / bare |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


async def bench(args: argparse.Namespace) -> int:
    viewers = [int(v) for v in args.viewers.split(",")]
    rates = [int(r) for r in args.rates.split(",")]
    print(machine_line())
    print(
        f"Load before: {os.getloadavg()[0]:.2f} (1-min load average); tick {TICK_S * 1000:.0f} ms; "
        f"{args.seconds:.0f} s per cell; {args.senders} chatters; {args.sampled} sampled viewers"
    )
    print(HEADER, flush=True)
    results: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="room-fanout-") as tmp:
        data = Path(tmp)
        (data / "data").mkdir()
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        env = server_environment(
            data / "data",
            base_url,
            secret_key="room-fanout-bench-secret-key-0123456789abcdef",  # noqa: S106 - a throwaway server
            auth_rate="100000/minute",
            redis_url=args.redis,
            extra={
                "LIVECOMMERCE_CHAT_BURST": "1000000",
                "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
                "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
                "LIVECOMMERCE_ROOM_TICK": f"{int(TICK_S * 1000)}ms",
            },
        )
        run_livecommerce("db", "upgrade", env=env)
        with serving(port, 1, env, data / "server.log") as pid:
            room_id, tokens = await make_room(base_url, args.senders)
            url = f"ws://{HOST}:{port}/live/rooms/{room_id}/ws"
            headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
            for v in viewers:
                results += await run_cells("ours", url, pid, v, rates, args, headers)
        with bare_serving(data / "bare.log") as (pid, url):
            for v in viewers:
                results += await run_cells("bare", url, pid, v, rates, args, [{} for _ in tokens])
    print("\nWith the ratio of server CPU per delivery (ours / bare) for the same cell:\n")
    print(HEADER)
    bare = {(c.viewers, c.rate): c for c in results if c.server == "bare"}
    for cell in results:
        ceiling = bare.get((cell.viewers, cell.rate))
        ratio = f"{cell.us_per_delivery / ceiling.us_per_delivery:.2f}x" if cell.server == "ours" and ceiling else ""
        print(row(cell, ratio))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", default="1000,2000", help="comma-separated viewer counts (default 1000,2000)")
    parser.add_argument("--rates", default="20,200,1000", help="chat messages a second (default 20,200,1000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="sending time per cell (default 4)")
    parser.add_argument("--senders", type=int, default=50, help="signed-in chatters sharing the load (default 50)")
    parser.add_argument("--sampled", type=int, default=20, help="viewers that parse every frame for latency")
    parser.add_argument(
        "--quiet-wait", type=float, default=5.0, help="wait up to this long for an idle host before a cell"
    )
    parser.add_argument("--redis", default=None, help="put our server's bus on this Redis (redis://127.0.0.1/N)")
    parser.add_argument("--bare-server", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bare_server is not None:
        uvloop.run(bare_server(args.bare_server))
        return 0
    unwind_on_sigterm()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # the servers inherit it too
    return uvloop.run(asyncio.wait_for(bench(args), RUN_LIMIT_S))


if __name__ == "__main__":
    sys.exit(main())
