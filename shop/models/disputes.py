"""A dispute's conversation: messages from its buyer, its seller and admins, and the photos attached to them.

Photos are evidence about people's homes and parcels, so they live in the database rather than the public media
folder: only the dispute's parties and admins can read them, through the API that checks who asks.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class DisputeMessage(UUIDv7Base):
    __tablename__ = "shop_dispute_message"

    dispute_id: Mapped[UUID] = mapped_column(ForeignKey("shop_dispute.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class DisputeEvidence(UUIDv7Base):
    """One photo, checked by its bytes when uploaded; ``content_type`` comes from that check, never the client."""

    __tablename__ = "shop_dispute_evidence"

    message_id: Mapped[UUID] = mapped_column(ForeignKey("shop_dispute_message.id", ondelete="CASCADE"), index=True)
    dispute_id: Mapped[UUID] = mapped_column(ForeignKey("shop_dispute.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only when the photo is served
