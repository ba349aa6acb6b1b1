"""Helpers shared by every domain's pages: the navigation each role sees, and template globals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine

from kernel.auth.models import Role


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown to everyone or only to accounts with one of ``roles``."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    signed_in_only: bool = False


def nav_for(user: Any, items: Sequence[NavItem]) -> list[NavItem]:
    roles = user.roles if user is not None else frozenset()
    return [
        item
        for item in items
        if (item.roles is None or roles & item.roles) and (user is not None or not item.signed_in_only)
    ]


def configure_templates(engine: JinjaTemplateEngine, nav: Sequence[NavItem]) -> None:
    """Register the globals every template may use."""

    @pass_context
    def navigation(context: Any) -> list[NavItem]:
        request = context["request"]
        return nav_for(request.scope.get("user"), nav)

    engine.engine.globals["navigation"] = navigation
