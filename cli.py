"""The ``livecommerce`` command: serve, migrate, manage users and load demo data.

Settings come from the environment (see README.md); each command reads them once.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import click
import uvicorn

from kernel.auth.models import Role, User
from kernel.auth.service import AccountService, normalise_email
from kernel.clock import SystemClock
from kernel.db import Database
from kernel.errors import DomainError
from kernel.migrate import pending, upgrade
from kernel.settings import Settings, SettingsError, load_settings

DEMO_PASSWORD = "livecommerce-demo"  # noqa: S105 - printed for the demo, not a secret


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    roles: tuple[Role, ...]


DEMO_ACCOUNTS = (
    DemoAccount("seller@demo.livecommerce.test", "Maple & Co. Outfitters", (Role.SELLER,)),
    DemoAccount("ava@demo.livecommerce.test", "Ava Lin", (Role.INFLUENCER,)),
    DemoAccount("marco@demo.livecommerce.test", "Marco Reyes", (Role.INFLUENCER,)),
    DemoAccount("buyer@demo.livecommerce.test", "Sam Buyer", (Role.BUYER,)),
    DemoAccount("marketer@demo.livecommerce.test", "Mia Marketer", (Role.MARKETER,)),
    DemoAccount("admin@demo.livecommerce.test", "Ops Admin", (Role.ADMIN,)),
)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"{exc}. Fix the environment variable and run the command again.") from exc


@click.group()
def main() -> None:
    """LiveCommerce: live rooms, shoppable posts, escrow-protected orders."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app (run `livecommerce db upgrade` first)."""
    settings = _settings()
    db = Database(settings.db)

    async def check() -> bool:
        try:
            return await pending(db.engine)
        finally:
            await db.dispose()

    if asyncio.run(check()):
        raise click.ClickException("The database schema is out of date. Run `livecommerce db upgrade`, then serve.")
    click.echo(f"LiveCommerce is serving on http://{host}:{port}  (Ctrl+C stops it)")
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws_per_message_deflate=False,  # compression costs more CPU than fan-out itself
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (run once, before workers start)."""
    settings = _settings()
    upgrade(settings.db.url, revision)
    click.echo(f"Database at {revision}.")


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="May be repeated. Marketer and admin accounts can only be made here.",
)
@click.option("--name", "display_name", required=True)
def users_create(email: str, password: str, roles: tuple[str, ...], display_name: str) -> None:
    """Create an account with any roles."""
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    settings = _settings()

    async def create() -> User:
        db = Database(settings.db)
        try:
            async with db.transaction() as session:
                accounts = AccountService(session, SystemClock(), settings.auth.session_ttl)
                return await accounts.create_user(email, password, display_name, [Role(r) for r in roles])
        finally:
            await db.dispose()

    try:
        user = asyncio.run(create())
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {user.email} ({', '.join(user.roles)}) with id {user.id}.")


@main.group()
def demo() -> None:
    """Demo content."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo accounts (idempotent) and print their sign-ins."""
    settings = _settings()

    async def load() -> list[str]:
        db = Database(settings.db)
        created = []
        try:
            async with db.transaction() as session:
                accounts = AccountService(session, SystemClock(), settings.auth.session_ttl)
                for account in DEMO_ACCOUNTS:
                    if await session.scalar(
                        User.__table__.select().where(User.email == normalise_email(account.email))
                    ):
                        continue
                    await accounts.create_user(account.email, DEMO_PASSWORD, account.name, account.roles)
                    created.append(account.email)
        finally:
            await db.dispose()
        return created

    created = asyncio.run(load())
    click.echo(f"Demo data ready ({len(created)} new accounts). Sign in with password {DEMO_PASSWORD!r}:")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {', '.join(account.roles):<12} {account.email}")


if __name__ == "__main__":
    sys.exit(main())
