"""The app factory: the only module that imports every domain and wires them to the kernel."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar
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

from community.controllers import COMMUNITY_CONTROLLERS
from community.fanzone import FanZone
from community.feed_controllers import FEED_CONTROLLERS
from community.feed_pages import FEED_PAGES
from community.pages import COMMUNITY_PAGES
from community.posts import post_author
from community.reminders import MISSED_REMINDERS
from kernel.auth.controllers import auth_controller
from kernel.auth.guards import TokenAuthenticationMiddleware
from kernel.auth.models import Role
from kernel.auth.pages import account_pages
from kernel.auth.passwords import Passwords
from kernel.bus import Bus, channels_plugin
from kernel.clock import Clock, SystemClock
from kernel.db import Database
from kernel.health import healthz, readyz
from kernel.inputs import check_input
from kernel.jobs import Sweeper
from kernel.logs import RequestIdMiddleware, configure_logging
from kernel.problems import EXCEPTION_HANDLERS
from kernel.security import csrf_middleware, security_headers_hook
from kernel.settings import Settings, load_settings
from kernel.web import NavItem, configure_templates
from live.channel import RoomChannel, room_channel
from live.controllers import LIVE_CONTROLLERS
from live.media import RoomLifecycle, RoomMedia
from live.pages import LIVE_PAGES
from live.rooms import room_host
from live.whip import MEDIA_CONTROLLERS, media_node_cors, redirects
from shop.attribution.rollups import rollup_job
from shop.attribution.rule import titles_from
from shop.attribution.touches import TouchRecorder
from shop.orders.jobs import shop_jobs
from shop.runtime import ShopRuntime
from shop.web.admin_api import ADMIN_CONTROLLERS
from shop.web.attribution_api import ATTRIBUTION_CONTROLLERS
from shop.web.catalog_api import CATALOG_CONTROLLERS
from shop.web.orders_api import ORDER_CONTROLLERS
from shop.web.pages import SHOP_PAGES
from shop.web.report_pages import REPORT_PAGES

ROOT = Path(__file__).resolve().parent
VERSION = "0.1.0"
NAVIGATION = [
    NavItem("Fan Zone", "/"),
    NavItem("Shop", "/shop"),
    NavItem("Live", "/live"),
    NavItem("Cart", "/shop/cart", signed_in_only=True, badge="shop/partials/_cart_badge.html"),
    NavItem("Orders", "/shop/orders", signed_in_only=True),
    NavItem("Sell", "/shop/seller", roles=frozenset({Role.SELLER})),
    NavItem("Studio", "/live/studio", roles=frozenset({Role.INFLUENCER})),
    NavItem("Leaderboard", "/leaderboard"),
    NavItem("Write", "/studio/posts", roles=frozenset({Role.INFLUENCER})),
    NavItem("Reports", "/reports", roles=frozenset({Role.MARKETER, Role.ADMIN, Role.INFLUENCER})),
    NavItem("Disputes", "/admin/disputes", roles=frozenset({Role.ADMIN})),
    NavItem(
        "Alerts",
        "/community/notifications",
        signed_in_only=True,
        badge="community/partials/_notification_badge.html",
    ),
    NavItem("Account", "/account", signed_in_only=True),
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
    bus = Bus(channels)
    shop = shop_runtime or ShopRuntime.sandbox(settings.data_dir)
    # replace=False: resolvers a test put in its ShopRuntime stay in place.
    shop.attribution.register("post_id", post_author, replace=False)
    shop.attribution.register("room_id", room_host, replace=False)
    sweeper = Sweeper(
        db, clock, settings.shop.sweep_interval, jobs=[*shop_jobs(settings.shop, shop.payments, bus), MISSED_REMINDERS]
    )
    # Report rollups fold new touches and sales on their own loop, apart from the money deadlines.
    rollups = Sweeper(db, clock, settings.shop.sweep_interval, jobs=[rollup_job()])
    touches = TouchRecorder(db, clock)
    # The WebRTC relay runs here unless this process only redirects WHIP/WHEP to media nodes.
    media = None if redirects(settings.live) else RoomMedia(settings.live, RoomLifecycle(db, clock, bus, settings.live))
    shop.attribution.read_pending_touches(touches)  # a click a moment before checkout still counts
    shop.attribution.register_labels("room", titles_from("live_room"), replace=False)  # report labels
    shop.attribution.register_labels("post", titles_from("community_post"), replace=False)
    rooms_channel = RoomChannel(channels, db, clock, bus, redis, settings.live)

    fan_zone = FanZone(settings.community, db, redis, channels, clock)

    async def start_background() -> None:
        sweeper.start()
        await fan_zone.start()
        touches.start()
        rollups.start()
        rooms_channel.start()
        if media is not None:
            await media.start(channels)

    async def stop_background() -> None:
        if media is not None:
            await media.close_all()
        await rooms_channel.stop()
        await fan_zone.stop()
        await sweeper.stop()
        await touches.stop()
        await rollups.stop()
        if redis is not None:
            await redis.aclose()
        await db.dispose()

    return Litestar(
        route_handlers=[
            auth_controller(settings),
            *CATALOG_CONTROLLERS,
            *ORDER_CONTROLLERS,
            *ADMIN_CONTROLLERS,
            *SHOP_PAGES,
            *ATTRIBUTION_CONTROLLERS,
            *REPORT_PAGES,
            *LIVE_CONTROLLERS,
            *LIVE_PAGES,
            *MEDIA_CONTROLLERS,
            room_channel,
            *COMMUNITY_CONTROLLERS,
            *COMMUNITY_PAGES,
            *FEED_CONTROLLERS,
            *FEED_PAGES,
            account_pages(settings),
            healthz,
            readyz,
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
        ],
        middleware=[
            RequestIdMiddleware,
            csrf_middleware(settings),
            DefineMiddleware(
                TokenAuthenticationMiddleware,
                exclude=["^/static/", "^/media/", "^/healthz", "^/readyz"],
                exclude_http_methods=[],  # guards also run on OPTIONS and HEAD, so they need to know the user
            ),
        ],
        before_request=check_input,
        before_send=[
            security_headers_hook(
                hsts=settings.public_url.startswith("https://"), connect_origins=settings.live.media_nodes
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
        state=State(
            {
                "settings": settings,
                "clock": clock,
                "db": db,
                "redis": redis,
                "bus": bus,
                "passwords": Passwords(settings.auth.password_time_cost, settings.auth.password_memory_kib),
                "shop": shop,
                "sweeper": sweeper,
                "touches": touches,
                "fan_zone": fan_zone,
                "media": media,
                "room_channel": rooms_channel,
                "room_viewers": rooms_channel,
            }
        ),
        stores=_stores(redis),
        request_max_body_size=settings.max_body_bytes,
        cors_config=media_node_cors(settings),  # a media node takes WHIP/WHEP the app's pages were redirected to
        on_startup=[start_background],
        on_shutdown=[stop_background],
        logging_config=None,
    )
