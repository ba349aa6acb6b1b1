"""The app factory: the only module that imports every domain and wires them to the kernel."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template import TemplateConfig
from redis.asyncio import Redis

from community.plugin import CommunityPlugin
from kernel.auth.guards import TokenAuthenticationMiddleware
from kernel.auth.models import Role
from kernel.auth.plugin import AccountsPlugin
from kernel.bus import Bus, channels_plugin
from kernel.clock import Clock, SystemClock
from kernel.console import ConsolePages, JobsController
from kernel.db import Database, ReadOnlyRequests
from kernel.health import healthz, readyz
from kernel.inputs import check_input
from kernel.logs import RequestIdMiddleware, configure_logging
from kernel.problems import EXCEPTION_HANDLERS, PAGE_ERRORS
from kernel.security import csrf_middleware, forwarded_headers, security_headers_hook
from kernel.settings import Settings, load_settings
from kernel.shared import Shared
from kernel.web import NavItem, NavPlace, configure_templates
from live.plugin import LivePlugin
from shop.plugin import ShopPlugin
from shop.runtime import ShopRuntime

ROOT = Path(__file__).resolve().parent
VERSION = "0.1.0"
TOOLS, MENU = NavPlace.TOOLS, NavPlace.MENU
NAVIGATION = [  # the header, one line per page: the bar, the tools beside the account menu, the menu by group
    NavItem("Fan Zone", "/"),
    NavItem("Shop", "/shop"),
    NavItem("Live", "/live"),
    NavItem("Leaderboard", "/leaderboard"),
    NavItem("Cart", "/shop/cart", signed_in_only=True, badge="shop/partials/_cart_badge.html", place=TOOLS),
    NavItem(
        "Alerts",
        "/community/notifications",
        signed_in_only=True,
        badge="community/partials/_notification_badge.html",
        place=TOOLS,
    ),
    NavItem("Orders", "/shop/orders", signed_in_only=True, place=MENU, group="You"),
    NavItem("Disputes", "/shop/disputes", signed_in_only=True, place=MENU, group="You"),
    NavItem(
        "Earnings", "/shop/seller/earnings", roles=frozenset({Role.SELLER, Role.INFLUENCER}), place=MENU, group="You"
    ),
    NavItem("Account", "/account", signed_in_only=True, place=MENU, group="You"),
    NavItem("Sell", "/shop/seller", roles=frozenset({Role.SELLER}), place=MENU, group="Selling"),
    NavItem("Sales", "/shop/seller/sales", roles=frozenset({Role.SELLER}), place=MENU, group="Selling"),
    NavItem("Studio", "/live/studio", roles=frozenset({Role.INFLUENCER}), place=MENU, group="Creating"),
    NavItem("Write", "/studio/posts", roles=frozenset({Role.INFLUENCER}), place=MENU, group="Creating"),
    NavItem("Storefront", "/studio/storefront", roles=frozenset({Role.INFLUENCER}), place=MENU, group="Creating"),
    NavItem("Links", "/studio/links", roles=frozenset({Role.INFLUENCER}), place=MENU, group="Creating"),
    NavItem("Coupons", "/studio/coupons", roles=frozenset({Role.INFLUENCER}), place=MENU, group="Creating"),
    NavItem(
        "Reports",
        "/reports",
        roles=frozenset({Role.MARKETER, Role.ADMIN, Role.INFLUENCER}),
        place=MENU,
        group="Insights",
    ),
    NavItem("Console", "/admin", roles=frozenset({Role.ADMIN}), place=MENU, group="Admin"),
    NavItem("Users", "/admin/users", roles=frozenset({Role.ADMIN}), place=MENU, group="Admin"),
    NavItem("Dispute queue", "/admin/disputes", roles=frozenset({Role.ADMIN}), place=MENU, group="Admin"),
]


def _stores(redis: Redis | None) -> StoreRegistry:
    """Named stores (rate-limit counters, ...) in Redis when configured, so every worker shares them."""

    def make(name: str) -> Store:
        return RedisStore(redis, namespace=f"livecommerce:{name}") if redis is not None else MemoryStore()

    return StoreRegistry(default_factory=make)


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, shop_runtime: ShopRuntime | None = None
) -> Litestar:
    """Build the application from ``settings`` (read from the environment when omitted).

    ``clock`` and ``shop_runtime`` (payment providers, attribution resolvers) are replaced in tests.
    """
    settings = settings or load_settings()
    clock = clock or SystemClock()
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_level)
    db = Database(settings.db)
    redis = Redis.from_url(settings.redis_url, health_check_interval=10) if settings.redis_url else None
    channels: ChannelsPlugin = channels_plugin(redis)
    shared = Shared(settings, clock, db, redis, channels, Bus(channels))
    shop = ShopPlugin(shared, shop_runtime)
    # Live and community give shop their attribution resolvers and report labels; community's reminders are swept
    # with shop's deadlines. Plugins start in this order and stop in the reverse one: the media relay and the room
    # channel first, then the Fan Zone, then shop's workers.
    domains = [
        shop,
        CommunityPlugin(shared, shop.runtime, shop.sweeper),
        LivePlugin(shared, shop.runtime),
    ]

    async def close_kernel() -> None:
        # Runs after every domain plugin has stopped its background work (they insert theirs before this).
        if redis is not None:
            await redis.aclose()
        await db.dispose()

    return Litestar(
        route_handlers=[
            healthz,
            readyz,
            JobsController,
            Router("/", include_in_schema=False, exception_handlers=PAGE_ERRORS, route_handlers=[ConsolePages]),
            create_static_files_router(path="/static", directories=[ROOT / "static"], name="static"),
            create_static_files_router(path="/media", directories=[settings.media_dir], name="media"),
        ],
        plugins=[
            SQLAlchemyPlugin(
                SQLAlchemyAsyncConfig(
                    engine_instance=db.engine,
                    session_maker=db.sessionmaker,
                    before_send_handler="autocommit_include_redirects",
                )
            ),
            channels,
            HTMXPlugin(),
            AccountsPlugin(shared),
            *domains,
        ],
        middleware=[
            *forwarded_headers(settings),  # first: every later step sees the client's real address
            RequestIdMiddleware,
            csrf_middleware(settings),
            ReadOnlyRequests,  # before authentication: a token looked up for a GET reads without the write lock
            DefineMiddleware(
                TokenAuthenticationMiddleware,
                exclude=["^/static/", "^/media/", "^/healthz", "^/readyz"],
                exclude_http_methods=[],  # guards also run on OPTIONS and HEAD, so they need to know the user
            ),
        ],
        before_request=check_input,
        before_send=[
            security_headers_hook(
                hsts=(settings.public_url or "").startswith("https://"), connect_origins=settings.live.media_nodes
            )
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(
            directory=ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: configure_templates(engine, NAVIGATION),
        ),
        openapi_config=OpenAPIConfig(
            title="LiveCommerce",
            version=VERSION,
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/openapi.json", "/"])],
        ),
        state=State({"settings": settings, "clock": clock, "db": db, "redis": redis, "bus": shared.bus}),
        stores=_stores(redis),
        request_max_body_size=settings.max_body_bytes,
        on_shutdown=[close_kernel],
        logging_config=None,
    )
