"""A real ``livecommerce serve`` process on a free local port, for browser tests and the screenshot script.

It runs the same commands an operator would (``db upgrade``, ``demo load``, ``serve``) with the settings given,
waits for ``/healthz`` and stops only the process it started. The Chromium flags both use live here too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SECRET_KEY = "e2e-secret-key-0123456789-abcdefghijklmnopqrstuv"  # 48 characters, fixed so runs are repeatable
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Debian's Chromium, quiet: no sandbox (root in a container), no GPU, and no calls home of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Local calls only: never route 127.0.0.1 through a proxy from the environment.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def livecommerce_command() -> str:
    """The ``livecommerce`` entry point installed beside this interpreter (the virtualenv's), else on PATH."""
    beside = Path(sys.executable).with_name("livecommerce")
    found = str(beside) if beside.exists() else shutil.which("livecommerce")
    if found is None:
        raise RuntimeError("The livecommerce command is not installed; run `pip install -e '.[dev]'` first")
    return found


def wait_until_healthy(
    process: subprocess.Popen[bytes], base_url: str, log: Path, within_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Wait for ``base_url/healthz`` to answer 200; fail with the server's log if it exits or stays silent."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"The server exited with code {process.returncode} before answering /healthz:\n{output}")
        try:
            with _LOCAL.open(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    output = log.read_text(errors="replace") if log.exists() else ""
    raise RuntimeError(f"The server did not answer {base_url}/healthz within {within_s:.0f} s:\n{output}")


class LiveServer:
    """Migrate, load the demo accounts and serve in a subprocess; use as a context manager or start()/stop()."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self._stderr_path = data_dir / "server.stderr.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.env = {**self._environment(database_url, redis_url), **(env or {})}

    def _environment(self, database_url: str | None, redis_url: str | None) -> dict[str, str]:
        # The caller's own database and Redis settings must not leak into the server under test.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("LIVECOMMERCE_") and k not in {"DATABASE_URL", "REDIS_URL"}
        }
        env = {
            **inherited,
            "LIVECOMMERCE_DATA_DIR": str(self.data_dir),
            "LIVECOMMERCE_SECRET_KEY": SECRET_KEY,
            "LIVECOMMERCE_LOGIN_RATE": "1000/minute",
            "LIVECOMMERCE_SIGNUP_RATE": "1000/minute",
            "LIVECOMMERCE_PUBLIC_URL": self.base_url,
            "LIVECOMMERCE_LOG_LEVEL": "WARNING",
            # Short shop windows, so a journey can watch a sale go from pending to available.
            "LIVECOMMERCE_DISPUTE_WINDOW": "4s",
            "LIVECOMMERCE_SWEEP_INTERVAL": "1s",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),  # this checkout's code, whichever checkout the command was installed from
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        if redis_url:
            env["REDIS_URL"] = redis_url
        return env

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [livecommerce_command(), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"`livecommerce {' '.join(args)}` failed ({result.returncode}):\n{result.stderr}")

    def start(self) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._run("db", "upgrade")
        self._run("demo", "load")
        with self._stderr_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                [livecommerce_command(), "serve", "--host", HOST, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            assert self._process is not None
            wait_until_healthy(self._process, self.base_url, self._stderr_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace") if self._stderr_path.exists() else ""

    def stop(self) -> None:
        """Terminate the server this object started (only that process), killing it if it will not stop."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL the server, as a crash or the OOM killer would: nothing of it gets to clean up."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
