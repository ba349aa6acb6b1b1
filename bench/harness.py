"""What the benchmarks in this folder share: a server under test, its database, CPU from /proc, raw HTTP/1.1.

Each benchmark runs what an operator runs (``livecommerce db upgrade``, ``serve``) on a free port on 127.0.0.1 with
a temporary data folder, measures it, and stops only the processes it started. CPU figures come from
``/proc/<pid>/stat`` (a process tree's user + system time) and ``/proc/stat`` (the host's busy cores), because the
server's workers are separate processes that ``resource.getrusage`` cannot see until they exit.

The scripts import this module as ``harness``: Python puts a script's own folder first on ``sys.path``, so
``.venv/bin/python bench/<name>.py`` finds it without any path handling.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_ADMIN_DSN = f"postgresql://postgres@{HOST}:5432/postgres"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
HEALTHZ_TIMEOUT_S = 2.0  # one probe while the server boots; the next comes 0.2 s later
NOISY_HOST_CORES = 0.25  # busy cores above which the host counts as busy with someone else's work
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Never send 127.0.0.1 through a proxy configured in the environment.
LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- processes and CPU, read from /proc ---------------------------------------------------------------------


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state), or None if gone.

    The command name is cut at the last ``)`` because it may itself contain spaces and parentheses.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def process_tree(root: int) -> dict[int, str]:
    """``root`` and all its descendants, each pid with its start time (so a reused pid is never mistaken for ours)."""
    children: dict[int, list[int]] = {}
    start_times: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            start_times[int(entry.name)] = fields[19]
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in start_times:
            tree[pid] = start_times[pid]
            todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """User + system CPU seconds used so far by ``root`` and by each of its live descendants, by pid."""
    used = {}
    for pid in process_tree(root):
        if fields := proc_stat(pid):
            used[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> list[float]:
    """CPU seconds each process used between two ``tree_cpu_seconds`` readings, busiest first.

    A process that started in between counts from zero, so a worker spawned during a run is not lost.
    """
    return sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)


def cores_split(used: list[float], seconds: float) -> tuple[float, ...]:
    """Busy cores per process over ``seconds``, leaving out idle ones: shows how the workers shared the load."""
    return tuple(u / seconds for u in used if u / seconds >= 0.01)


def host_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """Busy cores on the whole host between two ``host_jiffies`` readings (1.0 is one core busy)."""
    return (after[0] - before[0]) / max(after[1] - before[1], 1) * (os.cpu_count() or 1)


def host_busy_cores(seconds: float) -> float:
    """Busy cores on the whole host over the next ``seconds``."""
    before = host_jiffies()
    time.sleep(seconds)
    return busy_cores(before, host_jiffies())


def wait_for_quiet_host(limit_s: float) -> float:
    """On a shared machine, wait up to ``limit_s`` for a second in which the host is nearly idle; return its load.

    Other people's work lowers every figure, so the caller prints this ("busy before") next to its results.
    """
    deadline = time.monotonic() + limit_s
    busy = host_busy_cores(1.0)
    while busy > NOISY_HOST_CORES and time.monotonic() < deadline:
        busy = host_busy_cores(1.0)
    return busy


async def wait_for_quiet_host_async(limit_s: float) -> float:
    """``wait_for_quiet_host`` for a caller inside an event loop, which must keep serving its open connections.

    Here a sample counts as quiet only when strictly under ``NOISY_HOST_CORES`` (flash_sale's ``--quiet-wait``
    promises "under 0.25"); the two differ only on a sample of exactly that many cores.
    """
    deadline = time.monotonic() + limit_s
    while True:
        before = host_jiffies()
        await asyncio.sleep(1.0)
        busy = busy_cores(before, host_jiffies())
        if busy < NOISY_HOST_CORES or time.monotonic() >= deadline:
            return busy


def cpu_model() -> str:
    """The CPU's model name, for the report: figures from different machines are not comparable."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_line() -> str:
    """The ``Machine:`` line every benchmark prints first, so a published figure says what it was measured on."""
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


# --- HTTP/1.1 by hand --------------------------------------------------------------------------------------


async def read_http_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response from a kept-alive connection: (status, header fields lower-cased, body).

    The load clients speak HTTP over raw asyncio streams because a full client library costs far more CPU per
    request, on the cores the server under test needs.
    """
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    fields = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in head[1:] if h)}
    if "content-length" in fields:
        return status, fields, await reader.readexactly(int(fields["content-length"]))
    chunks = []
    if fields.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        await reader.readuntil(b"\r\n")
    return status, fields, b"".join(chunks)


# --- the server under test ----------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it), so runs never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def livecommerce_command() -> str:
    """The ``livecommerce`` entry point of this Python's environment (else the one on PATH)."""
    beside = Path(sys.executable).with_name("livecommerce")
    found = str(beside) if beside.exists() else shutil.which("livecommerce")
    if found is None:
        raise SystemExit("The livecommerce command is not installed; run `pip install -e '.[dev]'` first.")
    return found


def server_environment(
    data_dir: Path,
    base_url: str,
    *,
    secret_key: str,
    auth_rate: str,
    database_url: str | None = None,
    redis_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The server's environment: this process's, minus its own database and Redis settings, plus the bench's.

    The caller's settings must not leak into the server under test. ``auth_rate`` lifts the sign-up and sign-in
    rate limits, which a benchmark signing in many accounts from one address would otherwise hit.
    """
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIVECOMMERCE_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env = {
        **inherited,
        "LIVECOMMERCE_DATA_DIR": str(data_dir),
        "LIVECOMMERCE_SECRET_KEY": secret_key,
        "LIVECOMMERCE_LOGIN_RATE": auth_rate,
        "LIVECOMMERCE_SIGNUP_RATE": auth_rate,
        "LIVECOMMERCE_PUBLIC_URL": base_url,
        "LIVECOMMERCE_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run_livecommerce(*args: str, env: dict[str, str]) -> None:
    """Run one ``livecommerce`` command to completion (e.g. ``db upgrade``); raise with its stderr if it failed."""
    done = subprocess.run(
        [livecommerce_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"`livecommerce {' '.join(args)}` failed ({done.returncode}):\n{done.stderr}")


@contextmanager
def serving(port: int, workers: int, env: dict[str, str], log_path: Path) -> Iterator[int]:
    """``livecommerce serve`` on ``port``, ready for load; yield its pid; stop only what was started.

    The server's output goes to ``log_path``, which the caller may read after the block (the server has stopped).
    The tree is recorded while the server runs, so a worker that outlives the serve process can still be ended.
    """
    command = [livecommerce_command(), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    command += ["--media-port", "0"]  # with several workers, serve starts a media process: any free port
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    tree: dict[int, str] = {}
    try:
        wait_until_healthy(process, f"http://{HOST}:{port}", log_path)
        wait_until_settled(process.pid, workers)
        tree = process_tree(process.pid)
        yield process.pid
    finally:
        tree.update(process_tree(process.pid))
        stop_server(process, tree)


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Until /healthz answers 200; raise with the server's log if it exits first, or after the startup timeout."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited ({process.returncode}) before answering:\n{log_path.read_text()}")
        try:
            with LOCAL_OPENER.open(f"{base_url}/healthz", timeout=HEALTHZ_TIMEOUT_S) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while booting, or an HTTP error status (urllib's errors are OSErrors)
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The server did not answer /healthz within {STARTUP_TIMEOUT_S:.0f} s")


def wait_until_settled(root: int, workers: int) -> None:
    """Wait until every worker has started and the tree is idle, so no worker is still booting when load begins.

    The first worker up answers /healthz; a worker still importing the app would otherwise miss the connections
    that the load client opens all at once, and the run would measure one worker.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    before = tree_cpu_seconds(root)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = tree_cpu_seconds(root)
        busy = sum(after.values()) - sum(before.get(pid, 0.0) for pid in after)
        if len(after) >= workers + (workers > 1) and busy < 0.05:
            return
        before = after
    raise RuntimeError(f"The server's {workers} worker(s) did not settle within {STARTUP_TIMEOUT_S:.0f} s")


def stop_server(process: subprocess.Popen[bytes], tree: dict[int, str]) -> None:
    """SIGTERM the serve process (uvicorn stops its workers), then SIGKILL any of its recorded children still left.

    A child is killed only if its pid still has the start time recorded for it, so a reused pid is left alone.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
    for pid, started in tree.items():
        fields = proc_stat(pid)
        if pid != process.pid and fields and fields[19] == started and fields[0] != "Z":
            os.kill(pid, signal.SIGKILL)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def unwind_on_sigterm() -> None:
    """Make a SIGTERM to this script unwind like Ctrl+C, so the server and the database it made are cleaned up."""
    signal.signal(signal.SIGTERM, _interrupt)


# --- the benchmark's own PostgreSQL database ----------------------------------------------------------------


def server_database_url(database: str) -> str:
    """The server's ``DATABASE_URL`` for a bench database on the local PostgreSQL."""
    return f"postgresql+asyncpg://postgres@{HOST}:5432/{database}"


async def recreate_database(database: str, *, create: bool, force: bool = False) -> None:
    """Drop ``database`` (the benchmark's own) and, if asked, create it empty, connected to ``postgres``.

    ``force`` also ends sessions still connected to it. asyncpg is imported here so a run that needs no
    PostgreSQL does not need asyncpg either.
    """
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}"{" WITH (FORCE)" if force else ""}', timeout=30)
        if create:
            await conn.execute(f'CREATE DATABASE "{database}"', timeout=30)
    finally:
        await conn.close()
