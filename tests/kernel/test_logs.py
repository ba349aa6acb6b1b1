"""Logs are one JSON object a line, tied to the request that caused them."""

from __future__ import annotations

import json
import logging

from httpx import AsyncClient

from kernel.logs import JsonFormatter, request_id_var


async def test_request_id_is_echoed_or_made(client: AsyncClient) -> None:
    given = await client.get("/healthz", headers={"x-request-id": "abc123-from-the-edge"})
    assert given.headers["x-request-id"] == "abc123-from-the-edge"
    made = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32 and " " not in made.headers["x-request-id"]


async def test_access_log_line_is_json_with_the_request_id(client: AsyncClient, caplog) -> None:
    caplog.set_level(logging.INFO, logger="livecommerce.access")
    await client.get("/healthz", headers={"x-request-id": "trace-0001-abcdef"})
    record = next(r for r in caplog.records if r.name == "livecommerce.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "request" and line["path"] == "/healthz" and line["status"] == 200
    assert "duration_ms" in line


def test_formatter_adds_the_current_request_id_and_extras() -> None:
    token = request_id_var.set("req-42-abcdefgh")
    try:
        record = logging.LogRecord("livecommerce.test", logging.WARNING, __file__, 1, "thing.happened", None, None)
        record.order_id = "o-1"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line == {
        **line,
        "level": "warning",
        "event": "thing.happened",
        "request_id": "req-42-abcdefgh",
        "order_id": "o-1",
    }
