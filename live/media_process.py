"""The media process that ``livecommerce serve --workers N`` starts, so a room's media lives in one process.

Each worker would otherwise relay media of its own: a viewer could reach a worker without the room's broadcast.
The workers redirect WHIP/WHEP to this process as to a configured media node. It is restarted if it dies (its
rooms stay live through the grace period, so an encoder that reconnects keeps its show), it stays in serve's
process group so Ctrl+C reaches it too, and on Linux the kernel stops it if serve itself dies: one left behind
would hold the port and relay nothing anyone is sent to.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

STARTUP_TIMEOUT = 30.0  # seconds for the process to answer its health check
RESTART_DELAY = 1.0  # seconds before a crashed process is started again
PR_SET_PDEATHSIG = 1  # prctl(2)


class MediaProcessFailed(RuntimeError):
    """The media process exited, or did not answer, while starting."""


class MediaProcess:
    """One child process running ``command`` (a media node reached at ``url``), supervised until ``stop()``.

    Args:
        command: the media node's command line.
        url: where clients reach it; given to it as ``LIVECOMMERCE_MEDIA_NODE_URL``.
        health_url: its ``/healthz`` as this machine reaches it.
    """

    def __init__(self, command: list[str], url: str, health_url: str) -> None:
        self.command, self.url, self.health_url = command, url, health_url
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="media-process", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start it and wait until it answers, so the workers never redirect to a port nobody listens on yet."""
        self._spawn()
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        self._watcher.start()

    def stop(self) -> None:
        """Stop supervising, then terminate the process (killed if it has not stopped within 10 s)."""
        self._stopping.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        env = {**os.environ, "LIVECOMMERCE_MEDIA_NODE_URL": self.url}
        self._process = subprocess.Popen(self.command, env=env, preexec_fn=_stop_with_parent)  # noqa: S603

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        local = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MediaProcessFailed(f"The media process exited ({self._process.returncode}) while starting.")
            try:
                with local.open(self.health_url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise MediaProcessFailed(f"The media process did not answer {self.health_url} within {STARTUP_TIMEOUT:.0f} s.")

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            assert self._process is not None
            code = self._process.poll()
            if code is None:
                continue
            if code == 0:  # it was asked to stop (Ctrl+C reaches the whole process group): so is serve
                return
            print(f"The media process exited ({code}); restarting it.", file=sys.stderr, flush=True)
            if self._stopping.wait(RESTART_DELAY):
                return
            self._spawn()


# Looked up here, not in the forked child: loading a library between fork and exec can deadlock.
_prctl = ctypes.CDLL(None).prctl if sys.platform == "linux" else None


def _stop_with_parent() -> None:
    """In the child, before exec: have the kernel send SIGTERM when the thread that started it ends (serve's
    main thread, or the watcher for a restarted process; both outlive the child unless serve dies)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
