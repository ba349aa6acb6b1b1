"""The server's worker processes, read from /proc: which they are, their memory, and which one holds a connection.

``livecommerce serve --workers N`` is uvicorn's supervisor; its workers are its child processes (multiprocessing's
resource tracker, if any, and the media process serve starts beside them are not workers). Every worker accepts on
the one shared listening socket, so the worker serving a request is the one whose file descriptors hold the accepted
socket: found through the socket's inode in ``/proc/net/tcp`` and ``/proc/<pid>/fd``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from harness import proc_stat, process_tree

REPLACEMENT_TIMEOUT_S = 30.0


def workers_of(serve_pid: int) -> list[int]:
    """The live worker processes: direct children of the serve process, not a multiprocessing helper or the media
    process."""
    workers = []
    for pid in process_tree(serve_pid):
        fields = proc_stat(pid)
        if pid == serve_pid or fields is None or int(fields[1]) != serve_pid or fields[0] == "Z":
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command and b"\x00cli\x00media\x00" not in command:
            workers.append(pid)
    return sorted(workers)


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB, or None if it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _socket_inode(client_port: int, server_port: int) -> str | None:
    """The inode of the server's side of the TCP connection from ``client_port`` (IPv4, this namespace)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port == client_port:
            return fields[9]
    return None


def worker_holding(client_port: int, server_port: int, serve_pid: int) -> int | None:
    inode = _socket_inode(client_port, server_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in workers_of(serve_pid):
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                if os.readlink(fd) == target:
                    return pid
        except OSError:
            continue
    return None


def kill_worker_holding(client_port: int, server_port: int, serve_pid: int) -> int:
    """SIGKILL the worker serving the connection from ``client_port``; if none is found, the first worker.

    Only a worker of the serve process this run started is ever signalled.
    """
    pid = worker_holding(client_port, server_port, serve_pid) or workers_of(serve_pid)[0]
    os.kill(pid, signal.SIGKILL)
    return pid


async def wait_for_workers(serve_pid: int, workers: int, killed: int) -> None:
    """Until uvicorn has started a replacement for ``killed`` (or the timeout: the gates will show it)."""
    deadline = time.monotonic() + REPLACEMENT_TIMEOUT_S
    while time.monotonic() < deadline:
        live = workers_of(serve_pid)
        if killed not in live and len(live) >= workers:
            return
        await asyncio.sleep(0.1)
