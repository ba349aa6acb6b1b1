"""`make fuzz`'s first step: a fresh PostgreSQL database of the fuzzers' own, and a Redis that answers.

Usage: python -m tests.fuzz.services --pg-url URL --redis-url URL (exits 1 saying what does not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis

from tests.legs import _admin_dsn


async def prepare(pg_url: str, redis_url: str) -> str | None:
    """Drop and create the database named in ``pg_url``, empty the Redis db; return what failed, or None."""
    database = urlsplit(pg_url).path.lstrip("/")
    try:
        conn = await asyncpg.connect(_admin_dsn(pg_url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {pg_url} does not answer ({type(exc).__name__}: {exc})"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        await redis.flushdb()
    except Exception as exc:
        return f"Redis at {redis_url} does not answer ({type(exc).__name__}: {exc})"
    finally:
        await redis.aclose()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    if problem := asyncio.run(prepare(args.pg_url, args.redis_url)):
        print(f"fuzz: {problem}. Start it (see .ci/run) and run again.", file=sys.stderr)
        return 1
    print(f"fuzz: fresh database {args.pg_url}, Redis {args.redis_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
