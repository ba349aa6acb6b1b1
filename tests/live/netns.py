"""A network namespace with nothing but loopback, for WebRTC tests: ICE can touch no other interface.

The test's own thread enters the namespace with ``setns(2)`` (through libc: Python 3.11 has no ``os.setns``), so
the app, its media relay and the aiortc peers all run in-process, in the test's event loop, and every UDP socket
they open lives in the namespace. A network namespace belongs to a thread, and a socket to the namespace it was
opened in: threads started before entering keep the host's network, which is how the PostgreSQL and Redis ports
are bridged in — a listener opened inside the namespace, whose connections are dialled from a bridge thread
outside it. Leaving restores the thread's namespace and deletes this one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceUnavailable(RuntimeError):
    """This machine cannot make network namespaces (no `ip`, not root, or no kernel support)."""


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise NamespaceUnavailable(f"setns failed: {os.strerror(errno)}")


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if result.returncode != 0:
        raise NamespaceUnavailable(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")


class _Bridge:
    """Forwards TCP connections made to 127.0.0.1:port inside the namespace to 127.0.0.1:port outside it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.listener: socket.socket | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"netns-bridge-{port}", daemon=True)
        self._thread.start()  # before the namespace is entered: this thread dials out on the host's network

    def listen(self) -> None:
        """Called from inside the namespace: the listening socket belongs to it."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self._ready.set()

    def close(self) -> None:
        self._ready.set()
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below; close() alone would not
            self.listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._ready.wait()
        while self.listener is not None:
            try:
                inside, _ = self.listener.accept()
            except OSError:
                return  # closed
            outside = socket.create_connection(("127.0.0.1", self.port))
            for source, target in ((inside, outside), (outside, inside)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def loopback_only(name: str, bridged_ports: tuple[int, ...] = ()) -> Iterator[None]:
    """Run the block in a fresh namespace ``name`` that has only ``lo`` (up), with ``bridged_ports`` reachable."""
    if shutil.which("ip") is None:
        raise NamespaceUnavailable("the `ip` command (iproute2) is not installed")
    if os.geteuid() != 0:
        raise NamespaceUnavailable("making a network namespace needs root")
    _ip("netns", "add", name)
    try:
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        bridges = [_Bridge(port) for port in bridged_ports]
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                for bridge in bridges:
                    bridge.listen()
                yield
            finally:
                _setns(home)
                for bridge in bridges:
                    bridge.close()
        finally:
            os.close(target)
            os.close(home)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10, check=False)


def interfaces() -> list[str]:
    return [name for _, name in socket.if_nameindex()]
