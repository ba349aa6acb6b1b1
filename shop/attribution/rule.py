"""Which creator a sale is credited to, and why: the attribution rule (version 1, see the README).

Shop stores the buyer's ``source`` on each line; the domains that know rooms and posts register resolvers here
(shop never imports them), turning a source into a creator. Shop registers the ``ref`` resolver itself (referral
links are shop's). For each line the rule lists every candidate (a coupon, a live room, checkout's own source,
the buyer's recent click touches), picks one by precedence, and says why each of the others lost: the receipt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID
from sqlalchemy import String, and_, column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from shop.attribution.links import creator_of_code
from shop.attribution.touches import TouchKind, TouchRecorder
from shop.models import Coupon, Touch

# A resolver answers "whose is this room/post/code?" with the creator's user id, or None when it does not know.
CreatorResolver = Callable[[AsyncSession, str], Awaitable[UUID | None]]
# A label resolver names rooms or posts for the reports: ids in, {id: title} out (unknown ids left out).
LabelResolver = Callable[[AsyncSession, list[UUID]], Awaitable[dict[UUID, str]]]

RULE_VERSION = 1
MAX_CLICKS = 20  # the newest click touches a receipt lists per line; older ones could never win


class Rule(StrEnum):
    """The precedence steps, strongest first."""

    COUPON = "coupon"
    LIVE_ROOM = "live_room"
    LAST_CLICK = "last_click"
    NONE = "none"


PRECEDENCE = [Rule.COUPON, Rule.LIVE_ROOM, Rule.LAST_CLICK]


@dataclass
class Candidate:
    rule: Rule  # the step it competes in
    kind: str  # coupon | live_room | checkout_source | click
    creator_id: UUID | None
    at: datetime
    source: dict[str, str]
    room_id: UUID | None = None
    post_id: UUID | None = None
    why: str = ""  # empty for the winner

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule.value,
            "creator_id": str(self.creator_id) if self.creator_id else None,
            "at": self.at.isoformat(),
            "source": self.source,
            "won": not self.why,
            "why": self.why or "won",
        }


@dataclass(frozen=True)
class Decision:
    """The rule's verdict on one line: the winning step and creator (or none), and every candidate weighed."""

    rule: Rule
    creator_id: UUID | None
    window: timedelta
    room_id: UUID | None = None
    post_id: UUID | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)


class Attribution:
    def __init__(self) -> None:
        self._resolvers: dict[str, CreatorResolver] = {"ref": creator_of_code}
        self._labels: dict[str, LabelResolver] = {}
        self._touches: TouchRecorder | None = None

    def register(self, source_kind: str, resolver: CreatorResolver, replace: bool = True) -> None:
        """Resolve sources of ``source_kind`` ("room_id", "post_id" or "ref") with ``resolver``; with ``replace``
        false, a resolver already registered (a test's stand-in, say) is kept."""
        if replace or source_kind not in self._resolvers:
            self._resolvers[source_kind] = resolver

    def register_labels(self, dimension: str, resolver: LabelResolver, replace: bool = True) -> None:
        """Name the reports' ``dimension`` rows ("room" or "post") with ``resolver`` (kept if one is already
        registered and ``replace`` is false)."""
        if replace or dimension not in self._labels:
            self._labels[dimension] = resolver

    def read_pending_touches(self, recorder: TouchRecorder) -> None:
        """Let the rule see touches the recorder has not written yet (a click a moment before checkout)."""
        self._touches = recorder

    async def labels(self, session: AsyncSession, dimension: str, ids: list[UUID]) -> dict[UUID, str]:
        resolver = self._labels.get(dimension)
        return await resolver(session, ids) if resolver and ids else {}

    async def resolve(self, session: AsyncSession, source_kind: str, value: str) -> UUID | None:
        """The creator behind one source (None when unknown, or when no domain resolves this kind)."""
        resolver = self._resolvers.get(source_kind)
        return await resolver(session, value) if resolver else None

    async def decide(
        self,
        session: AsyncSession,
        buyer_id: UUID,
        product_id: UUID,
        source: dict[str, str] | None,
        coupon: Coupon | None,
        now: datetime,
        window: timedelta,
    ) -> Decision:
        """Apply rule v1 to one line: (1) the coupon's creator, (2) the host of the live room it was bought in,
        (3) the newest click (checkout's own post/ref source counts as a click now) on this product or on a
        storefront link, within ``window``. Self-referral and unknown creators are passed over."""
        candidates = await self._candidates(session, buyer_id, product_id, source or {}, coupon, now)
        rank = {rule: index for index, rule in enumerate(PRECEDENCE)}
        candidates.sort(key=lambda c: (rank[c.rule], -c.at.timestamp()))
        winner = None
        for candidate in candidates:
            if candidate.creator_id is None:
                candidate.why = "no creator is known for this source"
            elif candidate.creator_id == buyer_id:
                candidate.why = "self-referral: the buyer is this creator"
            elif candidate.at < now - window:
                candidate.why = f"outside the attribution window ({_duration(window)})"
            elif winner is not None:
                candidate.why = (
                    "a newer click won" if winner.rule is candidate.rule else f"{winner.rule.value} takes precedence"
                )
            else:
                winner = candidate
        if winner is None:
            return Decision(Rule.NONE, None, window, candidates=[c.as_json() for c in candidates])
        return Decision(
            winner.rule,
            winner.creator_id,
            window,
            room_id=winner.room_id,
            post_id=winner.post_id,
            candidates=[c.as_json() for c in candidates],
        )

    async def _candidates(
        self,
        session: AsyncSession,
        buyer_id: UUID,
        product_id: UUID,
        source: dict[str, str],
        coupon: Coupon | None,
        now: datetime,
    ) -> list[Candidate]:
        found = []
        if coupon is not None:
            found.append(Candidate(Rule.COUPON, "coupon", coupon.creator_id, now, {"coupon": coupon.code}))
        if room := source.get("room_id"):
            host = await self.resolve(session, "room_id", room)
            found.append(Candidate(Rule.LIVE_ROOM, "live_room", host, now, {"room_id": room}, room_id=_uuid(room)))
        for kind in ("post_id", "ref"):
            if value := source.get(kind):
                creator = await self.resolve(session, kind, value)
                post = _uuid(value) if kind == "post_id" else None
                found.append(Candidate(Rule.LAST_CLICK, "checkout_source", creator, now, {kind: value}, post_id=post))
        found.extend(await self._clicks(session, buyer_id, product_id, now))
        return found

    async def _clicks(self, session: AsyncSession, buyer_id: UUID, product_id: UUID, now: datetime) -> list[Candidate]:
        """The buyer's newest click touches on this product or on a storefront link (a link with no product, room
        or post), from the database and from the recorder's unwritten buffer."""
        storefront = and_(
            Touch.link_code.is_not(None), Touch.product_id.is_(None), Touch.room_id.is_(None), Touch.post_id.is_(None)
        )
        rows = await session.execute(
            select(Touch.at, Touch.creator_id, Touch.product_id, Touch.room_id, Touch.post_id, Touch.link_code)
            .where(
                Touch.user_id == buyer_id,
                Touch.kind == TouchKind.CLICK.value,
                Touch.at <= now,
                or_(Touch.product_id == product_id, storefront),
            )
            .order_by(Touch.at.desc(), Touch.id.desc())
            .limit(MAX_CLICKS)
        )
        touches = [dict(row._mapping) for row in rows]
        if self._touches is not None:
            touches.extend(
                t
                for t in self._touches.pending()
                if t["user_id"] == buyer_id
                and t["kind"] == TouchKind.CLICK.value
                and t["at"] <= now
                and _on_product_or_storefront(t, product_id)
            )
        unique = {_touch_key(t): t for t in touches}  # a touch being flushed may be in both
        newest = sorted(unique.values(), key=lambda t: t["at"], reverse=True)[:MAX_CLICKS]
        return [
            Candidate(
                Rule.LAST_CLICK,
                "click",
                t["creator_id"],
                t["at"],
                _touch_source(t),
                room_id=t["room_id"],
                post_id=t["post_id"],
            )
            for t in newest
        ]


def _on_product_or_storefront(touch: dict[str, Any], product_id: UUID) -> bool:
    if touch["product_id"] is not None:
        return touch["product_id"] == product_id
    return touch["link_code"] is not None and touch["room_id"] is None and touch["post_id"] is None


def _touch_key(touch: dict[str, Any]) -> tuple[Any, ...]:
    return (
        touch["at"],
        touch["creator_id"],
        touch["product_id"],
        touch["room_id"],
        touch["post_id"],
        touch["link_code"],
    )


def _touch_source(touch: dict[str, Any]) -> dict[str, str]:
    names = (("link_code", "ref"), ("room_id", "room_id"), ("post_id", "post_id"), ("product_id", "product_id"))
    return {name: str(touch[column]) for column, name in names if touch[column] is not None}


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _duration(window: timedelta) -> str:
    if window % timedelta(days=1) == timedelta(0):
        return f"{window.days}d"
    if window % timedelta(hours=1) == timedelta(0):
        return f"{int(window.total_seconds() // 3600)}h"
    return f"{int(window.total_seconds())}s"


def titles_from(table_name: str) -> LabelResolver:
    """A label resolver reading ``id`` and ``title`` of another domain's table by name (no import of its models)."""
    rows = table(table_name, column("id", GUID()), column("title", String()))

    async def titles(session: AsyncSession, ids: list[UUID]) -> dict[UUID, str]:
        return dict((await session.execute(select(rows.c.id, rows.c.title).where(rows.c.id.in_(ids)))).all())

    return titles
