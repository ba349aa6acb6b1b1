"""The reader's disputes, and a dispute's page for its buyer, its seller and admins: where it stands, what the
reader does next, the thread with its photos, and the forms for each side's answer (the seller's refund, offer or
rejection; the buyer's answer to an offer). Plain forms that answer with a redirect, or the page again with each
error beside its field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import requires_signed_in
from kernel.errors import DomainError
from shop.orders.carts import CartService
from shop.orders.dispute_threads import MAX_PHOTO_BYTES, MAX_PHOTOS, party_of
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService
from shop.schemas import ResolveIn
from shop.views import photo_url
from shop.web.forms import convert, field_errors, minor_units
from shop.web.rendering import go, me, page

Carts = NamedDependency[CartService]
Orders = NamedDependency[OrderService]
Disputes = NamedDependency[DisputeService]
Db = NamedDependency[AsyncSession]
MESSAGE_FORM_MAX_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024
ANSWERS = ("full", "partial", "reject")  # the seller's choices on the answer form


async def photo_uploads(form: FormMultiDict) -> list[bytes]:
    """The photos of a form's ``photos`` field; an empty file input (no file chosen) sends a part with no name."""
    photos = []
    for part in form.getall("photos", []):
        if isinstance(part, UploadFile):
            data = await part.read()
            if data or part.filename:
                photos.append(data)
    return photos


def _resolve_in(values: dict[str, str], currency: str) -> ResolveIn:
    """The seller's answer form as the API's ResolveIn: a full refund, a partial offer (an amount) or a rejection."""
    choice = values["answer"]
    if choice not in ANSWERS:
        return convert({"outcome": choice}, ResolveIn, {"outcome": "answer"})
    data: dict[str, Any] = {"outcome": "reject" if choice == "reject" else "refund", "note": values["note"]}
    if choice == "partial":
        data["amount"] = {"amount_minor": minor_units(values["amount"], currency, "amount"), "currency": currency}
    return convert(data, ResolveIn, {"amount.amount_minor": "amount", "note": "note"})


class DisputePages(Controller):
    path = "/shop/disputes"
    guards = [requires_signed_in]

    @get("/")
    async def my_disputes(self, request: Request[Any, Any, Any], disputes: Disputes, carts: Carts) -> Template:
        """Disputes the reader opened as a buyer or must answer as a seller, newest first."""
        mine = await disputes.for_user(me(request))
        return await page(request, "shop/disputes.html", carts, disputes=mine, reader=me(request).id)

    @get("/{dispute_id:uuid}")
    async def dispute_page(
        self,
        request: Request[Any, Any, Any],
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
    ) -> Template:
        return await _dispute_page(request, disputes, orders, carts, dispute_id)

    @post("/{dispute_id:uuid}/messages", status_code=200, request_max_body_size=MESSAGE_FORM_MAX_BYTES)
    async def write(
        self,
        request: HTMXRequest,
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
        db_session: Db,
    ) -> Response[Any]:
        form = await request.form()
        values = {"body": str(form.get("body", ""))}

        async def write() -> None:
            await disputes.write(me(request), dispute_id, values["body"], await photo_uploads(form))

        case = _Case(request, dispute_id, disputes, orders, carts, db_session)
        return await case.act(write, "message", values, then="#thread")

    @post("/{dispute_id:uuid}/answer", status_code=200)
    async def answer(
        self,
        request: HTMXRequest,
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
        db_session: Db,
    ) -> Response[Any]:
        """The seller refunds what was asked, offers part of it, or rejects; a note joins the thread."""
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in ("answer", "amount", "note")}

        async def answer() -> None:
            dispute = await disputes.get(me(request), dispute_id)
            await disputes.resolve(me(request), dispute_id, _resolve_in(values, dispute.currency))

        case = _Case(request, dispute_id, disputes, orders, carts, db_session)
        return await case.act(answer, "answer", values)

    @post("/{dispute_id:uuid}/accept-offer", status_code=200)
    async def accept_offer(
        self,
        request: HTMXRequest,
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
        db_session: Db,
    ) -> Response[Any]:
        case = _Case(request, dispute_id, disputes, orders, carts, db_session)
        return await case.act(lambda: disputes.accept_offer(me(request), dispute_id), "offer", {})

    @post("/{dispute_id:uuid}/escalate", status_code=200)
    async def escalate(
        self,
        request: HTMXRequest,
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
        db_session: Db,
    ) -> Response[Any]:
        case = _Case(request, dispute_id, disputes, orders, carts, db_session)
        return await case.act(lambda: disputes.decline_offer(me(request), dispute_id), "offer", {})


class _Case:
    """One dispute's page answering a form: the action and back to the case, or the case again with the form's
    errors beside its fields (nothing the action wrote is kept)."""

    def __init__(
        self,
        request: HTMXRequest,
        dispute_id: UUID,
        disputes: DisputeService,
        orders: OrderService,
        carts: CartService,
        db_session: AsyncSession,
    ) -> None:
        self.request, self.dispute_id, self.db_session = request, dispute_id, db_session
        self.disputes, self.orders, self.carts = disputes, orders, carts

    async def act(
        self, action: Callable[[], Awaitable[object]], form: str, values: dict[str, str], then: str = ""
    ) -> Response[Any]:
        try:
            await action()
        except DomainError as exc:
            await self.db_session.rollback()
            failed = {"form": form, "errors": field_errors(exc), "values": values}
            return await _dispute_page(
                self.request, self.disputes, self.orders, self.carts, self.dispute_id, exc.status, failed
            )
        return go(self.request, f"/shop/disputes/{self.dispute_id}{then}")


async def _dispute_page(
    request: Request[Any, Any, Any],
    disputes: DisputeService,
    orders: OrderService,
    carts: CartService,
    dispute_id: UUID,
    status_code: int = 200,
    failed: dict[str, Any] | None = None,
) -> Template:
    reader = me(request)
    dispute = await disputes.get(reader, dispute_id)
    view = await orders.view(await orders.visible(reader, dispute.order_id))
    return await page(
        request,
        "shop/dispute.html",
        carts,
        status_code=status_code,
        d=dispute,
        v=view,
        party=party_of(dispute, reader.id),
        thread=await disputes.thread(reader, dispute_id),
        photo_url=photo_url,
        now=request.app.state.clock.now(),
        max_photos=MAX_PHOTOS,
        max_photo_mib=MAX_PHOTO_BYTES // (1024 * 1024),
        failed=failed,
    )


DISPUTE_PAGES = [DisputePages]
