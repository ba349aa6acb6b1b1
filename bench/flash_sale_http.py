"""The flash sale's HTTP path: N checkouts released at once through POST /api/shop/checkout on the running server.

The burst's client runs in the benchmark's own process: by default raw asyncio streams on one kept-alive
connection per buyer (``RawConnection``), or httpx with ``--client httpx``. A request left unanswered is sent again
with its Idempotency-Key, as a real client would, and the database is checked after every burst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter

import asyncpg
import httpx
from flash_sale_burst import (
    PG_DSN,
    REQUEST_TIMEOUT_S,
    SHIPPING,
    Burst,
    check_sale,
    postgres_cpu_seconds,
    print_burst,
)
from flash_sale_setup import (
    API_SAMPLE,
    Buyer,
    check_tokens,
    get_retrying,
    http_client,
    insert_buyers,
    list_product,
    sign_up,
    sign_up_buyers,
)
from harness import (
    HOST,
    busy_cores,
    cores_split,
    cpu_used,
    host_jiffies,
    read_http_response,
    tree_cpu_seconds,
    wait_for_quiet_host_async,
)


async def replay(client: httpx.AsyncClient, url: str, payload: bytes, headers: dict[str, str]) -> str:
    """Send a request that got no answer again, same Idempotency-Key: the first outcome, or a checkout now."""
    result = "no answer"
    for _ in range(10):
        try:
            answer = await client.post(url, content=payload, headers=headers)
            result = outcome_of(answer.status_code, answer.content)
        except httpx.HTTPError as exc:
            result = f"error {type(exc).__name__}"
        if result != "409 idempotency_key_in_use" and not result.startswith("error"):
            return result
        await asyncio.sleep(2.0)  # the first attempt may still be running on the server
    return result


class RawConnection:
    """One kept-alive HTTP/1.1 connection driven by hand: a few microseconds of client CPU per request.

    httpx spends milliseconds of CPU per request once it holds hundreds of connections, which would make this
    process, not the server, decide when the checkouts arrive (see ``--client``).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        """Connect and do one GET /healthz, so a server worker has accepted the connection before the burst."""
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(HOST, port)
            conn = cls(reader, writer, f"{HOST}:{port}")
            status, _ = await conn.request("GET", "/healthz", {}, b"")
        if status != 200:
            raise RuntimeError(f"GET /healthz answered {status}")
        return conn

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status, _, answer = await read_http_response(self.reader)
        return status, answer

    def close(self) -> None:
        self.writer.close()


def outcome_of(status: int, body: bytes) -> str:
    if status == 409:
        try:
            kind = str(json.loads(body).get("type", "")).rsplit("/", 1)[-1]
        except (ValueError, AttributeError):
            kind = "?"
        return f"409 {kind}"
    return str(status)


async def http_burst(
    client: httpx.AsyncClient,
    base_url: str,
    buyers: list[Buyer],
    product_id: uuid.UUID,
    server_pid: int,
    mode: str,
    postmaster: int | None,
) -> Burst:
    """All N checkouts released at once over N connections opened beforehand; unanswered ones are replayed."""
    payload = json.dumps(
        {
            "items": [{"product_id": str(product_id), "quantity": 1}],
            "shipping_address": SHIPPING,
            "payment": {"method": "sandbox", "token": "tok_ok"},
        }
    ).encode()
    url = f"{base_url}/api/shop/checkout"
    port = int(base_url.rsplit(":", 1)[1])
    raw: list[RawConnection] = []
    if mode == "raw":
        raw = list(await asyncio.gather(*(RawConnection.open(port) for _ in buyers)))
    else:  # fill httpx's pool with (about) one kept-alive connection per buyer
        await asyncio.gather(*(get_retrying(client, f"{base_url}/healthz") for _ in buyers))
    start = asyncio.Event()
    results: list[tuple[str, float]] = []
    unanswered: list[dict[str, str]] = []

    async def buy(i: int, buyer: Buyer) -> None:
        headers = {
            "Authorization": f"Bearer {buyer.token}",
            "Idempotency-Key": f"flash-{uuid.uuid4()}",
            "Content-Type": "application/json",
        }
        await start.wait()
        began = time.perf_counter()
        try:
            if mode == "raw":
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    result = outcome_of(*await raw[i].request("POST", "/api/shop/checkout", headers, payload))
            else:
                response = await client.post(url, content=payload, headers=headers)
                result = outcome_of(response.status_code, response.content)
        except (httpx.HTTPError, OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            result = f"error {type(exc).__name__}"
            unanswered.append(headers)
        results.append((result, time.perf_counter() - began))

    tasks = [asyncio.create_task(buy(i, b)) for i, b in enumerate(buyers)]
    await asyncio.sleep(0.05)  # every task is parked on the gate
    cpu_before, client_before, host_before = tree_cpu_seconds(server_pid), time.process_time(), host_jiffies()
    pg_before = postgres_cpu_seconds(postmaster)
    began = time.perf_counter()
    start.set()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S + 30):
            await asyncio.gather(*tasks)
    finally:
        for conn in raw:
            conn.close()
    wall = time.perf_counter() - began
    cpu_after, client_after, host_after = tree_cpu_seconds(server_pid), time.process_time(), host_jiffies()
    pg_after = postgres_cpu_seconds(postmaster)
    used = cpu_used(cpu_before, cpu_after)
    replayed = Counter(await asyncio.gather(*(replay(client, url, payload, h) for h in unanswered)))
    return Burst(
        replayed=replayed,
        kind="HTTP",
        wall_s=wall,
        latencies=[lat for _, lat in results],
        ok_latencies=[lat for res, lat in results if res == "201"],
        outcomes=Counter(res for res, _ in results),
        client_cpu_s=client_after - client_before,
        server_cpu_s=sum(used),
        postgres_cpu_s=pg_after - pg_before if pg_after is not None and pg_before is not None else None,
        server_split=cores_split(used, wall),
        host_busy_cores=busy_cores(host_before, host_after),
    )


async def http_phase(
    base_url: str, server_pid: int, args: argparse.Namespace
) -> tuple[Buyer, list[Buyer], list[Burst]]:
    tag = uuid.uuid4().hex[:8]
    bursts: list[Burst] = []
    async with http_client(args.buyers) as client:
        began = time.perf_counter()
        seller = await sign_up(client, base_url, f"seller-{tag}@flash.test", ["seller"])
        through_api = args.buyers if args.accounts == "api" else min(args.buyers, API_SAMPLE)
        buyers = await sign_up_buyers(client, base_url, 0, through_api, tag)
        conn = await asyncpg.connect(PG_DSN, timeout=5)
        try:
            if args.buyers > through_api:
                buyers += await insert_buyers(conn, buyers[0], through_api, args.buyers - through_api, tag)
            await check_tokens(client, base_url, buyers)
            print(
                f"Setup: 1 seller and {len(buyers)} buyers, {through_api} of them signed up and in through the API"
                f"{'' if through_api == len(buyers) else ', the rest written to auth_user/auth_role/auth_token'}; "
                f"every token checked with GET /api/me ({time.perf_counter() - began:.1f} s)"
            )
            for run in range(1, args.runs + 1):
                product_id = await list_product(client, base_url, seller, args.units, f"Flash item {run}")
                # Waiting for a quiet host also lets the listing's after-commit work pass.
                background = await wait_for_quiet_host_async(args.quiet_wait)
                burst = await http_burst(client, base_url, buyers, product_id, server_pid, args.client, args.postmaster)
                burst.background_cores = background
                await check_sale(conn, burst, product_id, args.units)
                bursts.append(burst)
                print_burst(run, burst)
        finally:
            await conn.close()
    return seller, buyers, bursts
