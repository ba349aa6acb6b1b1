"""HTTP baseline: requests per second, latency and CPU for /healthz and /api/me on each deployment stack.

For every stack the script runs what an operator runs (``livecommerce db upgrade``, ``demo load``, ``serve``) on a
free port on 127.0.0.1, signs in as the demo buyer, then drives a closed loop (a fixed number of connections, each
sending its next request as soon as the previous answer arrives) for a fixed time against each endpoint:

* ``embedded``: a SQLite file in a temporary folder, no Redis, 1 worker.
* ``scaled``: PostgreSQL (database ``livecommerce_bench``, made fresh and dropped afterwards), Redis db 11, 2 workers.
  Skipped, with a line saying why, when PostgreSQL or Redis does not answer.

The load comes from ``wrk`` when it is installed, else from an asyncio keep-alive client on raw sockets in this
process (it spends more CPU per request than wrk on the same cores, so its figures run lower; the output says which
client ran). Server CPU is the CPU time of the server's whole process tree (read from ``/proc/<pid>/stat``) divided
by wall time, so 1.0 is one core busy; PostgreSQL and Redis are not in that tree, which is why the host's busy cores
are printed too. Before each run the script waits (up to ``--quiet-wait`` seconds) for an idle host and prints how
busy it was ("busy before"), because a shared machine's other work lowers the figures; a warning follows the table
when it was not idle.

The exit status is 1 when any request failed.

Run: ``.venv/bin/python bench/http_baseline.py --seconds 10 --concurrency 32``. Only 127.0.0.1 is contacted,
and only the processes this script starts are stopped.

This module holds the stacks, the measurement around each run and the table; the load clients (wrk and the
in-process fallback) are in ``http_baseline_load``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import (
    HOST,
    LOCAL_OPENER,
    NOISY_HOST_CORES,
    PG_ADMIN_DSN,
    busy_cores,
    cores_split,
    cpu_used,
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
from http_baseline_load import REQUEST_TIMEOUT_S, WRK_REPORT_LUA, LoadResult, run_python_client, run_wrk

SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuv"  # noqa: S105 - a throwaway local server's key
DEMO_EMAIL = "buyer@demo.livecommerce.test"
DEMO_PASSWORD = "livecommerce-demo"  # noqa: S105 - the published demo password
BENCH_DATABASE = "livecommerce_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"
ENDPOINTS = ("/healthz", "/api/me")


@dataclass(frozen=True)
class Stack:
    name: str
    workers: int
    database_url: str | None = None
    redis_url: str | None = None


@dataclass(frozen=True)
class Row:
    stack: str
    endpoint: str
    load: LoadResult
    server_cpu_s: float
    host_busy_cores: float
    process_cores: tuple[float, ...]  # per server process, busiest first (shows how workers share the load)
    background_cores: float  # host busy in the second before the run, with the server idle: other people's work

    def cells(self) -> list[str]:
        rps = self.load.requests / self.load.seconds
        per_request_ms = 1000 * self.server_cpu_s / max(self.load.requests, 1)
        return [
            self.stack,
            f"`GET {self.endpoint}`",
            f"{rps:,.0f}",
            f"{self.load.p50_ms:.2f}",
            f"{self.load.p99_ms:.2f}",
            str(self.load.errors),
            f"{self.server_cpu_s / self.load.seconds:.2f}",
            f"{per_request_ms:.3f}",
            f"{self.load.client_cpu_s / self.load.seconds:.2f}",
            f"{self.host_busy_cores:.2f}",
            f"{self.background_cores:.2f}",
        ]


HEADERS = [
    "stack",
    "endpoint",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "server CPU (cores)",
    "server CPU ms/req",
    "client CPU (cores)",
    "host busy (cores)",
    "busy before (cores)",
]

# --- the server under test ----------------------------------------------------------------------------------


def http_json(method: str, url: str, body: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})  # noqa: S310 - http://127.0.0.1 only
    try:
        with LOCAL_OPENER.open(request, timeout=REQUEST_TIMEOUT_S) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@contextmanager
def running_server(stack: Stack, data_dir: Path) -> Iterator[tuple[str, int]]:
    """Migrate, load the demo accounts and serve; yield (base URL, server pid); stop only what was started."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = server_environment(
        data_dir,
        base_url,
        secret_key=SECRET_KEY,
        auth_rate="100000/minute",
        database_url=stack.database_url,
        redis_url=stack.redis_url,
    )
    run_livecommerce("db", "upgrade", env=env)
    run_livecommerce("demo", "load", env=env)
    with serving(port, stack.workers, env, data_dir / "server.log") as pid:
        yield base_url, pid


# --- stacks -------------------------------------------------------------------------------------------------


async def _services_answer(redis_url: str) -> str | None:
    """None when PostgreSQL and Redis both answer, else why not."""
    import asyncpg
    from redis.asyncio import Redis

    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_DSN} did not answer ({type(exc).__name__}: {exc})"
    redis = Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await redis.ping()
    except Exception as exc:
        return f"Redis at {redis_url} did not answer ({type(exc).__name__}: {exc})"
    finally:
        await redis.aclose()
    return None


@contextmanager
def stack_backing(stack_name: str, workers: int, keep_database: bool) -> Iterator[Stack | None]:
    """The Stack to run, with its database prepared (and cleaned up afterwards); None with a printed reason."""
    if stack_name == "embedded":
        yield Stack("embedded", workers=1)
        return
    if reason := asyncio.run(_services_answer(REDIS_URL)):
        print(f"Skipped the scaled stack: {reason}.")
        yield None
        return
    asyncio.run(recreate_database(BENCH_DATABASE, create=True))
    try:
        yield Stack(
            "scaled",
            workers=workers,
            database_url=server_database_url(BENCH_DATABASE),
            redis_url=REDIS_URL,
        )
    finally:
        if not keep_database:
            asyncio.run(recreate_database(BENCH_DATABASE, create=False))


def measure(
    stack: Stack, base_url: str, server_pid: int, endpoint: str, load: Callable[[str, float], LoadResult], args
) -> Row:
    """Read the background load, warm up, then one measured run with the server tree's and the host's CPU around it."""
    background = wait_for_quiet_host(args.quiet_wait)
    if args.warmup > 0:
        load(base_url + endpoint, args.warmup)
    cpu_before, host_before = tree_cpu_seconds(server_pid), host_jiffies()
    result = load(base_url + endpoint, args.seconds)
    cpu_after, host_after = tree_cpu_seconds(server_pid), host_jiffies()
    used = cpu_used(cpu_before, cpu_after)
    per_process = cores_split(used, result.seconds)
    host_busy = busy_cores(host_before, host_after)
    return Row(stack.name, endpoint, result, sum(used), host_busy, per_process, background)


def run_stack(stack: Stack, args, make_load: Callable[[str], Callable[[str, float], LoadResult]]) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix=f"lc-bench-{stack.name}-") as tmp:
        with running_server(stack, Path(tmp)) as (base_url, pid):
            status, body = http_json(
                "POST", f"{base_url}/api/auth/login", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
            )
            if status != 200 or "token" not in body:
                raise RuntimeError(f"Signing in as {DEMO_EMAIL} answered {status}")
            load = make_load(body["token"])
            rows = []
            for endpoint in ENDPOINTS:
                row = measure(stack, base_url, pid, endpoint, load, args)
                rows.append(row)
                split = " + ".join(f"{cores:.2f}" for cores in row.process_cores)
                print(
                    f"  {stack.name:<8} GET {endpoint:<9} {row.load.requests / row.load.seconds:>9,.0f} req/s"
                    f"   server processes' CPU: {split} cores; host busy before: {row.background_cores:.2f} cores"
                    + (f"; errors: {row.load.error_kinds}" if row.load.errors else "")
                )
            return rows


# --- report -------------------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    table = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    print(line(HEADERS))
    print("|" + "|".join(("-" * (w + 1) + ":") if i >= 2 else "-" * (w + 2) for i, w in enumerate(widths)) + "|")
    for cells in table[1:]:
        print(line(cells))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured load per endpoint (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections in the closed loop (default 32)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured load before each run (default 2)")
    parser.add_argument(
        "--quiet-wait", type=float, default=60.0, help="wait up to this long for an idle host before each run (60)"
    )
    parser.add_argument("--stacks", default="embedded,scaled", help="comma-separated: embedded, scaled")
    parser.add_argument("--scaled-workers", type=int, default=2, help="uvicorn workers on the scaled stack (default 2)")
    parser.add_argument(
        "--client", choices=["auto", "wrk", "python"], default="auto", help="load client (default auto)"
    )
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (default 1; leaves the cores to the server)"
    )
    parser.add_argument("--keep-database", action="store_true", help=f"leave {BENCH_DATABASE} in place afterwards")
    args = parser.parse_args(argv)
    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    if unknown := set(stacks) - {"embedded", "scaled"}:
        parser.error(f"unknown stack(s): {', '.join(sorted(unknown))}")
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--seconds must be > 0, --concurrency >= 1 and --warmup >= 0")
    args.stacks = stacks
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_sigterm()  # so the servers this script started are stopped on the way out
    wrk = shutil.which("wrk")
    use_wrk = args.client == "wrk" or (args.client == "auto" and wrk is not None)
    if use_wrk and wrk is None:
        raise SystemExit("--client wrk, but wrk is not installed (apt-get install -y wrk)")
    if use_wrk:
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
        client = f"wrk ({' '.join(version.split()[:2])}, {min(args.wrk_threads, args.concurrency)} thread(s))"
    else:
        client = (
            "python asyncio raw-socket keep-alive client (in-process; costs more CPU than wrk, so figures run lower)"
        )

    print(machine_line())
    print(f"Method:  client {client}; closed loop, {args.concurrency} connections, {args.seconds:g} s measured after")
    print(
        f"         {args.warmup:g} s warm-up per endpoint (after waiting up to "
        f"{args.quiet_wait:g} s for an idle host); workers: embedded 1, scaled {args.scaled_workers}"
    )
    print("         server CPU = CPU time of the serve process tree / wall time (PostgreSQL and Redis not included)")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_REPORT_LUA)

        def make_load(token: str) -> Callable[[str, float], LoadResult]:
            if use_wrk:
                return lambda url, secs: run_wrk(url, token, secs, args.concurrency, args.wrk_threads, script)
            return lambda url, secs: run_python_client(url, token, secs, args.concurrency)

        for name in args.stacks:
            with stack_backing(name, args.scaled_workers, args.keep_database) as stack:
                if stack is not None:
                    rows.extend(run_stack(stack, args, make_load))
    print()
    print_table(rows)
    if rows and (noisiest := max(row.background_cores for row in rows)) > NOISY_HOST_CORES:
        print(
            f"\nWarning: the host was already {noisiest:.2f} cores busy with other work before a run; "
            "these figures understate an idle machine. Run again when it is quiet."
        )
    return 0 if all(row.load.errors == 0 for row in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; the servers this script started have been stopped.", file=sys.stderr)
        sys.exit(130)
