"""Live as a Litestar plugin: rooms' routes, the room channel, the media relay, and live's part in attribution.

App state: ``room_channel`` (also ``room_viewers``: the channel counts each room's viewers) and ``media`` (the
WebRTC relay; None in an app process that only redirects WHIP/WHEP to media nodes). Every process also sweeps
the rooms whose relay process is gone (``live.relays``).
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from kernel.problems import PAGE_ERRORS
from kernel.shared import Shared
from live.channel import RoomChannel, room_channel
from live.controllers import LIVE_CONTROLLERS
from live.deps import LIVE_DEPENDENCIES
from live.media import RoomMedia
from live.pages import LIVE_PAGES
from live.relays import OrphanSweep, RelayHeartbeat, RoomLifecycle
from live.rooms import room_host
from live.whip import MEDIA_CONTROLLERS, media_node_cors, redirects
from shop import ShopRuntime, titles_from


class LivePlugin(InitPluginProtocol):
    """Builds live's per-process parts from the kernel's objects and registers live with the app.

    Args:
        shared: the kernel objects of this process.
        shop: shop's runtime, to which a room's host and title are given as an attribution resolver and a label.
    """

    def __init__(self, shared: Shared, shop: ShopRuntime) -> None:
        self.shared = shared
        settings = shared.settings.live
        # replace=False: a resolver or label a test put in its ShopRuntime stays in place.
        shop.attribution.register("room_id", room_host, replace=False)
        shop.attribution.register_labels("room", titles_from("live_room"), replace=False)
        self.room_channel = RoomChannel(shared.channels, shared.db, shared.clock, shared.bus, shared.redis, settings)
        lifecycle = RoomLifecycle(shared.db, shared.clock, shared.bus, settings)
        # The WebRTC relay runs here unless this process only redirects WHIP/WHEP to media nodes.
        self.media = (
            None if redirects(settings) else RoomMedia(settings, lifecycle, RelayHeartbeat(shared.db, settings))
        )
        # Every process sweeps, a redirecting one too: rooms end even when their media node never comes back.
        self.sweep = (
            OrphanSweep(lifecycle, shared.db, settings)
            if self.media is None
            else OrphanSweep(lifecycle, shared.db, settings, own=self.media.relay_id, relaying=self.media.relays)
        )

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                Router("/", dependencies=LIVE_DEPENDENCIES, route_handlers=LIVE_CONTROLLERS),
                Router(
                    "/",
                    dependencies=LIVE_DEPENDENCIES,
                    include_in_schema=False,
                    exception_handlers=PAGE_ERRORS,
                    route_handlers=LIVE_PAGES,
                ),
                *MEDIA_CONTROLLERS,
                room_channel,
            ]
        )
        app_config.state.update(
            {"media": self.media, "room_channel": self.room_channel, "room_viewers": self.room_channel}
        )
        # A media node takes WHIP/WHEP the app's pages were redirected to.
        app_config.cors_config = media_node_cors(self.shared.settings) or app_config.cors_config
        app_config.on_startup.append(self.start)
        app_config.on_shutdown.insert(0, self.stop)  # before the domains registered earlier, as in ShopPlugin
        return app_config

    async def start(self) -> None:
        self.room_channel.start()
        if self.media is not None:
            await self.media.start(self.shared.channels)
        self.sweep.start()

    async def stop(self) -> None:
        # Order matters: the relay's connections close before the room channel stops.
        await self.sweep.stop()
        if self.media is not None:
            await self.media.close_all()
        await self.room_channel.stop()
