"""The HTTP baseline's load clients: a closed loop from ``wrk``, or from asyncio raw sockets in this process.

Each drives a fixed number of connections, each sending its next request as soon as the previous answer arrives,
and returns a ``LoadResult`` with the client's own CPU time: wrk's from ``RUSAGE_CHILDREN`` once it has exited, the
in-process client's from ``RUSAGE_SELF``. The Python client is the fallback when wrk is not installed; it spends more
CPU per request on the same cores, so its figures run lower.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness import HOST, read_http_response

REQUEST_TIMEOUT_S = 5.0

WRK_REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f"
    .. " connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    client_cpu_s: float
    error_kinds: str = ""  # e.g. "status 3, timeout 1": non-2xx/3xx answers and socket errors by kind


# --- own CPU, from getrusage --------------------------------------------------------------------------------


def children_cpu_seconds() -> float:
    """CPU time of this script's finished children: wrk's, once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu_seconds() -> float:
    """CPU time of this script: the in-process load client's."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- load clients -------------------------------------------------------------------------------------------


def run_wrk(url: str, token: str, seconds: float, concurrency: int, threads: int, script: Path) -> LoadResult:
    command = ["wrk", "-t", str(min(threads, concurrency)), "-c", str(concurrency), "-d", f"{seconds:g}s"]
    command += ["--timeout", f"{REQUEST_TIMEOUT_S:g}s", "-s", str(script), "-H", f"Authorization: Bearer {token}", url]
    cpu_before = children_cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    client_cpu = children_cpu_seconds() - cpu_before
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    fields = {key: float(value) for key, value in (item.split("=") for item in line.split()[1:])}
    kinds = {key: int(fields[key]) for key in ("connect", "read", "write", "status", "timeout") if fields[key]}
    return LoadResult(
        requests=int(fields["requests"]),
        seconds=fields["duration_us"] / 1e6,
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        errors=sum(kinds.values()),
        error_kinds=", ".join(f"{key} {count}" for key, count in kinds.items()),
        client_cpu_s=client_cpu,
    )


class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.status_errors = 0
        self.socket_errors = 0


async def _connection(port: int, request: bytes, deadline: float, tally: _Tally) -> None:
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                started = time.perf_counter()
                writer.write(request)
                status, fields, _ = await read_http_response(reader)
                closing = fields.get("connection", "").lower() == "close"
            tally.latencies.append(time.perf_counter() - started)
            tally.status_errors += not 200 <= status < 400
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            tally.socket_errors += 1
            closing = True
        if closing and writer is not None:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def run_python_client(url: str, token: str, seconds: float, concurrency: int) -> LoadResult:
    port = int(url.split(":")[2].split("/")[0])
    path = "/" + url.split("/", 3)[3]
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    tally = _Tally()

    async def drive() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_connection(port, request, deadline, tally) for _ in range(concurrency)))

    cpu_before, wall_before = self_cpu_seconds(), time.perf_counter()
    asyncio.run(drive())
    wall = time.perf_counter() - wall_before
    latencies = sorted(tally.latencies) or [0.0]

    def percentile(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return LoadResult(
        requests=len(tally.latencies),
        seconds=wall,
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        errors=tally.status_errors + tally.socket_errors,
        error_kinds=f"status {tally.status_errors}, socket/timeout {tally.socket_errors}",
        client_cpu_s=self_cpu_seconds() - cpu_before,
    )
