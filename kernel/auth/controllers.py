"""JSON handlers: /api/auth/* and /api/me."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from kernel.auth.deps import provide_accounts
from kernel.auth.guards import CurrentUser, requires_signed_in
from kernel.auth.lockout import login_guard
from kernel.auth.schemas import LoginIn, MeOut, SignupIn, TokenOut
from kernel.auth.service import AccountService, SignedIn
from kernel.errors import Unauthorized
from kernel.problems import problem_spec
from kernel.security import SESSION_COOKIE, rate_limit
from kernel.settings import Settings


def me_out(user: CurrentUser) -> MeOut:
    return MeOut(id=user.id, email=user.email, display_name=user.display_name, roles=sorted(user.roles))


def session_cookie(settings: Settings, signed_in: SignedIn | None) -> Cookie:
    """The session cookie for a sign-in, or an expired one that clears it."""
    return Cookie(
        key=SESSION_COOKIE,
        value=signed_in.token if signed_in else "",
        max_age=int(settings.auth.session_ttl.total_seconds()) if signed_in else 0,
        path="/",
        httponly=True,
        secure=settings.auth.cookie_secure,
        samesite="lax",
    )


async def sign_in(request: Request[Any, Any, Any], accounts: AccountService, data: LoginIn) -> tuple[SignedIn, Cookie]:
    """Check the password under the account's lockout (see kernel.auth.lockout); the session and the device cookie.

    Shared by the API and the sign-in page, so both count the same failures.
    """
    guard = login_guard(request)
    await guard.check(data.email, guard.known_device(data.email, request.cookies))
    try:
        signed_in = await accounts.login(data.email, data.password)
    except Unauthorized:
        await guard.failed(data.email)
        raise
    return signed_in, guard.device_cookie(data.email)


def auth_controller(settings: Settings) -> type[Controller]:
    """The accounts controller, with rate limits taken from ``settings``."""
    login_limit = rate_limit(settings.auth.login_rate, "rate_limit_login").middleware
    signup_limit = rate_limit(settings.auth.signup_rate, "rate_limit_signup").middleware

    class AuthController(Controller):
        path = "/api"
        tags = ["accounts"]
        dependencies = {"accounts": Provide(provide_accounts)}

        @post(
            "/auth/signup",
            middleware=[signup_limit],
            status_code=201,
            responses={
                409: problem_spec("Email already registered"),
                422: problem_spec("Role not available at sign-up"),
                429: problem_spec("Too many sign-ups from this address"),
            },
        )
        async def signup(self, data: JSONBody[SignupIn], accounts: NamedDependency[AccountService]) -> MeOut:
            """Create an account (buyer, influencer and/or seller)."""
            user = await accounts.signup(data.email, data.password, data.display_name, data.roles)
            return me_out(CurrentUser.of(user))

        @post(
            "/auth/login",
            middleware=[login_limit],
            status_code=200,
            responses={
                401: problem_spec("Wrong email or password"),
                429: problem_spec("Too many attempts from this address, or too many failures for this account"),
            },
        )
        async def login(
            self,
            request: Request[Any, Any, Any],
            data: JSONBody[LoginIn],
            accounts: NamedDependency[AccountService],
            state: State,
        ) -> Response[TokenOut]:
            """Sign in: returns a bearer token and sets the session cookie."""
            signed_in, device = await sign_in(request, accounts, data)
            body = TokenOut(
                token=signed_in.token,
                expires_at=signed_in.expires_at,
                user=me_out(CurrentUser.of(signed_in.user)),
            )
            return Response(body, cookies=[session_cookie(state.settings, signed_in), device])

        @post(
            "/auth/logout",
            guards=[requires_signed_in],
            status_code=204,
            # Declared by hand: Litestar documents a Response[None] as a JSON body, and a 204 has none.
            responses={204: ResponseSpec(None, description="Signed out"), 401: problem_spec("Not signed in")},
        )
        async def logout(
            self, request: Request[CurrentUser, str, Any], accounts: NamedDependency[AccountService], state: State
        ) -> Response[None]:
            """End this session: the token and cookie stop working at once."""
            await accounts.logout(request.auth)
            return Response(None, status_code=204, cookies=[session_cookie(state.settings, None)])

        @get("/me", responses={401: problem_spec("Not signed in")})
        async def me(self, current_user: NamedDependency[CurrentUser]) -> MeOut:
            """The signed-in account."""
            return me_out(current_user)

    return AuthController
