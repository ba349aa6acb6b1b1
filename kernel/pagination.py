"""Opaque list cursors: ``?cursor=`` carries the sort key of the last item seen, ``?limit=`` at most 100."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any

from litestar.params import QueryParameter

from kernel.errors import RuleBroken

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="Items per page (1 to 100)")]
DEFAULT_LIMIT = 20


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *parts: Callable[[Any], Any]) -> list[Any]:
    """The sort key a cursor carries, each part converted by the matching callable (``int``, ``UUID``, ...).

    Anything that is not a cursor this server made, in the shape the list expects, is a 422 naming ``cursor``.
    """
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError("wrong shape")
        return [convert(value) for convert, value in zip(parts, key, strict=True)]
    except (ValueError, TypeError):
        raise RuleBroken(
            "bad_cursor",
            "The cursor is not one this server gave out for this list; start from the first page.",
            errors=[{"field": "cursor", "message": "unknown cursor"}],
        ) from None
