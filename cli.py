"""The ``livecommerce`` command: serve, migrate, manage users and load demo data.

Settings come from the environment (see README.md); each command reads them once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import click
import msgspec
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from community.timelines import rebuild_feeds
from demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from kernel.auth.models import Role, User
from kernel.auth.passwords import Passwords
from kernel.auth.service import AccountService
from kernel.clock import SystemClock
from kernel.db import Database
from kernel.errors import DomainError
from kernel.migrate import pending, upgrade
from kernel.money import Money
from kernel.settings import Settings, SettingsError, load_settings
from live.media_process import MediaProcess, MediaProcessFailed
from shop.catalog.products import CatalogService
from shop.models import Category
from shop.money.payouts import PaidParty
from shop.money.payouts import run as pay_out
from shop.runtime import ShopRuntime
from shop.schemas import CategoryIn

T = TypeVar("T")
WILDCARD_HOSTS = ("0.0.0.0", "::")  # noqa: S104 - only compared with, never bound here


def _passwords(settings: Settings) -> Passwords:
    return Passwords(settings.auth.password_time_cost, settings.auth.password_memory_kib)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"{exc}. Fix the environment variable and run the command again.") from exc


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on a short-lived engine (the CLI's unit of work)."""

    async def run() -> T:
        db = Database(settings.db)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


@click.group()
def main() -> None:
    """LiveCommerce: live rooms, shoppable posts, escrow-protected orders."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--media-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="With several workers and no LIVECOMMERCE_MEDIA_NODES: the media process's port (0: any free one)  "
    "[default: PORT+1]",
)
def serve(host: str, port: int, workers: int, media_port: int | None) -> None:
    """Serve the app (run `livecommerce db upgrade` first).

    A room's broadcast lives in one process's memory, so several workers cannot each relay media: unless
    LIVECOMMERCE_MEDIA_NODES names media nodes, `--workers N` (N > 1) also starts one `livecommerce media` process
    on --media-port, and the workers redirect WHIP/WHEP to it as to a media node. It is reached at
    LIVECOMMERCE_MEDIA_NODE_URL (default http://HOST:MEDIA_PORT).
    """
    settings = _settings()
    _require_current_schema(settings)
    media: MediaProcess | None = None
    if workers > 1 and not settings.live.media_nodes:
        media_port = port + 1 if media_port is None else media_port or _free_port(host)
        command = [sys.executable, "-m", "cli", "media", "--host", host, "--port", str(media_port)]
        media = MediaProcess(command, _media_process_url(settings, host, media_port), _probe_url(host, media_port))
        try:
            media.start()
        except MediaProcessFailed as exc:
            raise click.ClickException(str(exc)) from exc
        # The workers read their settings from the environment they inherit: they redirect to the media process,
        # and none of them is a media node itself.
        os.environ["LIVECOMMERCE_MEDIA_NODES"] = media.url
        os.environ.pop("LIVECOMMERCE_MEDIA_NODE_URL", None)
        click.echo(f"Media (WHIP/WHEP) is served by its own process at {media.url}")
    if workers > 1 and not settings.redis_url:
        # Without Redis the workers cannot hear each other's sign-outs: each asks the database on every request.
        os.environ["LIVECOMMERCE_AUTH_CACHE_TTL"] = "0"
    click.echo(f"LiveCommerce is serving on http://{host}:{port}  (Ctrl+C stops it)")
    try:
        uvicorn.run(
            "app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ws_per_message_deflate=False,  # compression costs more CPU than fan-out itself
            log_config=None,
            access_log=False,
            proxy_headers=False,  # the app believes forwarded headers from LIVECOMMERCE_TRUSTED_PROXIES only
        )
    finally:
        if media is not None:
            media.stop()


def _media_process_url(settings: Settings, host: str, port: int) -> str:
    """Where clients reach the media process `serve` starts: it must be an address browsers and encoders reach."""
    if settings.live.media_node_url is not None:
        return settings.live.media_node_url
    if host in WILDCARD_HOSTS:
        public = urlsplit(settings.public_url or f"http://127.0.0.1:{port}")
        if public.scheme != "http" or not public.hostname:
            raise click.ClickException(
                "Set LIVECOMMERCE_MEDIA_NODE_URL to the URL clients reach the media process at (it serves plain HTTP "
                f"on port {port}), or name media nodes in LIVECOMMERCE_MEDIA_NODES."
            )
        host = public.hostname
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _probe_url(host: str, port: int) -> str:
    local = "127.0.0.1" if host in WILDCARD_HOSTS else (f"[{host}]" if ":" in host else host)
    return f"http://{local}:{port}/healthz"


def _require_current_schema(settings: Settings) -> None:
    db = Database(settings.db)

    async def check() -> bool:
        try:
            return await pending(db.engine)
        finally:
            await db.dispose()

    if asyncio.run(check()):
        raise click.ClickException("The database schema is out of date. Run `livecommerce db upgrade`, then serve.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def media(host: str, port: int) -> None:
    """Run a media node: WHIP/WHEP for the rooms it owns; app processes redirect there (one process per node).

    Clients are sent to LIVECOMMERCE_MEDIA_NODE_URL (default http://HOST:PORT), so it must be an address they reach.
    """
    settings = _settings()
    if settings.live.media_node_url is None:
        if host in WILDCARD_HOSTS:
            raise click.ClickException("Set LIVECOMMERCE_MEDIA_NODE_URL to the URL clients reach this node at.")
        live = dataclasses.replace(settings.live, media_node_url=f"http://{host}:{port}")
        settings = dataclasses.replace(settings, live=live)
    _require_current_schema(settings)
    click.echo(f"LiveCommerce media node {settings.live.media_node_url} on {host}:{port}  (Ctrl+C stops it)")
    from app import create_app  # here, not at the top: only the serving commands load aiortc and the web stack

    # One process: a room's broadcast and its viewers live in the memory of the node that owns it.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ws_per_message_deflate=False,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # the app believes forwarded headers from LIVECOMMERCE_TRUSTED_PROXIES only
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

    async def create(session: AsyncSession) -> User:
        accounts = AccountService(session, SystemClock(), settings.auth.session_ttl, _passwords(settings))
        return await accounts.create_user(email, password, display_name, [Role(r) for r in roles])

    try:
        user = in_transaction(settings, create)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"Created {user.email} ({', '.join(user.roles)}) with id {user.id}.")


@main.group()
def demo() -> None:
    """Demo content."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo accounts, catalog, posts and upcoming shows (idempotent) and print the sign-ins."""
    settings = _settings()

    async def load(session: AsyncSession) -> list[str]:
        return await load_demo(session, settings, SystemClock(), _passwords(settings))

    created = in_transaction(settings, load)
    click.echo(f"Demo data ready ({len(created)} new accounts). Sign in with password {DEMO_PASSWORD!r}:")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {', '.join(account.roles):<12} {account.email}")


@main.group()
def feed() -> None:
    """The Fan Zone's per-reader feeds in Redis."""


@feed.command("rebuild")
@click.option("--reader", "readers", multiple=True, type=click.UUID, help="A reader's id; may be repeated.")
def feed_rebuild(readers: tuple[uuid.UUID, ...]) -> None:
    """Rebuild readers' feeds from the database (all readers who follow someone, unless --reader is given)."""
    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis the feed is read from the database.")

    async def run() -> tuple[int, int]:
        db = Database(settings.db)
        redis = Redis.from_url(settings.redis_url)
        try:
            return await rebuild_feeds(db.sessionmaker, redis, settings.community.feed_cap, readers)
        finally:
            await redis.aclose()
            await db.dispose()

    feeds, entries = asyncio.run(run())
    click.echo(f"Rebuilt {feeds} feeds ({entries} entries).")


@main.group()
def payouts() -> None:
    """Paying sellers and creators."""


@payouts.command("run")
def payouts_run() -> None:
    """Pay every positive available balance once (safe to run from several places at the same time)."""
    settings = _settings()

    async def run(session: AsyncSession) -> list[PaidParty]:
        return await pay_out(session, SystemClock(), ShopRuntime().payouts, settings.shop.currency)

    paid = in_transaction(settings, run)
    for payout in paid:
        click.echo(f"  paid {payout.amount} to {payout.account} ({payout.provider_ref})")
    total = sum((p.amount for p in paid), Money.zero(settings.shop.currency))
    click.echo(f"Paid {len(paid)} balances, {total} in all.")


@main.group()
def categories() -> None:
    """Product categories and the platform commission each carries."""


@categories.command("list")
def categories_list() -> None:
    settings = _settings()

    async def read(session: AsyncSession) -> list[Category]:
        return await CatalogService(session, settings.shop.currency).categories()

    for category in in_transaction(settings, read):
        click.echo(f"  {category.slug:<14} {category.commission_bps / 100:>5.2f} %  {category.name}")


@categories.command("set")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--commission-bps", required=True, type=click.IntRange(0, 2000), help="e.g. 800 for 8 %")
def categories_set(slug: str, name: str, commission_bps: int) -> None:
    """Create a category or change its name and commission (applies to orders placed from now on)."""
    settings = _settings()
    try:
        data = msgspec.convert({"slug": slug, "name": name, "commission_bps": commission_bps}, CategoryIn)
    except msgspec.ValidationError as exc:
        raise click.BadParameter(str(exc)) from exc

    async def write(session: AsyncSession) -> Category:
        return await CatalogService(session, settings.shop.currency).set_category(data)

    in_transaction(settings, write)
    click.echo(f"Category {slug} now takes {commission_bps / 100:.2f} % commission.")


if __name__ == "__main__":
    sys.exit(main())
