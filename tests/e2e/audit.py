"""What every page of a journey must hold, on a phone and on a desktop.

A journey test takes the ``audited`` fixture (parametrized over ``VIEWPORTS``) and calls ``audited.check()`` on
each page it reaches: no sideways scroll, no serious or critical axe-core violation. Console errors and uncaught
page errors are collected for the whole test and fail it at the end, so a CSP violation after an htmx swap counts
too. axe-core is vendored beside this file (``vendor/``) and injected into the page; nothing is fetched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Response

AXE_SCRIPT = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# Which widths the journeys run at: both unless narrowed. `make test` runs the phone on the embedded leg and the
# desktop on the PostgreSQL + Redis leg (tests/legs.py), so each journey runs once per leg and both widths are seen.
JOURNEY_VIEWPORTS = os.environ.get("LIVECOMMERCE_JOURNEY_VIEWPORTS", ",".join(VIEWPORTS)).split(",")
BLOCKING_IMPACTS = ("serious", "critical")
RESOURCE_FAILED = "Failed to load resource: the server responded with a status of 4"


@dataclass
class AuditedPage:
    """A page in a fresh browser context at one viewport, gathering console errors as it goes."""

    page: Page
    viewport: str
    errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    _resource_errors: dict[int, str] = field(default_factory=dict)  # index in errors -> the URL that failed
    _refused_forms: set[str] = field(default_factory=set)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error on {self.page.url}: {message.text}")
            if message.text.startswith(RESOURCE_FAILED):
                self._resource_errors[len(self.errors) - 1] = message.location.get("url", "")

    def _on_response(self, response: Response) -> None:
        # Chromium logs every 4xx answer as a console error; an htmx form refused with 422 is the page working.
        if response.request.resource_type in ("xhr", "fetch") and 400 <= response.status < 500:
            self._refused_forms.add(response.url)

    def unexpected_errors(self) -> list[str]:
        """The console and page errors, less Chromium's notes on form submissions (htmx) answered with a 4xx."""
        return [
            error
            for index, error in enumerate(self.errors)
            if self._resource_errors.get(index) not in self._refused_forms
        ]

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught error on {self.page.url}: {error}")

    def check(self) -> None:
        """Assert the page as it is now fits the viewport and has no serious accessibility violation."""
        url = self.page.url
        overflow = self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at the {self.viewport} width"
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated by the driver, not as an inline <script>, so the page's CSP stays on and counts.
            self.page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;undefined")
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        blocking = [v for v in result if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe-core on {url} ({self.viewport}):\n" + json.dumps(blocking, indent=2)
        self.checked.append(url)


def open_audited(browser: Browser, base_url: str, viewport: str) -> tuple[AuditedPage, BrowserContext]:
    """Another person's browser at ``viewport``: a context of its own (close it when done)."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[viewport])
    context.set_default_timeout(10_000)
    audited = AuditedPage(context.new_page(), viewport)
    audited.page.on("console", audited._on_console)
    audited.page.on("pageerror", audited._on_page_error)
    audited.page.on("response", audited._on_response)
    return audited, context


@pytest.fixture(params=JOURNEY_VIEWPORTS)
def audited(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[AuditedPage]:
    """A fresh signed-out page at each journey width in turn; fails the test on any console error."""
    audited, context = open_audited(browser, live_server, request.param)
    yield audited
    errors = audited.unexpected_errors()
    context.close()
    assert not errors, "\n".join(errors)
