"""Accounts shared by every domain: users, roles, tokens, sign-in and the guards handlers use."""

from kernel.auth.guards import CurrentUser, provide_current_user, requires_role, requires_signed_in
from kernel.auth.models import Role

__all__ = ["CurrentUser", "Role", "provide_current_user", "requires_role", "requires_signed_in"]
