"""Fan Zone feed: page latency (p50/p99) and requests/s of GET /api/community/feed on both stacks.

What it does, for each stack:

* ``embedded``: a SQLite file in a temporary folder, no Redis (the feed comes from queries), 1 worker.
* ``scaled``: PostgreSQL (database ``livecommerce_feed_bench``, made fresh and dropped afterwards) and Redis db 15
  (per-reader feeds written on publish, read from Redis), 2 workers. Skipped, with a line saying why, when
  PostgreSQL or Redis does not answer.

1. ``livecommerce db upgrade``, then bulk inserts (not timed against the server): 1,000 creators, 10,000 published
   posts spread over the last 72 hours, ``--readers`` readers who follow 100 random creators each, 30,000 likes and
   5,000 comments on random posts, 20 live and 30 upcoming rooms; every reader gets a bearer token written as
   sign-in writes it (argon2 is skipped: it is not what this measures). On the scaled stack ``livecommerce feed
   rebuild`` then writes every reader's Redis feed, and its time is printed.
2. ``livecommerce serve`` on a free port on 127.0.0.1, then, after waiting (``--quiet-wait``) for an idle host, a
   closed loop of ``--concurrency`` virtual users for ``--seconds`` per scenario:
   * ``reader``: a random reader asks for the first page (limit 20), then the next page with its cursor;
     "page 1" and "page 2" latencies are kept apart (page 2 of a reader following 100 creators is still posts of
     followed creators; the first page also carries the live-now and upcoming strips).
   * ``anonymous``: the first page of the trending feed, no token.
   Printed per scenario: requests/s, p50/p99 per page kind, non-200 answers, the server's CPU (its process tree,
   from /proc, per wall second; PostgreSQL and Redis not included), the host's busy cores, and how busy the host
   was just before ("busy before": other people's work).

The client is httpx.AsyncClient in this process (keep-alive, one connection per virtual user); it costs about a
millisecond of CPU per request on the same cores as the server, so the figures are a floor. Run with
``.venv/bin/python bench/feed.py [--seconds 15] [--concurrency 16] [--readers 200] [--stacks embedded scaled]``.
Only 127.0.0.1 is contacted; only the processes this script starts are stopped. Exit status 1 when any request
failed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness import (
    HOST,
    ROOT,
    busy_cores,
    free_port,
    host_jiffies,
    machine_line,
    recreate_database,
    run_livecommerce,
    server_database_url,
    server_environment,
    serving,
    tree_cpu_seconds,
    unwind_on_sigterm,
    wait_for_quiet_host,
)

sys.path.insert(0, str(ROOT))  # the app's tables, for the bulk inserts

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

import app as _app  # noqa: F401 - registers every table on the metadata
from kernel.db import metadata

SECRET_KEY = "feed-bench-secret-key-0123456789-abcdefghijklmnop"  # noqa: S105 - a throwaway local server's key
DATABASE = "livecommerce_feed_bench"
REDIS_URL = f"redis://{HOST}:6379/15"
CREATORS, POSTS, FOLLOWS_PER_READER, LIKES, COMMENTS = 1_000, 10_000, 100, 30_000, 5_000
LIVE_ROOMS, UPCOMING_ROOMS = 20, 30
CHUNK = 2_000
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Scenario:
    name: str
    wall_s: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    server_cores: float = 0.0
    host_cores: float = 0.0
    busy_before: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return self.requests - self.statuses["200"]


# --- data ---------------------------------------------------------------------------------------------------------


async def seed(database_url: str, readers: int, rng: random.Random) -> list[str]:
    """Bulk-insert the benchmark's world; return the readers' bearer tokens."""
    t = metadata.tables
    now = datetime.now(UTC)
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:

            async def put(table: str, rows: list[dict[str, Any]]) -> None:
                for start in range(0, len(rows), CHUNK):
                    await conn.execute(insert(t[table]), rows[start : start + CHUNK])

            creators = [uuid.uuid4() for _ in range(CREATORS)]
            reader_ids = [uuid.uuid4() for _ in range(readers)]
            users = [
                {"id": uid, "email": f"creator{n}@bench.test", "password_hash": "!", "display_name": f"Creator {n}"}
                for n, uid in enumerate(creators)
            ] + [
                {"id": uid, "email": f"reader{n}@bench.test", "password_hash": "!", "display_name": f"Reader {n}"}
                for n, uid in enumerate(reader_ids)
            ]
            await put("auth_user", users)
            await put(
                "auth_role",
                [{"id": uuid.uuid4(), "user_id": u, "role": "influencer"} for u in creators]
                + [{"id": uuid.uuid4(), "user_id": u, "role": "buyer"} for u in reader_ids],
            )
            tokens = [secrets.token_urlsafe(32) for _ in reader_ids]
            await put(
                "auth_token",
                [
                    {
                        "id": uuid.uuid4(),
                        "user_id": uid,
                        "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                        "created_at": now,
                        "expires_at": now + timedelta(days=1),
                    }
                    for uid, token in zip(reader_ids, tokens, strict=True)
                ],
            )
            post_ids = [uuid.uuid4() for _ in range(POSTS)]
            likes = {(rng.choice(post_ids), rng.choice(reader_ids)) for _ in range(LIKES)}
            like_count = Counter(post for post, _ in likes)
            comments = [(rng.choice(post_ids), rng.choice(reader_ids)) for _ in range(COMMENTS)]
            comment_count = Counter(post for post, _ in comments)
            posts = []
            for n, pid in enumerate(post_ids):
                published = now - timedelta(seconds=rng.uniform(60, 72 * 3600))
                text = f"Post {n}: what I wore, what I bought and why it works. " * 3
                posts.append(
                    {
                        "id": pid,
                        "author_id": rng.choice(creators),
                        "title": f"Post {n}",
                        "body": text,
                        "html": f"<p>{text}</p>",
                        "hashtags": [],
                        "status": "published",
                        "published_at": published,
                        "like_count": like_count[pid],
                        "comment_count": comment_count[pid],
                    }
                )
            await put("community_post", posts)
            await put(
                "community_post_like",
                [
                    {
                        "id": uuid.uuid4(),
                        "post_id": p,
                        "user_id": u,
                        "at": now - timedelta(seconds=rng.uniform(60, 9e4)),
                    }
                    for p, u in likes
                ],
            )
            await put(
                "community_comment",
                [
                    {
                        "id": uuid.uuid4(),
                        "post_id": p,
                        "author_id": u,
                        "text": "Love it",
                        "at": now - timedelta(seconds=rng.uniform(60, 9e4)),
                    }
                    for p, u in comments
                ],
            )
            await put(
                "community_follow",
                [
                    {"id": uuid.uuid4(), "follower_id": reader, "creator_id": c, "at": now}
                    for reader in reader_ids
                    for c in rng.sample(creators, FOLLOWS_PER_READER)
                ],
            )
            rooms = []
            for n in range(LIVE_ROOMS + UPCOMING_ROOMS):
                live = n < LIVE_ROOMS
                rooms.append(
                    {
                        "id": uuid.uuid4(),
                        "host_id": rng.choice(creators),
                        "title": f"Room {n}",
                        "description": "",
                        "status": "live" if live else "scheduled",
                        "scheduled_for": None if live else now + timedelta(hours=rng.uniform(1, 72)),
                        "started_at": now - timedelta(minutes=n) if live else None,
                        "stream_key": secrets.token_urlsafe(24),
                        "pinned_product_ids": [],
                    }
                )
            await put("live_room", rooms)
    finally:
        await engine.dispose()
    return tokens


# --- load ---------------------------------------------------------------------------------------------------------


async def run_scenario(name: str, base_url: str, tokens: list[str], seconds: float, concurrency: int) -> Scenario:
    result = Scenario(name)
    rng = random.Random(7)
    deadline = 0.0

    async def timed(client: httpx.AsyncClient, kind: str, params: dict[str, Any], token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.perf_counter()
        try:
            response = await client.get("/api/community/feed", params=params, headers=headers)
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            response, status = None, type(exc).__name__
        result.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        result.statuses[status] += 1
        return response.json() if response is not None and status == "200" else None

    async def user(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            if name == "anonymous":
                await timed(client, "page 1", {"limit": 20}, None)
                continue
            token = rng.choice(tokens)
            first = await timed(client, "page 1", {"limit": 20}, token)
            if first and first["next_cursor"] and time.perf_counter() < deadline:
                await timed(client, "page 2", {"limit": 20, "cursor": first["next_cursor"]}, token)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False
    ) as client:
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))  # open the connections
        host_before = host_jiffies()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
        result.host_cores = busy_cores(host_before, host_jiffies())
    return result


# --- stacks -------------------------------------------------------------------------------------------------------


@contextmanager
def stack(name: str, tmp: Path) -> Iterator[tuple[str, str | None, int] | None]:
    """(database URL, Redis URL, workers) for the stack, or None (with a line saying why) when it cannot run."""
    if name == "embedded":
        yield f"sqlite+aiosqlite:///{tmp / 'feed.db'}", None, 1
        return
    try:
        asyncio.run(recreate_database(DATABASE, create=True, force=True))
    except OSError as exc:
        print(f"Skipped the scaled stack: PostgreSQL does not answer ({exc}).")
        yield None
        return
    try:
        from redis import Redis

        Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
    except Exception as exc:
        print(f"Skipped the scaled stack: Redis does not answer ({exc}).")
        asyncio.run(recreate_database(DATABASE, create=False, force=True))
        yield None
        return
    try:
        yield server_database_url(DATABASE), REDIS_URL, 2
    finally:
        asyncio.run(recreate_database(DATABASE, create=False, force=True))


def run_stack(name: str, args: argparse.Namespace, tmp: Path) -> list[Scenario]:
    with stack(name, tmp) as backing:
        if backing is None:
            return []
        database_url, redis_url, workers = backing
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        env = server_environment(
            tmp / name,
            base_url,
            secret_key=SECRET_KEY,
            auth_rate="100000/minute",
            database_url=database_url,
            redis_url=redis_url,
        )
        run_livecommerce("db", "upgrade", env=env)
        started = time.perf_counter()
        tokens = asyncio.run(seed(database_url, args.readers, random.Random(42)))
        print(f"[{name}] seeded in {time.perf_counter() - started:.1f} s")
        if redis_url:
            started = time.perf_counter()
            run_livecommerce("feed", "rebuild", env=env)
            print(
                f"[{name}] `livecommerce feed rebuild` ({args.readers} readers): {time.perf_counter() - started:.1f} s"
            )
        results = []
        with serving(port, workers, env, tmp / f"{name}.log") as pid:
            for scenario in ("reader", "anonymous"):
                busy = wait_for_quiet_host(args.quiet_wait)
                asyncio.run(run_scenario(scenario, base_url, tokens, min(2.0, args.seconds), args.concurrency))  # warm
                cpu_before = tree_cpu_seconds(pid)
                result = asyncio.run(run_scenario(scenario, base_url, tokens, args.seconds, args.concurrency))
                cpu_after = tree_cpu_seconds(pid)
                used = sum(cpu_after.values()) - sum(cpu_before.get(p, 0.0) for p in cpu_after)
                result.server_cores = used / result.wall_s
                result.busy_before = busy
                result.name = f"{name} ({workers} worker{'s' if workers > 1 else ''}), {scenario}"
                results.append(result)
        return results


def ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def print_table(rows: list[Scenario]) -> None:
    print(
        "| stack, scenario | req/s | page 1 p50 / p99 ms | page 2 p50 / p99 ms | non-200 | server cores "
        "| host cores | busy before |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        one, two = r.latencies.get("page 1", []), r.latencies.get("page 2", [])
        print(
            f"| {r.name} | {r.requests / r.wall_s:.1f} | {ms(one, 0.5)} / {ms(one, 0.99)} | "
            f"{ms(two, 0.5)} / {ms(two, 0.99)} | {r.errors} | {r.server_cores:.2f} | {r.host_cores:.2f} | "
            f"{r.busy_before:.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--quiet-wait", type=float, default=10.0)
    parser.add_argument("--stacks", nargs="+", choices=["embedded", "scaled"], default=["embedded", "scaled"])
    args = parser.parse_args(argv)
    unwind_on_sigterm()
    print(machine_line())
    print(f"Load:    {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (uptime load average)")
    print(
        f"Method:  {CREATORS} creators, {POSTS} posts, {args.readers} readers x {FOLLOWS_PER_READER} follows; "
        f"httpx closed loop, {args.concurrency} virtual users, {args.seconds:g} s per scenario after a 2 s warm-up"
    )
    rows: list[Scenario] = []
    with tempfile.TemporaryDirectory(prefix="lc-feed-bench-") as tmp:
        for name in args.stacks:
            rows.extend(run_stack(name, args, Path(tmp)))
    print()
    print_table(rows)
    return 0 if rows and all(r.errors == 0 for r in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; the servers this script started have been stopped.", file=sys.stderr)
        sys.exit(130)
