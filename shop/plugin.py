"""Shop as a Litestar plugin: its routes, its background work and what it keeps in app state.

App state: ``shop`` (the :class:`ShopRuntime`), ``sweeper`` (the deadlines: ship-by, auto-confirm, payouts, and
any other domain's jobs added to it) and ``touches`` (the attribution touch recorder, shared with live and
community through app state).
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from kernel.jobs import Sweeper
from kernel.problems import PAGE_ERRORS
from kernel.shared import Shared
from shop.attribution.rollups import rollup_job
from shop.attribution.touches import TouchRecorder
from shop.orders.jobs import shop_jobs
from shop.runtime import ShopRuntime
from shop.web.admin_api import ADMIN_CONTROLLERS
from shop.web.admin_pages import ADMIN_PAGES
from shop.web.attribution_api import ATTRIBUTION_CONTROLLERS
from shop.web.catalog_api import CATALOG_CONTROLLERS
from shop.web.creator_pages import CREATOR_PAGES
from shop.web.deps import SHOP_DEPENDENCIES
from shop.web.disputes_api import DISPUTE_CONTROLLERS
from shop.web.orders_api import ORDER_CONTROLLERS
from shop.web.pages import SHOP_PAGES
from shop.web.report_pages import REPORT_PAGES
from shop.web.sales_api import SALES_CONTROLLERS


class ShopPlugin(InitPluginProtocol):
    """Builds shop's background workers from the kernel's objects and registers shop with the app.

    Args:
        shared: the kernel objects of this process.
        runtime: payment providers and attribution resolvers (tests pass their own); sandbox ones by default.
    """

    def __init__(self, shared: Shared, runtime: ShopRuntime | None = None) -> None:
        settings = shared.settings.shop
        self.runtime = runtime or ShopRuntime.sandbox(shared.settings.data_dir)
        deadlines = shop_jobs(settings, self.runtime.payments, shared.bus)
        self.sweeper = Sweeper(shared.db, shared.clock, settings.sweep_interval, jobs=deadlines)
        # Report rollups fold new touches and sales on their own loop, apart from the money deadlines.
        self.rollups = Sweeper(shared.db, shared.clock, settings.sweep_interval, jobs=[rollup_job()])
        self.touches = TouchRecorder(shared.db, shared.clock)
        self.runtime.attribution.read_pending_touches(self.touches)  # a click a moment before checkout still counts

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                Router(
                    "/",
                    dependencies=SHOP_DEPENDENCIES,
                    route_handlers=[
                        *CATALOG_CONTROLLERS,
                        *ORDER_CONTROLLERS,
                        *DISPUTE_CONTROLLERS,
                        *SALES_CONTROLLERS,
                        *ADMIN_CONTROLLERS,
                    ],
                ),
                Router(
                    "/",
                    dependencies=SHOP_DEPENDENCIES,
                    include_in_schema=False,
                    exception_handlers=PAGE_ERRORS,
                    route_handlers=[*SHOP_PAGES, *REPORT_PAGES, *CREATOR_PAGES, *ADMIN_PAGES],
                ),
                *ATTRIBUTION_CONTROLLERS,
            ]
        )
        app_config.state.update({"shop": self.runtime, "sweeper": self.sweeper, "touches": self.touches})
        app_config.on_startup.append(self.start)
        # Plugins stop in the reverse order of their registration (live and community build on shop), and all
        # before the app's own shutdown closes the kernel.
        app_config.on_shutdown.insert(0, self.stop)
        return app_config

    async def start(self) -> None:
        self.sweeper.start()
        self.touches.start()
        self.rollups.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.touches.stop()
        await self.rollups.stop()
