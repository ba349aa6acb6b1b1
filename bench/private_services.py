"""A PostgreSQL and a Redis of the benchmark's own, on free ports, that a chaos run may stop and start again.

The same launchers as ``tests/postgres_server.py`` and ``tests/redis_server.py``, kept here because a benchmark is a
script, not part of the test suite: ``bench/`` never imports the ``tests`` package (nor the other way round), so a
change to a test fixture cannot break a benchmark. Both servers keep their port across a restart, which is what
makes a restart a restart for the clients behind a proxy.

PostgreSQL is built from the machine's binaries (``initdb``, ``pg_ctl``) in a temporary folder with fsync off; it
will not run as root, so as root it runs as the ``postgres`` account. Nothing is kept after ``remove()``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import HOST, free_port

START_TIMEOUT_S = 60.0


def _postgres_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    on_path = shutil.which("pg_ctl")
    if not found and on_path is None:
        raise SystemExit("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return Path(found[-1] if found else on_path).parent  # type: ignore[arg-type]


class PrivatePostgres:
    """``initdb`` in a temporary folder; ``start``/``stop`` as often as the run needs; ``remove`` at the end."""

    def __init__(self) -> None:
        self.bin = _postgres_binaries()
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="livecommerce-soak-pg-"))
        self.data = self.home / "data"
        self.dsn = f"postgresql://postgres@{HOST}:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.home, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8")

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses={HOST} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.home / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (as an operator's restart does); stopping a stopped server is no error."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.home, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` without persistence in ``workdir``: a restart loses every key, as a crashed cache does."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        options = ["--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, *options, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """SIGTERM only the server this object started, and wait for it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
