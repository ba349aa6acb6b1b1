"""HTML pages for signing up, in and out; they work as plain forms and, with htmx, without a page load."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from kernel.auth.controllers import session_cookie, sign_in
from kernel.auth.deps import provide_accounts
from kernel.auth.models import SELF_SERVICE_ROLES
from kernel.auth.schemas import LoginIn, SignupIn
from kernel.auth.service import AccountService
from kernel.errors import DomainError
from kernel.security import rate_limit
from kernel.settings import Settings

Accounts = NamedDependency[AccountService]
ROLE_CHOICES = [
    ("buyer", "Shop and watch", "Buy in live rooms and from posts."),
    ("influencer", "Create", "Host live rooms, write posts, earn commission."),
    ("seller", "Sell", "List products, ship orders, get paid from escrow."),
]


def _next_url(value: str | None) -> str:
    """Only same-site paths are followed after sign-in, never another origin."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


def _form_page(request: HTMXRequest, name: str, status: int, **context: Any) -> Template:
    """The whole page, or just the form when htmx swaps it in place."""
    template = f"auth/partials/_{name}_form.html" if request.htmx else f"auth/{name}.html"
    return Template(template, context={"role_choices": ROLE_CHOICES, **context}, status_code=status)


def _validation_errors(exc: msgspec.ValidationError) -> dict[str, str]:
    message = str(exc)
    field = message.rsplit("$.", 1)[-1].split("[")[0].rstrip("`") if "$." in message else "form"
    return {field: message.split(" - at ")[0]}


def _signed_in_response(request: HTMXRequest, next_url: str, *cookies: Cookie) -> Response[Any]:
    response: Response[Any] = ClientRedirect(next_url) if request.htmx else Redirect(next_url, status_code=303)
    for cookie in cookies:
        response.set_cookie(cookie)
    return response


def account_pages(settings: Settings) -> type[Controller]:
    """The sign-in pages, rate-limited like the API they stand beside (same counters)."""
    login_limit = rate_limit(settings.auth.login_rate, "rate_limit_login").middleware
    signup_limit = rate_limit(settings.auth.signup_rate, "rate_limit_signup").middleware

    class AccountPages(Controller):
        include_in_schema = False
        dependencies = {"accounts": Provide(provide_accounts)}

        @get("/signin")
        async def signin_page(self, request: HTMXRequest, next: FromQuery[str | None] = None) -> Template:
            return _form_page(request, "signin", 200, next=_next_url(next), values={}, errors={})

        @post("/signin", middleware=[login_limit], status_code=200)
        async def signin(self, request: HTMXRequest, accounts: Accounts, state: State) -> Response[Any]:
            form = await request.form()
            values = {"email": form.get("email", "")}
            next_url = _next_url(form.get("next"))
            try:
                data = msgspec.convert({"email": form.get("email", ""), "password": form.get("password", "")}, LoginIn)
                signed_in, device = await sign_in(request, accounts, data)
            except msgspec.ValidationError as exc:
                return _form_page(request, "signin", 400, next=next_url, values=values, errors=_validation_errors(exc))
            except DomainError as exc:
                return _form_page(
                    request, "signin", exc.status, next=next_url, values=values, errors={"form": exc.detail}
                )
            return _signed_in_response(request, next_url, session_cookie(state.settings, signed_in), device)

        @get("/signup")
        async def signup_page(self, request: HTMXRequest) -> Template:
            return _form_page(request, "signup", 200, values={"roles": ["buyer"]}, errors={})

        @post("/signup", middleware=[signup_limit], status_code=200)
        async def signup(self, request: HTMXRequest, accounts: Accounts, state: State) -> Response[Any]:
            form = await request.form()
            roles = [r for r in form.getall("roles", []) if r in SELF_SERVICE_ROLES] or ["buyer"]
            values = {"email": form.get("email", ""), "display_name": form.get("display_name", ""), "roles": roles}
            try:
                data = msgspec.convert({**values, "password": form.get("password", "")}, SignupIn)
                await accounts.signup(data.email, data.password, data.display_name, data.roles)
                signed_in = await accounts.login(data.email, data.password)
            except msgspec.ValidationError as exc:
                return _form_page(request, "signup", 400, values=values, errors=_validation_errors(exc))
            except DomainError as exc:
                errors = {e["field"]: e["message"] for e in exc.extra.get("errors", [])} or {"form": exc.detail}
                return _form_page(request, "signup", exc.status, values=values, errors=errors)
            return _signed_in_response(request, "/", session_cookie(state.settings, signed_in))

        @get("/account")
        async def account_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
            if request.user is None:
                return Redirect("/signin?next=/account")
            return Template("auth/account.html", context={"user": request.user})

        @post("/signout")
        async def signout(self, request: Request[Any, Any, Any], accounts: Accounts, state: State) -> Redirect:
            if request.auth:
                await accounts.logout(request.auth)
            return Redirect("/", status_code=303, cookies=[session_cookie(state.settings, None)])

    return AccountPages
