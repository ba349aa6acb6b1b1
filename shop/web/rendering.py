"""How shop pages answer: a whole page or the fragment htmx swaps, a redirect, a toast, the cart badge."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from kernel.auth import CurrentUser
from shop.orders.carts import CartService
from shop.web.display import HELPERS


def me(request: Request[Any, Any, Any]) -> CurrentUser:
    """The signed-in user of a handler whose guards already required one."""
    return request.user


def my_id(request: Request[Any, Any, Any]) -> UUID:
    return request.user.id


async def cart_count(carts: CartService, user: CurrentUser) -> int:
    return sum(line.quantity for line in await carts.lines(user.id))


async def page(
    request: Request[Any, Any, Any], template: str, carts: CartService, status_code: int = 200, **context: Any
) -> Template:
    """A whole page; signed in, its header shows the cart's item count."""
    if request.user is not None:
        context["cart_count"] = await cart_count(carts, request.user)
    return Template(template, context={**HELPERS, **context}, status_code=status_code)


def fragment(template: str, status_code: int = 200, **context: Any) -> Template:
    """A partial for htmx to swap; it carries its own id, and any out-of-band parts."""
    return Template(template, context={**HELPERS, **context}, status_code=status_code)


def toast(title: str, detail: str = "") -> dict[str, Any]:
    """The context of a success toast (templates/components/_toast.html)."""
    return {"status": 200, "title": title, "detail": detail, "errors": []}


def go(request: HTMXRequest, url: str) -> Response[Any]:
    """After a successful form: htmx follows HX-Redirect, a plain browser a 303 See Other."""
    return ClientRedirect(url) if request.htmx else Redirect(url, status_code=303)
