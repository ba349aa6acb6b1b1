"""Which creator a sale is credited to. Shop stores the buyer's ``source`` on each line; the domains that know
rooms, posts and referral codes register resolvers here (shop never imports them), turning a source into a
creator. A creator buying through their own room or link earns nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

# A resolver answers "whose is this room/post/code?" with the creator's user id, or None when it does not know.
CreatorResolver = Callable[[AsyncSession, str], Awaitable[UUID | None]]


class Attribution:
    def __init__(self) -> None:
        self._resolvers: dict[str, CreatorResolver] = {}

    def register(self, source_kind: str, resolver: CreatorResolver) -> None:
        """Resolve sources of ``source_kind`` ("room_id", "post_id" or "ref") with ``resolver``."""
        self._resolvers[source_kind] = resolver

    async def creator_for(self, session: AsyncSession, buyer_id: UUID, source: dict[str, str] | None) -> UUID | None:
        for kind, value in (source or {}).items():
            if (resolver := self._resolvers.get(kind)) and (creator := await resolver(session, value)):
                return None if creator == buyer_id else creator
        return None
