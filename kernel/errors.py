"""Domain errors: services raise these, never HTTP exceptions; one handler maps them to responses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A broken business rule with a stable machine-readable ``code``.

    Args:
        code: A short snake_case name clients may switch on (it becomes the problem ``type``).
        detail: A sentence for people, saying what went wrong and what to do next.
        extra: More named fields for the problem document.
    """

    status = 422
    title = "The request breaks a rule"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"


class Unauthorized(DomainError):
    status = 401
    title = "Sign-in required"


class Conflict(DomainError):
    status = 409
    title = "Conflict with the current state"


class PaymentDeclined(DomainError):
    status = 402
    title = "Payment declined"


class RuleBroken(DomainError):
    status = 422
    title = "The request breaks a rule"


class RateLimited(DomainError):
    """Too many requests of one kind from one caller; ``retry_after`` seconds says when to try again."""

    status = 429
    title = "Too many requests"

    def __init__(self, code: str, detail: str, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (database, payment provider) is down or busy; the client should retry."""

    status = 503
    title = "Temporarily unavailable"

    def __init__(self, code: str, detail: str, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(code, detail, **extra)
        self.retry_after = retry_after
