"""A dispute's thread: what its buyer, its seller and admins write to each other, with photos as evidence.

Photos are checked by their bytes (PNG, JPEG or WebP; the name and declared type are ignored), limited in size
and number, and kept in the database: DisputeService decides who may read them, so there is no public URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.models import User
from kernel.errors import NotFound, RuleBroken
from shop.catalog.images import image_kind
from shop.models import Dispute, DisputeEvidence, DisputeMessage

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3
# Photos are stored in the database: a cap per dispute bounds what one conversation can take.
MAX_PHOTOS_PER_DISPUTE = 12
MAX_BODY_CHARS = 2000
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class Party(StrEnum):
    """Who wrote a message, as the other side reads it."""

    BUYER = "buyer"
    SELLER = "seller"
    ADMIN = "admin"


class PhotoTooLarge(RuleBroken):
    status = 413
    title = "Too large"


def _photo_error(code: str, message: str) -> RuleBroken:
    return RuleBroken(code, message, errors=[{"field": "photos", "message": message}])


def checked_photos(photos: Sequence[bytes]) -> list[tuple[str, bytes]]:
    """Each photo with its content type from its bytes, or the refusal naming the ``photos`` field."""
    if len(photos) > MAX_PHOTOS:
        raise _photo_error("too_many_photos", f"Attach at most {MAX_PHOTOS} photos to a message.")
    checked = []
    for data in photos:
        if not data:
            raise _photo_error("empty_photo", "One of the photos is an empty file.")
        if len(data) > MAX_PHOTO_BYTES:
            message = f"Each photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MiB."
            raise PhotoTooLarge("photo_too_large", message, errors=[{"field": "photos", "message": message}])
        checked.append((CONTENT_TYPES[image_kind(data, field="photos")], data))
    return checked


def checked_body(body: str, photos: Sequence[object]) -> str:
    body = body.strip()
    if len(body) > MAX_BODY_CHARS:
        raise RuleBroken(
            "message_too_long",
            f"A message may be at most {MAX_BODY_CHARS} characters.",
            errors=[{"field": "body", "message": f"At most {MAX_BODY_CHARS} characters."}],
        )
    if not body and not photos:
        raise RuleBroken(
            "empty_message", "Write a message or attach a photo.", errors=[{"field": "body", "message": "Required."}]
        )
    return body


@dataclass(frozen=True)
class Photo:
    id: UUID
    content_type: str
    size: int


@dataclass(frozen=True)
class ThreadMessage:
    id: UUID
    author_id: UUID
    author_name: str
    party: Party
    body: str
    at: datetime
    photos: list[Photo]


async def post(
    session: AsyncSession,
    dispute: Dispute,
    author_id: UUID,
    body: str,
    photos: Sequence[tuple[str, bytes]],
    now: datetime,
) -> DisputeMessage:
    """Add a message whose body and photos were already checked (:func:`checked_body`, :func:`checked_photos`).

    Raises:
        RuleBroken: ``too_many_photos`` when the dispute would hold more than ``MAX_PHOTOS_PER_DISPUTE``.
    """
    if photos:
        held = await session.scalar(select(func.count()).where(DisputeEvidence.dispute_id == dispute.id)) or 0
        if held + len(photos) > MAX_PHOTOS_PER_DISPUTE:
            left = MAX_PHOTOS_PER_DISPUTE - held
            raise _photo_error(
                "too_many_photos",
                f"A dispute holds at most {MAX_PHOTOS_PER_DISPUTE} photos; {left} more can be added.",
            )
    message = DisputeMessage(dispute_id=dispute.id, author_id=author_id, body=body, at=now)
    session.add(message)
    await session.flush()
    for content_type, data in photos:
        session.add(
            DisputeEvidence(
                message_id=message.id, dispute_id=dispute.id, content_type=content_type, size=len(data), data=data
            )
        )
    await session.flush()
    return message


async def read(session: AsyncSession, dispute: Dispute) -> list[ThreadMessage]:
    """The whole thread, oldest first, without the photos' bytes."""
    rows = (
        await session.execute(
            select(DisputeMessage, User.display_name)
            .join(User, User.id == DisputeMessage.author_id)
            .where(DisputeMessage.dispute_id == dispute.id)
            .order_by(DisputeMessage.at, DisputeMessage.id)
        )
    ).all()
    photos: dict[UUID, list[Photo]] = {}
    for e in await session.scalars(
        select(DisputeEvidence).where(DisputeEvidence.dispute_id == dispute.id).order_by(DisputeEvidence.id)
    ):
        photos.setdefault(e.message_id, []).append(Photo(e.id, e.content_type, e.size))
    return [
        ThreadMessage(m.id, m.author_id, name, party_of(dispute, m.author_id), m.body, m.at, photos.get(m.id, []))
        for m, name in rows
    ]


async def photo(session: AsyncSession, dispute: Dispute, evidence_id: UUID) -> DisputeEvidence:
    evidence = await session.get(DisputeEvidence, evidence_id)
    if evidence is None or evidence.dispute_id != dispute.id:
        raise NotFound("evidence_not_found", f"There is no photo {evidence_id} on this dispute.")
    await session.refresh(evidence, ["data"])
    return evidence


def party_of(dispute: Dispute, author_id: UUID) -> Party:
    """Whether ``author_id`` is the dispute's buyer, its seller, or (anyone else who may see it) an admin."""
    if author_id == dispute.buyer_id:
        return Party.BUYER
    return Party.SELLER if author_id == dispute.seller_id else Party.ADMIN
