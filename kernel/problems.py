"""Every error becomes an RFC 9457 problem document for API clients, a toast for htmx and an escaped page otherwise.

Services raise :class:`~kernel.errors.DomainError`; Litestar raises its HTTP exceptions; the database raises
driver errors. This module is the one place that turns each into a response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from msgspec import Struct
from redis.exceptions import RedisError

from kernel.db import is_unavailable, outage_summary
from kernel.errors import DomainError, RateLimited, Unavailable

log = logging.getLogger("livecommerce.errors")

PROBLEM_JSON = "application/problem+json"


class Problem(Struct, kw_only=True):
    """RFC 9457 problem document, as documented in the OpenAPI responses."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def problem_spec(description: str) -> ResponseSpec:
    """An OpenAPI response entry for a problem answer, e.g. ``responses={404: problem_spec("No such order")}``."""
    return ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=description)


_TITLES = {
    400: "Malformed request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "The request breaks a rule",
    429: "Too many requests",
    500: "Internal error",
    503: "Temporarily unavailable",
}
_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/schema")):
        return True
    # htmx asks with Accept: */* and swaps whatever comes back, so its page requests always get HTML.
    return not _from_htmx(request) and "text/html" not in request.headers.get("accept", "")


def _from_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    """Render one problem for whoever asked: JSON, an htmx toast, or an HTML page."""
    title = _TITLES.get(status, "Error")
    if _wants_json(request):
        # Extra members never replace the standard ones (a domain error's "status" means an order's, not HTTP's).
        body = {**extra, "type": f"/problems/{code}", "title": title, "status": status, "detail": detail}
        return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    context = {"status": status, "title": title, "detail": detail, "errors": extra.get("errors", [])}
    if _from_htmx(request):
        toast_headers = {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend", **(headers or {})}
        return Template("components/_toast.html", context=context, status_code=status, headers=toast_headers)
    return Template("error.html", context=context, status_code=status, headers=headers)


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Name each bad field from Litestar's validation detail (msgspec says ``... - at `$.field` ``)."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", ""))
        match = _MSGSPEC_PATH.search(message) or _UNKNOWN_FIELD.search(message)
        # Litestar names the handler's parameter ("data") when msgspec gave no path; that is no field.
        key = item.get("key") if item.get("key") != "data" else None
        field = (match.group(1) if match else None) or key or "body"
        errors.append({"field": field, "message": message, "source": item.get("source", "body")})
    return errors


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable | RateLimited) else None
    return problem_response(request, exc.status, exc.code, exc.detail, headers, **exc.extra)


# Handler function -> {path parameter: what it names}, filled by the domains through not_found_when_malformed().
_MALFORMED_IDS: dict[Callable[..., Any], dict[str, str]] = {}


def not_found_when_malformed(handlers: Iterable[Any], **names: str) -> None:
    """Answer a malformed id in these handlers' paths as the named thing not found, as a missing one is.

    Litestar refuses a ``{product_id:uuid}`` that is no UUID while routing, with a bare 404; clients get the
    domain's own problem instead (``product_id="product"`` gives ``product_not_found``). Pages register nothing,
    so they keep their plain not-found page.

    Args:
        handlers: Route handlers, or controllers whose route handlers all take these parameters' meaning.
        **names: Path parameter name -> the thing it identifies, e.g. ``order_id="order"``.
    """
    for handler in handlers:
        members = vars(handler).values() if isinstance(handler, type) else [handler]
        for member in members:
            if isinstance(member, BaseRouteHandler):
                _MALFORMED_IDS.setdefault(member.fn, {}).update(names)


def _malformed_id(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    """The registered thing and raw value of the path parameter that failed to parse, if routing failed on one."""
    segments = [segment for segment in request.scope["path"].split("/") if segment]
    for route in request.app.routes:
        if len(route.path_components) != len(segments):
            continue
        failed: list[tuple[str, str]] = []
        for component, segment in zip(route.path_components, segments, strict=True):
            if isinstance(component, str):
                if component != segment:
                    break
            elif component.parser is not None:
                try:
                    component.parser(segment)
                except ValueError:
                    failed.append((component.name, segment))
        else:
            handler_map = getattr(route, "route_handler_map", {})
            handler = handler_map.get(request.method, (None,))[0]
            # A controller's handlers are bound to its instance; the registry holds the plain functions.
            fn = getattr(handler.fn, "__func__", handler.fn) if handler is not None else None
            names = _MALFORMED_IDS.get(fn, {}) if fn is not None else {}
            for name, value in failed:
                if name in names:
                    return names[name], value
    return None


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException) and isinstance(exc.__cause__, ValueError):
        if found := _malformed_id(request):
            what, value = found
            return problem_response(request, 404, f"{what}_not_found", f"There is no {what} {value!r}.")
    status = exc.status_code
    headers = dict(exc.headers or {})
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        extra["errors"] = _field_errors(exc)
    if isinstance(exc, TooManyRequestsException):
        headers.setdefault("Retry-After", headers.get("RateLimit-Reset", "60"))
    code = _TITLES.get(status, "error").lower().replace(" ", "_")
    if status >= 500:
        log.error("http.error", extra={"status": status, "detail": exc.detail})
    return problem_response(request, status, code, exc.detail, headers, **extra)


def on_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Lock contention, an exhausted pool and lost connections are retryable, so they answer 503 rather than 500."""
    log.warning("db.unavailable", extra={"error": outage_summary(exc)})
    return problem_response(
        request,
        503,
        "database_unavailable",
        "The database is busy or unreachable; retry shortly.",
        {"Retry-After": "1"},
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):
        return on_database_error(request, exc)
    if isinstance(exc, RedisError):
        log.warning("redis.unavailable", extra={"error": str(exc)[:200]})
        return problem_response(
            request, 503, "redis_unavailable", "A shared service is unreachable; retry shortly.", {"Retry-After": "1"}
        )
    log.exception("unhandled", extra={"path": request.url.path})
    return problem_response(request, 500, "internal_error", "Something went wrong on our side; it has been logged.")


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}


def signin_redirect(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    """Opening a page signed out leads to sign-in and back; other requests get the usual problem answer."""
    if request.method == "GET" and not _from_htmx(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect("/signin?next=" + quote(target, safe="/"))
    return on_http_exception(request, exc)


PAGE_ERRORS = {NotAuthorizedException: signin_redirect}
