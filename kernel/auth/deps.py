"""Dependency providers for the accounts handlers."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.service import AccountService


async def provide_accounts(db_session: NamedDependency[AsyncSession], state: State) -> AccountService:
    return AccountService(db_session, state.clock, state.settings.auth.session_ttl, state.passwords, state.signed_in)
