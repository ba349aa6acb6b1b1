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
