"""HTTP hardening: security headers, CSRF for cookie-authenticated requests, and rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from litestar.config.csrf import CSRFConfig
from litestar.enums import RequestEncodingType
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from kernel.settings import Settings

SESSION_COOKIE = "lc_session"
CSRF_COOKIE = "lc_csrf"
CSRF_HEADER = "x-csrftoken"


def content_security_policy(connect_origins: Sequence[str] = ()) -> str:
    """Scripts and styles come only from our own origin (htmx is vendored), so injected markup cannot run code.

    ``connect_origins`` are other origins the pages may call: the media nodes that serve WHIP/WHEP when media
    runs apart from the app.
    """
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            " ".join(["connect-src 'self' ws: wss:", *connect_origins]),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


def security_headers_hook(
    hsts: bool, connect_origins: Sequence[str] = ()
) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook adding the headers above to every HTTP response, 404s and static files included.

    An answer to a signed-in request is private (their orders, balances, earnings): ``Cache-Control: no-store``
    unless the handler chose otherwise, so no shared or browser cache keeps it.
    """
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
        (b"content-security-policy", content_security_policy(connect_origins).encode()),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            added = [h for h in headers if h[0] not in present]
            if scope.get("user") is not None and b"cache-control" not in present:
                added.append((b"cache-control", b"no-store"))
            message["headers"] = [*message.get("headers", []), *added]

    return add_headers


class SessionCsrfMiddleware(CSRFMiddleware):
    """CSRF checks where a browser could be tricked into sending credentials: cookie sessions and form posts.

    A request that carries a bearer token, or JSON with no session cookie, holds no ambient credential a third-party
    site could borrow, so API clients need no CSRF token. Sign-in and sign-up forms are still checked (login CSRF).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _needs_csrf(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _needs_csrf(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return True  # the parent only issues the token cookie on safe methods
    headers = dict(scope["headers"])
    scheme, _, credential = headers.get(b"authorization", b"").partition(b" ")
    if scheme.lower() == b"bearer" and credential.strip():
        return False
    has_session = f"{SESSION_COOKIE}=".encode() in headers.get(b"cookie", b"")
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
    is_form = content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART)
    return has_session or is_form


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(
        SessionCsrfMiddleware,
        config=CSRFConfig(
            secret=settings.auth.secret_key,
            cookie_name=CSRF_COOKIE,
            header_name=CSRF_HEADER,
            cookie_secure=settings.auth.cookie_secure,
            cookie_samesite="lax",
            cookie_httponly=True,  # pages embed the token; no script needs to read the cookie
            exclude=["/healthz", "/readyz", "/static"],
        ),
    )


def forwarded_headers(settings: Settings) -> list[DefineMiddleware]:
    """Believe X-Forwarded-For / -Proto only from ``LIVECOMMERCE_TRUSTED_PROXIES`` (none by default).

    Rate limits count per client address; were the headers believed from anyone, a client would pick a new address
    per request, and behind a real proxy every client would share the proxy's. uvicorn's own middleware does the
    parsing; the server's built-in copy (which trusts 127.0.0.1) is switched off in ``livecommerce serve``.
    """
    if not settings.auth.trusted_proxies:
        return []
    return [DefineMiddleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.auth.trusted_proxies))]


def rate_limit(rate: tuple[int, str], store: str) -> RateLimitConfig:
    """A per-client-address limit for one route, counted in its own named store (shared through Redis)."""
    count, unit = rate
    return RateLimitConfig(rate_limit=(unit, count), store=store)  # type: ignore[arg-type]
