"""Accounts as a Litestar plugin: the accounts API and pages, password hashing, and ``current_user`` everywhere."""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol

from kernel.auth.admin_api import UserAdminController
from kernel.auth.admin_pages import UserAdminPages
from kernel.auth.cache import RevocationListener, SignedInCache
from kernel.auth.controllers import auth_controller
from kernel.auth.guards import provide_current_user
from kernel.auth.pages import account_pages
from kernel.auth.passwords import Passwords
from kernel.problems import PAGE_ERRORS
from kernel.shared import Shared


class AccountsPlugin(InitPluginProtocol):
    """Registers sign-up, sign-in, ``/api/me``, the admins' account pages and API, and the ``current_user``
    dependency for every domain's handlers.

    The authentication middleware stays with the app's other middleware, whose order matters.
    """

    def __init__(self, shared: Shared) -> None:
        self.settings = settings = shared.settings
        self.passwords = Passwords(settings.auth.password_time_cost, settings.auth.password_memory_kib)
        self.signed_in = SignedInCache(settings.auth.cache_ttl.total_seconds(), shared.clock, shared.bus)
        self.revocations = RevocationListener(self.signed_in, shared.channels)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                auth_controller(self.settings),
                account_pages(self.settings),
                UserAdminController,
                Router("/", include_in_schema=False, exception_handlers=PAGE_ERRORS, route_handlers=[UserAdminPages]),
            ]
        )
        app_config.dependencies["current_user"] = Provide(provide_current_user)
        app_config.state["passwords"] = self.passwords
        app_config.state["signed_in"] = self.signed_in
        app_config.on_startup.append(self.revocations.start)
        app_config.on_shutdown.insert(0, self.revocations.stop)
        return app_config
