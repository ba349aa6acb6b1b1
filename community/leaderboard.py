"""The creator leaderboard: who was most influential this week or this month.

Score (whole points):
    1 point per whole unit of attributed net sales (e.g. $1.00 of sales credited to the creator, net of refunds),
    + 5 per new follower, + 3 per comment and + 1 per like their posts received in the period.
Levels follow from the score alone: Icon from 10,000, Super Star from 2,500, Star from 500, Rising below.
Ties rank by net sales, then new followers, then the creator's id, so the order never flickers.
Periods are calendar periods in UTC: the ISO week from Monday 00:00, the month from its first day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Comment, Follow, Post, PostLike
from community.posts import authors
from community.schemas import LeaderboardEntry, LeaderboardOut
from kernel.money import MINOR_UNITS, Money
from shop import creator_net_sales

Period = Literal["week", "month"]
FOLLOWER_POINTS, COMMENT_POINTS, LIKE_POINTS = 5, 3, 1
LEVELS = (("Icon", 10_000), ("Super Star", 2_500), ("Star", 500), ("Rising", 0))
SCORING = (
    "1 point per whole currency unit of attributed net sales, 5 per new follower, 3 per comment, 1 per like "
    "received in the period"
)
TOP = 100


def level_for(score: int) -> str:
    return next(name for name, floor in LEVELS if score >= floor)


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


@dataclass
class _Tally:
    net_sales: int = 0
    likes: int = 0
    comments: int = 0
    followers: int = 0


async def _counts(session: AsyncSession, query: object) -> dict[UUID, int]:
    return {creator: count for creator, count in await session.execute(query)}  # type: ignore[arg-type]


async def leaderboard(session: AsyncSession, period: Period, now: datetime, currency: str) -> LeaderboardOut:
    since, until = period_bounds(period, now)
    tallies: dict[UUID, _Tally] = defaultdict(_Tally)
    for creator, amount in (await creator_net_sales(session, since, until)).items():
        tallies[creator].net_sales = amount
    likes = (
        select(Post.author_id, func.count())
        .join(PostLike, PostLike.post_id == Post.id)
        .where(PostLike.at >= since, PostLike.at < until)
        .group_by(Post.author_id)
    )
    comments = (
        select(Post.author_id, func.count())
        .join(Comment, Comment.post_id == Post.id)
        .where(
            Comment.at >= since, Comment.at < until, Comment.deleted_at.is_(None), Comment.author_id != Post.author_id
        )
        .group_by(Post.author_id)
    )
    follows = (
        select(Follow.creator_id, func.count()).where(Follow.at >= since, Follow.at < until).group_by(Follow.creator_id)
    )
    for creator, count in (await _counts(session, likes)).items():
        tallies[creator].likes = count
    for creator, count in (await _counts(session, comments)).items():
        tallies[creator].comments = count
    for creator, count in (await _counts(session, follows)).items():
        tallies[creator].followers = count

    point = 10 ** MINOR_UNITS.get(currency, 2)  # minor units in one whole unit of the currency

    def score(t: _Tally) -> int:
        return (
            t.net_sales // point + FOLLOWER_POINTS * t.followers + COMMENT_POINTS * t.comments + LIKE_POINTS * t.likes
        )

    ranked = sorted(
        ((score(t), t, creator) for creator, t in tallies.items() if score(t) > 0 or t.net_sales > 0),
        key=lambda row: (-row[0], -row[1].net_sales, -row[1].followers, str(row[2])),
    )[:TOP]
    names = await authors(session, [creator for _, _, creator in ranked])
    entries = [
        LeaderboardEntry(
            rank=rank,
            creator=names[creator],
            level=level_for(points),
            score=points,
            net_sales=Money(t.net_sales, currency),
            likes=t.likes,
            comments=t.comments,
            new_followers=t.followers,
        )
        for rank, (points, t, creator) in enumerate(ranked, start=1)
    ]
    return LeaderboardOut(period, since, until, SCORING, dict(LEVELS), entries)
