"""A PostgreSQL server of the test's own, on a free port, that a test may stop, hold in shutdown and start again.

Built from the machine's PostgreSQL binaries (``initdb``, ``pg_ctl``) in a temporary folder, with fsync off: a few
seconds to make, nothing kept. PostgreSQL will not run as root, so as root it runs as the ``postgres`` account.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.redis_server import free_port


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def available() -> bool:
    return _binaries() is not None


class OwnPostgres:
    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            raise FileNotFoundError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.bin = binaries
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="livecommerce-pg-"))
        self.data = self.home / "data"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
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
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.home / "log"), "-w", "start")

    def stop(self, mode: str = "fast", wait: bool = True) -> None:
        """``smart`` waits for every client to leave, refusing new connections meanwhile ("shutting down"); a later
        ``fast`` ends that wait. Stopping a server that has already stopped is no error."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-W" if not wait else "-w", "stop", check=False)
        if wait and (self.data / "postmaster.pid").exists():
            raise RuntimeError(f"PostgreSQL on port {self.port} did not stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.home, ignore_errors=True)
