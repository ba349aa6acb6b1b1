"""Community as a Litestar plugin: posts, the Fan Zone and reminders, and community's part in attribution.

App state: ``fan_zone`` (trending snapshots, the Redis feed writer and the go-live notifier).
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from community.controllers import COMMUNITY_CONTROLLERS
from community.deps import COMMUNITY_DEPENDENCIES
from community.fanzone import FanZone
from community.feed_controllers import FEED_CONTROLLERS, FEED_DEPENDENCIES
from community.feed_pages import FEED_PAGES
from community.pages import COMMUNITY_PAGES
from community.posts import post_author
from community.reminders import MISSED_REMINDERS
from community.search_pages import SEARCH_PAGES
from kernel.jobs import Sweeper
from kernel.problems import PAGE_ERRORS
from kernel.shared import Shared
from shop import ShopRuntime, titles_from


class CommunityPlugin(InitPluginProtocol):
    """Builds the Fan Zone from the kernel's objects and registers community with the app.

    Args:
        shared: the kernel objects of this process.
        shop: shop's runtime, to which a post's author and title are given as an attribution resolver and a label.
        sweeper: the deadlines sweeper, which also notifies the reminders of live rooms no go-live event reached.
    """

    def __init__(self, shared: Shared, shop: ShopRuntime, sweeper: Sweeper) -> None:
        # replace=False: a resolver or label a test put in its ShopRuntime stays in place.
        shop.attribution.register("post_id", post_author, replace=False)
        shop.attribution.register_labels("post", titles_from("community_post"), replace=False)
        sweeper.add(MISSED_REMINDERS)
        self.fan_zone = FanZone(shared.settings.community, shared.db, shared.redis, shared.channels, shared.clock)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        dependencies = {**COMMUNITY_DEPENDENCIES, **FEED_DEPENDENCIES}
        app_config.route_handlers.extend(
            [
                Router("/", dependencies=dependencies, route_handlers=[*COMMUNITY_CONTROLLERS, *FEED_CONTROLLERS]),
                Router(
                    "/",
                    dependencies=dependencies,
                    include_in_schema=False,
                    exception_handlers=PAGE_ERRORS,
                    route_handlers=[*COMMUNITY_PAGES, *FEED_PAGES, *SEARCH_PAGES],
                ),
            ]
        )
        app_config.state["fan_zone"] = self.fan_zone
        app_config.on_startup.append(self.fan_zone.start)
        app_config.on_shutdown.insert(0, self.fan_zone.stop)  # before the domains registered earlier
        return app_config
