"""Opaque list cursors: ``?cursor=`` carries the sort key of the last item seen, ``?limit=`` at most 100."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from msgspec import Meta

from kernel.errors import RuleBroken

Limit = Annotated[int, Meta(ge=1, le=100)]
DEFAULT_LIMIT = 20


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise RuleBroken(
            "bad_cursor",
            "The cursor is not one this server gave out; start from the first page.",
            errors=[{"field": "cursor", "message": "unknown cursor"}],
        ) from None
    if not isinstance(key, list):
        raise RuleBroken("bad_cursor", "The cursor is not one this server gave out; start from the first page.")
    return key
