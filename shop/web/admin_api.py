"""JSON handlers for admins (/api/admin): the ledger, payout runs and their history, the dispute queue, categories."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, requires_role
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import problem_spec
from shop.catalog.products import CatalogService
from shop.orders.disputes import DisputeService
from shop.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    DisputeOut,
    LedgerAccountsOut,
    PayoutRunOut,
    PayoutRunsOut,
    TrialBalanceOut,
)
from shop.views import dispute_out
from shop.web.admin_views import ledger_accounts_out, payout_runs_out, trial_balance_out
from shop.web.idempotent import IdempotencyKey, keyed_payout_run, respond


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/ledger/trial-balance")
    async def trial_balance(self, db_session: NamedDependency[AsyncSession], state: State) -> TrialBalanceOut:
        """Every ledger account's balance; they always sum to zero."""
        return await trial_balance_out(db_session, state.settings.shop.currency)

    @get("/ledger/accounts")
    async def ledger_accounts(
        self,
        db_session: NamedDependency[AsyncSession],
        kind: FromQuery[str | None] = None,
        owner: FromQuery[UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> LedgerAccountsOut:
        """Account balances by account name; ``kind`` (escrow, seller_payable, ...) and ``owner`` (an order or a
        party id) narrow them."""
        return await ledger_accounts_out(db_session, kind, owner, limit, cursor)

    @post("/payouts/run", status_code=200, responses={422: problem_spec("Idempotency-Key missing or reused")})
    async def run_payouts(
        self,
        db_session: NamedDependency[AsyncSession],
        state: State,
        current_user: NamedDependency[CurrentUser],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PayoutRunOut]:
        """Pay every positive available balance once. Needs an Idempotency-Key."""
        return respond(await keyed_payout_run(db_session, state, current_user.id, idempotency_key))

    @get("/payouts/runs")
    async def payout_runs(
        self,
        db_session: NamedDependency[AsyncSession],
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> PayoutRunsOut:
        """Past payout runs, newest first: when, who ran it, how many were paid, the total in each currency."""
        return await payout_runs_out(db_session, limit, cursor)

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

    @patch("/categories/{slug:str}", responses={404: problem_spec("No such category")})
    async def update_category(
        self, slug: FromPath[str], data: JSONBody[CategoryPatch], catalog: NamedDependency[CatalogService]
    ) -> CategoryOut:
        """Change a category's name and/or commission rate."""
        category = await catalog.update_category(slug, data)
        return CategoryOut(category.slug, category.name, category.commission_bps)


ADMIN_CONTROLLERS = [AdminController]
