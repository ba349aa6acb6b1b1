"""Helpers shared by every domain's handlers: strict JSON bodies, the navigation each role sees, template globals."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from jinja2 import pass_context
from litestar import Request
from litestar.datastructures import Cookie
from litestar.exceptions import ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine

from kernel.auth.models import Role
from kernel.money import Money

VISITOR_COOKIE = "lc_visitor"
VISITOR_TTL = 365 * 24 * 3600


def visitor(request: Request[Any, Any, Any]) -> tuple[str | None, list[Cookie]]:
    """Who an attribution touch names when nobody is signed in: a long-lived visitor id cookie, made on the first
    touch (``cookies`` then holds it, for the response). Signed-in people are named by their account instead."""
    if request.user is not None:
        return None, []
    if known := request.cookies.get(VISITOR_COOKIE):
        return known[:64], []
    made = secrets.token_urlsafe(16)
    return made, [Cookie(key=VISITOR_COOKIE, value=made, max_age=VISITOR_TTL, httponly=True, samesite="lax")]


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown to everyone or only to accounts with one of ``roles``."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    signed_in_only: bool = False
    badge: str | None = None  # a template rendered inside the link, such as a count


def nav_for(user: Any, items: Sequence[NavItem]) -> list[NavItem]:
    roles = user.roles if user is not None else frozenset()
    return [
        item
        for item in items
        if (item.roles is None or roles & item.roles) and (user is not None or not item.signed_in_only)
    ]


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


def configure_templates(engine: JinjaTemplateEngine, nav: Sequence[NavItem]) -> None:
    """Register the globals every template may use."""

    @pass_context
    def navigation(context: Any) -> list[NavItem]:
        request = context["request"]
        return nav_for(request.scope.get("user"), nav)

    engine.engine.globals["navigation"] = navigation
    engine.engine.filters["money"] = format_money


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Check a JSON body against its Struct with msgspec's strict rules before Litestar converts it.

    Litestar converts bodies with ``strict=False``, which would take ``100.0`` or ``"100"`` as ``100``; this API
    takes JSON types as sent, so a float or a string never becomes an amount or a quantity.
    """
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or not field.is_subclass_of(msgspec.Struct) or "json" not in request.content_type[0]:
        return
    try:
        msgspec.json.decode(await request.body(), type=field.annotation)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": str(exc), "key": "data", "source": "body"}],
        ) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own parsing answers that
