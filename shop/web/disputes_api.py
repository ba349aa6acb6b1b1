"""JSON handlers of a dispute's thread (messages and photo evidence) and of the buyer's answer to a seller's offer.

Opening, reading and resolving a dispute are in shop.web.orders_api beside the order they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody

from kernel.auth import CurrentUser, requires_signed_in
from kernel.problems import not_found_when_malformed, problem_spec
from shop.orders.dispute_threads import MAX_PHOTO_BYTES, MAX_PHOTOS
from shop.orders.disputes import DisputeService
from shop.schemas import DisputeMessageOut, DisputeOut, DisputeThreadOut
from shop.views import dispute_out, message_out
from shop.web.responses import CONFLICT, NOT_FOUND

# Room for the photos plus the text and the multipart framing around them.
MESSAGE_MAX_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024
Disputes = NamedDependency[DisputeService]
Me = NamedDependency[CurrentUser]


@dataclass
class MessageUpload:
    body: str = ""
    photos: list[UploadFile] = field(default_factory=list)


class DisputeThreadController(Controller):
    path = "/api/shop/disputes/{dispute_id:uuid}"
    tags = ["orders"]
    guards = [requires_signed_in]

    @get("/messages", responses={404: NOT_FOUND})
    async def messages(self, dispute_id: FromPath[UUID], disputes: Disputes, current_user: Me) -> DisputeThreadOut:
        """The dispute's thread, oldest first: its buyer, its seller and admins read and write it."""
        thread = await disputes.thread(current_user, dispute_id)
        return DisputeThreadOut([message_out(dispute_id, m) for m in thread])

    @post(
        "/messages",
        request_max_body_size=MESSAGE_MAX_BYTES,
        responses={
            404: NOT_FOUND,
            409: problem_spec("The dispute is decided"),
            413: problem_spec("A photo is too large"),
            422: problem_spec("Empty message, too many photos, or a file that is not a PNG, JPEG or WebP image"),
        },
    )
    async def write(
        self, dispute_id: FromPath[UUID], data: MultipartBody[MessageUpload], disputes: Disputes, current_user: Me
    ) -> DisputeMessageOut:
        """Write in the thread (multipart: ``body``, and up to 3 ``photos``, PNG, JPEG or WebP, 5 MiB each)."""
        photos = [await photo.read() for photo in data.photos]
        message = await disputes.write(current_user, dispute_id, data.body, photos)
        return message_out(dispute_id, message)

    @get("/photos/{photo_id:uuid}", responses={404: NOT_FOUND}, media_type="application/octet-stream")
    async def photo(
        self, dispute_id: FromPath[UUID], photo_id: FromPath[UUID], disputes: Disputes, current_user: Me
    ) -> Response[bytes]:
        """A photo of the thread, to the dispute's buyer, seller and admins only; never cached by shared caches."""
        evidence = await disputes.photo(current_user, dispute_id, photo_id)
        return Response(
            evidence.data,
            media_type=evidence.content_type,
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{photo_id}"',
            },
        )

    @post(
        "/accept-offer",
        status_code=200,
        responses={403: problem_spec("Not the buyer"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def accept_offer(self, dispute_id: FromPath[UUID], disputes: Disputes, current_user: Me) -> DisputeOut:
        """The buyer takes the seller's partial refund: the money goes back and the dispute is closed."""
        return dispute_out(await disputes.accept_offer(current_user, dispute_id))

    @post(
        "/escalate",
        status_code=200,
        responses={403: problem_spec("Not the buyer"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def escalate(self, dispute_id: FromPath[UUID], disputes: Disputes, current_user: Me) -> DisputeOut:
        """The buyer declines the seller's offer: LiveCommerce decides."""
        return dispute_out(await disputes.decline_offer(current_user, dispute_id))


DISPUTE_CONTROLLERS = [DisputeThreadController]
not_found_when_malformed(DISPUTE_CONTROLLERS, dispute_id="dispute", photo_id="evidence")
