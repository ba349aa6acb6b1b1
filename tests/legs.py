"""Run the test suite on the embedded defaults and again on PostgreSQL + Redis when they answer.

Usage: python -m tests.legs --pg-url URL --redis-url URL [-- pytest args]
With REQUIRE_SERVICES=1 a missing PostgreSQL or Redis fails the run instead of skipping its leg.
The two legs run at the same time (most of a test's time is spent waiting, so two cores take both): the embedded
leg's progress streams as it runs, the other leg's report follows it. The last line is the combined count:
``total: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis

TEST_DATABASE = "livecommerce_test"


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


def _counts(junit: Path) -> Counts:
    if not junit.exists():
        return Counts(failed=1)  # pytest died before writing a report
    suite = ET.parse(junit).getroot()  # noqa: S314 - our own pytest's report
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    return Counts(passed=total - failures - errors - skipped, failed=failures + errors, skipped=skipped)


@dataclass
class Leg:
    name: str
    process: subprocess.Popen[bytes]
    junit: Path
    output: Path | None  # None: the leg writes to our stdout as it runs

    def finish(self) -> tuple[int, Counts]:
        code = self.process.wait()
        if self.output is not None:  # its report, whole, after the streamed leg's
            print(f"\n===== leg: {self.name} =====", flush=True)
            sys.stdout.buffer.write(self.output.read_bytes())
            sys.stdout.flush()
        # pytest's exit code 5 means it collected nothing: a leg that ran no test has failed.
        return (1 if code == 5 else code), _counts(self.junit)


def start_leg(name: str, env: dict[str, str], pytest_args: list[str], workdir: Path, *, stream: bool) -> Leg:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower())
    junit, output = workdir / f"{slug}.xml", None if stream else workdir / f"{slug}.log"
    if stream:
        print(f"\n===== leg: {name} (running) =====", flush=True)
    command = [sys.executable, "-m", "pytest", "-q", "-rs", f"--junitxml={junit}", *pytest_args]
    if output is None:
        return Leg(name, subprocess.Popen(command, env=env), junit, None)
    with output.open("wb") as sink:  # the child keeps its own handle
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Leg(name, process, junit, output)


def _admin_dsn(url: str) -> str:
    """The asyncpg DSN of the server's ``postgres`` database, from a SQLAlchemy URL."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/postgres"))


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def prepare_services(pg_url: str, redis_url: str, database: str) -> str | None:
    """Create ``database`` afresh and empty the Redis db; return why PostgreSQL or Redis cannot serve, or None."""
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
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    require_services = os.environ.get("REQUIRE_SERVICES") == "1"

    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    base_env.pop("LIVECOMMERCE_TEST_DATABASE_URL", None)
    base_env.pop("LIVECOMMERCE_TEST_REDIS_URL", None)
    total = Counts()
    codes = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        problem = asyncio.run(prepare_services(args.pg_url, args.redis_url, TEST_DATABASE))
        # With both legs, each runs the browser journeys at one width (tests/e2e/audit.py); alone, at both.
        embedded_env = base_env if problem else {**base_env, "LIVECOMMERCE_JOURNEY_VIEWPORTS": "phone"}
        legs = [
            start_leg("embedded (SQLite file, in-process bus)", embedded_env, args.pytest_args, workdir, stream=True)
        ]
        if problem and require_services:
            print(f"\nFAILED: REQUIRE_SERVICES=1 but {problem}. Start the service and run again.", flush=True)
            codes.append(1)
            total.failed += 1
        elif problem:
            print(f"\nSKIPPED the PostgreSQL + Redis leg: {problem}. Start them to run it.", flush=True)
        else:
            env = {
                **base_env,
                "LIVECOMMERCE_TEST_DATABASE_URL": _with_database(args.pg_url, TEST_DATABASE),
                "LIVECOMMERCE_TEST_REDIS_URL": args.redis_url,
                "LIVECOMMERCE_JOURNEY_VIEWPORTS": "desktop",
            }
            legs.append(start_leg("PostgreSQL + Redis", env, args.pytest_args, workdir, stream=False))
        for leg in legs:
            code, counts = leg.finish()
            codes.append(code)
            total.add(counts)

    print(f"\ntotal: {total.passed} passed, {total.failed} failed, {total.skipped} skipped", flush=True)
    return next((c for c in codes if c != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
