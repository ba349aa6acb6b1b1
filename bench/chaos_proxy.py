"""A small asyncio TCP proxy in front of a service, so a run can cut its connections without touching the service.

There is no toxiproxy here and ``tc netem`` does not exist on this kernel (RELIABILITY-NOTES.md), and this is
enough: every accepted connection gets its own upstream connection and two pumps. While ``blackholed`` the pumps
hold what they read and forward nothing, and new connections are accepted but not connected upstream: a network
partition as the endpoints see it. When it heals, the held bytes go through in order, as TCP's retransmission
would deliver them after a short partition; nothing is lost or reordered, so the protocols on both sides stay in
step. An upstream that restarts closes its side, and the proxy closes the client's side with it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress

from harness import HOST, free_port

log = logging.getLogger("bench.chaos_proxy")
CHUNK_BYTES = 65536


class ChaosProxy:
    """Listens on a free port of 127.0.0.1 and forwards to ``upstream_port``; ``blackhole()`` and ``heal()``."""

    def __init__(self, name: str, upstream_port: int) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.port = free_port()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, self.port)

    def blackhole(self) -> None:
        """Stop forwarding: bytes are held, new connections hang, nobody is told."""
        self._flowing.clear()
        log.info("proxy.blackhole", extra={"proxy": self.name})

    def heal(self) -> None:
        self._flowing.set()
        log.info("proxy.heal", extra={"proxy": self.name})

    async def close(self) -> None:
        self._flowing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_writer)
        self.connections += 1
        upstream_writer = None
        try:
            await self._flowing.wait()  # a partition: the client's connect succeeded, nothing answers
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, self.upstream_port)
            self._writers.add(upstream_writer)
            await asyncio.gather(self._pump(client_reader, upstream_writer), self._pump(upstream_reader, client_writer))
        except OSError:
            pass  # the upstream is down (a restart): the client sees its connection closed, as it would directly
        finally:
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                await self._flowing.wait()
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass
        finally:
            # One side ended: end the other too, so neither end waits on a half-dead connection.
            with suppress(OSError):
                writer.close()


class ProxyThread:
    """The proxies' own event loop in a thread of its own, so a busy load client or a blocking call (``pg_ctl``,
    the harness's start-up wait) never stalls the traffic they forward."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="chaos-proxies", daemon=True)
        self._thread.start()
        self.proxies: list[ChaosProxy] = []

    def add(self, name: str, upstream_port: int) -> ChaosProxy:
        async def make() -> ChaosProxy:
            proxy = ChaosProxy(name, upstream_port)
            await proxy.start()
            return proxy

        proxy = asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout=10)
        self.proxies.append(proxy)
        return proxy

    def blackhole(self, proxy: ChaosProxy) -> None:
        self.loop.call_soon_threadsafe(proxy.blackhole)

    def heal(self, proxy: ChaosProxy) -> None:
        self.loop.call_soon_threadsafe(proxy.heal)

    def stop(self) -> None:
        for proxy in self.proxies:
            with suppress(Exception):
                asyncio.run_coroutine_threadsafe(proxy.close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
