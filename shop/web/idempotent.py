"""The Idempotency-Key at the HTTP edge: one shape for every keyed request (checkout, dispute resolution, payouts).

The key is claimed in the request's transaction before the work runs. A retry with the same body gets the first
answer again and changes nothing; the same key with another body is refused (422). The work's answer is stored in
the transaction that does the work, so the two commit together or not at all, and a concurrent duplicate waits
for them (see shop.orders.idempotency).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response
from litestar.datastructures import State
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser
from kernel.money import Money
from shop.money import payouts
from shop.orders import idempotency, intents
from shop.orders.checkout import Checkout
from shop.orders.idempotency import Answer
from shop.schemas import CheckoutIn, CheckoutOut, PayoutOut, PayoutRunOut
from shop.views import order_out

IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]
Work = Callable[[], Awaitable[tuple[msgspec.Struct, int]]]


async def idempotent(
    session: AsyncSession,
    scope: str,
    key: str | None,
    body: msgspec.Struct,
    work: Work,
    *,
    now: datetime,
    required: bool = True,
    resource: str = "",
) -> Answer:
    """Do ``work`` once per Idempotency-Key and answer every retry with its first answer.

    Args:
        session: The request's session: the claim, the work and its stored answer share its transaction.
        scope: Whose keys these are (``f"checkout:{buyer_id}"``); the same key in another scope is another request.
        key: The Idempotency-Key header as sent.
        body: The request body; the same key sent with another body is refused.
        work: Does the request's work and returns its output Struct and status code.
        now: When the key is claimed.
        required: Whether a request without a key is refused; when not, such a request just runs ``work``.
        resource: What the request acts on (``f"dispute:{id}"``), when the path names it: the same key sent for
            another resource is refused like one sent with another body.

    Returns:
        The answer to send: ``work``'s, or the one stored for an earlier request with this key and body.

    Raises:
        RuleBroken: 422 ``idempotency_key_required`` (a missing or malformed key) or ``idempotency_key_reused``.
        Conflict: 409 ``idempotency_key_in_use`` while the first request with this key is still running.
    """
    if not key and not required:
        out, status_code = await work()
        return Answer(status_code, msgspec.to_builtins(out))
    key = idempotency.check_key(key)
    claimed = await idempotency.claim(session, scope, key, idempotency.request_hash(body, resource), now)
    if isinstance(claimed, Answer):
        return claimed
    out, status_code = await work()
    return await idempotency.remember(session, claimed, status_code, out)


def respond(answer: Answer) -> Response[Any]:
    """The answer as the HTTP response: the same status and body the first time and on every retry."""
    return Response(answer.body, status_code=answer.status_code)


async def keyed_checkout(checkout: Checkout, buyer: CurrentUser, data: CheckoutIn, key: str | None) -> Answer:
    """Place the order for ``data`` once per Idempotency-Key (required): the JSON API, checkout page and quick buy.

    The charge intent is recorded and committed first (shop.orders.intents). The answer (201 with CheckoutOut) is
    stored under the key in the orders' transaction, committed here; if that fails, the charge is voided.
    """

    scope, now = f"checkout:{buyer.id}", checkout.clock.now()
    # Committed before anything is charged, so a crash between the charge and the orders leaves a trace.
    intent = await intents.open_intent(
        checkout.session, checkout.gateway, scope, idempotency.check_key(key), buyer.id, now
    )

    async def place() -> tuple[CheckoutOut, int]:
        placed = await checkout.place_order(buyer, data, intent)
        return CheckoutOut(checkout_id=placed.checkout_id, orders=[order_out(v) for v in placed.orders]), 201

    async with checkout.committing():
        return await idempotent(checkout.session, scope, key, data, place, now=now)


async def keyed_payout_run(session: AsyncSession, state: State, admin_id: UUID, key: str | None) -> Answer:
    """Run payouts once per Idempotency-Key (required), for the JSON API and the console's "Run payouts now"."""
    currency = state.settings.shop.currency

    async def run() -> tuple[PayoutRunOut, int]:
        paid = await payouts.run(session, state.clock, state.shop.payouts, currency, admin_id)
        out = PayoutRunOut(
            [PayoutOut(p.party_id, p.account, p.amount, p.provider_ref) for p in paid],
            sum((p.amount for p in paid), Money.zero(currency)),
        )
        return out, 200

    # A run takes no body, so its key alone tells a retry from a new run.
    return await idempotent(session, "payouts", key, msgspec.Struct(), run, now=state.clock.now())
