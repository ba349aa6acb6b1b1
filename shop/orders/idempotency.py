"""Idempotency keys: the first response to a keyed request is stored and replayed to every retry.

The key is claimed (inserted) first, in the same transaction as the work: a concurrent duplicate waits on the
unique index until the first commits, then finds the stored response, so the work happens once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.errors import Conflict, RuleBroken
from shop.models import IdempotencyKey


@dataclass(frozen=True)
class Answer:
    """A keyed request's answer as stored: what the first request got, and every retry gets again."""

    status_code: int
    body: dict[str, Any]


def request_hash(body: msgspec.Struct, resource: str = "") -> str:
    """A digest of the request: the resource it acts on and its body, so the same key sent for another resource
    or with another body is told apart from a retry."""
    encoded = msgspec.json.encode(body, order="sorted")
    return hashlib.sha256(f"{resource}\n".encode() + encoded if resource else encoded).hexdigest()


def check_key(key: str | None) -> str:
    """``key`` if it is usable (8 to 200 printable characters); otherwise RuleBroken (422) naming the header."""
    if not key or not 8 <= len(key) <= 200 or not key.isprintable():
        raise RuleBroken(
            "idempotency_key_required",
            "Send an Idempotency-Key header (8 to 200 characters) so a retry cannot pay twice.",
            errors=[{"field": "Idempotency-Key", "message": "missing or malformed"}],
        )
    return key


async def claim(session: AsyncSession, scope: str, key: str, digest: str, now: datetime) -> IdempotencyKey | Answer:
    """Claim ``key`` for this request, or return the first response if the same request was done before."""
    record = IdempotencyKey(scope=scope, key=key, request_hash=digest, created_at=now)
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
        return record
    except IntegrityError:
        pass
    earlier = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    if earlier is None or earlier.response is None:
        raise Conflict(
            "idempotency_key_in_use", "A request with this Idempotency-Key is still being processed; retry in a moment."
        )
    if earlier.request_hash != digest:
        raise RuleBroken(
            "idempotency_key_reused",
            "This Idempotency-Key was used for another request (another body or resource); use a new key for a new"
            " request.",
        )
    return Answer(earlier.status_code or 200, earlier.response)


async def remember(session: AsyncSession, record: IdempotencyKey, status_code: int, body: msgspec.Struct) -> Answer:
    """Store the answer to the request that claimed ``record``, in its transaction, for every retry to get."""
    record.status_code = status_code
    record.response = msgspec.to_builtins(body)
    await session.flush()
    return Answer(status_code, record.response)
