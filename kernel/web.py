"""Helpers shared by every domain's handlers: the visitor cookie, the navigation each role sees, template globals."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from jinja2 import pass_context
from litestar import Request
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine

from kernel.auth.models import Role
from kernel.clock import rfc3339
from kernel.money import Money

VISITOR_COOKIE = "lc_visitor"


def public_base(request: Request[Any, Any, Any]) -> str:
    """What links the server hands out start with: ``LIVECOMMERCE_PUBLIC_URL`` when set, else the address this
    request reached (its Host, or a trusted proxy's forwarded one), so a server on another port names that port."""
    return request.app.state.settings.public_url or str(request.base_url).rstrip("/")


VISITOR_TTL = 365 * 24 * 3600
# The ids this server hands out (token_urlsafe(16)); any other value is replaced, so a client cannot choose one that
# overflows the report tables' viewer column or collides with another visitor's.
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def visitor(request: Request[Any, Any, Any]) -> tuple[str | None, list[Cookie]]:
    """Who an attribution touch names when nobody is signed in: a long-lived visitor id cookie, made on the first
    touch (``cookies`` then holds it, for the response). Signed-in people are named by their account instead."""
    if request.user is not None:
        return None, []
    if (known := request.cookies.get(VISITOR_COOKIE)) and VISITOR_ID.fullmatch(known):
        return known, []
    made = secrets.token_urlsafe(16)
    return made, [Cookie(key=VISITOR_COOKIE, value=made, max_age=VISITOR_TTL, httponly=True, samesite="lax")]


class NavPlace(StrEnum):
    """Where a navigation entry sits in the header."""

    BAR = "bar"  # the primary links, in the bar on every width
    TOOLS = "tools"  # beside the account menu, short and with a count (cart, alerts)
    MENU = "menu"  # inside the account menu, under the entry's group


@dataclass(frozen=True)
class NavItem:
    """A link in the header, shown to everyone or only to accounts with one of ``roles``."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    signed_in_only: bool = False
    badge: str | None = None  # a template rendered inside the link, such as a count
    place: NavPlace = NavPlace.BAR
    group: str = ""  # the account menu's heading the entry sits under (MENU entries only)


@dataclass(frozen=True)
class Navigation:
    """The header one person sees: the bar's links, the tools beside the menu, and the menu's groups in order."""

    bar: list[NavItem]
    tools: list[NavItem]
    menu: list[tuple[str, list[NavItem]]]


def nav_for(user: Any, items: Sequence[NavItem]) -> Navigation:
    roles = user.roles if user is not None else frozenset()
    seen = [
        item
        for item in items
        if (item.roles is None or roles & item.roles) and (user is not None or not item.signed_in_only)
    ]
    groups: dict[str, list[NavItem]] = {}
    for item in seen:
        if item.place is NavPlace.MENU:
            groups.setdefault(item.group, []).append(item)
    return Navigation(
        bar=[i for i in seen if i.place is NavPlace.BAR],
        tools=[i for i in seen if i.place is NavPlace.TOOLS],
        menu=list(groups.items()),
    )


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$", "KRW": "₩"}


def format_money(value: Money | Mapping[str, Any] | None) -> str:
    """``$25.00`` from a Money or its JSON form (``{"amount_minor", "currency"}``); ``-$5.00`` when negative."""
    if value is None:
        return ""
    money = value if isinstance(value, Money) else Money(int(value["amount_minor"]), str(value["currency"]))
    symbol = CURRENCY_SYMBOLS.get(money.currency)
    if symbol is None:
        return str(money)
    digits = str(Money(abs(money.amount_minor), money.currency)).rsplit(" ", 1)[0]
    return f"{'-' if money.amount_minor < 0 else ''}{symbol}{digits}"


def _in_utc(fmt: str) -> Callable[[datetime | None], str]:
    def show(value: datetime | None) -> str:
        return value.astimezone(UTC).strftime(fmt) if value is not None else ""

    return show


def _rfc3339(value: datetime | None) -> str:
    return rfc3339(value) if value is not None else ""


# Template filters for aware times (None shows as nothing). Pages show times in UTC, reading as the start of the
# RFC 3339 text the JSON carries; ``rfc3339`` is that text, for ``<time datetime="...">``.
TIME_FILTERS: dict[str, Callable[[datetime | None], str]] = {
    "rfc3339": _rfc3339,
    "utc_date": _in_utc("%Y-%m-%d"),  # 2026-03-02
    "utc_minute": _in_utc("%Y-%m-%d %H:%M"),  # 2026-03-02 09:00
    "utc_time": _in_utc("%H:%M"),  # 09:00
}


def configure_templates(engine: JinjaTemplateEngine, nav: Sequence[NavItem]) -> None:
    """Register the globals and filters every template may use."""

    @pass_context
    def navigation(context: Any) -> Navigation:
        request = context["request"]
        return nav_for(request.scope.get("user"), nav)

    engine.engine.globals["navigation"] = navigation
    engine.engine.filters["money"] = format_money
    engine.engine.filters.update(TIME_FILTERS)
