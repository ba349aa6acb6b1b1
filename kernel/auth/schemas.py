"""JSON shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from kernel.auth.models import Role

Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, Meta(min_length=10, max_length=256)]
DisplayName = Annotated[str, Meta(min_length=1, max_length=80)]


class SignupIn(Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: DisplayName
    roles: Annotated[list[Role], Meta(max_length=5)] = []


class LoginIn(Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=256)]


class MeOut(Struct):
    id: UUID
    email: str
    display_name: str
    roles: list[str]


class TokenOut(Struct):
    token: str
    expires_at: datetime
    user: MeOut


# Admin ------------------------------------------------------------------------------------------------------------
Reason = Annotated[str, Meta(max_length=300, description="Why: kept in the account's audit trail")]


class AdminUserOut(Struct):
    id: UUID
    email: str
    display_name: str
    roles: list[str]
    created_at: datetime
    suspended_at: datetime | None
    suspension_reason: str | None


class UserListOut(Struct):
    items: list[AdminUserOut]
    next_cursor: str | None


class AccountEventOut(Struct):
    action: str
    detail: str
    reason: str
    at: datetime
    actor_id: UUID
    actor_name: str


class AdminUserDetailOut(Struct):
    user: AdminUserOut
    events: list[AccountEventOut]


class RolesIn(Struct, forbid_unknown_fields=True):
    roles: Annotated[list[Role], Meta(max_length=5)]
    reason: Reason


class ReasonIn(Struct, forbid_unknown_fields=True):
    reason: Reason
