"""Every page a visitor reaches without signing in, on a phone and a desktop: a plain-text title, no sideways
scroll, no serious accessibility violation and no console error, also after htmx swaps part of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.audit import AuditedPage

pytestmark = pytest.mark.browser

PAGES = ["/", "/shop", "/live", "/leaderboard", "/signin", "/signup"]


def plain_title(audited: AuditedPage) -> None:
    title = audited.page.title()
    assert title.endswith(" · LiveCommerce") and "<" not in title and "\n" not in title, title


def test_public_pages_pass_the_audit_before_and_after_htmx_swaps(audited: AuditedPage, live_server: str) -> None:
    page = audited.page
    for path in PAGES:
        page.goto(path)
        plain_title(audited)
        audited.check()

    page.goto("/")
    page.locator("#fresh-products a[href^='/shop/products/']").first.click()
    page.wait_for_url(re.compile(r"/shop/products/"))
    plain_title(audited)
    audited.check()

    page.goto("/shop")
    search = page.get_by_role("searchbox").first
    search.fill("linen")
    search.press("Enter")
    expect(page.locator("a[href^='/shop/products/']").first).to_be_visible()
    plain_title(audited)
    audited.check()
