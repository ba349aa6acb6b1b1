"""JSON handlers for admins (/api/admin): the trial balance, payout runs, the dispute queue, categories."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, requires_role
from kernel.money import Money
from kernel.problems import problem_spec
from shop.catalog.products import CatalogService
from shop.money import ledger, payouts
from shop.orders.disputes import DisputeService
from shop.schemas import (
    AccountBalanceOut,
    CategoryIn,
    CategoryOut,
    DisputeOut,
    PayoutOut,
    PayoutRunOut,
    TrialBalanceOut,
)
from shop.views import dispute_out
from shop.web.idempotent import IdempotencyKey, idempotent, respond


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/ledger/trial-balance")
    async def trial_balance(self, db_session: NamedDependency[AsyncSession], state: State) -> TrialBalanceOut:
        """Every ledger account's balance; they always sum to zero."""
        rows = await ledger.trial_balance(db_session)
        currency = state.settings.shop.currency
        total = sum((r.balance for r in rows if r.balance.currency == currency), Money.zero(currency))
        return TrialBalanceOut([AccountBalanceOut(r.account, r.balance) for r in rows], total)

    @post("/payouts/run", status_code=200, responses={422: problem_spec("Idempotency-Key missing or reused")})
    async def run_payouts(
        self,
        db_session: NamedDependency[AsyncSession],
        state: State,
        current_user: NamedDependency[CurrentUser],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PayoutRunOut]:
        """Pay every positive available balance once. Needs an Idempotency-Key."""
        currency = state.settings.shop.currency

        async def run() -> tuple[PayoutRunOut, int]:
            paid = await payouts.run(db_session, state.clock, state.shop.payouts, currency)
            out = PayoutRunOut(
                [PayoutOut(p.party_id, p.account, p.amount, p.provider_ref) for p in paid],
                sum((p.amount for p in paid), Money.zero(currency)),
            )
            return out, 200

        # A run takes no body, so its key alone tells a retry from a new run.
        now = state.clock.now()
        return respond(await idempotent(db_session, "payouts", idempotency_key, msgspec.Struct(), run, now=now))

    @get("/disputes")
    async def dispute_queue(
        self, disputes: NamedDependency[DisputeService], status: FromQuery[Literal["escalated", "open"]] = "escalated"
    ) -> list[DisputeOut]:
        """Disputes waiting for an admin (rejected by the seller or ignored past the deadline)."""
        return [dispute_out(d) for d in await disputes.queue((status,))]

    @post("/categories", status_code=200)
    async def set_category(self, data: JSONBody[CategoryIn], catalog: NamedDependency[CatalogService]) -> CategoryOut:
        """Create a category or change its commission rate."""
        category = await catalog.set_category(data)
        return CategoryOut(category.slug, category.name, category.commission_bps)


ADMIN_CONTROLLERS = [AdminController]
